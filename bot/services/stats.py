"""Statistics for the Dinas, computed over the database: figures and series, no chat text.

Every function takes the session as a keyword and the moment it counts up to (`now`),
and answers with a typed result. Counting happens in the database (COUNT, SUM, GROUP
BY), a handful of queries per figure, so it stays fast with tens of thousands of IKM.

"Active" IKM: any inbound message (the person's `last_active_at`), offer or bimtek
attendance within the last `active_days` (config `[stats]`, 60 by default).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import (
    BimtekRegistration,
    BimtekSession,
    BimtekStatus,
    Company,
    CompanyStatus,
    IkmProfile,
    Need,
    NeedStatus,
    Offer,
    OfferStatus,
    Partnership,
    Person,
    RegistrationStatus,
    RegistryRecord,
)

DEFAULT_ACTIVE_DAYS = 60
WIB = ZoneInfo("Asia/Jakarta")


@dataclass(frozen=True)
class Overview:
    """The figures of the summary, as of `now`; "this month" is the calendar month in WIB."""

    ikm_registered: int
    ikm_claimed: int
    ikm_active: int
    companies_verified: int
    companies_waiting: int
    needs_open: int
    needs_closed_this_month: int
    offers: int
    offers_this_month: int
    awards: int
    awards_value: int  # rupiah
    bimtek_held: int
    bimtek_attendance: int


@dataclass(frozen=True)
class Point:
    """One bar or one point of a series: a key (a month's first day, a kecamatan, a
    sector code, a company name, a bimtek title) and its value."""

    key: str | date
    value: int


@dataclass(frozen=True)
class Series:
    points: tuple[Point, ...]

    @property
    def values(self) -> tuple[int, ...]:
        return tuple(point.value for point in self.points)

    @property
    def keys(self) -> tuple[str | date, ...]:
        return tuple(point.key for point in self.points)


@dataclass(frozen=True)
class SectorFigures:
    """Needs posted and awards made per KBLI division (a need may name several)."""

    needs: Series
    awards: Series


@dataclass(frozen=True)
class CompanyPartnerships:
    name: str
    partnerships: int
    value: int  # rupiah


@dataclass(frozen=True)
class SessionAttendance:
    bimtek_id: int
    title: str
    starts_at: datetime
    registered: int
    attended: int


# --- the overview ------------------------------------------------------------------------


def overview(
    *, session: Session, now: datetime, active_days: int = DEFAULT_ACTIVE_DAYS, tz: ZoneInfo = WIB
) -> Overview:
    """Every figure of the summary in a few aggregate queries."""
    month_start = month_starts(now, 1, tz)[0]
    registered, claimed = _ikm_counts(session)
    companies = _count_by(session, Company.status)
    awards, awards_value = session.exec(
        select(sa.func.count(Partnership.id), sa.func.coalesce(sa.func.sum(Partnership.value), 0))
    ).one()
    held, attendance = _bimtek_held(session, now)
    return Overview(
        ikm_registered=registered,
        ikm_claimed=claimed,
        ikm_active=active_ikm(session=session, now=now, days=active_days),
        companies_verified=companies.get(CompanyStatus.VERIFIED, 0),
        companies_waiting=companies.get(CompanyStatus.PENDING, 0),
        needs_open=_count_by(session, Need.status).get(NeedStatus.OPEN, 0),
        needs_closed_this_month=_scalar(
            session,
            select(sa.func.count(Need.id)).where(
                col(Need.status).in_([NeedStatus.CLOSED, NeedStatus.AWARDED]),
                col(Need.closed_at) >= month_start,
                col(Need.closed_at) <= now,
            ),
        ),
        offers=_scalar(session, _offers_query()),
        offers_this_month=_scalar(
            session,
            _offers_query().where(col(Offer.created_at) >= month_start, Offer.created_at <= now),
        ),
        awards=awards,
        awards_value=int(awards_value),
        bimtek_held=held,
        bimtek_attendance=attendance,
    )


def _claimed_clause() -> sa.ColumnElement[bool]:
    """Which IKM profiles are "claimed": every one. A profile exists only because its owner
    registered in the chat, from nothing or by confirming the Dinas's record ("Benar"),
    so "claimed" means "on the bot", whichever way it came."""
    return sa.true()


def _unclaimed_registry_clause() -> sa.ColumnElement[bool]:
    """Registry records still waiting for their owner: not claimed, and not flagged by the
    number's owner as "not my business" (the Dinas has to look at those first)."""
    return sa.and_(col(RegistryRecord.ikm_id).is_(None), col(RegistryRecord.flag).is_(None))


