"""Benchmark: the Dinas's statistics over 20,000 IKM, 100,000 products and a year of needs,
offers, partnerships and bimtek in SQLite.

Prints the time of the overview and of each chart: its figures (the queries) and its
figures drawn as PNG (what the chat sends). Targets: overview < 300 ms, each chart's
figures < 200 ms. The best of `--repeat` runs is reported, after one warm-up run.

    .venv/bin/python bench/stats.py
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402 - after the path is set
from sqlmodel import Session  # noqa: E402 - after the path is set

from bot.charts import to_png  # noqa: E402 - after the path is set
from bot.core.i18n import Catalog  # noqa: E402 - after the path is set
from bot.reference import load_reference  # noqa: E402 - after the path is set
from bot.services import stats  # noqa: E402 - after the path is set
from bot.stat_charts import CHARTS, chart_spec  # noqa: E402 - after the path is set
from models import (  # noqa: E402 - after the path is set
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
from models.db import make_engine, upgrade  # noqa: E402 - after the path is set

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
YEAR_DAYS = 365


def build(url: str, *, ikm: int, products: int, needs: int, seed: int) -> None:
    rng = random.Random(seed)
    reference = load_reference()
    sectors = [sector.code for sector in reference.sectors]
    engine = make_engine(url)
    companies = 400

    def ago(days: int) -> datetime:
        return NOW - timedelta(days=rng.randint(0, days), minutes=rng.randint(0, 1440))

    with engine.begin() as connection:
        people = ikm + companies
        connection.execute(
            sa.insert(Person),
            [
                {
                    "id": n,
                    "phone": f"+62851{n:08d}",
                    "role": "ikm" if n <= ikm else "company",
                    "language": "id",
                    "created_at": NOW,
                    "last_active_at": ago(400),
                }
                for n in range(1, people + 1)
            ],
        )
        connection.execute(
            sa.insert(IkmProfile),
            [
                {
                    "id": n,
                    "person_id": n,
                    "owner_name": f"Pemilik {n}",
                    "business_name": f"Usaha {n}",
                    "sector": rng.choice(sectors),
                    "kecamatan": rng.choice(reference.kecamatan),
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for n in range(1, ikm + 1)
            ],
        )
        connection.execute(
            sa.insert(Product),
            [
                {
                    "ikm_id": rng.randint(1, ikm),
                    "name": f"Produk {n}",
                    "unit": "pcs",
                    "price_min": 1000,
                    "price_max": 2000,
                    "capacity_per_month": 100,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for n in range(1, products + 1)
            ],
        )
        connection.execute(
            sa.insert(Company),
            [
                {
                    "id": n,
                    "person_id": ikm + n,
                    "name": f"PT Perusahaan {n}",
                    "estate": "jababeka",
                    "address": "Jl. Industri",
                    "contact_name": "Budi",
                    "sectors": [rng.choice(sectors)],
                    "status": rng.choice(("verified", "verified", "pending", "rejected")),
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for n in range(1, companies + 1)
            ],
        )
        need_rows = []
        for n in range(1, needs + 1):
            created = ago(YEAR_DAYS)
            status = rng.choice(("open", "closed", "awarded", "awarded", "cancelled"))
            need_rows.append(
                {
                    "id": n,
                    "company_id": rng.randint(1, companies),
                    "title": f"Kebutuhan {n}",
                    "sectors": rng.sample(sectors, rng.choice((1, 1, 2))),
                    "quantity": 1000,
                    "unit": "pcs",
                    "deadline": created + timedelta(days=14),
                    "delivery_date": created + timedelta(days=30),
                    "delivery_place": "Jababeka",
                    "status": status,
                    "created_at": created,
                    "closed_at": None if status == "open" else created + timedelta(days=14),
                }
            )
        connection.execute(sa.insert(Need), need_rows)
        offers, partnerships = [], []
        for need in need_rows:
            bidders = rng.sample(range(1, ikm + 1), 10)
            for rank, bidder in enumerate(bidders):
                offer_id = len(offers) + 1
                won = need["status"] == "awarded" and rank < 2
                created = need["created_at"] + timedelta(days=rng.randint(0, 13))
                offers.append(
                    {
                        "id": offer_id,
                        "need_id": need["id"],
                        "ikm_id": bidder,
                        "person_id": bidder,
                        "price_per_unit": 8000,
                        "quantity": 500,
                        "lead_time_days": 14,
                        "status": "awarded" if won else "active",
                        "shortlisted": False,
                        "created_at": created,
                        "updated_at": created,
                    }
                )
                if won:
                    partnerships.append(
                        {
                            "company_id": need["company_id"],
                            "ikm_id": bidder,
                            "need_id": need["id"],
                            "offer_id": offer_id,
                            "quantity": 500,
                            "unit": "pcs",
                            "value": 4_000_000,
                            "awarded_at": need["closed_at"],
                        }
                    )
        connection.execute(sa.insert(Offer), offers)
        connection.execute(sa.insert(Partnership), partnerships)
        registrations = []
        for n in range(1, 61):
            starts = NOW - timedelta(days=6 * n)
            connection.execute(
                sa.insert(BimtekSession),
                [
                    {
                        "id": n,
                        "title": f"Bimtek {n}",
                        "organiser": "Dinas",
                        "starts_at": starts,
                        "venue": "Aula",
                        "quota": 40,
                        "sectors": [],
                        "kecamatan": [],
                        "registration_deadline": starts - timedelta(days=1),
                        "status": "open",
                        "schedule_version": 1,
                        "checkin_code": f"V{n}",
                        "created_at": NOW,
                        "updated_at": NOW,
                    }
                ],
            )
            for seat, participant in enumerate(rng.sample(range(1, ikm + 1), 40)):
                registrations.append(
                    {
                        "session_id": n,
                        "ikm_id": participant,
                        "person_id": participant,
                        "status": "registered",
                        "checkin_code": f"K{seat}",
                        "registered_at": starts - timedelta(days=7),
                        "attended_at": starts if rng.random() < 0.7 else None,
                    }
                )
        connection.execute(sa.insert(BimtekRegistration), registrations)
        connection.execute(sa.text("ANALYZE"))
    engine.dispose()


def best_ms(run: Callable[[], object], repeat: int) -> float:
    run()  # warm the caches, as a running bot has them
    timings = []
    for _ in range(repeat):
        began = time.perf_counter()
        run()
        timings.append((time.perf_counter() - began) * 1000)
    return min(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ikm", type=int, default=20_000)
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--needs", type=int, default=3_000, help="over the year; 10 offers each")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    t = Catalog.load().translator("id")
    tz = stats.WIB
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        upgrade(url)
        started = time.perf_counter()
        build(url, ikm=args.ikm, products=args.products, needs=args.needs, seed=15)
        print(
            f"built {args.ikm:,} IKM, {args.products:,} products, {args.needs:,} needs, "
            f"{args.needs * 10:,} offers in {time.perf_counter() - started:.1f} s"
        )
        engine = make_engine(url)
        with Session(engine) as session:
            overview_ms = best_ms(lambda: stats.overview(session=session, now=NOW), args.repeat)
            print(f"overview: {overview_ms:.0f} ms (target < 300)")
            for name in CHARTS:

                def figures(name: str = name) -> object:
                    return chart_spec(name, session=session, now=NOW, t=t, tz=tz)

                data_ms = best_ms(figures, args.repeat)
                drawn_ms = best_ms(lambda figures=figures: to_png(figures()), args.repeat)
                print(
                    f"chart {name}: figures {data_ms:.0f} ms (target < 200), "
                    f"with the PNG {drawn_ms:.0f} ms"
                )
        engine.dispose()


if __name__ == "__main__":
    main()
