"""Two `python -m bot run` processes on PostgreSQL, started as compose.yaml starts them.

No containers: compose.yaml's own commands, read from it: `db upgrade` once (the one-shot
`migrate` service), then two `bot` workers (on loopback ports instead of 0.0.0.0:8080) in
webhook mode on two loopback ports behind a round-robin balancer (the reverse proxy), all
against the fake WhatsApp Cloud API. Exactly one holds the scheduler lease; both serve
webhooks; after `kill -9` of the holder the other takes the lease within the bounded wait,
and every message people sent, before and after, is answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from models.db import make_engine
from scheduler.lease import current_holder
from tests.fakes.balancer import RoundRobin
from tests.fakes.whatsapp import FakeWhatsApp
from tests.test_run import free_port

ROOT = Path(__file__).resolve().parent.parent
TOKEN, SECRET, VERIFY = "CLUSTER-TOKEN", "cluster-app-secret", "cluster-verify"
LEASE_RETRY = 0.5  # seconds: the survivor tries this often to take the lease
TAKEOVER_BOUND = 30.0  # seconds: generous on a loaded two-core machine, far below a minute
PEOPLE_BEFORE, PEOPLE_AFTER = 16, 16


@pytest.fixture
def cluster_database(postgres_url: str | None) -> str:
    if not postgres_url:
        pytest.skip("several processes share traffic on PostgreSQL only")
    database = make_engine(postgres_url)
    with database.begin() as connection:  # a fresh database, as compose's first start
        connection.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    database.dispose()
    return postgres_url


def compose_command(service: str) -> list[str]:
    """The `command:` of a service in compose.yaml (written there as a JSON list)."""
    text = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    block = re.search(rf"^  {service}:\n(.*?)(?=^  \S|^\S|\Z)", text, re.S | re.M)
    assert block, f"compose.yaml has no service {service!r}"
    line = re.search(r"^    command: (\[.*\])$", block.group(1), re.M)
    assert line, f"compose.yaml: {service} has no one-line command"
    command = json.loads(line.group(1))
    assert command[:3] == ["python", "-m", "bot"]
    return [sys.executable, *command[1:]]


def with_option(command: list[str], option: str, value: str) -> list[str]:
    at = command.index(option)
    return [*command[: at + 1], value, *command[at + 2 :]]


def environment(database_url: str, config: Path) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if "proxy" not in name.lower() and name not in ("TEST_DATABASE_URL",)
    }
    env.update(
        SINERGI_CONFIG=str(config),
        DATABASE_URL=database_url,
        WHATSAPP_ACCESS_TOKEN=TOKEN,
        WHATSAPP_APP_SECRET=SECRET,
        WHATSAPP_VERIFY_TOKEN=VERIFY,
    )
    return env


def write_config(path: Path, graph: FakeWhatsApp) -> Path:
    path.write_text(
        "\n".join(
            [
                "[app]",
                'admins = ["+6281100000001"]',
                "[scheduler]",
                f"lease_retry_seconds = {LEASE_RETRY}",
                f"lease_check_seconds = {LEASE_RETRY}",
                "[whatsapp]",
                "enabled = true",
                f"base_url = {json.dumps(graph.base_url)}",
                f"api_version = {json.dumps(graph.api_version)}",
                f"phone_number_id = {json.dumps(graph.phone_number_id)}",
            ]
        ),
        encoding="utf-8",
    )
    return path


class Worker:
    """One `run --no-migrate --port N` process, as one replica of compose's `bot` service."""

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        command = with_option(compose_command("bot"), "--host", "127.0.0.1")
        self.command = with_option(command, "--port", str(port))
        self.env = env
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with self.log.open("ab") as output:
            self.process = await asyncio.create_subprocess_exec(
                *self.command,
                cwd=ROOT,
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=output,
                stderr=output,
            )

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def listening(self, graph: FakeWhatsApp) -> None:
        for _ in range(600):  # bounded: a loaded machine starts slowly
            self.check_alive()
            with contextlib.suppress(httpx.TransportError):
                if (await graph.verify(f"{self.url}/webhooks/whatsapp", VERIFY, "up"))[0] == 200:
                    return
            await asyncio.sleep(0.1)
        raise AssertionError(f"{self.url} never listened:\n{self.output()}")

    def check_alive(self) -> None:
        assert self.process is not None
        if self.process.returncode is not None:
            raise AssertionError(f"run exited with {self.process.returncode}:\n{self.output()}")

    async def kill(self) -> None:
        """SIGKILL: no `finally`, no unlock; only its connections closing by the kernel."""
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await asyncio.wait_for(self.process.wait(), timeout=10)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-4000:]


