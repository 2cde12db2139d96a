"""Benchmark: the web console's pages over 20,000 IKM, 100,000 products and a year of needs,
offers, partnerships and bimtek in SQLite (the data of bench/stats.py), through the whole
ASGI app in-process: session check, queries, templates.

Prints the overview page's time, each chart's time (its own SVG request: the figures, and
the drawing the first time those figures are seen) and the IKM directory's. Targets:
overview < 300 ms, each chart < 200 ms. The best of `--repeat` runs after one warm-up run.

    .venv/bin/python bench/console.py
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

warnings.filterwarnings("ignore", message=".*httpx.*testclient")  # Starlette's own notice
from starlette.testclient import TestClient  # noqa: E402 - after the path is set

from bench.stats import NOW, best_ms, build  # noqa: E402 - after the path is set
from bot.app import App, build_app  # noqa: E402 - after the path is set
from bot.config import ConsoleSettings, Settings  # noqa: E402 - after the path is set
from bot.console.signin import issue_link  # noqa: E402 - after the path is set
from bot.core.clock import FixedClock  # noqa: E402 - after the path is set
from bot.runner import web_console  # noqa: E402 - after the path is set
from bot.stat_charts import CHARTS  # noqa: E402 - after the path is set
from bot.web import build_web_app  # noqa: E402 - after the path is set
from models import Person  # noqa: E402 - after the path is set
from models.db import transaction, upgrade  # noqa: E402 - after the path is set

BASE = "http://testserver"
OFFICER = "+6281100000002"


def signed_in(client: TestClient, app: App) -> None:
    """An officer, and a session opened through a link as the chat would send it."""
    with transaction(app.database) as session:
        officer = Person(phone=OFFICER, role="dinas", created_at=NOW, last_active_at=NOW)
        session.add(officer)
        session.flush()
        link = issue_link(session, person=officer, settings=app.settings, now=NOW)
    answer = client.post(link.removeprefix(BASE))
    assert answer.status_code == 303, answer.status_code


def timed(client: TestClient, path: str, repeat: int) -> float:
    def fetch() -> None:
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.status_code)

    return best_ms(fetch, repeat)


def first_ms(client: TestClient, path: str) -> float:
    began = time.perf_counter()
    assert client.get(path).status_code == 200
    return (time.perf_counter() - began) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ikm", type=int, default=20_000)
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--needs", type=int, default=3_000, help="over the year; 10 offers each")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        upgrade(url)
        started = time.perf_counter()
        build(url, ikm=args.ikm, products=args.products, needs=args.needs, seed=15)
        print(
            f"built {args.ikm:,} IKM, {args.products:,} products, {args.needs:,} needs, "
            f"{args.needs * 10:,} offers in {time.perf_counter() - started:.1f} s"
        )
        settings = Settings.model_validate(
            {"database": {"url": url}, "console": ConsoleSettings(enabled=True, public_url=BASE)}
        )
        app = build_app(settings, clock=FixedClock(NOW))
        with TestClient(
            build_web_app(console=web_console(app)), base_url=BASE, follow_redirects=False
        ) as client:
            signed_in(client, app)
            print(f"overview page: {timed(client, '/dinas/', args.repeat):.0f} ms (target < 300)")
            for name in CHARTS:
                path = f"/dinas/grafik/{name}.svg"
                drawn = first_ms(client, path)
                print(
                    f"chart {name}: {timed(client, path, args.repeat):.0f} ms (target < 200); "
                    f"the first time its figures are drawn {drawn:.0f} ms"
                )
            for label, path in (
                ("IKM directory, first page", "/dinas/ikm"),
                ("IKM directory, active in Setu", "/dinas/ikm?active=yes&kecamatan=Setu"),
                ("IKM directory, search", "/dinas/ikm?q=usaha+1234"),
                ("IKM directory, page 400", "/dinas/ikm?page=400"),
                ("one IKM's record", "/dinas/ikm/1234"),
            ):
                print(f"{label}: {timed(client, path, args.repeat):.0f} ms")
        app.close()


if __name__ == "__main__":
    main()
