"""Bimtek (technical training) sessions of the Dinas, IKM registrations and attendance."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import utc_now


class BimtekStatus(StrEnum):
    OPEN = "open"
    CANCELLED = "cancelled"


class RegistrationStatus(StrEnum):
    REGISTERED = "registered"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


class AttendedVia(StrEnum):
    OFFICER = "officer"  # the officer typed the participant's code: seen at the venue
    SELF = "self"  # the participant typed a code: where they were is not known


class BimtekFields(SQLModel):
    title: str = Field(min_length=3, max_length=160)
    description: str | None = Field(default=None, max_length=1000)
    organiser: str = Field(min_length=2, max_length=120)  # e.g. "Kemenperin", "Dinas Perindustrian"
    starts_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    venue: str = Field(min_length=3, max_length=300)  # a place, or an online link
    quota: int = Field(gt=0, le=10_000)
    sectors: list[str] = Field(default_factory=list, sa_type=sa.JSON)  # empty: every sector
    kecamatan: list[str] = Field(default_factory=list, sa_type=sa.JSON)  # empty: everywhere
    registration_deadline: datetime = Field(sa_type=sa.DateTime(timezone=True))
    bring: str | None = Field(default=None, max_length=500)  # what to bring / what is given


class BimtekSession(BimtekFields, table=True):
    __tablename__ = "bimtek_session"

    id: int | None = Field(default=None, primary_key=True)
    created_by: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    status: str = Field(default=BimtekStatus.OPEN, max_length=12, index=True)
    # Raised on every reschedule: reminder keys carry it, so they follow the new time.
    schedule_version: int = 1
    # The venue code: shown at the session, typed by a participant to check in themselves.
    checkin_code: str = Field(max_length=12)
    created_at: datetime = Field(default_factory=utc_now, sa_type=sa.DateTime(timezone=True))
    updated_at: datetime = Field(default_factory=utc_now, sa_type=sa.DateTime(timezone=True))


class BimtekRegistration(SQLModel, table=True):
    __tablename__ = "bimtek_registration"
    __table_args__ = (
        sa.UniqueConstraint("session_id", "ikm_id"),
        sa.UniqueConstraint("session_id", "checkin_code"),
    )

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="bimtek_session.id", index=True, ondelete="CASCADE")
    ikm_id: int = Field(foreign_key="ikm_profile.id", index=True, ondelete="CASCADE")
    # None once the IKM erased their data: an attendance the Dinas counts stays, anonymised.
    person_id: int | None = Field(
        default=None, foreign_key="person.id", index=True, ondelete="SET NULL"
    )
    status: str = Field(max_length=12, index=True)
    # The participant's attendance code ("kode hadir"): shown to the officer, or typed.
    checkin_code: str = Field(max_length=8)
    registered_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    cancelled_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    attended_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    attended_via: str | None = Field(default=None, max_length=8)  # AttendedVia


class AnnouncementStatus(StrEnum):
    SENDING = "sending"
    STOPPED = "stopped"


class Announcement(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    author_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    text: str = Field(max_length=3000)
    image_ref: str | None = Field(default=None, max_length=255)
    audience: dict = Field(sa_type=sa.JSON)  # {"kind": "sector", "values": ["14"]}
    recipients: int = 0
    status: str = Field(default=AnnouncementStatus.SENDING, max_length=12)
    created_at: datetime = Field(default_factory=utc_now, sa_type=sa.DateTime(timezone=True))