async def lease_holder_pid(database: sa.Engine, timeout: float, not_pid: int | None = None) -> int:
    """The pid in the holder's name, once some process (not `not_pid`) holds the lease."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        holder = await asyncio.to_thread(current_holder, database, None)
        if holder:
            pid = int(holder.rsplit(":", 1)[1])
            if pid != not_pid:
                return pid
        await asyncio.sleep(0.1)
    raise AssertionError(f"no process took the scheduler lease within {timeout} s")


async def everyone_answered(graph: FakeWhatsApp, people: list, workers: list[Worker]) -> None:
    def answered() -> bool:
        return all(any("Selamat" in (m.text or "") for m in p.inbox) for p in people)

    for _ in range(900):  # bounded (90 s): the stored bodies are processed after the 200
        for worker in workers:
            worker.check_alive()
        if answered():
            return
        await asyncio.sleep(0.1)
    missing = [p.wa_id for p in people if not any("Selamat" in (m.text or "") for m in p.inbox)]
    raise AssertionError(f"not answered: {missing}\n{workers[0].output()}")


async def test_two_workers_share_webhooks_elect_one_scheduler_and_survive_kill_9(
    cluster_database, tmp_path
) -> None:
    async with FakeWhatsApp(app_secret=SECRET, access_token=TOKEN) as graph:
        env = environment(cluster_database, write_config(tmp_path / "sinergi.toml", graph))
        migrate = await asyncio.to_thread(
            subprocess.run,
            compose_command("migrate"),
            cwd=ROOT,
            env=env,
            capture_output=True,
            timeout=120,
        )
        assert migrate.returncode == 0, migrate.stderr.decode()
        workers = [Worker(env, free_port(), tmp_path / f"worker-{n}.log") for n in range(2)]
        database = make_engine(cluster_database)
        try:
            for worker in workers:
                await worker.start()
            for worker in workers:
                await worker.listening(graph)
            async with RoundRobin([worker.url for worker in workers]) as balancer:
                await graph.set_webhook(f"{balancer.url}/webhooks/whatsapp", verify_token=VERIFY)

                holder_pid = await lease_holder_pid(database, TAKEOVER_BOUND)
                assert holder_pid in {worker.pid for worker in workers}
                await asyncio.sleep(3 * LEASE_RETRY)  # the other keeps trying, and fails
                assert await lease_holder_pid(database, 1) == holder_pid
                for worker in workers:
                    async with httpx.AsyncClient(trust_env=False) as client:
                        health = (await client.get(f"{worker.url}/healthz")).json()
                    assert health["scheduler_lease"].endswith(f":{holder_pid}")

                before = [
                    graph.person(wa_id=f"62815{n:07d}", name=f"IKM {n}")
                    for n in range(PEOPLE_BEFORE)
                ]
                for person in before:
                    await person.send_text("halo")
                await everyone_answered(graph, before, workers)
                assert all(balancer.served[worker.url] > 0 for worker in workers)

                holder = next(worker for worker in workers if worker.pid == holder_pid)
                survivor = next(worker for worker in workers if worker is not holder)
                await holder.kill()
                after = [
                    graph.person(wa_id=f"62816{n:07d}", name=f"IKM baru {n}")
                    for n in range(PEOPLE_AFTER)
                ]
                for person in after:
                    await person.send_text("halo")
                new_pid = await lease_holder_pid(database, TAKEOVER_BOUND, not_pid=holder_pid)
                assert new_pid == survivor.pid
                await everyone_answered(graph, before + after, [survivor])
        finally:
            for worker in workers:
                await worker.kill()
            database.dispose()
    welcomes = [m for m in graph.sent if "Selamat" in (m.text or "")]
    assert len({m.to for m in welcomes}) == PEOPLE_BEFORE + PEOPLE_AFTER
