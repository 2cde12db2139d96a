"""People, the channel accounts they reach us through, and their recorded consent."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import utc_now


class Person(SQLModel, table=True):
    """One person is one phone number, whatever channel they write from."""

    id: int | None = Field(default=None, primary_key=True)
    # Only a proven number (it wrote on WhatsApp, or its own contact was shared on Telegram),
    # the operator's console, or the Dinas's own statement (an officer added by phone).
    phone: str | None = Field(default=None, unique=True, max_length=20)
    # A number the person typed (a WhatsApp user known only by a username): their claim, never
    # proof. Nothing is looked up, merged or shown to others by it; it is dropped when the
    # number's owner proves it.
    claimed_phone: str | None = Field(default=None, max_length=20, index=True)
    name: str | None = Field(default=None, max_length=120)
    language: str = Field(default="id", max_length=5)
    # ikm, company or dinas; admins are named in configuration, not here.
    role: str | None = Field(default=None, max_length=20, index=True)
    created_at: datetime = Field(default_factory=utc_now, sa_type=sa.DateTime(timezone=True))
    last_active_at: datetime = Field(default_factory=utc_now, sa_type=sa.DateTime(timezone=True))


class ChannelAccount(SQLModel, table=True):
    """A person's account on one channel: a Telegram user id, a WhatsApp wa_id, a console."""

    __tablename__ = "channel_account"
    __table_args__ = (sa.UniqueConstraint("channel", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True, ondelete="CASCADE")
    channel: str = Field(max_length=20)
    external_id: str = Field(max_length=64)
    # WhatsApp's business-scoped user id, when the platform sends one.
    platform_user_id: str | None = Field(default=None, max_length=128)
    blocked: bool = False
    last_inbound_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    created_at: datetime = Field(default_factory=utc_now, sa_type=sa.DateTime(timezone=True))


class Consent(SQLModel, table=True):
    """Consent to the data notice (UU 27/2022 PDP): when, and which version of the text."""

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True, ondelete="CASCADE")
    text_version: str = Field(max_length=20)
    language: str = Field(max_length=5)
    accepted_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
