"""Webhook bodies kept before they are answered, and the delivery statuses platforms report."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from models import ChannelAccount, DeliveryStatus, InboundEvent
from models.base import as_utc

# Passes over a stored body that may fail before it is set aside: enough to ride out a
# passing fault (the worker passes again a few seconds later), few enough not to dwell.
MAX_ATTEMPTS = 3


def store(session: Session, *, channel: str, payload: dict, now: datetime) -> int:
    event = InboundEvent(channel=channel, payload=payload, received_at=now)
    session.add(event)
    session.flush()
    return event.id


def unprocessed(
    session: Session, *, channel: str, after_id: int = 0, limit: int = 50
) -> list[InboundEvent]:
    """Oldest first: what was stored but not yet processed (also after a restart), past
    `after_id`; a quarantined body is never handed out again."""
    return list(
        session.exec(
            select(InboundEvent)
            .where(
                InboundEvent.channel == channel,
                InboundEvent.processed_at.is_(None),
                InboundEvent.quarantined_at.is_(None),
                InboundEvent.id > after_id,
            )
            .order_by(InboundEvent.id)
            .limit(limit)
        )
    )


def mark_processed(session: Session, *, event_id: int, now: datetime) -> None:
    session.execute(
        sa.update(InboundEvent).where(InboundEvent.id == event_id).values(processed_at=now)
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
    row = session.exec(
        select(DeliveryStatus).where(
            DeliveryStatus.channel == channel,
            DeliveryStatus.platform_message_id == platform_message_id,
        )
    ).first()
    if row is None:
        row = DeliveryStatus(
            channel=channel,
            platform_message_id=platform_message_id,
            recipient=recipient,
            status=status,
            updated_at=now,
        )
        session.add(row)
    elif _STATUS_ORDER.get(status, 0) < _STATUS_ORDER.get(row.status, 0):
        return
    row.status = status
    row.error_code = error_code
    row.error_title = error_title
    row.updated_at = now
    session.flush()


def last_inbound(session: Session, *, channel: str, account_id: str) -> datetime | None:
    found = session.execute(
        select(ChannelAccount.last_inbound_at).where(
            ChannelAccount.channel == channel, ChannelAccount.external_id == account_id
        )
    ).first()
    return as_utc(found[0]) if found else None
