"""Builds the APScheduler scheduler (AsyncIOScheduler, in the configured time zone)."""

from __future__ import annotations

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.app import App
from scheduler.jobs import Job, jobs


def build_scheduler(app: App, job_list: list[Job] | None = None) -> AsyncIOScheduler:
    """A scheduler with every job registered; jobs coalesce and never run twice at once."""
    scheduler = AsyncIOScheduler(timezone=app.settings.tz)
    for job in jobs() if job_list is None else job_list:
        scheduler.add_job(
            job.run,
            trigger=job.trigger,
            args=(app,),
            id=job.id,
            coalesce=True,
            max_instances=1,
            replace_existing=True,
        )
    return scheduler
