"""Benchmark: matching for 200 needs against IKM and their products (SQLite, or PostgreSQL).

Products are drawn from the labelled test fixture's product names (realistic wording,
synonyms, abbreviations) with random sizes and materials added, spread over all
divisions and kecamatan (five products per IKM unless --ikm says otherwise); needs are
the fixture's needs, repeated with varied quantities. For each size it prints p50/p95/max
milliseconds per need (target: p95 < 50 ms, growth sub-linear), CPU time per need, and the
matching process's resident memory after the needs (target: < 150 MB at 100,000 IKM with
500,000 products).

The data is built by this process (kept in --data-dir for the next run when given);
matching is then timed in a fresh process that only opens the database, so the
builder's memory does not count.

    .venv/bin/python bench/matching.py --products 100000 500000 --data-dir /tmp/matching
    .venv/bin/python bench/matching.py --database-url postgresql+psycopg://...  # it is emptied!
    .venv/bin/python bench/matching.py --products 500000 --code /tmp/old-checkout  # its matching.py
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import random
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "data" / "matching_fixture.toml"
EXTRAS = ["ukuran L", "bahan katun", "warna hitam", "grade A", "custom logo", "tebal", "ekspor"]
NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
PRODUCTS_PER_IKM = 5
BATCH = 50_000  # rows per INSERT batch: the builder need not hold 500,000 rows at once


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, nargs="+", default=[100_000])
    parser.add_argument("--ikm", type=int, help=f"default: products / {PRODUCTS_PER_IKM}")
    parser.add_argument("--needs", type=int, default=200)
    parser.add_argument("--runs", type=int, default=1, help="timed runs per size (fresh process)")
    parser.add_argument("--data-dir", type=Path, help="keep the SQLite files here and reuse them")
    parser.add_argument("--database-url", help="PostgreSQL instead of SQLite: it is EMPTIED")
    parser.add_argument("--code", type=Path, default=ROOT, help="checkout whose matching is timed")
    parser.add_argument("--profile", type=int, default=0, help="print the top N cProfile lines")
    parser.add_argument(
        "--explain",
        action="store_true",
        help="print the plan of each statement of the first need (EXPLAIN ANALYZE on PostgreSQL)",
    )
    parser.add_argument("--reuse", action="store_true", help="match on --database-url as it is")
    parser.add_argument("--match", help=argparse.SUPPRESS)  # the child: match against this URL
    parser.add_argument("--build", help=argparse.SUPPRESS)  # the child: build at this URL
    parser.add_argument("--empty-first", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build:
        sys.path.insert(0, str(ROOT))
        build(args.build, args.ikm, args.products[0], seed=11, empty_first=args.empty_first)
        return
    if args.match:
        _match_child(args.match, args.needs, args.profile, explain=args.explain)
        return
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; code {args.code}")
    with tempfile.TemporaryDirectory() as scratch:
        for products in args.products:
            ikm = args.ikm or products // PRODUCTS_PER_IKM
            url = _prepared(args, ikm, products, Path(scratch))
            for _ in range(args.runs):
                result = _run_child(args, url)
                _report(ikm, products, args.needs, result)


# --- building -----------------------------------------------------------------------------


def _prepared(args: argparse.Namespace, ikm: int, products: int, scratch: Path) -> str:
    """The database URL holding `ikm` IKM and `products` products, built if need be."""
    if args.database_url:
        if not args.reuse:
            _build_fresh(args.database_url, ikm, products, empty_first=True)
        return args.database_url
    folder = args.data_dir or scratch
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"matching-{ikm}-{products}.db"
    url = f"sqlite:///{path}"
    if not path.exists():
        partial = path.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        _build_fresh(f"sqlite:///{partial}", ikm, products, empty_first=False)
        partial.rename(path)
    else:
        print(f"reusing {path}")
    return url


def _build_fresh(url: str, ikm: int, products: int, *, empty_first: bool) -> None:
    # The builder runs in a child too, so the timed child's numbers are its own and this
    # process stays small.
    command = [sys.executable, str(Path(__file__).resolve()), "--build", url]
    command += ["--ikm", str(ikm), "--products", str(products)]
    command += ["--empty-first"] if empty_first else []
    started = time.perf_counter()
    subprocess.run(command, check=True, cwd=ROOT)
    print(f"built {ikm:,} IKM, {products:,} products in {time.perf_counter() - started:.1f} s")


def build(url: str, ikm_count: int, product_count: int, seed: int, *, empty_first: bool) -> None:
    import sqlalchemy as sa

    from bot.reference import load_reference, load_vocabulary
    from models import ChannelAccount, IkmProfile, Person, Product, ProductKeyword
    from models.db import make_engine, upgrade

    engine = make_engine(url)
    if empty_first:
        with engine.begin() as connection:
            connection.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(url)
    rng = random.Random(seed)
    data = tomllib.loads(FIXTURE.read_text(encoding="utf-8"))
    templates = [(i["sector"], p["name"], p["unit"]) for i in data["ikm"] for p in i["product"]]
    kecamatan = load_reference().kecamatan
    vocabulary = load_vocabulary()
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
        for first in range(1, product_count + 1, BATCH):
            products, keywords = [], []
            for product_id in range(first, min(first + BATCH, product_count + 1)):
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
        if engine.dialect.name == "sqlite":
            connection.execute(sa.text("ANALYZE"))
    if engine.dialect.name == "postgresql":
        # As autovacuum would soon: without the visibility map, no index-only scans.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text("VACUUM ANALYZE"))
    engine.dispose()


def needs(count: int, seed: int) -> list:
    from bot.services import matching

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


# --- timing (in a fresh process) ----------------------------------------------------------


def _run_child(args: argparse.Namespace, url: str) -> dict:
    command = [sys.executable, str(Path(__file__).resolve()), "--match", url]
    command += ["--needs", str(args.needs), "--profile", str(args.profile)]
    command += ["--explain"] if args.explain else []
    done = subprocess.run(command, check=True, cwd=args.code, capture_output=True, text=True)
    *profile, last = done.stdout.rstrip("\n").split("\n")
    if profile:
        print("\n".join(profile))
    return json.loads(last)


def _match_child(url: str, count: int, profile_lines: int, *, explain: bool) -> None:
    sys.path.insert(0, os.getcwd())  # --code: the checkout whose matching is timed
    from sqlmodel import Session

    from bot.services import matching
    from models.db import make_engine

    engine = make_engine(url)
    if explain:
        _explain(engine, matching, needs(1, seed=12)[0])
    timings, cpu, ranked = [], [], []
    profiler = cProfile.Profile() if profile_lines else None
    with Session(engine) as session:
        for need in needs(count, seed=12):
            began, began_cpu = time.perf_counter(), time.process_time()
            if profiler:
                profiler.enable()
            found = matching.rank(session, need, now=NOW, inactive_after_days=180, limit=20)
            if profiler:
                profiler.disable()
            timings.append((time.perf_counter() - began) * 1000)
            cpu.append((time.process_time() - began_cpu) * 1000)
            ranked.append(len(found))
    memory = _memory()
    engine.dispose()
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(profile_lines)
    print(json.dumps({"ms": timings, "cpu_ms": cpu, "ranked": ranked, **memory}))


def _explain(engine, matching, need) -> None:
    """Each statement ranking `need` runs, with its plan (and on PostgreSQL its timings)."""
    import sqlalchemy as sa
    from sqlmodel import Session

    statements = []

    def record(_connection, _cursor, statement, parameters, _context, _many) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", record)
    with Session(engine) as session:
        matching.rank(session, need, now=NOW, inactive_after_days=180, limit=20)
    sa.event.remove(engine, "before_cursor_execute", record)
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN ANALYZE "
    with engine.connect() as connection:
        for statement, parameters in statements:
            print("\n" + " ".join(statement.split())[:300])
            for row in connection.exec_driver_sql(prefix + statement, parameters):
                print("    " + str(row[-1]))
    print()


def _memory() -> dict[str, float]:
    """Resident set now (VmRSS) and its peak (VmHWM), in MB, from /proc/self/status."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return {"rss_mb": fields["VmRSS"], "peak_mb": fields["VmHWM"]}


def _report(ikm: int, products: int, count: int, result: dict) -> None:
    timings = sorted(result["ms"])
    p95 = timings[int(len(timings) * 0.95) - 1]
    cpu_p95 = sorted(result["cpu_ms"])[int(len(timings) * 0.95) - 1]
    load = os.getloadavg()[0]
    print(
        f"{ikm:,} IKM, {products:,} products, {count} needs: p50 {statistics.median(timings):.1f} "
        f"ms, p95 {p95:.1f} ms (target < 50), max {timings[-1]:.1f} ms; "
        f"CPU {statistics.mean(result['cpu_ms']):.1f} ms/need (p95 {cpu_p95:.1f}); "
        f"{statistics.mean(result['ranked']):.1f} IKM ranked per need; "
        f"resident after matching {result['rss_mb']:.0f} MB (target < 150; VmRSS), "
        f"peak {result['peak_mb']:.0f} MB (VmHWM); load {load:.2f}"
    )


if __name__ == "__main__":
    main()
