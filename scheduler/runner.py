"""Builds the APScheduler scheduler (AsyncIOScheduler, in the configured time zone).

APScheduler only decides *when*: its job store is in memory on purpose, since every
job is idempotent and finds its own work in the database.
"""

from __future__ import annotations

import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.app import App
from scheduler.jobs import Job, jobs

log = logging.getLogger(__name__)


def build_scheduler(app: App, job_list: list[Job] | None = None) -> AsyncIOScheduler:
    """A scheduler with every job registered; jobs coalesce and never overlap themselves."""
    scheduler = AsyncIOScheduler(timezone=app.settings.tz)
    for job in jobs(app) if job_list is None else job_list:
        scheduler.add_job(
            _logged(job),
            trigger=job.trigger,
            args=(app,),
            id=job.id,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,  # late after a pause or restart: still run once
            replace_existing=True,
        )
    return scheduler


def _logged(job: Job):
    async def run(app: App) -> None:
        try:
            # On the event loop: each of a job's transactions goes through the database
            # boundary itself (scheduler/jobs.py), so the loop never waits on the database.
            count = await job.run(app)
        except Exception:
            log.exception("scheduler job %s failed", job.id)
            return
        if count:
            log.info("scheduler job %s enqueued %d message(s)", job.id, count)

    return run
