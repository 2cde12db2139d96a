"""Demo data for a local try-out, drawn from the news the product grew from.

Idempotent: people are keyed by phone number, so loading twice adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.services import accounts, companies, ikm
from models import ChannelAccount, CompanyFields, IkmFields, Person, ProductFields

CONSENT_VERSION = "2026-11"

DEMO_IKM = [
    (
        "+6281200000001",
        IkmFields(
            owner_name="Siti Aminah",
            business_name="Boneka Berkah Sukawangi",
            sector="32",
            kecamatan="Sukawangi",
            desa="Sukatenang",
            workers=4,
        ),
        [
            ProductFields(
                name="Boneka karakter",
                description="Boneka kain isi dakron, tinggi 30 cm",
                unit="pcs",
                price_min=40_000,
                price_max=100_000,
                capacity_per_month=200,
                min_order=10,
            ),
        ],
    ),
    (
        "+6281200000002",
        IkmFields(
            owner_name="Ahmad Fauzi",
            business_name="Sarung Tangan Mandiri",
            sector="14",
            kecamatan="Cikarang Utara",
            desa="Karangasih",
            nib="9120001234567",
            workers=12,
        ),
        [
            ProductFields(
                name="Sarung tangan kerja katun",
                description="Rajut katun, bintik PVC",
                unit="pasang",
                price_min=6_500,
                price_max=8_000,
                capacity_per_month=5_000,
                min_order=500,
            ),
            ProductFields(
                name="Sarung tangan las kulit",
                unit="pasang",
                price_min=35_000,
                price_max=45_000,
                capacity_per_month=300,
            ),
        ],
    ),
    (
        "+6281200000003",
        IkmFields(
            owner_name="Dewi Lestari",
            business_name="Batik Bekasi Lestari",
            sector="13",
            kecamatan="Tambun Selatan",
            desa="Mekarsari",
            workers=6,
        ),
        [
            ProductFields(
                name="Kain batik cap motif Bekasi",
                unit="meter",
                price_min=85_000,
                price_max=150_000,
                capacity_per_month=400,
            ),
            ProductFields(
                name="Kemeja seragam aksen batik",
                unit="pcs",
                price_min=120_000,
                price_max=175_000,
                capacity_per_month=250,
                min_order=24,
            ),
        ],
    ),
    (
        "+6281200000004",
        IkmFields(
            owner_name="Ujang Saepudin",
            business_name="Keripik Tempe Mang Ujang",
            sector="10",
            kecamatan="Cibitung",
            desa="Wanasari",
            workers=3,
        ),
        [
            ProductFields(
                name="Keripik tempe 250 gram",
                unit="pcs",
                price_min=15_000,
                price_max=15_000,
                capacity_per_month=1_500,
                min_order=20,
            ),
        ],
    ),
    (
        "+6281200000005",
        IkmFields(
            owner_name="Rudi Hartono",
            business_name="Bengkel Las Rudi Jaya",
            sector="25",
            kecamatan="Cikarang Barat",
            desa="Telaga Asih",
            workers=8,
        ),
        [
            ProductFields(
                name="Rak besi gudang",
                unit="unit",
                price_min=750_000,
                price_max=2_500_000,
                capacity_per_month=40,
            ),
        ],
    ),
    (
        "+6281200000006",
        IkmFields(
            owner_name="Nurhayati",
            business_name="Karpet Anyam Tarumajaya",
            sector="13",
            kecamatan="Tarumajaya",
            workers=5,
        ),
        [
            ProductFields(
                name="Karpet anyaman plastik",
                unit="meter",
                price_min=45_000,
                price_max=60_000,
                capacity_per_month=600,
            ),
        ],
    ),
]

DEMO_COMPANIES = [
    (
        "+6281300000001",
        CompanyFields(
            name="PT Sinar Otomotif Indonesia",
            estate="jababeka",
            address="Jl. Jababeka Raya Blok F No. 12, Cikarang Utara",
            contact_name="Bambang Wijaya",
            sectors=["14", "25"],
        ),
    ),
    (
        "+6281300000002",
        CompanyFields(
            name="PT Elektronika Mitra Cikarang",
            estate="mm2100",
            address="Kawasan MM2100 Blok J-3, Cikarang Barat",
            contact_name="Rina Kusuma",
            sectors=["10", "13", "14"],
        ),
    ),
]

DINAS_OFFICER = "+6281100000002"


@dataclass(frozen=True)
class DemoCounts:
    ikm: int
    products: int
    companies: int
    created: int


def _new_person(session: Session, phone: str, name: str, now: datetime) -> Person | None:
    if accounts.find_by_phone(session, phone) is not None:
        return None
    person = Person(phone=phone, name=name, language="id", created_at=now, last_active_at=now)
    session.add(person)
    session.flush()
    # A console account, so the local demo shows their calls, reminders and announcements.
    session.add(ChannelAccount(person_id=person.id, channel="console", external_id=phone))
    accounts.record_consent(
        session, person=person, text_version=CONSENT_VERSION, language="id", now=now
    )
    return person


def load_demo_data(session: Session, *, now: datetime) -> DemoCounts:
    created = 0
    for phone, profile, products in DEMO_IKM:
        person = _new_person(session, phone, profile.owner_name, now)
        if person is None:
            continue
        record = ikm.register_ikm(
            session, person=person, profile=profile, first_product=products[0], now=now
        )
        for product in products[1:]:
            ikm.add_product(session, ikm=record, fields=product, now=now)
        created += 1
    if accounts.find_by_phone(session, DINAS_OFFICER) is None:
        accounts.grant_dinas(session, phone=DINAS_OFFICER, now=now, language="id")
        created += 1
    officer = accounts.find_by_phone(session, DINAS_OFFICER)
    for number, (phone, fields) in enumerate(DEMO_COMPANIES):
        person = _new_person(session, phone, fields.contact_name, now)
        if person is None:
            continue
        company = companies.register_company(session, person=person, fields=fields, now=now)
        created += 1
        if number == 0:  # the first is verified and may post; the second waits for the Dinas
            companies.decide(
                session, company=company, officer=officer, approve=True, reason=None, now=now
            )
    return DemoCounts(
        ikm=len(DEMO_IKM),
        products=sum(len(products) for _, _, products in DEMO_IKM),
        companies=len(DEMO_COMPANIES),
        created=created,
    )
