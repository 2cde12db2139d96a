"""What the tests read back from the database."""

from __future__ import annotations

from sqlmodel import Session, select

from models import OutboxMessage
from models.outbox import OutboxState


def rows(app, table) -> list:
    with Session(app.database) as session:
        return list(session.exec(select(table)))


def outbox_due(app, channel: str) -> bool:
    """Whether the outbox still holds messages the sender should send on `channel`."""
    with Session(app.database) as session:
        due = select(OutboxMessage.id).where(
            OutboxMessage.channel == channel, OutboxMessage.state == OutboxState.PENDING
        )
        return session.exec(due).first() is not None
