"""Webhook bodies kept before they are answered, and the delivery statuses platforms report."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from bot.services import accounts, outbox
from models import ChannelAccount, DeliveryStatus, InboundEvent
from models.base import as_utc

# Passes over a stored body that may fail before it is set aside: enough to ride out a
# passing fault (the worker passes again a few seconds later), few enough not to dwell.
MAX_ATTEMPTS = 3
# A claimed body not finished within this long belonged to a process that died: another
# takes it over. Processing a body takes well under a second.
LEASE = timedelta(seconds=60)


def store(session: Session, *, channel: str, payload: dict, now: datetime) -> int:
    event = InboundEvent(channel=channel, payload=payload, received_at=now)
    session.add(event)
    session.flush()
    return event.id


@dataclass(frozen=True)
class Batch:
    """What a process's webhooks and worker write in one transaction (a group commit)."""

    channel: str
    bodies: Sequence[dict] = ()  # to keep, claimed by this process
    statuses: Sequence[StatusReport] = ()  # recorded now: their bodies are not kept
    processed: Sequence[int] = ()  # bodies done with


def write(session: Session, batch: Batch, *, now: datetime) -> list[int]:
    """The batch written (see `Batch`); the ids of the bodies kept, in order. Raises when a
    status cannot be recorded: the caller then keeps those bodies instead.

    Core statements built once, on the session's connection: this runs for most webhooks,
    and the ORM's bulk paths cost more than the statements themselves."""
    connection = session.connection()
    ids: list[int] = []
    if batch.bodies:
        rows = [
            {"channel": batch.channel, "payload": payload, "received_at": now, "claimed_at": now}
            for payload in batch.bodies
        ]
        ids = list(connection.execute(_KEEP_CLAIMED, rows).scalars())
    record_statuses(session, batch.statuses, now=now)
    if batch.processed:
        connection.execute(_MARK_PROCESSED, {"ids": list(batch.processed), "now": now})
    return ids


_EVENTS = InboundEvent.__table__
_KEEP_CLAIMED = sa.insert(_EVENTS).returning(_EVENTS.c.id, sort_by_parameter_order=True)
_MARK_PROCESSED = (
    sa.update(_EVENTS)
    .where(_EVENTS.c.id.in_(sa.bindparam("ids", expanding=True)))
    .values(processed_at=sa.bindparam("now"))
)


class Claimed(NamedTuple):
    """A stored body taken by this process, and what its last failed pass said (None when
    no pass over it failed)."""

    id: int
    payload: dict
    last_error: str | None


