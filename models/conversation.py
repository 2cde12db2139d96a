"""Where each person is in a conversation, and which platform messages were handled."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import utc_now


class ConversationState(SQLModel, table=True):
    """One row per person: the current step, the answers so far and the options last shown."""

    __tablename__ = "conversation_state"

    person_id: int = Field(foreign_key="person.id", primary_key=True, ondelete="CASCADE")
    step: str | None = Field(default=None, max_length=60)  # "flow.step", None when idle
    data: dict = Field(default_factory=dict, sa_type=sa.JSON)
    options: list = Field(default_factory=list, sa_type=sa.JSON)  # [[id, label], ...]
    # A flow interrupted by "menu" or a command: {"step": ..., "data": {...}}, resumable.
    suspended: dict | None = Field(default=None, sa_type=sa.JSON)
    updated_at: datetime = Field(default_factory=utc_now, sa_type=sa.DateTime(timezone=True))


class HandledMessage(SQLModel, table=True):
    """A platform message id already handled: webhooks are redelivered, we answer once."""

    __tablename__ = "handled_message"
    __table_args__ = (sa.UniqueConstraint("channel", "message_id"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    message_id: str = Field(max_length=128)
    handled_at: datetime = Field(
        default_factory=utc_now, sa_type=sa.DateTime(timezone=True), index=True
    )


class InboundEvent(SQLModel, table=True):
    """A webhook body stored before it is answered 200, processed afterwards: a process
    that stops in between loses nothing (the next one processes what is left)."""

    __tablename__ = "inbound_event"

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    payload: dict = Field(sa_type=sa.JSON)
    received_at: datetime = Field(default_factory=utc_now, sa_type=sa.DateTime(timezone=True))
    processed_at: datetime | None = Field(
        default=None, sa_type=sa.DateTime(timezone=True), index=True
    )
    # Passes that met a failure; after a few the body is set aside (quarantined): kept for
    # a person to look at, never retried, so it cannot hold back the bodies after it.
    attempts: int = Field(default=0)
    quarantined_at: datetime | None = Field(
        default=None, sa_type=sa.DateTime(timezone=True), index=True
    )
    last_error: str | None = Field(default=None, max_length=200)
    # When a worker took the body to process it: no other process takes it until the
    # lease runs out (then its holder is taken for dead and another takes it over).
    claimed_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))


class DeliveryStatus(SQLModel, table=True):
    """The latest delivery status the platform reported for a message it accepted."""

    __tablename__ = "delivery_status"
    __table_args__ = (sa.UniqueConstraint("channel", "platform_message_id"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    platform_message_id: str = Field(max_length=128)
    recipient: str = Field(max_length=64)
    status: str = Field(max_length=12)  # sent, delivered, read, failed
    error_code: int | None = None
    error_title: str | None = Field(default=None, max_length=200)
    updated_at: datetime = Field(
        default_factory=utc_now, sa_type=sa.DateTime(timezone=True), index=True
    )