def _ikm_counts(session: Session) -> tuple[int, int]:
    """(registered, claimed): registered is every IKM profile plus the registry's records
    still unclaimed (the Dinas's 1,400), claimed the profiles."""
    claimed = sa.func.count(sa.case((_claimed_clause(), IkmProfile.id)))
    profiles, claimed_count = session.exec(select(sa.func.count(IkmProfile.id), claimed)).one()
    unclaimed = _scalar(
        session, select(sa.func.count(RegistryRecord.id)).where(_unclaimed_registry_clause())
    )
    return profiles + unclaimed, claimed_count


def _count_by(session: Session, column: sa.ColumnElement) -> dict[str, int]:
    rows = session.exec(select(column, sa.func.count()).group_by(column))
    return {key: count for key, count in rows}


def _scalar(session: Session, query: sa.Select) -> int:
    return int(session.exec(query).one() or 0)


def _offers_query() -> sa.Select:
    return select(sa.func.count(Offer.id)).where(Offer.status != OfferStatus.WITHDRAWN)


def _bimtek_held(session: Session, now: datetime) -> tuple[int, int]:
    held = _scalar(
        session,
        select(sa.func.count(BimtekSession.id)).where(
            BimtekSession.status == BimtekStatus.OPEN, BimtekSession.starts_at <= now
        ),
    )
    attended = _scalar(
        session,
        select(sa.func.count(BimtekRegistration.id))
        .join(BimtekSession, BimtekSession.id == BimtekRegistration.session_id)
        .where(
            BimtekSession.status == BimtekStatus.OPEN,
            BimtekSession.starts_at <= now,
            col(BimtekRegistration.attended_at).is_not(None),
        ),
    )
    return held, attended


# --- activity ----------------------------------------------------------------------------


def _activity(since: datetime, until: datetime) -> sa.Subquery:
    """Every moment an IKM was heard from between `since` and `until`, as (ikm_id, at): its
    owner's last message, its offers, its bimtek attendance. Only a person's last message is
    stored, so older messages count only through the offers and attendance they led to."""
    messages = (
        select(IkmProfile.id.label("ikm_id"), Person.last_active_at.label("at"))
        .join(Person, Person.id == IkmProfile.person_id)
        .where(Person.last_active_at >= since, Person.last_active_at <= until)
    )
    offers = select(Offer.ikm_id.label("ikm_id"), Offer.created_at.label("at")).where(
        Offer.created_at >= since, Offer.created_at <= until
    )
    attended = select(
        BimtekRegistration.ikm_id.label("ikm_id"), BimtekRegistration.attended_at.label("at")
    ).where(BimtekRegistration.attended_at >= since, BimtekRegistration.attended_at <= until)
    # Each part filtered before the union: the database need not gather every row first.
    return sa.union_all(messages, offers, attended).subquery("activity")


def active_ikm(*, session: Session, now: datetime, days: int = DEFAULT_ACTIVE_DAYS) -> int:
    """IKM heard from in the `days` before `now`."""
    activity = _activity(now - timedelta(days=days), now)
    return _scalar(session, select(sa.func.count(sa.distinct(activity.c.ikm_id))))


def active_ikm_ids(*, now: datetime, days: int = DEFAULT_ACTIVE_DAYS) -> sa.Select:
    """The ids of the IKM `active_ikm` counts, as a query to filter lists by."""
    activity = _activity(now - timedelta(days=days), now)
    return select(activity.c.ikm_id).distinct()


def month_starts(now: datetime, months: int, tz: ZoneInfo = WIB) -> list[datetime]:
    """The first moments (as UTC) of the last `months` calendar months in `tz`, oldest first."""
    local = now.astimezone(tz)
    year, month = local.year, local.month
    starts = []
    for _ in range(months):
        starts.append(datetime(year, month, 1, tzinfo=tz).astimezone(UTC))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts[::-1]


