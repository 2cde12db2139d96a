"""The outbox: every proactive message (reminder, announcement, call) is a row first.

It is written in the same transaction as the event that causes it, under a unique
idempotency key, and a sender drains it under the platforms' rate limits.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import utc_now


class OutboxState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a sender; reclaimed if its lease runs out (a crash)
    SENT = "sent"
    FAILED = "failed"  # permanent: blocked, undeliverable, refused
    WAITING = "waiting"  # for the person: the console inbox, or WhatsApp's 24-hour window
    CANCELLED = "cancelled"  # e.g. an announcement stopped midway
    # Never delivered because no longer worth it: too late to be of use (its kind's time
    # ran out before it could go), or made untrue by a later message (a session cancelled).
    EXPIRED = "expired"
    SUPERSEDED = "superseded"


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox_message"
    __table_args__ = (
        sa.Index("ix_outbox_due", "state", "channel", "next_attempt_at"),
        # A person's messages on one account: the inbox shown when they write, and what a
        # block cancels.
        sa.Index("ix_outbox_account", "channel", "account_id", "state"),
        # What a later message makes untrue: the unsent messages about one subject.
        sa.Index("ix_outbox_subject", "subject", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=160, unique=True)
    person_id: int = Field(foreign_key="person.id", index=True, ondelete="CASCADE")
    channel: str = Field(max_length=20)
    account_id: str = Field(max_length=64)  # the channel account's external id
    kind: str = Field(max_length=40)  # "announcement", "bimtek.reminder", ...
    batch: str | None = Field(default=None, max_length=60, index=True)  # e.g. "announcement:7"
    # What to say: {"template": "bimtek.reminder", "params": {...}}, rendered at send time
    # in the person's language by handlers/notifications.py (services write no chat text).
    content: dict = Field(sa_type=sa.JSON)
    # What the message is about ("bimtek:4", "need:7"): a later message about the same
    # subject may make it untrue (bot/services/outbox.py, REACH).
    subject: str | None = Field(default=None, max_length=60)
    # After this it is no longer worth sending: it is dropped (state "expired"), not sent.
    expires_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    language: str = Field(default="id", max_length=5)
    state: str = Field(default=OutboxState.PENDING, max_length=12)
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    claimed_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    last_error: str | None = Field(default=None, max_length=300)
    # The platform's id of what was sent (a WhatsApp wamid), to match delivery statuses.
    platform_message_id: str | None = Field(default=None, max_length=128, index=True)
    created_at: datetime = Field(default_factory=utc_now, sa_type=sa.DateTime(timezone=True))
    sent_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
