"""The periodic jobs. Each one only finds what is due and enqueues outbox rows with
deterministic keys, so a job that runs twice, late after a restart, or in two
processes at once, sends once. None of them sends anything itself.

They run on the event loop and do their database work through the engine's boundary
(`Engine.transact`), one call per transaction: the loop never waits on the database, and
between two transactions of a long job, chat messages take their turn.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlmodel import Session

from bot.app import App
from bot.services import bimtek, ikm, needs, retention
from bot.services.batches import Batch

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    id: str
    trigger: BaseTrigger
    run: Callable[[App], Awaitable[int]]


async def bimtek_reminders(app: App) -> int:
    """H-1 (08:00 WIB the day before) and H-2h reminders to registered IKM."""
    return await app.engine.transact(
        lambda session: bimtek.enqueue_due_reminders(session, now=_now(app), tz=app.settings.tz)
    )


async def close_bimtek_registrations(app: App) -> int:
    """At the deadline: tell those still on a waitlist that no seat came free."""
    return await app.engine.transact(
        lambda session: bimtek.close_registrations(session, now=_now(app))
    )


async def nudge_inactive_ikm(app: App) -> int:
    """Once a month: IKM not active (the `[stats] active_days` definition) are asked to check
    their products."""
    now = _now(app)
    return await _in_batches(
        app,
        lambda session, after: ikm.nudge_inactive_batch(
            session,
            now=now,
            tz=app.settings.tz,
            after_id=after,
            days=app.settings.stats.active_days,
        ),
    )


async def close_needs(app: App) -> int:
    """At a need's deadline: close it and send the company a summary of the offers."""
    return await app.engine.transact(lambda session: needs.close_due(session, now=_now(app)))


async def call_digest(app: App) -> int:
    """Each morning: the calls an IKM did not get yesterday because of the daily cap."""
    now = _now(app)
    return await _in_batches(
        app,
        lambda session, after: needs.send_digests(
            session,
            now=now,
            tz=app.settings.tz,
            hour=app.settings.procurement.digest_hour,
            after_person_id=after,
        ),
    )


# A backlog bigger than this (after months switched off) is finished by the next runs.
MAX_PRUNE_STEPS = 100


async def prune_records(app: App) -> int:
    """Delete expired webhook bodies, handled ids and delivery statuses, and expire messages
    that waited past their worth, in small steps."""
    pruned = 0
    for _ in range(MAX_PRUNE_STEPS):
        step = await app.engine.transact(
            lambda session: retention.prune(session, now=_now(app)).total
        )
        pruned += step
        if step == 0:
            break
    return pruned


def _now(app: App) -> datetime:
    return app.engine.clock.now()


async def _in_batches(app: App, batch: Callable[[Session, int], Batch]) -> int:
    """`batch(session, after_person_id)` in one transaction each, until no one is left.

    Each transaction is its own call through the database boundary, so a chat message that
    asks for a database thread meanwhile goes before the next batch (on SQLite, with its
    one thread, it would otherwise wait for the whole job)."""
    enqueued, after = 0, 0
    while True:
        done = await app.engine.transact(lambda session: batch(session, after))  # noqa: B023
        enqueued += done.enqueued
        if done.last_person_id is None:
            return enqueued
        after = done.last_person_id


def jobs(app: App) -> list[Job]:
    every = app.settings.scheduler
    return [
        Job("bimtek_reminders", IntervalTrigger(seconds=every.reminder_seconds), bimtek_reminders),
        Job(
            "close_bimtek_registrations",
            IntervalTrigger(seconds=every.deadline_seconds),
            close_bimtek_registrations,
        ),
        # Every few hours rather than once on the 1st: a process down at that minute would
        # skip the month. The key "nudge:YYYY-MM:person:N" still sends once a month.
        Job("nudge_inactive_ikm", IntervalTrigger(hours=6), nudge_inactive_ikm),
        Job("close_needs", IntervalTrigger(seconds=every.deadline_seconds), close_needs),
        # Checked every half hour, not once at the digest hour, for the same reason.
        Job("call_digest", IntervalTrigger(minutes=30), call_digest),
        Job("prune_records", IntervalTrigger(hours=6), prune_records),
    ]
