"""A year of history whose figures are known, written row by row with explicit timestamps.

"Now" is the tests' clock: Sunday 22 November 2026, 10:00 WIB (03:00 UTC). Times are
10:00 WIB unless said otherwise, so each lands in an unambiguous month.

IKM (sector, kecamatan) and when each was heard from:
  1 Boneka Ceria (32, Cikarang Utara)   message 20 Nov; offer 5 Oct (awarded)
  2 Konveksi Dua (14, Cikarang Utara)   message 14 Aug; offer 12 Nov
  3 Jahit Tiga (14, Tambun Selatan)     message 6 May; offer 7 Oct (awarded); attended 23 Oct;
                                        an award of June 2025 (older than a year)
  4 Tenun Empat (13, Tambun Selatan)    message 22 Sep (61 days ago: not active)
  5 Keripik Lima (10, Cibitung)         message 24 Sep (59 days: active); offer 6 Oct
                                        (withdrawn); attended 15 Jun
  6 Sambal Enam (10, Setu)              message 26 Jan; offer 13 Sep
  7 Logam Tujuh (25, Babelan)           message 23 Oct 2025 (before the 12 months)
  8 Mebel Delapan (31, Sukawangi)       message 17 Nov
  9 Kayu Sembilan (16, Serang Baru)     message 25 Jul; offer 31 Oct 18:00 UTC = 1 Nov WIB
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session

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
)
from models.db import transaction


def at(year: int, month: int, day: int, hour_utc: int = 3) -> datetime:
    return datetime(year, month, day, hour_utc, tzinfo=UTC)


IKM = (
    # business, sector, kecamatan, last message
    ("Boneka Ceria", "32", "Cikarang Utara", at(2026, 11, 20)),
    ("Konveksi Dua", "14", "Cikarang Utara", at(2026, 8, 14)),
    ("Jahit Tiga", "14", "Tambun Selatan", at(2026, 5, 6)),
    ("Tenun Empat", "13", "Tambun Selatan", at(2026, 9, 22)),
    ("Keripik Lima", "10", "Cibitung", at(2026, 9, 24)),
    ("Sambal Enam", "10", "Setu", at(2026, 1, 26)),
    ("Logam Tujuh", "25", "Babelan", at(2025, 10, 23)),
    ("Mebel Delapan", "31", "Sukawangi", at(2026, 11, 17)),
    ("Kayu Sembilan", "16", "Serang Baru", at(2026, 7, 25)),
)

# The figures the statistics must find (each worked out by hand from the rows below).
EXPECTED_ACTIVE = 6  # IKM 1, 2, 3, 5, 8, 9
# Dec 2025 .. Nov 2026
EXPECTED_BY_MONTH = (0, 1, 0, 0, 0, 1, 1, 1, 1, 3, 3, 4)


def seed_history(database) -> None:
    with transaction(database) as session:
        ikm = [_ikm(session, index, *row) for index, row in enumerate(IKM, start=1)]
        companies = _companies(session)
        needs = _needs(session, companies)
        offers = _offers(session, ikm, needs)
        _partnerships(session, ikm, companies, needs, offers)
        _bimtek(session, ikm)


def _person(session: Session, phone: str, role: str, last_active: datetime) -> Person:
    person = Person(
        phone=phone, name=phone, role=role, created_at=at(2025, 1, 1), last_active_at=last_active
    )
    session.add(person)
    session.flush()
    return person


def _ikm(
    session: Session, index: int, business: str, sector: str, kecamatan: str, last: datetime
) -> IkmProfile:
    person = _person(session, f"+62812000090{index:02d}", "ikm", last)
    profile = IkmProfile(
        person_id=person.id,
        owner_name=f"Pemilik {index}",
        business_name=business,
        sector=sector,
        kecamatan=kecamatan,
        created_at=at(2025, 1, 1),
    )
    session.add(profile)
    session.flush()
    session.add(
        Product(
            ikm_id=profile.id,
            name=f"Produk {business}",
            unit="pcs",
            price_min=10_000,
            price_max=20_000,
            capacity_per_month=100 * index,
        )
    )
    return profile


def _companies(session: Session) -> list[Company]:
    rows = (
        ("PT Sinar Otomotif", "verified"),
        ("PT Garmen Jaya", "verified"),
        ("PT Baru Daftar", "pending"),
        ("PT Ditolak", "rejected"),
    )
    companies = []
    for index, (name, status) in enumerate(rows, start=1):
        person = _person(session, f"+62813000090{index:02d}", "company", at(2026, 11, 1))
        company = Company(
            person_id=person.id,
            name=name,
            estate="jababeka",
            address="Jl. Jababeka Raya",
            contact_name="Budi",
            sectors=["14"],
            status=status,
        )
        session.add(company)
        companies.append(company)
    session.flush()
    return companies


def _needs(session: Session, companies: list[Company]) -> list[Need]:
    c1, c2 = companies[0], companies[1]
    rows = (
        # company, sectors, created, status, closed_at
        (c1, ["14"], at(2026, 11, 3), "open", None),
        (c1, ["14120", "13"], at(2026, 10, 1), "awarded", at(2026, 11, 5)),
        (c2, ["32"], at(2026, 9, 1), "closed", at(2026, 10, 20)),
        (c2, ["10"], at(2026, 11, 10), "open", None),
        (c1, ["14"], at(2025, 6, 1), "awarded", at(2025, 7, 1)),
        (c2, ["25"], at(2026, 11, 1), "cancelled", at(2026, 11, 2)),
    )
    needs = []
    for company, sectors, created, status, closed in rows:
        need = Need(
            company_id=company.id,
            title=f"Kebutuhan {len(needs) + 1}",
            sectors=sectors,
            quantity=1000,
            unit="pcs",
            deadline=created + timedelta(days=14),
            delivery_date=created + timedelta(days=30),
            delivery_place="Jababeka",
            status=status,
            created_at=created,
            closed_at=closed,
        )
        session.add(need)
        needs.append(need)
    session.flush()
    return needs


def _offers(session: Session, ikm: list[IkmProfile], needs: list[Need]) -> list[Offer]:
    rows = (
        # ikm number, need number, created, status
        (2, 1, at(2026, 11, 12), "active"),
        (6, 3, at(2026, 9, 13), "not_chosen"),
        (9, 1, at(2026, 10, 31, 18), "active"),
        (1, 2, at(2026, 10, 5), "awarded"),
        (5, 2, at(2026, 10, 6), "withdrawn"),
        (3, 5, at(2025, 6, 10), "awarded"),
        (3, 2, at(2026, 10, 7), "awarded"),
    )
    offers = []
    for ikm_number, need_number, created, status in rows:
        profile = ikm[ikm_number - 1]
        offer = Offer(
            need_id=needs[need_number - 1].id,
            ikm_id=profile.id,
            person_id=profile.person_id,
            price_per_unit=8_000,
            quantity=500,
            lead_time_days=14,
            status=status,
            created_at=created,
            updated_at=created,
        )
        session.add(offer)
        offers.append(offer)
    session.flush()
    return offers


def _partnerships(
    session: Session,
    ikm: list[IkmProfile],
    companies: list[Company],
    needs: list[Need],
    offers: list[Offer],
) -> None:
    rows = (
        # company, ikm, need, offer (numbers), value, awarded
        (1, 1, 2, 4, 4_000_000, at(2026, 11, 5)),
        (1, 3, 2, 7, 2_500_000, at(2026, 11, 5)),
        (2, 3, 5, 6, 1_000_000, at(2025, 7, 1)),
    )
    for company, ikm_number, need, offer, value, awarded in rows:
        session.add(
            Partnership(
                company_id=companies[company - 1].id,
                ikm_id=ikm[ikm_number - 1].id,
                need_id=needs[need - 1].id,
                offer_id=offers[offer - 1].id,
                quantity=500,
                unit="pcs",
                value=value,
                awarded_at=awarded,
            )
        )


def _bimtek(session: Session, ikm: list[IkmProfile]) -> None:
    came, absent, cancelled = "registered", "absent", "cancelled"
    sessions = (
        # title, starts, status, registrations (ikm number, what became of it)
        ("Pelatihan Jahit", at(2026, 10, 23), "open", ((3, came), (2, absent), (4, cancelled))),
        ("Kemasan Pangan", at(2026, 6, 15), "open", ((5, came), (6, absent))),
        ("Sesi Dibatalkan", at(2026, 8, 1), "cancelled", ((1, absent),)),
        ("Pemasaran Digital", at(2026, 12, 10), "open", ((1, absent),)),
    )
    for title, starts, status, registrations in sessions:
        bimtek = BimtekSession(
            title=title,
            organiser="Dinas Perindustrian Kab. Bekasi",
            starts_at=starts,
            venue="Aula Dinas",
            quota=10,
            registration_deadline=starts - timedelta(days=1),
            status=status,
            checkin_code=f"V{len(title)}",
        )
        session.add(bimtek)
        session.flush()
        for number, (ikm_number, outcome) in enumerate(registrations, start=1):
            profile = ikm[ikm_number - 1]
            attended = outcome == came
            state = "cancelled" if outcome == cancelled else "registered"
            session.add(
                BimtekRegistration(
                    session_id=bimtek.id,
                    ikm_id=profile.id,
                    person_id=profile.person_id,
                    status=state,
                    checkin_code=f"K{number}",
                    registered_at=starts - timedelta(days=7),
                    attended_at=starts if attended else None,
                    attended_via="officer" if attended else None,
                )
            )
