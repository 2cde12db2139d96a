"""One scheduler among many processes: the lease that elects it.

On PostgreSQL the lease is a session-level advisory lock held on a connection of its own.
Every process that runs the scheduler role tries to take it every `lease_retry_seconds`;
the one that gets it runs the jobs. When that process dies its connection closes and
PostgreSQL releases the lock, so another takes over at its next try. A holder that is only
half alive (its lease connection stops answering) gives the lease up by itself: it checks
the connection every `lease_check_seconds` and stops its jobs when the check fails.

On SQLite there is one `run` per database file by construction (bot/runner.py
`sole_run`), so the lease is always this process's.

Who holds it is read from pg_locks (the holder names itself in `application_name`), so
/healthz of any process can say whether some process holds it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

# Any fixed 64-bit number, the same in every process; small, so pg_locks shows it whole in
# `objid` (with classid 0 and objsubid 1, as PostgreSQL records a one-bigint lock key).
LEASE_KEY = 7_305_021
HOLDER_PREFIX = "sinergi-scheduler"
# A vanished holder machine (no FIN, no RST) is noticed by PostgreSQL after about
# idle + interval * count seconds of silence: well within a minute.
_SERVER_KEEPALIVE = (
    "SET tcp_keepalives_idle = 10",
    "SET tcp_keepalives_interval = 5",
    "SET tcp_keepalives_count = 3",
)

Work = Callable[[asyncio.Event], Awaitable[None]]


def holder_name() -> str:
    """How this process names itself as the holder: host and pid."""
    return f"{HOLDER_PREFIX} {socket.gethostname()}:{os.getpid()}"


def is_postgres(database: sa.Engine) -> bool:
    return database.dialect.name == "postgresql"


class LocalLease:
    """SQLite: one process per database file already, so the lease is always ours."""

    def __init__(self) -> None:
        self.held = False
        self.name = holder_name()

    def try_acquire(self) -> bool:
        self.held = True
        return True

    def still_held(self) -> bool:
        return self.held

    def release(self) -> None:
        self.held = False

    abandon = release

    def dispose(self) -> None:
        """Nothing to close: the lock file of `sole_run` goes with the process."""


class PostgresLease:
    """The advisory lock on a connection of its own, outside the pool."""

    def __init__(self, database: sa.Engine) -> None:
        # NullPool: closing the connection really closes it, and so releases the lock.
        self._engine = sa.create_engine(database.url, poolclass=NullPool)
        self._connection: sa.Connection | None = None
        self.name = holder_name()

    @property
    def held(self) -> bool:
        return self._connection is not None

    def try_acquire(self) -> bool:
        connection = self._engine.connect()
        try:
            connection.execute(
                sa.text("SELECT set_config('application_name', :name, false)"),
                {"name": self.name[:63]},
            )
            for statement in _SERVER_KEEPALIVE:
                connection.exec_driver_sql(statement)
            got = connection.execute(
                sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": LEASE_KEY}
            ).scalar_one()
            connection.commit()  # a session-level lock outlives the transaction
        except Exception:
            connection.invalidate()
            raise
        if not got:
            connection.close()
            return False
        self._connection = connection
        return True

    def still_held(self) -> bool:
        """The lease connection answers and still holds the lock."""
        if self._connection is None:
            return False
        try:
            holds = self._connection.execute(
                sa.text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    " AND pid = pg_backend_pid() AND classid = 0 AND objid = :key"
                    " AND objsubid = 1"
                ),
                {"key": LEASE_KEY},
            ).scalar_one()
            self._connection.commit()
        except Exception:
            log.warning("[scheduler] the lease connection failed", exc_info=True)
            return False
        return holds == 1

    def release(self) -> None:
        """Give the lease up: unlock if the connection still answers, close it anyway."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": LEASE_KEY})
            connection.commit()
            connection.close()
        except Exception:
            connection.invalidate()

    def abandon(self) -> None:
        """Drop a lease connection that hangs: closed in a thread of its own, never awaited."""
        connection, self._connection = self._connection, None
        if connection is not None:
            threading.Thread(target=connection.invalidate, daemon=True).start()

    def dispose(self) -> None:
        self._engine.dispose()


Lease = LocalLease | PostgresLease


def make_lease(database: sa.Engine) -> Lease:
    return PostgresLease(database) if is_postgres(database) else LocalLease()


def current_holder(database: sa.Engine, local: Lease | None) -> str | None:
    """The name of the process holding the lease, from any process; None when nobody does."""
    if not is_postgres(database):
        return local.name if local is not None and local.held else None
    with database.connect() as connection:
        return connection.execute(
            sa.text(
                "SELECT coalesce(a.application_name, 'pid ' || l.pid::text) FROM pg_locks l"
                " LEFT JOIN pg_stat_activity a ON a.pid = l.pid"
                " WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0"
                " AND l.objid = :key AND l.objsubid = 1"
                " AND l.database = (SELECT oid FROM pg_database"
                " WHERE datname = current_database())"
            ),
            {"key": LEASE_KEY},
        ).scalar()


@dataclass(frozen=True)
class Timing:
    """How often a process tries to take the lease, and how often the holder checks it."""

    retry_seconds: float = 5.0
    check_seconds: float = 5.0


async def run_elected(lease: Lease, work: Work, stop: asyncio.Event, timing: Timing) -> None:
    """Run `work` whenever this process holds the lease, until `stop` is set.

    `work(until)` runs the jobs until its event is set: on `stop`, or when the lease is lost.
    """
    while not stop.is_set():
        if await _try_acquire(lease):
            log.warning("[scheduler] %s holds the scheduler lease", lease.name)
            answering = False
            try:
                answering = await _hold(lease, work, stop, timing.check_seconds)
            finally:
                if answering:
                    await asyncio.to_thread(lease.release)
                else:
                    lease.abandon()
            if not stop.is_set():
                log.warning("[scheduler] lost the scheduler lease: jobs stopped here")
        await _rest(timing.retry_seconds, stop)


async def _try_acquire(lease: Lease) -> bool:
    try:
        return await asyncio.to_thread(lease.try_acquire)
    except Exception as error:
        log.warning("[scheduler] could not try the lease (%s); trying again", error)
        return False


async def _hold(lease: Lease, work: Work, stop: asyncio.Event, check_seconds: float) -> bool:
    """Run `work` while the lease connection keeps answering its checks; False when it
    stopped answering (or no longer holds the lock)."""
    until = asyncio.Event()
    running = asyncio.create_task(work(until), name="scheduler jobs")
    try:
        while not stop.is_set() and not running.done():
            await _rest(check_seconds, stop)
            if stop.is_set():
                break
            if not await _checked(lease, timeout=check_seconds * 2):
                return False
        return True
    finally:
        until.set()
        with contextlib.suppress(Exception):
            await running


async def _checked(lease: Lease, timeout: float) -> bool:
    """The holder's check; a check that hangs (a half-dead network) counts as failed."""
    try:
        return await asyncio.wait_for(asyncio.to_thread(lease.still_held), timeout)
    except TimeoutError:
        log.warning("[scheduler] the lease check hung for %.0f s: giving the lease up", timeout)
        return False


async def _rest(seconds: float, stop: asyncio.Event) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
