"""Webhook bodies kept before they are answered, and the delivery statuses platforms report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

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


def claim(
    session: Session,
    *,
    channel: str,
    now: datetime,
    after_id: int = 0,
    limit: int = 50,
    lease: timedelta = LEASE,
) -> list[tuple[int, dict]]:
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
        .returning(InboundEvent.id, InboundEvent.payload)
    )
    rows = session.execute(taken, execution_options={"synchronize_session": False}).all()
    return sorted(((row.id, row.payload) for row in rows), key=lambda row: row[0])


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
