"""The Dinas's data export: one table per subject, read with one joined query each.

Tables hold values (numbers, texts, datetimes in UTC) under column keys; the workbook
writer gives them translated headers. Every export is recorded in `export_log`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from models import (
    BimtekRegistration,
    BimtekSession,
    Company,
    ExportLog,
    IkmProfile,
    Need,
    Offer,
    Partnership,
    Person,
    Product,
)


@dataclass(frozen=True)
class Table:
    """One sheet: its key ("ikm"), its column keys, and the rows in that order."""

    name: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]


def export_tables(*, session: Session) -> list[Table]:
    """Everything an officer may take out, one table per subject."""
    return [
        _ikm_with_products(session),
        _companies(session),
        _needs(session),
        _offers(session),
        _partnerships(session),
        _bimtek_registrations(session),
    ]


def record_export(
    *, session: Session, officer: Person, what: str, rows: int, now: datetime
) -> None:
    session.add(
        ExportLog(
            officer_id=officer.id,
            officer_phone=officer.phone,
            what=what,
            rows=rows,
            exported_at=now,
        )
    )


def _table(session: Session, name: str, query: sa.Select) -> Table:
    result = session.exec(query)
    columns = tuple(result.keys())
    return Table(name, columns, [tuple(row) for row in result])


def _ikm_with_products(session: Session) -> Table:
    """One row per product; an IKM without products has one row with the product empty."""
    query = (
        select(
            IkmProfile.id.label("ikm_id"),
            IkmProfile.business_name.label("business_name"),
            IkmProfile.owner_name.label("owner_name"),
            Person.phone.label("phone"),
            IkmProfile.sector.label("sector"),
            IkmProfile.kecamatan.label("kecamatan"),
            IkmProfile.desa.label("desa"),
            IkmProfile.nib.label("nib"),
            IkmProfile.workers.label("workers"),
            Product.name.label("product"),
            Product.unit.label("unit"),
            Product.price_min.label("price_min"),
            Product.price_max.label("price_max"),
            Product.capacity_per_month.label("capacity_per_month"),
            IkmProfile.created_at.label("registered_at"),
        )
        .join(Person, Person.id == IkmProfile.person_id)
        .join(Product, Product.ikm_id == IkmProfile.id, isouter=True)
        .order_by(IkmProfile.id, Product.id)
    )
    return _table(session, "ikm", query)


def _companies(session: Session) -> Table:
    query = (
        select(
            Company.id.label("company_id"),
            Company.name.label("company"),
            Company.estate.label("estate"),
            Company.address.label("address"),
            Company.contact_name.label("contact_name"),
            Person.phone.label("phone"),
            Company.status.label("status"),
            Company.created_at.label("registered_at"),
        )
        .join(Person, Person.id == Company.person_id)
        .order_by(Company.id)
    )
    return _table(session, "companies", query)


def _needs(session: Session) -> Table:
    query = (
        select(
            Need.id.label("need_id"),
            Company.name.label("company"),
            Need.title.label("title"),
            Need.quantity.label("quantity"),
            Need.unit.label("unit"),
            Need.price_per_unit.label("price_per_unit"),
            Need.budget.label("budget"),
            Need.deadline.label("deadline"),
            Need.delivery_place.label("delivery_place"),
            Need.status.label("status"),
            Need.created_at.label("created_at"),
            Need.closed_at.label("closed_at"),
        )
        .join(Company, Company.id == Need.company_id)
        .order_by(Need.id)
    )
    return _table(session, "needs", query)


def _offers(session: Session) -> Table:
    query = (
        select(
            Offer.id.label("offer_id"),
            Offer.need_id.label("need_id"),
            Need.title.label("title"),
            IkmProfile.business_name.label("business_name"),
            Offer.price_per_unit.label("price_per_unit"),
            Offer.quantity.label("quantity"),
            Offer.lead_time_days.label("lead_time_days"),
            Offer.status.label("status"),
            Offer.created_at.label("created_at"),
        )
        .join(Need, Need.id == Offer.need_id)
        .join(IkmProfile, IkmProfile.id == Offer.ikm_id)
        .order_by(Offer.id)
    )
    return _table(session, "offers", query)


def _partnerships(session: Session) -> Table:
    query = (
        select(
            Partnership.id.label("partnership_id"),
            Company.name.label("company"),
            IkmProfile.business_name.label("business_name"),
            Need.title.label("title"),
            Partnership.quantity.label("quantity"),
            Partnership.unit.label("unit"),
            Partnership.value.label("value"),
            Partnership.awarded_at.label("awarded_at"),
        )
        .join(Company, Company.id == Partnership.company_id)
        .join(IkmProfile, IkmProfile.id == Partnership.ikm_id)
        .join(Need, Need.id == Partnership.need_id)
        .order_by(Partnership.id)
    )
    return _table(session, "partnerships", query)


def _bimtek_registrations(session: Session) -> Table:
    owner = aliased(Person)
    query = (
        select(
            BimtekSession.id.label("bimtek_id"),
            BimtekSession.title.label("title"),
            BimtekSession.starts_at.label("starts_at"),
            IkmProfile.business_name.label("business_name"),
            owner.phone.label("phone"),
            BimtekRegistration.status.label("status"),
            BimtekRegistration.registered_at.label("registered_at"),
            BimtekRegistration.attended_at.label("attended_at"),
            BimtekRegistration.attended_via.label("attended_via"),
        )
        .join(BimtekSession, BimtekSession.id == BimtekRegistration.session_id)
        .join(IkmProfile, IkmProfile.id == BimtekRegistration.ikm_id)
        .join(owner, owner.id == BimtekRegistration.person_id)
        .order_by(col(BimtekSession.starts_at), BimtekRegistration.id)
    )
    return _table(session, "bimtek", query)
