"""Companies (the big buyers) and their verification status."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import utc_now


class CompanyStatus(StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"


class CompanyFields(SQLModel):
    name: str = Field(min_length=1, max_length=160)
    estate: str = Field(max_length=40)  # key from the estates list, or "lainnya"
    address: str = Field(min_length=1, max_length=300)
    contact_name: str = Field(min_length=1, max_length=120)
    sectors: list[str] = Field(default_factory=list, sa_type=sa.JSON)


class Company(CompanyFields, table=True):
    id: int | None = Field(default=None, primary_key=True)
    # None once the contact erased their data: the company stays, emptied of names, for the
    # records of others and of the Dinas (needs, offers, decisions; bot/services/erasure.py).
    person_id: int | None = Field(
        default=None, foreign_key="person.id", unique=True, ondelete="SET NULL"
    )
    status: str = Field(default=CompanyStatus.PENDING, max_length=12, index=True)
    created_at: datetime = Field(default_factory=utc_now, sa_type=sa.DateTime(timezone=True))
    updated_at: datetime = Field(default_factory=utc_now, sa_type=sa.DateTime(timezone=True))
