"""Benchmark: simulated users chatting through the engine in-process, on a SQLite file.

Each simulated user registers as an IKM (the shortest path), adds a second product,
opens "Produk saya" and the menu a few times. Prints handled messages per second and
the per-message latency (p50, p99). Target: >= 1,000 msg/s on one core, p99 < 20 ms.

    .venv/bin/python bench/engine.py --users 300
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout too

from bot.app import build_app
from bot.config import Settings
from bot.core.messages import Incoming
from models.db import upgrade

SCRIPT = [
    "halo",
    "Setuju",
    "Saya pelaku IKM",
    "Ibu Pengguna",
    "Usaha Contoh",
    "Pakaian jadi",
    "cikarang utr",
    "Lewati",
    "Lewati",
    "Lewati",
    "Kaos sablon",
    "pcs",
    "40-100 ribu",
    "3 ribu",
    "Lewati",
    "Simpan",
    "Tambah produk",
    "Seragam kerja",
    "pcs",
    "Rp 85.000",
    "500",
    "Lewati",
    "Simpan",
    "Produk saya",
    "menu",
    "bantuan",
    "Profil usaha",
    "menu",
]


def phone_of(user: int) -> str:
    return f"+62812{user:08d}"


async def run(users: int, database_url: str) -> tuple[list[float], float]:
    settings = Settings.model_validate({"database": {"url": database_url}})
    app = build_app(settings)
    latencies: list[float] = []
    started = time.perf_counter()
    # Users take turns, one message each, as concurrent conversations would interleave.
    for step, text in enumerate(SCRIPT):
        for user in range(users):
            message = Incoming(
                channel="bench",
                account_id=str(user),
                phone=phone_of(user),
                text=text,
                message_id=f"{user}-{step}",
            )
            before = time.perf_counter()
            replies = await app.engine.handle(message)
            latencies.append(time.perf_counter() - before)
            if not replies:
                raise SystemExit(f"user {user} got no reply to {text!r}")
    elapsed = time.perf_counter() - started
    app.close()
    return latencies, elapsed


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        upgrade(url)
        latencies, elapsed = asyncio.run(run(args.users, url))
    count = len(latencies)
    print(f"users: {args.users}, messages: {count}, seconds: {elapsed:.2f}")
    print(f"throughput: {count / elapsed:,.0f} messages/s (target >= 1,000)")
    print(
        f"latency: p50 {percentile(latencies, 0.50) * 1000:.2f} ms, "
        f"p99 {percentile(latencies, 0.99) * 1000:.2f} ms (target p99 < 20 ms), "
        f"mean {statistics.fmean(latencies) * 1000:.2f} ms"
    )


if __name__ == "__main__":
    main()
