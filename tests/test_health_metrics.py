"""`run` in webhook mode, split by `--role`: /healthz and /metrics as a monitor reads them."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.config import Settings
from bot.metrics import Metrics
from bot.runner import Role, parse_roles, serve
from bot.services import inbound, outbox
from bot.web import build_web_app
from models import ChannelAccount, Person
from models.db import make_engine, transaction
from tests.fakes.telegram import ManualClock
from tests.fakes.whatsapp import FakeWhatsApp
from tests.test_run import free_port

VERIFY = "verify-me"
SECRET = "app-secret"


@pytest.fixture
def whatsapp_secrets(monkeypatch) -> None:
    monkeypatch.setenv("WHATSAPP_ACCESS_TOKEN", "TEST-TOKEN")
    monkeypatch.setenv("WHATSAPP_APP_SECRET", SECRET)
    monkeypatch.setenv("WHATSAPP_VERIFY_TOKEN", VERIFY)


def on_whatsapp(settings: Settings, graph: FakeWhatsApp) -> Settings:
    return settings.model_copy(
        update={
            "whatsapp": settings.whatsapp.model_copy(
                update={
                    "enabled": True,
                    "base_url": graph.base_url,
                    "api_version": graph.api_version,
                    "phone_number_id": graph.phone_number_id,
                }
            ),
            "server": settings.server.model_copy(update={"port": free_port()}),
            "scheduler": settings.scheduler.model_copy(
                update={"lease_retry_seconds": 0.2, "lease_check_seconds": 0.2}
            ),
        }
    )


@contextlib.asynccontextmanager
async def running(settings: Settings, roles: frozenset[Role]) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.ensure_future(serve(settings, stop, roles=roles))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=20)


async def listening(graph: FakeWhatsApp, base: str) -> None:
    for _ in range(200):  # until uvicorn listens (bounded)
        with contextlib.suppress(httpx.TransportError):
            if (await graph.verify(f"{base}/webhooks/whatsapp", VERIFY, "ok"))[0] == 200:
                return
        await asyncio.sleep(0.05)
    raise AssertionError("run never listened")


async def get(url: str) -> httpx.Response:
    async with httpx.AsyncClient(trust_env=False, timeout=10) as client:
        return await client.get(url)


async def health_until(base: str, wanted: int) -> dict:
    """/healthz until it answers `wanted` (the lease is taken a moment after start)."""
    for _ in range(100):
        response = await get(f"{base}/healthz")
        if response.status_code == wanted:
            return response.json()
        await asyncio.sleep(0.05)
    raise AssertionError(f"/healthz kept answering {response.status_code}: {response.text}")


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """Every sample of a Prometheus text page, by name and sorted labels."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def someone_waiting_for_a_nudge(app, now) -> None:
    """An IKM on Telegram with one message due in the outbox for ten minutes already."""
    with transaction(app.database) as session:
        person = Person(phone="+6281299990000", language="id", role="ikm")
        session.add(person)
        session.flush()
        session.add(ChannelAccount(person_id=person.id, channel="telegram", external_id="4242"))
        session.flush()
        outbox.enqueue(
            session,
            person_id=person.id,
            key="test:due",
            template="ikm.nudge",
            params={"business_name": "Boneka Siti"},
            now=now - timedelta(minutes=10),
        )
        inbound.quarantine(
            session, channel="telegram", payload={"update_id": 1}, error="boom", now=now
        )


