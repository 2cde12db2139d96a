"""Benchmark: 1, 2 and 4 webhook processes on PostgreSQL, and one killed with kill -9.

Each configuration starts from an empty database (`db upgrade` once, as compose.yaml's
`migrate` service), then N `python -m bot run --no-migrate --port P` workers in Telegram
webhook mode against the fake Bot API on 127.0.0.1 (no rate limits: the bot is measured,
not Telegram). A local load generator plays `--people` simulated people (2,000), at most
`--concurrency` of them writing at once: each sends the script's messages one after the
other, waiting for the answer to each, and its webhook calls are spread round-robin over
the workers (on to the next one when a worker refuses the connection, as Telegram redelivers).

Printed per configuration: messages/s, p50 and p99 from the webhook call to the first reply
reaching the Bot API; the ratio from 1 to 2 processes; and for the run in which the
scheduler lease holder is killed with kill -9 midway: messages lost (never answered),
replies duplicated, redeliveries, and how long until another process held the lease.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/sinergi_bench \\
        .venv/bin/python bench/cluster.py --people 2000

The database is emptied (DROP SCHEMA public CASCADE) for every configuration: give it one
of its own. Bounded: `--max-seconds` per configuration, every wait has a timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout too

import aiohttp  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from models.db import make_engine  # noqa: E402
from scheduler.lease import current_holder  # noqa: E402
from tests.fakes.telegram import FakeTelegram  # noqa: E402

TOKEN = "424242:BENCH-cluster-token"
SECRET = "bench-webhook-secret"
SCRIPT = ("halo", "bantuan")
REPLY_TIMEOUT = 60.0  # seconds a simulated person waits for an answer before counting it lost
FIRST_USER_ID = 70_000_000


class TimedTelegram(FakeTelegram):
    """The fake Bot API, noting when each message reaches each chat."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.arrivals: dict[int, list[float]] = {}
        self.arrived: dict[int, asyncio.Event] = {}

    def _record_sent(self, person, message):
        self.arrivals.setdefault(person.id, []).append(time.perf_counter())
        event = self.arrived.get(person.id)
        if event is not None:
            event.set()
        return super()._record_sent(person, message)


