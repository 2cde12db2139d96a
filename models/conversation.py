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
    handled_at: datetime = Field(default_factory=utc_now, sa_type=sa.DateTime(timezone=True))