def active_by_month(
    *, session: Session, now: datetime, months: int = 12, tz: ZoneInfo = WIB
) -> Series:
    """IKM heard from in each of the last `months` calendar months (this one up to `now`)."""
    starts = month_starts(now, months, tz)
    activity = _activity(starts[0], now)
    bucket = sa.case(
        *((activity.c.at >= start, index) for index, start in reversed(list(enumerate(starts)))),
        else_=None,
    ).label("bucket")
    # Grouped by the label: the CASE is worked out once per row, not again for GROUP BY.
    query = select(bucket, sa.func.count(sa.distinct(activity.c.ikm_id))).group_by(
        sa.text("bucket")
    )
    counts = {index: count for index, count in session.exec(query)}
    return Series(
        tuple(
            Point(start.astimezone(tz).date(), counts.get(index, 0))
            for index, start in enumerate(starts)
        )
    )


# --- breakdowns --------------------------------------------------------------------------


def ikm_by_kecamatan(*, session: Session) -> Series:
    """Registered IKM per kecamatan, most first."""
    count = sa.func.count(IkmProfile.id)
    rows = session.exec(
        select(IkmProfile.kecamatan, count)
        .group_by(IkmProfile.kecamatan)
        .order_by(count.desc(), IkmProfile.kecamatan)
    )
    return Series(tuple(Point(name, total) for name, total in rows))


def by_sector(*, session: Session, since: datetime, now: datetime) -> SectorFigures:
    """Needs posted and partnerships awarded between `since` and `now`, per KBLI division."""
    # Grouped by the stored list itself: a handful of distinct lists, split here.
    listed = sa.cast(Need.sectors, sa.Text)
    rows = session.exec(
        select(listed, sa.func.count(Need.id))
        .where(Need.created_at >= since, Need.created_at <= now)
        .group_by(listed)
    )
    needs: Counter[str] = Counter()
    for stored, count in rows:
        for division in {code[:2] for code in json.loads(stored or "[]")}:
            needs[division] += count
    count = sa.func.count(Partnership.id)
    awards = session.exec(
        select(IkmProfile.sector, count)
        .join(IkmProfile, IkmProfile.id == Partnership.ikm_id)
        .where(Partnership.awarded_at >= since, Partnership.awarded_at <= now)
        .group_by(IkmProfile.sector)
    )
    by_division = Counter({sector: total for sector, total in awards})
    return SectorFigures(needs=_ranked(needs), awards=_ranked(by_division))


def _ranked(counts: Counter[str]) -> Series:
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return Series(tuple(Point(key, value) for key, value in ordered))


def partnerships_by_company(
    *, session: Session, since: datetime, now: datetime, limit: int = 10
) -> list[CompanyPartnerships]:
    """The companies with the most partnerships between `since` and `now`."""
    count = sa.func.count(Partnership.id)
    rows = session.exec(
        select(Company.name, count, sa.func.sum(Partnership.value))
        .join(Company, Company.id == Partnership.company_id)
        .where(Partnership.awarded_at >= since, Partnership.awarded_at <= now)
        .group_by(Company.id, Company.name)
        .order_by(count.desc(), sa.func.sum(Partnership.value).desc(), Company.name)
        .limit(limit)
    )
    return [CompanyPartnerships(name, total, int(value or 0)) for name, total, value in rows]


def bimtek_attendance(
    *, session: Session, now: datetime, limit: int = 6
) -> list[SessionAttendance]:
    """The latest sessions held by `now`: how many registered and how many attended."""
    registered = sa.func.count(BimtekRegistration.id)
    attended = sa.func.count(BimtekRegistration.attended_at)
    rows = session.exec(
        select(BimtekSession.id, BimtekSession.title, BimtekSession.starts_at, registered, attended)
        .join(
            BimtekRegistration,
            sa.and_(
                BimtekRegistration.session_id == BimtekSession.id,
                BimtekRegistration.status == RegistrationStatus.REGISTERED,
            ),
            isouter=True,
        )
        .where(BimtekSession.status == BimtekStatus.OPEN, BimtekSession.starts_at <= now)
        .group_by(BimtekSession.id, BimtekSession.title, BimtekSession.starts_at)
        .order_by(col(BimtekSession.starts_at).desc())
        .limit(limit)
    )
    found = [SessionAttendance(*row) for row in rows]
    return found[::-1]