@dataclass
class Outcome:
    processes: int
    killed: bool
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    lost: int = 0
    duplicated: int = 0
    redeliveries: int = 0
    served: Counter = field(default_factory=Counter)
    reelected_after: float | None = None
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds of each part, the run

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fresh_database(url: str, env: dict[str, str]) -> None:
    database = make_engine(url)
    with database.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    database.dispose()
    subprocess.run(
        [sys.executable, "-m", "bot", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=300,
        capture_output=True,
    )


def write_config(path: Path, api: FakeTelegram) -> None:
    path.write_text(
        "\n".join(
            [
                "[app]",
                'admins = ["+6281100000001"]',
                "[scheduler]",
                "lease_retry_seconds = 1",
                "lease_check_seconds = 1",
                "[telegram]",
                "enabled = true",
                'mode = "webhook"',
                f"base_url = {json.dumps(api.base_url)}",
                f"base_file_url = {json.dumps(api.base_file_url)}",
            ]
        ),
        encoding="utf-8",
    )


def environment(url: str, config: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env.update(
        DATABASE_URL=url,
        SINERGI_CONFIG=str(config),
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_WEBHOOK_SECRET=SECRET,
    )
    return env


async def start_worker(env: dict[str, str], port: int, log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as output:
        return await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "bot", "run", "--no-migrate", "--port", str(port)),
            cwd=ROOT,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=output,
            stderr=output,
        )


async def wait_listening(client: aiohttp.ClientSession, url: str, log: Path) -> None:
    for _ in range(600):
        with contextlib.suppress(aiohttp.ClientError):
            async with client.get(f"{url}/metrics") as response:
                if response.status == 200:
                    return
        await asyncio.sleep(0.1)
    raise SystemExit(f"{url} never listened:\n{log.read_text()[-3000:]}")


class LoadGenerator:
    """Simulated people writing through the workers, round-robin, waiting for each answer."""

    def __init__(
        self, api: TimedTelegram, workers: list[str], client: aiohttp.ClientSession
    ) -> None:
        self.api = api
        self.workers = workers
        self.alive = list(workers)
        self.client = client
        self.turn = itertools.count()
        self.update_ids = itertools.count(1)
        self.message_ids = itertools.count(1)
        self.done = 0

    async def person(self, user_id: int, outcome: Outcome) -> None:
        user = self.api.user(user_id, f"IKM {user_id}")
        user.started = True
        arrived = self.api.arrived.setdefault(user_id, asyncio.Event())
        for text in SCRIPT:
            before = len(self.api.arrivals.get(user_id, ()))
            arrived.clear()
            started = time.perf_counter()
            await self.post(self.update(user, text), outcome)
            if not await self.reply_after(user_id, before, arrived):
                outcome.lost += 1
                continue
            outcome.latencies.append(self.api.arrivals[user_id][before] - started)
        self.done += 1

    def update(self, user, text: str) -> dict:
        return {
            "update_id": next(self.update_ids),
            "message": {
                "message_id": next(self.message_ids),
                "from": user.as_dict,
                "chat": user.chat,
                "date": int(time.time()),
                "text": text,
            },
        }

    async def post(self, update: dict, outcome: Outcome) -> None:
        """As Telegram does: again (on the next worker) until some worker answers 200."""
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        for attempt in range(20):
            worker = self.alive[next(self.turn) % len(self.alive)]
            try:
                async with self.client.post(
                    f"{worker}/webhooks/telegram", json=update, headers=headers
                ) as response:
                    status = response.status
                    await response.read()
            except aiohttp.ClientError:
                status = None
            if status == 200:
                outcome.served[worker] += 1
                return
            outcome.redeliveries += 1
            await asyncio.sleep(min(0.05 * 2**attempt, 2.0))

    async def reply_after(self, user_id: int, before: int, arrived: asyncio.Event) -> bool:
        deadline = time.perf_counter() + REPLY_TIMEOUT
        while len(self.api.arrivals.get(user_id, ())) <= before:
            left = deadline - time.perf_counter()
            if left <= 0:
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(arrived.wait(), left)
            arrived.clear()
        return True


async def run_configuration(
    url: str, processes: int, args: argparse.Namespace, *, kill: bool
) -> Outcome:
    outcome = Outcome(processes=processes, killed=kill)
    work = Path(tempfile.mkdtemp(prefix="sinergi-cluster-"))
    async with TimedTelegram(
        token=TOKEN, per_chat_per_second=None, global_per_second=None, server_timeout=30
    ) as api:
        config = work / "sinergi.toml"
        write_config(config, api)
        env = environment(url, config)
        await asyncio.to_thread(fresh_database, url, env)
        ports = [free_port() for _ in range(processes)]
        logs = [work / f"worker-{n}.log" for n in range(processes)]
        workers = [await start_worker(env, p, log) for p, log in zip(ports, logs, strict=True)]
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        database = make_engine(url)
        # aiohttp rather than httpx: the load generator shares the two cores with the workers,
        # and a cheaper client leaves them more.
        connections = aiohttp.TCPConnector(limit=args.concurrency * 2)
        timeout = aiohttp.ClientTimeout(total=60)
        async with aiohttp.ClientSession(connector=connections, timeout=timeout) as client:
            try:
                for worker_url, log in zip(urls, logs, strict=True):
                    await wait_listening(client, worker_url, log)
                load = LoadGenerator(api, urls, client)
                killer = asyncio.create_task(
                    kill_holder(load, workers, urls, database, args.people, outcome)
                    if kill
                    else asyncio.sleep(0)
                )
                before = await asyncio.to_thread(cpu_by_part, workers, database)
                started = time.perf_counter()
                await asyncio.wait_for(everyone(load, args, outcome), args.max_seconds)
                outcome.seconds = time.perf_counter() - started
                if not kill:
                    after = await asyncio.to_thread(cpu_by_part, workers, database)
                    outcome.cpu = {part: after[part] - before.get(part, 0.0) for part in after}
                await asyncio.wait_for(killer, 120)
                await asyncio.sleep(1.0)  # late duplicates still arrive
                outcome.duplicated = duplicates(api)
            finally:
                for process in workers:
                    if process.returncode is None:
                        process.kill()
                        await process.wait()
                database.dispose()
    return outcome


async def everyone(load: LoadGenerator, args: argparse.Namespace, outcome: Outcome) -> None:
    gate = asyncio.Semaphore(args.concurrency)

    async def one(user_id: int) -> None:
        async with gate:
            await load.person(user_id, outcome)

    await asyncio.gather(*(one(FIRST_USER_ID + n) for n in range(args.people)))


async def kill_holder(
    load: LoadGenerator,
    workers: list[asyncio.subprocess.Process],
    urls: list[str],
    database: sa.Engine,
    people: int,
    outcome: Outcome,
) -> None:
    """kill -9 of the scheduler lease holder once 40 % of the people are through."""
    while load.done < people * 0.4:
        await asyncio.sleep(0.05)
    holder = await asyncio.to_thread(current_holder, database, None)
    pids = [process.pid for process in workers]
    victim = pids.index(int(holder.rsplit(":", 1)[1])) if holder else 0
    workers[victim].kill()
    killed_at = time.perf_counter()
    load.alive.remove(urls[victim])
    while time.perf_counter() - killed_at < 90:
        now_holder = await asyncio.to_thread(current_holder, database, None)
        if now_holder and now_holder != holder:
            outcome.reelected_after = time.perf_counter() - killed_at
            return
        await asyncio.sleep(0.1)


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process on this machine has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_by_part(workers: list[asyncio.subprocess.Process], database: sa.Engine) -> dict[str, float]:
    """CPU seconds so far of the workers, this process (the load generator and the fake Bot
    API) and the PostgreSQL backends serving this database (their count since they began)."""
    with database.connect() as connection:
        backends = connection.execute(
            sa.text(
                "SELECT pid FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalars()
        postgres = 0.0
        for pid in backends:
            with contextlib.suppress(OSError):
                postgres += process_cpu(pid)
    return {
        "workers": sum(process_cpu(process.pid) for process in workers),
        "load generator and fake": time.process_time(),
        "postgresql": postgres,
    }


def show_cpu(outcome: Outcome) -> None:
    """CPU per message of each part, and what that leaves for two processes on two cores."""
    answered = len(outcome.latencies)
    if not outcome.cpu or not answered:
        return
    per_message = {part: seconds / answered for part, seconds in outcome.cpu.items()}
    print(
        "    CPU per message: "
        + ", ".join(f"{part} {1000 * seconds:.2f} ms" for part, seconds in per_message.items()),
        flush=True,
    )
    workers, everything = per_message["workers"], sum(per_message.values())
    # One process is bound by its own core (the GIL) or by the machine, whichever is lower;
    # two processes on two cores by the machine: all parts share the cores.
    cores = os.cpu_count() or 1
    one = min(1 / workers, cores / everything)
    print(
        f"    on {cores} cores with every part on them, 2 processes can reach at most"
        f" {min(2 / workers, cores / everything) / one:.2f}x of one",
        flush=True,
    )


def duplicates(api: TimedTelegram) -> int:
    """Replies beyond the usual count per person (everyone follows the same script)."""
    counts = [len(times) for times in api.arrivals.values()]
    if not counts:
        return 0
    usual = Counter(counts).most_common(1)[0][0]
    return sum(max(0, count - usual) for count in counts)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def show(outcome: Outcome) -> None:
    served = ", ".join(str(count) for count in outcome.served.values())
    line = (
        f"{outcome.processes} process(es){' + kill -9' if outcome.killed else ''}: "
        f"{outcome.rate:7.1f} msg/s  p50 {1000 * statistics.median(outcome.latencies):6.1f} ms"
        f"  p99 {1000 * percentile(outcome.latencies, 0.99):7.1f} ms"
        f"  ({len(outcome.latencies)} answered in {outcome.seconds:.1f} s; per process {served})"
    )
    print(line, flush=True)
    if outcome.processes == 1:
        show_cpu(outcome)
    if outcome.killed:
        reelected = (
            f"{outcome.reelected_after:.1f} s" if outcome.reelected_after is not None else "NO"
        )
        print(
            f"    killed the lease holder: lost {outcome.lost}, duplicated replies"
            f" {outcome.duplicated}, redeliveries {outcome.redeliveries},"
            f" scheduler re-elected after {reelected}",
            flush=True,
        )
    elif outcome.lost or outcome.duplicated:
        print(f"    lost {outcome.lost}, duplicated {outcome.duplicated}", flush=True)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--processes", default="1,2,4")
    parser.add_argument("--kill-with", type=int, default=2, help="processes in the kill run")
    parser.add_argument("--max-seconds", type=float, default=600)
    args = parser.parse_args()
    if not args.database_url or not args.database_url.startswith("postgresql"):
        raise SystemExit("give a PostgreSQL URL: --database-url or $DATABASE_URL")
    print(
        f"{args.people} people x {len(SCRIPT)} messages, {args.concurrency} writing at once,"
        f" on {os.cpu_count()} cores (load generator, fake Bot API, PostgreSQL and the"
        " workers all share them)",
        flush=True,
    )
    outcomes = {}
    for processes in (int(n) for n in args.processes.split(",")):
        outcomes[processes] = await run_configuration(
            args.database_url, processes, args, kill=False
        )
        show(outcomes[processes])
    if 1 in outcomes and 2 in outcomes and outcomes[1].rate:
        print(f"ratio 1 -> 2 processes: {outcomes[2].rate / outcomes[1].rate:.2f}x", flush=True)
    if args.kill_with:
        show(await run_configuration(args.database_url, args.kill_with, args, kill=True))


if __name__ == "__main__":
    asyncio.run(main())
