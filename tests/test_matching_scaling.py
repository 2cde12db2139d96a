"""Matching's work per need stays flat as the catalog grows, and its reads come from indexes.

Measured without a clock: SQLite's progress handler counts the virtual machine's steps,
so the database work of ranking one need is a number that does not depend on the
machine's load. Both tests use a SQLite file of their own (the measures are SQLite's),
whatever database the rest of the suite runs on.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from bot.reference import load_vocabulary
from bot.services import matching
from models import ChannelAccount, IkmProfile, Person, Product, ProductKeyword
from models.db import make_engine

PRODUCTS_PER_IKM = 5
STEPS_PER_TICK = 1000  # the progress handler is called once per this many VM steps
# Every product has every word of the need, so each is in more products than
# COMMON_WORD_PRODUCTS in both catalogs below.
NAMES = [
    f"Sarung tangan kerja katun {extra}".strip()
    for extra in ("", "bintik karet", "tebal", "grade A", "ukuran L")
]
NEED_TITLE = "Sarung tangan kerja katun"


@pytest.fixture
def catalog(tmp_path: Path, migrated_template: Path, clock):
    """`catalog(products)`: a fresh SQLite file holding that many products (five an IKM)."""

    def make(products: int) -> str:
        path = tmp_path / f"catalog-{products}.db"
        shutil.copy(migrated_template, path)
        url = f"sqlite:///{path}"
        _fill(url, products, clock.now())
        return url

    return make


def _fill(url: str, product_count: int, now: datetime) -> None:
    ikm_count = product_count // PRODUCTS_PER_IKM
    words = {name: load_vocabulary().keywords(name) for name in NAMES}
    people = range(1, ikm_count + 1)
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(
            sa.insert(Person),
            [
                {"id": n, "phone": f"+62851{n:08d}", "role": "ikm", "last_active_at": now}
                for n in people
            ],
        )
        connection.execute(
            sa.insert(ChannelAccount),
            [
                {"person_id": n, "channel": "console", "external_id": f"+62851{n:08d}"}
                for n in people
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
                    "sector": "14",
                    "kecamatan": "Cikarang Barat",
                }
                for n in people
            ],
        )
        products = [
            {
                "id": n,
                "ikm_id": 1 + (n - 1) // PRODUCTS_PER_IKM,
                "name": NAMES[n % len(NAMES)],
                "unit": "pasang",
                "price_min": 7000,
                "price_max": 8000,
                "capacity_per_month": 1000 + n % 500,
            }
            for n in range(1, product_count + 1)
        ]
        connection.execute(sa.insert(Product), products)
        connection.execute(
            sa.insert(ProductKeyword),
            [
                {"product_id": p["id"], "ikm_id": p["ikm_id"], "keyword": word}
                for p in products
                for word in words[p["name"]]
            ],
        )
        connection.execute(sa.text("ANALYZE"))
    engine.dispose()


def _need(now: datetime) -> matching.Need:
    return matching.Need(
        title=NEED_TITLE,
        description=None,
        sectors=["14"],
        quantity=5000,
        delivery_date=now + timedelta(days=30),
        delivery_kecamatan="Cikarang Utara",
        unit="pasang",
    )


@contextmanager
def _counting_steps(session: Session) -> Iterator[list[int]]:
    """Counts (in thousands) the SQLite VM steps run inside the block on this session."""
    ticks = [0]

    def tick() -> int:
        ticks[0] += 1
        return 0  # go on

    raw = session.connection().connection.dbapi_connection
    raw.set_progress_handler(tick, STEPS_PER_TICK)
    try:
        yield ticks
    finally:
        raw.set_progress_handler(None, STEPS_PER_TICK)


def _rank_counting_steps(url: str, now: datetime) -> tuple[int, list[int]]:
    engine = make_engine(url)
    with Session(engine) as session:
        matching.rank(session, _need(now), now=now, inactive_after_days=90, limit=20)  # warm
        with _counting_steps(session) as ticks:
            ranked = matching.rank(session, _need(now), now=now, inactive_after_days=90, limit=20)
    engine.dispose()
    return ticks[0], [candidate.ikm_id for candidate in ranked]


def test_database_work_per_need_does_not_grow_with_the_catalog(catalog, clock) -> None:
    # Counting the need's words exactly, or reading all the products that have them,
    # grows with the catalog; the smallest is a registry of Bekasi's size (500 IKM), where
    # SQLite once chose a plan that tried every person against the whole shortlist.
    now = clock.now()
    steps = {}
    for products in (2_500, 10_000, 30_000):
        steps[products], ranked = _rank_counting_steps(catalog(products), now)
        assert len(ranked) == 20

    assert max(steps.values()) <= 1.25 * min(steps.values()), steps


def test_matching_reads_indexes_never_whole_tables(catalog, clock) -> None:
    now = clock.now()
    engine = make_engine(catalog(10_000))
    statements: list[tuple[str, object]] = []

    def record(_connection, _cursor, statement, parameters, _context, _many) -> None:
        statements.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", record)
    with Session(engine) as session:
        matching.rank(session, _need(now), now=now, inactive_after_days=90, limit=20)
    sa.event.remove(engine, "before_cursor_execute", record)
    with engine.connect() as connection:
        plans = [
            (
                statement,
                [
                    row[3]
                    for row in connection.exec_driver_sql(
                        f"EXPLAIN QUERY PLAN {statement}", parameters
                    )
                ],
            )
            for statement, parameters in statements
        ]
    engine.dispose()

    assert plans
    for statement, details in plans:
        for detail in details:
            table = detail.split()[1] if detail.startswith(("SCAN", "SEARCH")) else None
            if table in ("product", "product_keyword", "ikm_profile", "person", "channel_account"):
                assert detail.startswith("SEARCH"), (detail, statement)
            if table in ("product", "product_keyword"):  # rows from the index, not the table
                assert " USING INDEX " not in detail, (detail, statement)
