"""The Dinas's IKM directory: search, filters and paging over the IKM in the chat and the
registry's records nobody has claimed yet; one IKM's whole record. No text, no HTML."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.services import stats
from models import (
    BimtekRegistration,
    BimtekSession,
    Company,
    IkmProfile,
    Need,
    Offer,
    Partnership,
    Person,
    Product,
    RegistryRecord,
)

PAGE_SIZE = 25
IKM = "ikm"  # a profile: registered (or claimed) in the chat
REGISTRY = "registry"  # a registry record nobody has claimed yet


@dataclass(frozen=True)
class IkmFilter:
    """What the officer asked for; an empty value does not filter. `claimed`: "yes" (in the
    chat), "no" (registry records not claimed); `active`: "yes" / "no"."""

    search: str = ""
    kecamatan: str = ""
    sector: str = ""
    active: str = ""
    claimed: str = ""
    page: int = 1


@dataclass(frozen=True)
class IkmRow:
    kind: str  # IKM or REGISTRY
    id: int
    business_name: str
    owner_name: str | None
    kecamatan: str | None
    sector: str | None
    active: bool


@dataclass(frozen=True)
class IkmPage:
    rows: list[IkmRow]
    total: int
    page: int
    pages: int


@dataclass(frozen=True)
class IkmRecord:
    """One IKM with everything the Dinas sees of it."""

    profile: IkmProfile
    phone: str | None
    active: bool
    products: list[Product] = field(default_factory=list)
    offers: list[tuple[Offer, Need, str]] = field(default_factory=list)  # with company name
    partnerships: list[tuple[Partnership, Need, str]] = field(default_factory=list)
    bimtek: list[tuple[BimtekRegistration, BimtekSession]] = field(default_factory=list)


def _like(column: sa.ColumnElement, text: str) -> sa.ColumnElement[bool]:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return sa.func.lower(column).like(f"%{escaped}%", escape="\\")


def _profiles(wanted: IkmFilter, active_ids: sa.Select) -> sa.Select:
    active = IkmProfile.id.in_(active_ids)
    query = select(
        sa.literal(IKM).label("kind"),
        IkmProfile.id.label("id"),
        IkmProfile.business_name.label("business_name"),
        IkmProfile.owner_name.label("owner_name"),
        IkmProfile.kecamatan.label("kecamatan"),
        IkmProfile.sector.label("sector"),
        sa.case((active, True), else_=False).label("active"),
    )
    if wanted.active == "yes":
        query = query.where(active)
    elif wanted.active == "no":
        query = query.where(sa.not_(active))
    return _narrowed(query, wanted, IkmProfile)


def _records(wanted: IkmFilter) -> sa.Select:
    query = select(
        sa.literal(REGISTRY).label("kind"),
        RegistryRecord.id.label("id"),
        RegistryRecord.business_name.label("business_name"),
        RegistryRecord.owner_name.label("owner_name"),
        RegistryRecord.kecamatan.label("kecamatan"),
        RegistryRecord.sector.label("sector"),
        sa.false().label("active"),
    ).where(col(RegistryRecord.ikm_id).is_(None))
    return _narrowed(query, wanted, RegistryRecord)


def _narrowed(query: sa.Select, wanted: IkmFilter, table: type) -> sa.Select:
    if wanted.search.strip():
        text = wanted.search.strip()
        query = query.where(sa.or_(_like(table.business_name, text), _like(table.owner_name, text)))
    if wanted.kecamatan:
        query = query.where(table.kecamatan == wanted.kecamatan)
    if wanted.sector:
        query = query.where(table.sector == wanted.sector)
    return query


def list_ikm(*, session: Session, wanted: IkmFilter, now: datetime, active_days: int) -> IkmPage:
    """A page of the directory, by business name; unclaimed registry records are never active."""
    parts = []
    if wanted.claimed != "no":
        parts.append(_profiles(wanted, stats.active_ikm_ids(now=now, days=active_days)))
    if wanted.claimed != "yes" and wanted.active != "yes":
        parts.append(_records(wanted))
    listed = sa.union_all(*parts).subquery("listed") if len(parts) > 1 else parts[0].subquery()
    total = session.execute(sa.select(sa.func.count()).select_from(listed)).scalar_one()
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, wanted.page), pages)
    rows = session.execute(
        sa.select(listed)
        .order_by(sa.func.lower(listed.c.business_name), listed.c.kind, listed.c.id)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    return IkmPage(
        rows=[IkmRow(*row[:6], active=bool(row[6])) for row in rows],
        total=total,
        page=page,
        pages=pages,
    )


def ikm_record(
    *, session: Session, ikm_id: int, now: datetime, active_days: int
) -> IkmRecord | None:
    profile = session.get(IkmProfile, ikm_id)
    if profile is None:
        return None
    active_ids = stats.active_ikm_ids(now=now, days=active_days)
    active = session.exec(
        select(sa.literal(True)).where(IkmProfile.id.in_(active_ids), IkmProfile.id == ikm_id)
    ).first()
    phone = session.exec(select(Person.phone).where(Person.id == profile.person_id)).first()
    return IkmRecord(
        profile=profile,
        phone=phone,
        active=bool(active),
        products=list(
            session.exec(select(Product).where(Product.ikm_id == ikm_id).order_by(Product.id))
        ),
        offers=[
            (offer, need, name)
            for offer, need, name in session.exec(
                select(Offer, Need, Company.name)
                .join(Need, Need.id == Offer.need_id)
                .join(Company, Company.id == Need.company_id)
                .where(Offer.ikm_id == ikm_id)
                .order_by(col(Offer.created_at).desc())
            )
        ],
        partnerships=[
            (partnership, need, name)
            for partnership, need, name in session.exec(
                select(Partnership, Need, Company.name)
                .join(Need, Need.id == Partnership.need_id)
                .join(Company, Company.id == Partnership.company_id)
                .where(Partnership.ikm_id == ikm_id)
                .order_by(col(Partnership.awarded_at).desc())
            )
        ],
        bimtek=[
            (registration, bimtek)
            for registration, bimtek in session.exec(
                select(BimtekRegistration, BimtekSession)
                .join(BimtekSession, BimtekSession.id == BimtekRegistration.session_id)
                .where(BimtekRegistration.ikm_id == ikm_id)
                .order_by(col(BimtekSession.starts_at).desc())
            )
        ],
    )


def registry_record(*, session: Session, record_id: int) -> RegistryRecord | None:
    return session.get(RegistryRecord, record_id)
