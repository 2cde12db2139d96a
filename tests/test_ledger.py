"""The kemitraan ledger over a seeded year whose partnerships are declared in the seed:
every expected figure is worked out here from `PARTNERSHIPS`, never from the service."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session

from bot.services import erasure, ledger
from models import Person
from tests.conftest import START
from tests.ledger_history import (
    COMPANIES,
    IKM,
    PARTNERSHIPS,
    YEAR_END,
    YEAR_START,
    Award,
    seed_ledger,
)

LABELS = erasure.Labels(ikm="IKM (data dihapus)", company="Perusahaan (data dihapus)")


@pytest.fixture
def seeded(app):
    ids = seed_ledger(app.database)
    with Session(app.database) as session:
        yield session, ids


def _chosen(start: date | None, end: date | None, estate: str | None = None) -> list[Award]:
    return [
        award
        for award in PARTNERSHIPS
        if (start is None or award.day >= start)
        and (end is None or award.day <= end)
        and (estate is None or COMPANIES[award.company - 1][1] == estate)
    ]


def _expected_companies(awards: list[Award]) -> list[tuple]:
    """(name, estate, count, distinct IKM, value, rows oldest first) per company, by name."""
    expected = []
    for number in sorted({award.company for award in awards}):
        own = sorted(
            (award for award in awards if award.company == number), key=lambda a: a.awarded_at
        )
        name, estate = COMPANIES[number - 1]
        rows = [(a.title, IKM[a.ikm - 1][0], a.quantity, a.unit, a.value) for a in own]
        value = sum(a.value for a in own)
        expected.append((name, estate, len(own), len({a.ikm for a in own}), value, rows))
    return sorted(expected, key=lambda company: company[0].casefold())


def _shown(found: ledger.Ledger) -> list[tuple]:
    return [
        (
            company.company_name,
            company.estate,
            company.totals.partnerships,
            company.totals.ikm,
            company.totals.value,
            [(r.need_title, r.ikm_name, r.quantity, r.unit, r.value) for r in company.rows],
        )
        for company in found.companies
    ]


def test_the_year_per_company_with_totals(seeded) -> None:
    session, _ = seeded
    query = ledger.LedgerQuery(start=YEAR_START, end=YEAR_END)
    found = ledger.ledger(session=session, query=query, labels=LABELS)
    awards = _chosen(YEAR_START, YEAR_END)
    assert len(awards) == 8  # the seed's two oldest awards lie before the year
    assert _shown(found) == _expected_companies(awards)
    assert found.totals.partnerships == len(awards)
    assert found.totals.value == sum(award.value for award in awards)
    assert found.totals.ikm == len({award.ikm for award in awards})
    assert dict(found.totals.quantities) == {
        unit: sum(a.quantity for a in awards if a.unit == unit) for unit in {a.unit for a in awards}
    }


def test_an_estate_keeps_only_its_companies(seeded) -> None:
    session, _ = seeded
    query = ledger.LedgerQuery(start=YEAR_START, end=YEAR_END, estate="jababeka")
    found = ledger.ledger(session=session, query=query, labels=LABELS)
    awards = _chosen(YEAR_START, YEAR_END, "jababeka")
    assert {company.estate for company in found.companies} == {"jababeka"}
    assert _shown(found) == _expected_companies(awards)
    assert found.totals.value == sum(award.value for award in awards)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2026, 2, 1), date(2026, 2, 28)),  # takes 31 Jan 17:00 UTC: 1 Feb in WIB
        (date(2026, 1, 1), date(2026, 1, 31)),  # so January has none
        (date(2025, 11, 1), date(2025, 11, 30)),  # 30 Nov 16:00 UTC is still 30 Nov WIB
        (date(2025, 12, 1), date(2025, 12, 31)),
        (date(2026, 7, 2), date(2026, 7, 2)),  # one day, both ends included
        (None, None),  # everything ever
        (date(2026, 8, 1), None),
    ],
)
def test_periods_are_whole_days_in_wib(seeded, start, end) -> None:
    session, _ = seeded
    found = ledger.ledger(
        session=session, query=ledger.LedgerQuery(start=start, end=end), labels=LABELS
    )
    awards = _chosen(start, end)
    assert _shown(found) == _expected_companies(awards)
    assert found.totals.partnerships == len(awards)


def test_a_company_total_counts_exactly_its_rows(seeded) -> None:
    session, ids = seeded
    year = ledger.LedgerQuery(start=YEAR_START, end=YEAR_END)
    whole = ledger.ledger(session=session, query=year, labels=LABELS)
    for company in whole.companies:
        alone = ledger.ledger(
            session=session, query=year.for_company(company.company_id), labels=LABELS
        )
        assert alone.companies == (company,)
        assert alone.totals == company.totals
    expected = [a for a in _chosen(YEAR_START, YEAR_END) if a.company == 2]
    only_second = ledger.ledger(
        session=session, query=year.for_company(ids["company2"]), labels=LABELS
    )
    assert only_second.totals.value == sum(a.value for a in expected)


def test_erased_parties_show_under_the_erasure_labels(app, seeded) -> None:
    session, ids = seeded
    for person_id in (ids["ikm2_person"], ids["company2_person"]):
        person = session.get(Person, person_id)
        erasure.erase(session, person, now=START, labels=lambda _language: LABELS)
    session.commit()
    query = ledger.LedgerQuery(start=YEAR_START, end=YEAR_END)
    found = ledger.ledger(session=session, query=query, labels=LABELS)

    def label(name: str) -> str:
        return {IKM[1][0]: LABELS.ikm, COMPANIES[1][0]: LABELS.company}.get(name, name)

    awards = _chosen(YEAR_START, YEAR_END)
    expected = [
        (label(name), estate, count, ikm, value, [(t, label(i), q, u, v) for t, i, q, u, v in rows])
        for name, estate, count, ikm, value, rows in _expected_companies(awards)
    ]
    assert _shown(found) == sorted(expected, key=lambda company: company[0].casefold())
    assert found.totals.value == sum(award.value for award in awards)  # the evidence stays
    assert not any(
        IKM[1][0] in row.ikm_name or COMPANIES[1][0] in row.need_title for row in found.rows
    )
