"""The Dinas's registry of IKM, as imported from its spreadsheets, and numbers that opted out.

A registry record is what the Dinas holds about a business, not what its owner told us:
it is counted in statistics but never shown to a company and never sent calls. When the
record's number writes and the owner confirms it ("Benar"), the record is claimed: an
`IkmProfile` is made from it and linked here.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import utc_now


class RegistryRecord(SQLModel, table=True):
    __tablename__ = "registry_record"

    id: int | None = Field(default=None, primary_key=True)
    business_name: str = Field(max_length=120, index=True)
    owner_name: str | None = Field(default=None, max_length=120)
    address: str | None = Field(default=None, max_length=255)
    desa: str | None = Field(default=None, max_length=80)
    kecamatan: str | None = Field(default=None, max_length=40, index=True)  # None: not recognised
    sector: str | None = Field(default=None, max_length=2, index=True)  # KBLI division
    kbli_code: str | None = Field(default=None, max_length=5)
    products: str | None = Field(default=None, max_length=500)  # as listed, e.g. "boneka, tas"
    nib: str | None = Field(default=None, max_length=13, index=True)
    phone: str | None = Field(default=None, max_length=20, index=True)  # E.164
    phone_alt: str | None = Field(default=None, max_length=20, index=True)  # a second number
    workers: int | None = Field(default=None, ge=0)
    founded_year: int | None = Field(default=None)
    # Where it came from (told to the person: UU 27/2022), and the row it was read from.
    source: str = Field(max_length=160)
    source_row: int | None = Field(default=None)
    # The values as last imported, so that a corrected file updates only what the owner has
    # not changed since in the chat.
    imported_values: dict = Field(default_factory=dict, sa_type=sa.JSON)
    ikm_id: int | None = Field(
        default=None, foreign_key="ikm_profile.id", unique=True, ondelete="SET NULL"
    )
    claimed_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    # "not_mine": the number's owner said it is not their business; the Dinas looks at it.
    flag: str | None = Field(default=None, max_length=20, index=True)
    flagged_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    invited_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    invitations: int = Field(default=0)
    created_at: datetime = Field(default_factory=utc_now, sa_type=sa.DateTime(timezone=True))
    updated_at: datetime = Field(default_factory=utc_now, sa_type=sa.DateTime(timezone=True))


class OptOut(SQLModel, table=True):
    """A number that asked not to be contacted. Only the number's hash is kept, so the
    opt-out is honoured even after the person's data is erased."""

    __tablename__ = "opt_out"

    id: int | None = Field(default=None, primary_key=True)
    phone_hash: str = Field(max_length=64, unique=True)  # sha256 hex of the E.164 number
    created_at: datetime = Field(default_factory=utc_now, sa_type=sa.DateTime(timezone=True))
