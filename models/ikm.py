"""An IKM's business profile and its products.

`*Fields` classes hold what a person tells us (validated from a chat draft);
the table classes add keys and timestamps.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import utc_now


class IkmFields(SQLModel):
    owner_name: str = Field(min_length=1, max_length=120)
    business_name: str = Field(min_length=1, max_length=120)
    sector: str = Field(min_length=2, max_length=2, index=True)  # KBLI division "10".."33"
    kbli_code: str | None = Field(default=None, max_length=5)
    kbli_version: str | None = Field(default=None, max_length=4)  # "2020" or "2025"
    kecamatan: str = Field(max_length=40, index=True)
    desa: str | None = Field(default=None, max_length=80)
    nib: str | None = Field(default=None, max_length=13)
    workers: int | None = Field(default=None, ge=0)


class IkmProfile(IkmFields, table=True):
    __tablename__ = "ikm_profile"

    id: int | None = Field(default=None, primary_key=True)
    # None once the owner erased their data: the profile stays, emptied of names, only while
    # others' records (offers, partnerships, attendance) point at it (bot/services/erasure.py).
    person_id: int | None = Field(
        default=None, foreign_key="person.id", unique=True, ondelete="SET NULL"
    )
    created_at: datetime = Field(default_factory=utc_now, sa_type=sa.DateTime(timezone=True))
    updated_at: datetime = Field(default_factory=utc_now, sa_type=sa.DateTime(timezone=True))


class ProductFields(SQLModel):
    name: str = Field(min_length=1, max_length=120)
    description: str | None = Field(default=None, max_length=500)
    unit: str = Field(max_length=20)
    # Money is BIGINT: a rupiah figure outgrows INTEGER (2.1 miliar) in a single deal.
    price_min: int = Field(ge=0, sa_type=sa.BigInteger)  # rupiah per unit
    price_max: int = Field(ge=0, sa_type=sa.BigInteger)
    capacity_per_month: int = Field(gt=0)  # in units
    min_order: int | None = Field(default=None, gt=0)  # in units
    photo_ref: str | None = Field(default=None, max_length=255)  # "channel:file reference"


class Product(ProductFields, table=True):
    # Matching reads the products of a few hundred IKM per need: with what it reads in the
    # index, an IKM's products are one index page instead of a table page each.
    __table_args__ = (
        sa.Index("ix_product_ikm_matching", "ikm_id", "id", "capacity_per_month", "unit", "name"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ikm_id: int = Field(foreign_key="ikm_profile.id", ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utc_now, sa_type=sa.DateTime(timezone=True))
    updated_at: datetime = Field(default_factory=utc_now, sa_type=sa.DateTime(timezone=True))
