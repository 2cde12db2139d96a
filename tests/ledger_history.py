"""A year of partnerships whose every figure is known: the seed declares them, row by row.

"Now" is the tests' clock, Sunday 22 November 2026 10:00 WIB. Tests compute what the ledger
must show from `PARTNERSHIPS` (and `COMPANIES`, `IKM`) themselves, never from the service.

Edges on purpose: an award at 31 January 17:30 UTC is 1 February 00:30 WIB; one at
30 November 2025 16:59 UTC is still 30 November WIB; one of June 2025 is older than the
year; a company in "lainnya" (no estate); one IKM is named `<script>` as a person may type.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session

from models import Company, IkmProfile, Need, Offer, Partnership, Person
from models.db import transaction
from tests.stats_history import at

WIB_OFFSET = timedelta(hours=7)

# name, estate key
COMPANIES = (
    ("PT Sinar Otomotif", "jababeka"),
    ("PT Garmen Jaya", "mm2100"),
    ("CV Alat Kerja", "jababeka"),
    ("PT Ruko Sentosa", "lainnya"),
)

# business name, sector, kecamatan
IKM = (
    ("Sarung Tangan Sejahtera", "14", "Cikarang Utara"),
    ("Konveksi Dua", "14", "Tambun Selatan"),
    ("Logam Tiga", "25", "Cibitung"),
    ('<script>alert("ikm")</script>', "32", "Setu"),
    ("Boneka Lima", "32", "Babelan"),
)


@dataclass(frozen=True)
class Award:
    company: int  # number in COMPANIES, from 1
    ikm: int  # number in IKM, from 1
    title: str  # the need's title
    quantity: int
    unit: str
    value: int  # rupiah
    awarded_at: datetime  # UTC

    @property
    def day(self) -> date:
        """The day it counts for: its date in WIB."""
        return (self.awarded_at + WIB_OFFSET).date()


PARTNERSHIPS = (
    Award(1, 1, "Sarung tangan katun", 3000, "pasang", 24_000_000, at(2026, 11, 5)),
    Award(1, 2, "Seragam kerja", 200, "stel", 30_000_000, at(2026, 10, 20)),
    Award(1, 3, "Bracket baja", 5000, "pcs", 12_500_000, at(2026, 1, 31, 17)),  # 1 Feb 00:xx
    Award(1, 1, "Sarung tangan latex", 1000, "pasang", 9_000_000, at(2025, 11, 30, 16)),
    Award(2, 2, "Kaos promosi", 1500, "pcs", 45_000_000, at(2026, 3, 10)),
    Award(2, 4, "Boneka maskot", 300, "pcs", 27_000_000, at(2026, 7, 1)),
    Award(2, 5, "Boneka maskot kecil", 200, "pcs", 8_000_000, at(2026, 7, 2)),
    Award(3, 3, "Mur dan baut", 20000, "pcs", 6_000_000, at(2026, 8, 15)),
    Award(4, 5, "Souvenir", 100, "pcs", 2_500_000, at(2026, 6, 1)),
    Award(3, 1, "Sarung tangan lama", 500, "pasang", 4_000_000, at(2025, 6, 1)),  # before the year
)

YEAR_START = date(2025, 12, 1)  # the seeded year, in WIB
YEAR_END = date(2026, 11, 30)


def seed_ledger(database) -> dict[str, int]:
    """The history written to `database`; returns the ids tests need by name."""
    with transaction(database) as session:
        companies = [_company(session, n, *row) for n, row in enumerate(COMPANIES, start=1)]
        ikm = [_ikm(session, n, *row) for n, row in enumerate(IKM, start=1)]
        for award in PARTNERSHIPS:
            _partnership(session, award, companies[award.company - 1], ikm[award.ikm - 1])
        return {
            **{f"company{n}": c.id for n, c in enumerate(companies, start=1)},
            **{f"ikm{n}": p.id for n, p in enumerate(ikm, start=1)},
            **{f"ikm{n}_person": p.person_id for n, p in enumerate(ikm, start=1)},
            **{f"company{n}_person": c.person_id for n, c in enumerate(companies, start=1)},
        }


def _person(session: Session, phone: str, role: str) -> Person:
    person = Person(phone=phone, name=f"Orang {phone[-2:]}", role=role, created_at=at(2025, 1, 1))
    session.add(person)
    session.flush()
    return person


def _company(session: Session, number: int, name: str, estate: str) -> Company:
    person = _person(session, f"+62813000070{number:02d}", "company")
    company = Company(
        person_id=person.id,
        name=name,
        estate=estate,
        address=f"Jl. Industri {number}",
        contact_name=f"Kontak {number}",
        sectors=["14"],
        status="verified",
    )
    session.add(company)
    session.flush()
    return company


def _ikm(session: Session, number: int, business: str, sector: str, kecamatan: str) -> IkmProfile:
    person = _person(session, f"+62812000070{number:02d}", "ikm")
    profile = IkmProfile(
        person_id=person.id,
        owner_name=f"Pemilik {number}",
        business_name=business,
        sector=sector,
        kecamatan=kecamatan,
        created_at=at(2025, 1, 1),
    )
    session.add(profile)
    session.flush()
    return profile


def _partnership(session: Session, award: Award, company: Company, ikm: IkmProfile) -> None:
    created = award.awarded_at - timedelta(days=20)
    need = Need(
        company_id=company.id,
        title=award.title,
        sectors=[ikm.sector],
        quantity=award.quantity,
        unit=award.unit,
        deadline=created + timedelta(days=14),
        delivery_date=created + timedelta(days=40),
        delivery_place="Gudang",
        status="awarded",
        created_at=created,
        closed_at=award.awarded_at,
    )
    session.add(need)
    session.flush()
    offer = Offer(
        need_id=need.id,
        ikm_id=ikm.id,
        person_id=ikm.person_id,
        price_per_unit=max(award.value // award.quantity, 1),
        quantity=award.quantity,
        lead_time_days=14,
        status="awarded",
        created_at=created + timedelta(days=2),
        updated_at=award.awarded_at,
    )
    session.add(offer)
    session.flush()
    session.add(
        Partnership(
            company_id=company.id,
            ikm_id=ikm.id,
            need_id=need.id,
            offer_id=offer.id,
            quantity=award.quantity,
            unit=award.unit,
            value=award.value,
            awarded_at=award.awarded_at,
        )
    )
