"""The scheduler lease: one holder among many processes, taken over when the holder fails."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from scheduler.lease import (
    LocalLease,
    PostgresLease,
    Timing,
    current_holder,
    is_postgres,
    make_lease,
    run_elected,
)

FAST = Timing(retry_seconds=0.1, check_seconds=0.1)


@pytest.fixture
def postgres(app):
    if not is_postgres(app.database):
        pytest.skip("the advisory-lock lease is PostgreSQL's; SQLite has one process by design")
    return app.database


def holder_pid(database: sa.Engine) -> int | None:
    with database.connect() as connection:
        return connection.execute(
            sa.text(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND classid = 0 AND objid = 7305021 AND objsubid = 1"
            )
        ).scalar()


def cut_off(database: sa.Engine, pid: int) -> None:
    """The holder's connection dies under it, as when its process or its network does."""
    with database.connect() as connection:
        connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        connection.commit()


def test_on_sqlite_the_lease_is_this_processs(app) -> None:
    if is_postgres(app.database):
        pytest.skip("SQLite only")
    lease = make_lease(app.database)
    assert isinstance(lease, LocalLease)
    assert current_holder(app.database, lease) is None
    assert lease.try_acquire()
    assert current_holder(app.database, lease) == lease.name


def test_one_holder_at_a_time_and_the_next_takes_over_when_its_connection_dies(
    postgres,
) -> None:
    first, second = PostgresLease(postgres), PostgresLease(postgres)
    try:
        assert first.try_acquire()
        assert not second.try_acquire()
        assert current_holder(postgres, None) == first.name
        assert first.still_held()

        cut_off(postgres, holder_pid(postgres))
        assert not first.still_held()  # the holder notices at its next check
        first.abandon()
        assert second.try_acquire()
        assert current_holder(postgres, None) == second.name
        second.release()
        assert current_holder(postgres, None) is None
    finally:
        for lease in (first, second):
            lease.release()
            lease.dispose()


async def test_the_jobs_run_in_one_process_and_move_when_the_holder_fails(postgres) -> None:
    runs: list[str] = []
    stop = asyncio.Event()

    def jobs_of(name: str):
        async def work(until: asyncio.Event) -> None:
            runs.append(name)
            await until.wait()
            runs.append(f"{name} stopped")

        return work

    leases = {name: PostgresLease(postgres) for name in ("a", "b")}
    tasks = [
        asyncio.create_task(run_elected(lease, jobs_of(name), stop, FAST))
        for name, lease in leases.items()
    ]
    try:
        for _ in range(100):
            if runs:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # several retries of the other: it stays out
        assert len(runs) == 1
        first = runs[0]
        other = "b" if first == "a" else "a"

        cut_off(postgres, holder_pid(postgres))
        moved = {f"{first} stopped", other}
        for _ in range(200):  # bounded: the retry and check intervals are 0.1 s
            if moved <= set(runs):
                break
            await asyncio.sleep(0.05)
        # The other may take the freed lock just before the cut-off holder's next check
        # notices (jobs are idempotent): both happen, in either order.
        assert runs[0] == first and set(runs[1:3]) == moved and len(runs) == 3
        assert current_holder(postgres, None) == leases[other].name
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=10)
        for lease in leases.values():
            lease.dispose()
    assert current_holder(postgres, None) is None  # released on the way out
