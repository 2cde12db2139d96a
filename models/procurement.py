"""Procurement: companies' needs (calls), who they were matched to, offers, awards (kemitraan).

Also the audit log of the Dinas's verification decisions and the keyword index of
products that matching searches.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import utc_now


class VerificationDecision(SQLModel, table=True):
    """Who approved or rejected which company, when, and why: kept for audit."""

    __tablename__ = "verification_decision"

    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="company.id", index=True, ondelete="CASCADE")
    company_name: str = Field(max_length=160)  # as it was when decided
    officer_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    officer_phone: str | None = Field(default=None, max_length=20)  # outlives the officer's row
    decision: str = Field(max_length=12)  # CompanyStatus.VERIFIED or REJECTED
    reason: str | None = Field(default=None, max_length=300)
    decided_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class NeedStatus(StrEnum):
    OPEN = "open"  # taking offers
    CLOSED = "closed"  # deadline passed or closed early: the company chooses
    AWARDED = "awarded"  # the company finished choosing: nothing changes any more
    CANCELLED = "cancelled"


class NeedFields(SQLModel):
    title: str = Field(min_length=3, max_length=120)
    description: str | None = Field(default=None, max_length=1000)
    # KBLI divisions ("14") or 5-digit codes ("14120") the company buys this under.
    sectors: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    quantity: int = Field(gt=0)
    unit: str = Field(max_length=20)
    # Money is BIGINT: a rupiah figure outgrows INTEGER (2.1 miliar) in a single deal.
    price_per_unit: int | None = Field(default=None, ge=0, sa_type=sa.BigInteger)  # target
    budget: int | None = Field(default=None, ge=0, sa_type=sa.BigInteger)  # or a total
    deadline: datetime = Field(sa_type=sa.DateTime(timezone=True))  # last moment for offers
    delivery_date: datetime = Field(sa_type=sa.DateTime(timezone=True))
    delivery_place: str = Field(min_length=2, max_length=200)
    delivery_kecamatan: str | None = Field(default=None, max_length=40)


class Need(NeedFields, table=True):
    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="company.id", index=True, ondelete="CASCADE")
    status: str = Field(default=NeedStatus.OPEN, max_length=12, index=True)
    created_at: datetime = Field(default_factory=utc_now, sa_type=sa.DateTime(timezone=True))
    closed_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))


class MatchState(StrEnum):
    SENT = "sent"  # the call was queued to the IKM
    HELD = "held"  # over the IKM's daily cap: waits for the next digest
    DIGESTED = "digested"  # went out in a digest
    DECLINED = "declined"  # the IKM tapped "Tidak berminat"


class NeedMatch(SQLModel, table=True):
    __tablename__ = "need_match"
    __table_args__ = (sa.UniqueConstraint("need_id", "ikm_id"),)

    id: int | None = Field(default=None, primary_key=True)
    need_id: int = Field(foreign_key="need.id", index=True, ondelete="CASCADE")
    ikm_id: int = Field(foreign_key="ikm_profile.id", index=True, ondelete="CASCADE")
    person_id: int = Field(foreign_key="person.id", index=True, ondelete="CASCADE")
    rank: int
    score: float
    reasons: list[dict] = Field(default_factory=list, sa_type=sa.JSON)
    distance_km: float | None = None
    state: str = Field(max_length=12, index=True)
    created_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    notified_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))


class OfferStatus(StrEnum):
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"
    AWARDED = "awarded"
    NOT_CHOSEN = "not_chosen"


class OfferFields(SQLModel):
    price_per_unit: int = Field(gt=0, sa_type=sa.BigInteger)  # rupiah
    quantity: int = Field(gt=0)
    lead_time_days: int = Field(gt=0, le=730)
    note: str | None = Field(default=None, max_length=500)
    photo_ref: str | None = Field(default=None, max_length=255)


class Offer(OfferFields, table=True):
    __table_args__ = (sa.UniqueConstraint("need_id", "ikm_id"),)

    id: int | None = Field(default=None, primary_key=True)
    need_id: int = Field(foreign_key="need.id", index=True, ondelete="CASCADE")
    ikm_id: int = Field(foreign_key="ikm_profile.id", index=True, ondelete="CASCADE")
    # None once the IKM erased their data: the offer is the company's record too.
    person_id: int | None = Field(
        default=None, foreign_key="person.id", index=True, ondelete="SET NULL"
    )
    status: str = Field(default=OfferStatus.ACTIVE, max_length=12)
    shortlisted: bool = False
    created_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    updated_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class OfferQuestion(SQLModel, table=True):
    """A company's question about an offer, and the IKM's answer."""

    __tablename__ = "offer_question"

    id: int | None = Field(default=None, primary_key=True)
    offer_id: int = Field(foreign_key="offer.id", index=True, ondelete="CASCADE")
    question: str = Field(max_length=500)
    answer: str | None = Field(default=None, max_length=500)
    asked_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    answered_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))


class Partnership(SQLModel, table=True):
    """A kemitraan: an award of (part of) a need to an IKM."""

    __table_args__ = (sa.UniqueConstraint("need_id", "ikm_id"),)

    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="company.id", index=True, ondelete="CASCADE")
    ikm_id: int = Field(foreign_key="ikm_profile.id", index=True, ondelete="CASCADE")
    need_id: int = Field(foreign_key="need.id", index=True, ondelete="CASCADE")
    offer_id: int = Field(foreign_key="offer.id", ondelete="CASCADE")
    quantity: int = Field(gt=0)
    unit: str = Field(max_length=20)
    value: int = Field(ge=0, sa_type=sa.BigInteger)  # rupiah: quantity times the offered price
    awarded_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class ProductKeyword(SQLModel, table=True):
    """A product's normalised words (synonyms folded), so matching finds products by index."""

    __tablename__ = "product_keyword"
    # Covers matching's lookups by word (which IKM, which product) without reading the table.
    __table_args__ = (
        sa.Index("ix_product_keyword_keyword_ikm_product", "keyword", "ikm_id", "product_id"),
    )

    product_id: int = Field(foreign_key="product.id", primary_key=True, ondelete="CASCADE")
    keyword: str = Field(max_length=40, primary_key=True)
    ikm_id: int = Field(foreign_key="ikm_profile.id", index=True, ondelete="CASCADE")
