"""Benchmark: matching for 200 needs against 20,000 IKM with 100,000 products in SQLite.

Products are drawn from the labelled test fixture's product names (realistic wording,
synonyms, abbreviations) with random sizes and materials added, spread over all
divisions and kecamatan; needs are the fixture's needs, repeated with varied
quantities. Prints p50/p95/max milliseconds per need (target: p95 < 50 ms).

    .venv/bin/python bench/matching.py
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402 - after the path is set
from sqlmodel import Session  # noqa: E402 - after the path is set

from bot.reference import load_reference, load_vocabulary  # noqa: E402 - after the path is set
from bot.services import matching  # noqa: E402 - after the path is set
from models import ChannelAccount, IkmProfile, Person, Product, ProductKeyword  # noqa: E402 - after the path is set
from models.db import make_engine, upgrade  # noqa: E402 - after the path is set

FIXTURE = ROOT / "tests" / "data" / "matching_fixture.toml"
EXTRAS = ["ukuran L", "bahan katun", "warna hitam", "grade A", "custom logo", "tebal", "ekspor"]
NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)


def build(url: str, ikm_count: int, product_count: int, seed: int) -> None:
    rng = random.Random(seed)
    data = tomllib.loads(FIXTURE.read_text(encoding="utf-8"))
    templates = [(i["sector"], p["name"], p["unit"]) for i in data["ikm"] for p in i["product"]]
    kecamatan = load_reference().kecamatan
    vocabulary = load_vocabulary()
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(
            sa.insert(Person),
            [
                {
                    "id": n,
                    "phone": f"+62851{n:08d}",
                    "role": "ikm",
                    "language": "id",
                    "created_at": NOW,
                    "last_active_at": NOW - timedelta(days=rng.randint(0, 240)),
                }
                for n in range(1, ikm_count + 1)
            ],
        )
        connection.execute(
            sa.insert(ChannelAccount),
            [
                {
                    "person_id": n,
                    "channel": "console",
                    "external_id": f"+62851{n:08d}",
                    "blocked": rng.random() < 0.02,
                    "created_at": NOW,
                }
                for n in range(1, ikm_count + 1)
            ],
        )
        owners = [rng.choice(templates) for _ in range(ikm_count)]
        connection.execute(
            sa.insert(IkmProfile),
            [
                {
                    "id": n,
                    "person_id": n,
                    "owner_name": f"Pemilik {n}",
                    "business_name": f"Usaha {n}",
                    "sector": owners[n - 1][0],
                    "kecamatan": rng.choice(kecamatan),
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for n in range(1, ikm_count + 1)
            ],
        )
        products = []
        keywords = []
        for product_id in range(1, product_count + 1):
            ikm_id = rng.randint(1, ikm_count)
            _, name, unit = rng.choice(templates)
            if rng.random() < 0.5:
                name = f"{name} {rng.choice(EXTRAS)}"
            products.append(
                {
                    "id": product_id,
                    "ikm_id": ikm_id,
                    "name": name[:120],
                    "unit": unit,
                    "price_min": 1000,
                    "price_max": 2000,
                    "capacity_per_month": rng.randint(50, 20_000),
                    "created_at": NOW,
                    "updated_at": NOW,
                }
            )
            keywords += [
                {"product_id": product_id, "keyword": word, "ikm_id": ikm_id}
                for word in vocabulary.keywords(name)
            ]
        connection.execute(sa.insert(Product), products)
        connection.execute(sa.insert(ProductKeyword), keywords)
        connection.execute(sa.text("ANALYZE"))
    engine.dispose()


def needs(count: int, seed: int) -> list[matching.Need]:
    rng = random.Random(seed)
    data = tomllib.loads(FIXTURE.read_text(encoding="utf-8"))
    return [
        matching.Need(
            title=item["title"],
            description=item.get("description"),
            sectors=item["sectors"],
            quantity=item["quantity"] * rng.choice((1, 2, 5)),
            delivery_date=NOW + timedelta(days=item["delivery_days"]),
            delivery_kecamatan=item["delivery_kecamatan"],
        )
        for item in (rng.choice(data["need"]) for _ in range(count))
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ikm", type=int, default=20_000)
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--needs", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        upgrade(url)
        started = time.perf_counter()
        build(url, args.ikm, args.products, seed=11)
        print(
            f"built {args.ikm:,} IKM, {args.products:,} products in "
            f"{time.perf_counter() - started:.1f} s"
        )
        engine = make_engine(url)
        timings = []
        matched = []
        with Session(engine) as session:
            for need in needs(args.needs, seed=12):
                began = time.perf_counter()
                ranked = matching.rank(session, need, now=NOW, inactive_after_days=180, limit=20)
                timings.append((time.perf_counter() - began) * 1000)
                matched.append(len(ranked))
        engine.dispose()
    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(
        f"matching {args.needs} needs: p50 {statistics.median(timings):.1f} ms, "
        f"p95 {p95:.1f} ms (target < 50), max {timings[-1]:.1f} ms; "
        f"mean {statistics.mean(matched):.1f} IKM ranked per need"
    )


if __name__ == "__main__":
    main()