async def test_healthz_and_metrics_report_messages_the_outbox_and_the_lease(
    settings, app, whatsapp_secrets
) -> None:
    someone_waiting_for_a_nudge(app, app.engine.clock.now())
    async with FakeWhatsApp(app_secret=SECRET, clock=ManualClock(), user_pause=7.0) as graph:
        configured = on_whatsapp(settings, graph)
        base = f"http://127.0.0.1:{configured.server.port}"
        # web and scheduler only: the due nudge stays in the outbox for /metrics to see
        async with running(configured, frozenset({Role.WEB, Role.SCHEDULER})):
            await listening(graph, base)
            await graph.set_webhook(f"{base}/webhooks/whatsapp", verify_token=VERIFY)
            health = await health_until(base, 200)
            assert health["status"] == "ok" and health["database"] == "ok"
            assert health["scheduler_lease"].startswith("sinergi-scheduler ")
            siti = graph.person(wa_id="6281234567890", name="Siti")
            await siti.send_text("halo")
            await graph.wait_until(lambda: siti.last_text and "Selamat" in siti.last_text, 10)
            page = await get(f"{base}/metrics")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/plain; version=0.0.4")
    figures = samples(page.text)
    whatsapp = (("channel", "whatsapp"),)
    assert figures[("sinergi_messages_handled_total", whatsapp)] == 1
    assert figures[("sinergi_message_seconds_count", whatsapp)] == 1
    assert figures[("sinergi_outbox_depth", ())] == 1
    pending_on_telegram = (("channel", "telegram"), ("state", "pending"))
    assert figures[("sinergi_outbox_messages", pending_on_telegram)] == 1
    assert figures[("sinergi_outbox_oldest_due_seconds", ())] >= 600
    assert figures[("sinergi_webhook_quarantined", (("channel", "telegram"),))] == 1
    assert figures[("sinergi_scheduler_lease_held", ())] == 1


async def test_a_web_only_process_says_no_scheduler_holds_the_lease(
    settings, app, whatsapp_secrets
) -> None:
    async with FakeWhatsApp(app_secret=SECRET, clock=ManualClock()) as graph:
        configured = on_whatsapp(settings, graph)
        base = f"http://127.0.0.1:{configured.server.port}"
        async with running(configured, parse_roles(["web"])):
            await listening(graph, base)
            health = await health_until(base, 503)
            page = await get(f"{base}/metrics")
    assert health == {"status": "unavailable", "database": "ok", "scheduler_lease": None}
    assert samples(page.text)[("sinergi_scheduler_lease_held", ())] == 0


async def test_a_sender_only_process_sends_the_outbox_and_serves_no_webhooks(
    settings, app, whatsapp_secrets
) -> None:
    async with FakeWhatsApp(app_secret=SECRET, clock=ManualClock()) as graph:
        siti = graph.person(wa_id="6281234567890", name="Siti")
        siti.last_inbound = graph.clock()
        with transaction(app.database) as session:
            person = Person(phone="+6281234567890", language="id", role="ikm")
            session.add(person)
            session.flush()
            session.add(
                ChannelAccount(
                    person_id=person.id,
                    channel="whatsapp",
                    external_id="6281234567890",
                    last_inbound_at=datetime.now(UTC),  # `run` keeps the real time
                )
            )
            session.flush()
            outbox.enqueue(
                session,
                person_id=person.id,
                key="test:sender-only",
                template="ikm.nudge",
                params={"business_name": "Boneka Siti"},
                now=datetime.now(UTC),
            )
        configured = on_whatsapp(settings, graph)
        async with running(configured, parse_roles(["sender"])):
            await graph.wait_until(lambda: siti.last_text and "Boneka Siti" in siti.last_text, 10)
            with pytest.raises(httpx.ConnectError):
                await get(f"http://127.0.0.1:{configured.server.port}/healthz")


async def test_healthz_answers_503_when_the_database_does_not_answer(tmp_path) -> None:
    gone = make_engine(f"sqlite:///{tmp_path}/no/such/dir/sinergi.db")
    metrics = Metrics(gone)
    web = build_web_app(health=metrics.health, metrics=metrics.exposition)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=web), base_url="http://bot"
    ) as client:
        response = await client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "database": "unreachable",
        "scheduler_lease": None,
    }


def test_roles_are_read_from_repeated_or_comma_separated_options() -> None:
    assert parse_roles([]) == frozenset(Role)
    assert parse_roles(["all"]) == frozenset(Role)
    assert parse_roles(["web,sender"]) == {Role.WEB, Role.SENDER}
    assert parse_roles(["web", "scheduler"]) == {Role.WEB, Role.SCHEDULER}
    with pytest.raises(ValueError):
        parse_roles(["webs"])
