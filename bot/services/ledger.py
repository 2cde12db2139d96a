"""The kemitraan ledger for the Perbup: per company, its partnerships with IKM, and totals.

A partnership is the record of an award (models/procurement.py `Partnership`): which company,
which IKM, for which need, how much, for what value, when. The ledger reads them for a
period (whole days in WIB, both ends included) and, if asked, one industrial estate or one
company, and groups them by company with the company's totals and the overall totals.

No chat text and no HTML: names come as stored, except that an erased party (its name
emptied, bot/services/erasure.py) appears under the label the caller passes, as it does in
the chat.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import groupby
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.services.erasure import Labels
from models import Company, IkmProfile, Need, Partnership

WIB = ZoneInfo("Asia/Jakarta")


@dataclass(frozen=True)
class LedgerQuery:
    """Which partnerships to count: days in WIB (inclusive; None is open-ended), an estate
    key from bot/data/reference.toml, one company."""

    start: date | None = None
    end: date | None = None
    estate: str | None = None
    company_id: int | None = None

    def for_company(self, company_id: int) -> LedgerQuery:
        """The same period and estate, narrowed to one company (what its total counts)."""
        return LedgerQuery(self.start, self.end, self.estate, company_id)


@dataclass(frozen=True)
class LedgerRow:
    """One partnership, as the ledger shows it."""

    partnership_id: int
    need_id: int
    need_title: str
    ikm_id: int
    ikm_name: str
    quantity: int
    unit: str
    value: int  # rupiah
    awarded_at: datetime  # UTC


@dataclass(frozen=True)
class Totals:
    partnerships: int
    ikm: int  # distinct IKM partnered with
    value: int  # rupiah
    quantities: tuple[tuple[str, int], ...]  # per unit, in the order units first appear

    @classmethod
    def of(cls, rows: tuple[LedgerRow, ...]) -> Totals:
        per_unit: Counter[str] = Counter()
        for row in rows:
            per_unit[row.unit] += row.quantity
        return cls(
            partnerships=len(rows),
            ikm=len({row.ikm_id for row in rows}),
            value=sum(row.value for row in rows),
            quantities=tuple(per_unit.items()),
        )


@dataclass(frozen=True)
class CompanyLedger:
    company_id: int
    company_name: str
    estate: str  # the estate's key
    rows: tuple[LedgerRow, ...]
    totals: Totals


@dataclass(frozen=True)
class Ledger:
    query: LedgerQuery
    companies: tuple[CompanyLedger, ...]
    totals: Totals

    @property
    def rows(self) -> tuple[LedgerRow, ...]:
        return tuple(row for company in self.companies for row in company.rows)


def ledger(*, session: Session, query: LedgerQuery, labels: Labels) -> Ledger:
    """The partnerships `query` selects, grouped by company (by name), oldest first in each."""
    found = session.exec(_select(query)).all()
    by_company: list[CompanyLedger] = []
    for (company_id, name, estate), group in groupby(found, key=lambda r: r[:3]):
        rows = tuple(_row(record, labels) for record in group)
        by_company.append(
            CompanyLedger(company_id, name or labels.company, estate, rows, Totals.of(rows))
        )
    by_company.sort(key=lambda company: (company.company_name.casefold(), company.company_id))
    every_row = tuple(row for company in by_company for row in company.rows)
    return Ledger(query, tuple(by_company), Totals.of(every_row))


def period_bounds(query: LedgerQuery) -> tuple[datetime | None, datetime | None]:
    """The period as UTC instants: from the start day's midnight WIB, up to (not including)
    the midnight WIB after the end day."""
    start = _midnight(query.start) if query.start else None
    end = _midnight(query.end + timedelta(days=1)) if query.end else None
    return start, end


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, WIB).astimezone(UTC)


def _select(query: LedgerQuery) -> sa.Select:
    start, end = period_bounds(query)
    conditions = []
    if start is not None:
        conditions.append(Partnership.awarded_at >= start)
    if end is not None:
        conditions.append(Partnership.awarded_at < end)
    if query.estate:
        conditions.append(Company.estate == query.estate)
    if query.company_id is not None:
        conditions.append(Partnership.company_id == query.company_id)
    return (
        select(
            Company.id,
            Company.name,
            Company.estate,
            Partnership.id,
            Partnership.need_id,
            Need.title,
            Partnership.ikm_id,
            IkmProfile.business_name,
            Partnership.quantity,
            Partnership.unit,
            Partnership.value,
            Partnership.awarded_at,
        )
        .join(Company, Company.id == Partnership.company_id)
        .join(Need, Need.id == Partnership.need_id)
        .join(IkmProfile, IkmProfile.id == Partnership.ikm_id)
        .where(*conditions)
        .order_by(Company.id, col(Partnership.awarded_at), Partnership.id)
    )


def _row(record: sa.Row, labels: Labels) -> LedgerRow:
    (_, _, _, partnership_id, need_id, title, ikm_id, ikm_name, quantity, unit, value, at) = record
    return LedgerRow(
        partnership_id=partnership_id,
        need_id=need_id,
        need_title=title,
        ikm_id=ikm_id,
        ikm_name=ikm_name or labels.ikm,
        quantity=quantity,
        unit=unit,
        value=value,
        awarded_at=at if at.tzinfo else at.replace(tzinfo=UTC),  # SQLite forgets the zone
    )