def claim(
    session: Session,
    *,
    channel: str,
    now: datetime,
    after_id: int = 0,
    limit: int = 50,
    lease: timedelta = LEASE,
) -> list[Claimed]:
    """Take up to `limit` stored bodies past `after_id`, oldest first, for this process
    alone: ones nobody holds, or whose holder's lease ran out. One UPDATE … RETURNING, as
    outbox rows are claimed: on PostgreSQL its subquery skips rows another process is
    claiming (SKIP LOCKED); on SQLite the statement holds the write lock from its start."""
    free = sa.or_(InboundEvent.claimed_at.is_(None), InboundEvent.claimed_at < now - lease)
    chosen = (
        select(InboundEvent.id)
        .where(
            InboundEvent.channel == channel,
            InboundEvent.processed_at.is_(None),
            InboundEvent.quarantined_at.is_(None),
            InboundEvent.id > after_id,
            free,
        )
        .order_by(InboundEvent.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        chosen = chosen.with_for_update(skip_locked=True)
    taken = (
        sa.update(InboundEvent)
        .where(InboundEvent.id.in_(chosen.scalar_subquery()))
        .values(claimed_at=now)
        .returning(InboundEvent.id, InboundEvent.payload, InboundEvent.last_error)
    )
    rows = session.execute(taken, execution_options={"synchronize_session": False}).all()
    return sorted(
        (Claimed(row.id, row.payload, row.last_error) for row in rows), key=lambda c: c.id
    )


def mark_processed(
    session: Session, *, event_id: int | None = None, event_ids: list[int] = (), now: datetime
) -> None:
    ids = [*event_ids, *([event_id] if event_id is not None else [])]
    session.execute(
        sa.update(InboundEvent).where(InboundEvent.id.in_(ids)).values(processed_at=now)
    )


def record_failure(
    session: Session, *, event_id: int, error: str, max_attempts: int, now: datetime
) -> bool:
    """Count a failed pass over a body; True when this one set it aside (quarantined)."""
    event = session.get(InboundEvent, event_id)
    if event is None or event.quarantined_at is not None:
        return False
    event.attempts += 1
    event.last_error = error[:200]
    event.claimed_at = None  # free for the next pass, in this process or another
    if event.attempts >= max_attempts:
        event.quarantined_at = now
    session.flush()
    return event.quarantined_at is not None


def quarantine(session: Session, *, channel: str, payload: dict, error: str, now: datetime) -> int:
    """Keep, set aside at once, an item that was never stored before it failed (a Telegram
    update: Telegram does not send it again once answered)."""
    event = InboundEvent(
        channel=channel,
        payload=payload,
        received_at=now,
        attempts=1,
        quarantined_at=now,
        last_error=error[:200],
    )
    session.add(event)
    session.flush()
    return event.id


def quarantined_counts(session: Session) -> dict[str, int]:
    """Bodies set aside per channel (for monitoring; they stay until someone looks)."""
    rows = session.execute(
        select(InboundEvent.channel, sa.func.count())
        .where(InboundEvent.quarantined_at.is_not(None))
        .group_by(InboundEvent.channel)
    )
    return {channel: count for channel, count in rows}


@dataclass(frozen=True)
class StatusReport:
    """A delivery status as a platform reported it, and what it means for the recipient."""

    channel: str
    platform_message_id: str
    recipient: str
    status: str
    error_code: int | None = None
    error_title: str | None = None
    block_account: str | None = None  # this account cannot be reached any more
    requeue: bool = False  # refused as outside the window: the message waits again


_STATUS_ORDER = {"sent": 1, "delivered": 2, "read": 3, "failed": 4}


def record_statuses(session: Session, reports: Sequence[StatusReport], *, now: datetime) -> None:
    """Statuses recorded together, as `apply_status` records each, in two statements for
    the lot (the recipients known, one upsert keeping each message's furthest status):
    they come three to a message, so one at a time they were most of its transactions."""
    if not reports:
        return
    connection = session.connection()
    known = _known_recipients(connection, reports)
    furthest: dict[tuple[str, str], StatusReport] = {}
    for report in reports:
        if report.recipient and report.recipient not in known:
            continue  # its person erased their data: no one to attach it to
        key = (report.channel, report.platform_message_id)
        kept = furthest.get(key)
        if kept is None or _STATUS_ORDER[report.status] >= _STATUS_ORDER[kept.status]:
            furthest[key] = report
    if furthest:
        rows = [_status_row(report, now) for report in furthest.values()]
        connection.execute(_furthest_status_upsert(connection.dialect.name), rows)
    # Every failed message held at once, in one order (each consequence alone would take
    # them in the order they came, and could deadlock with the sender's record of them).
    outbox.hold_platform_ids(
        session,
        [report.platform_message_id for report in reports if report.status == "failed"],
    )
    for report in reports:
        _consequences(session, report)


def apply_status(session: Session, report: StatusReport, *, now: datetime) -> None:
    """One status recorded, and what it means for its recipient and its message."""
    record_status(
        session,
        channel=report.channel,
        platform_message_id=report.platform_message_id,
        recipient=report.recipient,
        status=report.status,
        error_code=report.error_code,
        error_title=report.error_title,
        now=now,
    )
    _consequences(session, report)


def _consequences(session: Session, report: StatusReport) -> None:
    if report.block_account:
        accounts.set_blocked(
            session, channel=report.channel, external_id=report.block_account, blocked=True
        )
    if report.requeue:
        outbox.requeue_waiting(
            session, channel=report.channel, platform_message_id=report.platform_message_id
        )
    elif report.status == "failed":
        outbox.fail_reported(session, [report.platform_message_id])


def _known_recipients(connection: sa.Connection, reports: Sequence[StatusReport]) -> set[str]:
    recipients = list({report.recipient for report in reports if report.recipient})
    if not recipients:
        return set()
    channels = list({report.channel for report in reports})
    found = connection.execute(_KNOWN, {"channels": channels, "recipients": recipients})
    return {key for row in found for key in row if key in recipients}


_ACCOUNTS = ChannelAccount.__table__
_KNOWN = sa.select(_ACCOUNTS.c.external_id, _ACCOUNTS.c.platform_user_id).where(
    _ACCOUNTS.c.channel.in_(sa.bindparam("channels", expanding=True)),
    sa.or_(
        _ACCOUNTS.c.external_id.in_(sa.bindparam("recipients", expanding=True)),
        _ACCOUNTS.c.platform_user_id.in_(sa.bindparam("recipients", expanding=True)),
    ),
)


def _status_row(report: StatusReport, now: datetime) -> dict:
    return {
        "channel": report.channel,
        "platform_message_id": report.platform_message_id,
        "recipient": report.recipient,
        "status": report.status,
        "error_code": report.error_code,
        "error_title": report.error_title,
        "updated_at": now,
    }


@functools.cache
def _furthest_status_upsert(dialect: str) -> sa.Insert:
    """INSERT, or on the message's row UPDATE unless the row's status is further already."""
    table = DeliveryStatus.__table__
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    new = insert.excluded
    return insert.on_conflict_do_update(
        index_elements=["channel", "platform_message_id"],
        set_={
            "status": new.status,
            "error_code": new.error_code,
            "error_title": new.error_title,
            "updated_at": new.updated_at,
        },
        where=_rank(table.c.status) <= _rank(new.status),
    )


def _rank(status: sa.ColumnElement) -> sa.ColumnElement:
    return sa.case(_STATUS_ORDER, value=status, else_=0)


def record_status(
    session: Session,
    *,
    channel: str,
    platform_message_id: str,
    recipient: str,
    status: str,
    now: datetime,
    error_code: int | None = None,
    error_title: str | None = None,
) -> None:
    """Keep the furthest status (statuses may arrive out of order or twice).

    A status for an account we do not know (its person erased their data, and the farewell
    reached them after) is not kept: there is no one left to attach it to.
    """
    known = select(ChannelAccount.id).where(
        ChannelAccount.channel == channel,
        sa.or_(
            ChannelAccount.external_id == recipient, ChannelAccount.platform_user_id == recipient
        ),
    )
    if recipient and session.exec(known).first() is None:
        return
    values = {"status": status, "error_code": error_code, "error_title": error_title}
    # Two statuses of one message may be recorded at once (two bodies, or two processes):
    # the first INSERT wins, the other becomes an UPDATE, never a duplicate key.
    first = _insert_ignoring_duplicates(session).values(
        channel=channel,
        platform_message_id=platform_message_id,
        recipient=recipient,
        updated_at=now,
        **values,
    )
    if session.execute(first).rowcount == 1:
        return
    not_further = [name for name, rank in _STATUS_ORDER.items() if rank <= _STATUS_ORDER[status]]
    session.execute(
        sa.update(DeliveryStatus)
        .where(
            DeliveryStatus.channel == channel,
            DeliveryStatus.platform_message_id == platform_message_id,
            DeliveryStatus.status.in_(not_further),
        )
        .values(updated_at=now, **values)
    )


def _insert_ignoring_duplicates(session: Session):
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(DeliveryStatus).on_conflict_do_nothing(
        index_elements=["channel", "platform_message_id"]
    )


def last_inbound(session: Session, *, channel: str, account_id: str) -> datetime | None:
    found = session.execute(
        select(ChannelAccount.last_inbound_at).where(
            ChannelAccount.channel == channel, ChannelAccount.external_id == account_id
        )
    ).first()
    return as_utc(found[0]) if found else None
