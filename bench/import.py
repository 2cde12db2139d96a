"""Benchmark: importing the Dinas's registry (`sinergi import ikm`) into SQLite.

For each size, a registry workbook is generated (tests/registry_workbook.py, not timed),
then imported in a fresh process: read (openpyxl read-only, every row parsed), plan
(matched against the database), apply (batches of 500 rows per transaction). The same
file is then imported again (every row unchanged). Prints the time of each part and the
importing process's CPU time and peak memory (its maximum resident set size, interpreter
included): on a shared machine the CPU time is the figure to compare with the target.
Targets: 100,000 rows in < 60 s on one core, peak memory < 300 MB.

    .venv/bin/python bench/import.py [--sizes 1400 100000] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from models.db import make_engine, transaction, upgrade  # noqa: E402 - after the path is set

NOW_ISO = "2026-11-22T03:00:00+00:00"


def import_once(path: Path, url: str) -> dict[str, float]:
    """Read, plan and apply as the command line does; the times and this process's peak."""
    from datetime import datetime

    from bot import registry

    started, cpu_started = time.perf_counter(), time.process_time()
    sheet = registry.read_registry(path)
    read_done = time.perf_counter()
    engine = make_engine(url)
    with transaction(engine) as session:
        plan = registry.plan_import(session, sheet.rows, ignored=sheet.ignored)
    planned = time.perf_counter()
    file = registry.ImportFile(registry.file_hash(path), path.name, "bench")
    applied = registry.apply_plan(engine, plan, file=file, now=datetime.fromisoformat(NOW_ISO))
    finished, cpu_finished = time.perf_counter(), time.process_time()
    engine.dispose()
    return {
        "rows": len(sheet.rows),
        "created": applied.created,
        "unchanged": plan.count(registry.Action.UNCHANGED),
        "read_s": read_done - started,
        "plan_s": planned - read_done,
        "apply_s": finished - planned,
        "total_s": finished - started,
        "cpu_s": cpu_finished - cpu_started,
        # ru_maxrss is in kilobytes on Linux.
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def measure(path: Path, url: str) -> dict[str, float]:
    """`import_once` in a fresh process, so its peak memory is the import's alone."""
    child = subprocess.run(
        [sys.executable, __file__, "--child", str(path), url],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(child.stdout.splitlines()[-1])


def run(size: int, directory: Path) -> None:
    from tests.registry_workbook import write_registry

    path = directory / f"registry-{size}.xlsx"
    started = time.perf_counter()
    if not path.exists():  # kept between runs with --workdir: generating takes a while
        write_registry(path, rows=size)
    generated = time.perf_counter() - started
    database = directory / f"registry-{size}.db"
    database.unlink(missing_ok=True)
    url = f"sqlite:///{database}"
    upgrade(url)
    print(
        f"{size:,} rows ({path.stat().st_size / 1e6:.1f} MB workbook, "
        f"generated in {generated:.1f} s)"
    )
    for label, figures in (
        ("first import", measure(path, url)),
        ("same again", measure(path, url)),
    ):
        print(
            f"  {label:<13} total {figures['total_s']:6.1f} s, CPU {figures['cpu_s']:.1f} s  "
            f"(read {figures['read_s']:.1f} s, "
            f"plan {figures['plan_s']:.1f} s, apply {figures['apply_s']:.1f} s)  "
            f"peak {figures['peak_mb']:.0f} MB  "
            f"new {figures['created']:,}, unchanged {figures['unchanged']:,}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description="Time `sinergi import ikm` on generated lists.")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1400, 100_000])
    parser.add_argument("--workdir", type=Path, help="Keep the generated files here.")
    parser.add_argument("--child", nargs=2, metavar=("FILE", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(import_once(Path(args.child[0]), args.child[1])))
        return
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        for size in args.sizes:
            run(size, args.workdir)
        return
    with tempfile.TemporaryDirectory() as directory:
        for size in args.sizes:
            run(size, Path(directory))


if __name__ == "__main__":
    main()
