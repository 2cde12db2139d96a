"""How long the rows kept only for the machinery stay: webhook bodies, the ids of handled
messages and platform delivery statuses. They hold phone numbers and what people typed,
and nobody needs them once a platform can no longer redeliver, so they are deleted then
(also what `hapus data` cannot reach: a raw webhook body is not linked to a person).
Messages that waited for a person who never wrote again are expired on the same rounds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from bot.services import outbox
from models import DeliveryStatus, HandledMessage, InboundEvent

# WhatsApp retries an unanswered webhook for up to 7 days, Telegram keeps an update 24 h:
# a message id must be remembered a little longer than the longest redelivery.
HANDLED_IDS_KEPT = timedelta(days=8)
INBOUND_BODIES_KEPT = timedelta(days=7)  # once processed; for tracing a problem report
DELIVERY_STATUSES_KEPT = timedelta(days=30)


@dataclass(frozen=True)
class Pruned:
    handled: int
    inbound: int
    statuses: int
    waiting_expired: int = 0

    @property
    def total(self) -> int:
        return self.handled + self.inbound + self.statuses + self.waiting_expired


def prune(session: Session, *, now: datetime, limit: int = 5_000) -> Pruned:
    """Delete up to `limit` expired rows of each kind (small steps keep locks short)."""
    return Pruned(
        handled=_delete_first(
            session, HandledMessage, HandledMessage.handled_at < now - HANDLED_IDS_KEPT, limit
        ),
        inbound=_delete_first(
            session,
            InboundEvent,
            InboundEvent.processed_at < now - INBOUND_BODIES_KEPT,  # never an unprocessed one
            limit,
        ),
        statuses=_delete_first(
            session, DeliveryStatus, DeliveryStatus.updated_at < now - DELIVERY_STATUSES_KEPT, limit
        ),
        waiting_expired=outbox.expire_waiting(session, now=now, limit=limit),
    )


def _delete_first(session: Session, table: type, expired: sa.ColumnElement, limit: int) -> int:
    ids = select(table.id).where(expired).order_by(table.id).limit(limit)
    doomed = list(session.exec(ids))
    if not doomed:
        return 0
    session.execute(sa.delete(table).where(table.id.in_(doomed)))
    return len(doomed)
