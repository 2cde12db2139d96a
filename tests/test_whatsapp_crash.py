"""`kill -9` of `python -m bot run` in the middle of a WhatsApp broadcast, then a restart.

The bot runs as its own process against the fake Graph API on 127.0.0.1, which answers
every 9th send with 130429 (rate limit) and every 13th with a 500, and knows numbers
that are undeliverable (131026, by a failed status webhook, as the Cloud API reports it).
Killed while sending and started again, the broadcast ends with nothing lost, no more
duplicates than were in flight (the sender's concurrency plus one unwritten group of
outcomes), the undeliverable numbers marked and given up on, 130429 and 5xx retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import sqlalchemy as sa
from sqlmodel import Session, select

from bot.sending import SenderSettings
from bot.services import audience
from models import ChannelAccount, DeliveryStatus, IkmProfile, OutboxMessage, Person
from models.conversation import InboundEvent
from models.db import transaction
from tests.fakes.whatsapp import FakeWhatsApp, SentMessage
from tests.test_run import free_port
from tests.whatsapp_chat import approved, configured_templates

ROOT = Path(__file__).resolve().parent.parent
TOKEN, SECRET, VERIFY = "CRASH-TOKEN", "crash-app-secret", "crash-verify"
TEXT = "Pameran produk IKM di Jababeka, 5 Desember 2026."
CONCURRENCY = 16  # as in config.toml
LEASE_SECONDS = 5  # the least config allows: the restarted run soon takes the dead one's rows
# What a kill -9 may resend: every send in flight, and the outcomes sent but not yet written.
IN_FLIGHT_BOUND = CONCURRENCY + SenderSettings().record_group
FINISHED = {"sent", "failed"}
ANNOUNCEMENT_TEMPLATE = configured_templates()["announcement"]


@dataclass(frozen=True)
class Recipient:
    wa_id: str
    in_window: bool  # wrote within 24 hours: free-form text; else the announcement template
    deliverable: bool
    on_whatsapp: bool = True  # False: a number with no WhatsApp account at all


def ikm_audience() -> list[Recipient]:
    """300 IKM: most wrote today, some long ago, some cannot be delivered to."""
    kinds = (
        [(True, True, True)] * 240
        + [(False, True, True)] * 40
        + [(True, False, True)] * 8
        + [(False, False, True)] * 6
        + [(False, False, False)] * 6
    )
    return [
        Recipient(f"62813{number:07d}", in_window, deliverable, on_whatsapp)
        for number, (in_window, deliverable, on_whatsapp) in enumerate(kinds)
    ]


def register_on_whatsapp(app, recipients: list[Recipient], now: datetime) -> None:
    """The IKM as the registry holds them: each with a WhatsApp account and its last word."""
    with transaction(app.database) as session:
        for recipient in recipients:
            person = Person(phone=f"+{recipient.wa_id}", language="id", role="ikm")
            session.add(person)
            session.flush()
            wrote = now - (timedelta(hours=1) if recipient.in_window else timedelta(days=3))
            session.add(
                ChannelAccount(
                    person_id=person.id,
                    channel="whatsapp",
                    external_id=recipient.wa_id,
                    last_inbound_at=wrote,
                )
            )
            session.add(
                IkmProfile(
                    person_id=person.id,
                    owner_name=f"Pemilik {recipient.wa_id}",
                    business_name=f"Usaha {recipient.wa_id}",
                    sector="14",
                    kecamatan="Cibitung",
                )
            )


def meet_on_whatsapp(graph: FakeWhatsApp, recipients: list[Recipient]) -> None:
    """The same people as WhatsApp knows them (their windows, undeliverable numbers)."""
    for recipient in recipients:
        if not recipient.on_whatsapp:
            continue
        person = graph.person(wa_id=recipient.wa_id, name=f"IKM {recipient.wa_id[-4:]}")
        ago = 3600 if recipient.in_window else 3 * 24 * 3600
        person.last_inbound = graph.clock() - ago
        if not recipient.deliverable:
            graph.fail_delivery(recipient.wa_id, code=131026)


def announce(app, now: datetime) -> int:
    """The Dinas broadcasts to every IKM; the running sender picks it up."""
    with transaction(app.database) as session:
        announcement = audience.announce(
            session,
            author=None,
            text=TEXT,
            image_ref=None,
            audience={"kind": "all_ikm"},
            now=now,
        )
        return announcement.recipients


def bot_config(path: Path, *, database_url: str, graph: FakeWhatsApp, port: int) -> Path:
    template = ANNOUNCEMENT_TEMPLATE
    path.write_text(
        "\n".join(
            [
                "[app]",
                'admins = ["+6281100000001"]',
                'consent_version = "2026-11"',
                "[database]",
                f"url = {json.dumps(database_url)}",
                "[scheduler]",
                "enabled = false",
                "[server]",
                'host = "127.0.0.1"',
                f"port = {port}",
                "[outbox]",
                f"concurrency = {CONCURRENCY}",
                f"lease_seconds = {LEASE_SECONDS}",
                "[whatsapp]",
                "enabled = true",
                f"base_url = {json.dumps(graph.base_url)}",
                f"api_version = {json.dumps(graph.api_version)}",
                f"phone_number_id = {json.dumps(graph.phone_number_id)}",
                "[whatsapp.templates.announcement]",
                f"name = {json.dumps(template.name)}",
                f"language = {json.dumps(template.language)}",
                f"params = {json.dumps(template.params)}",
                f"body = {json.dumps(template.body)}",
            ]
        ),
        encoding="utf-8",
    )
    return path


class BotProcess:
    """`python -m bot run` in a process of its own; its output kept for a failing test."""

    def __init__(self, config: Path, log: Path) -> None:
        self.config = config
        self.log = log
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        env = {
            name: value
            for name, value in os.environ.items()
            if "proxy" not in name.lower() and name not in ("DATABASE_URL", "SINERGI_CONFIG")
        }
        env.update(
            WHATSAPP_ACCESS_TOKEN=TOKEN, WHATSAPP_APP_SECRET=SECRET, WHATSAPP_VERIFY_TOKEN=VERIFY
        )
        with self.log.open("ab") as output:
            self.process = await asyncio.create_subprocess_exec(
                *(sys.executable, "-m", "bot", "--config", str(self.config), "run"),
                cwd=ROOT,
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=output,
                stderr=output,
            )

    def check_alive(self) -> None:
        assert self.process is not None
        if self.process.returncode is not None:
            raise AssertionError(f"run exited with {self.process.returncode}:\n{self.output()}")

    async def kill(self) -> int | None:
        """SIGKILL: no `finally`, no last write, nothing the process could tidy up."""
        if self.process is None:
            return None
        if self.process.returncode is None:
            self.process.kill()
        return await asyncio.wait_for(self.process.wait(), timeout=10)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-4000:]


async def wait_listening(graph: FakeWhatsApp, bot: BotProcess, url: str) -> None:
    """Until the bot answers Meta's handshake (bounded: a loaded machine starts slowly)."""
    for _ in range(600):
        bot.check_alive()
        with contextlib.suppress(httpx.TransportError):
            if (await graph.verify(url, VERIFY, "ready"))[0] == 200:
                return
        await asyncio.sleep(0.1)
    raise AssertionError(f"run never listened on {url}:\n{bot.output()}")


def announcements(graph: FakeWhatsApp) -> list[SentMessage]:
    """Every announcement the Graph API accepted, delivered or failed later."""
    return [m for m in graph.sent if TEXT in (m.text or "") or TEXT in m.template_params]


def unfinished(app) -> int:
    """Outbox rows still to send, and webhook bodies the bot has not processed yet."""
    with Session(app.database) as session:
        rows = session.execute(
            select(sa.func.count()).where(OutboxMessage.state.not_in(FINISHED))
        ).scalar_one()
        bodies = session.execute(
            select(sa.func.count()).where(InboundEvent.processed_at.is_(None))
        ).scalar_one()
    return rows + bodies


async def wait_finished(app, graph: FakeWhatsApp, bot: BotProcess) -> None:
    """Until every message reached an end and every status webhook was processed (bounded)."""
    # Generous bounds: on a loaded two-core machine the last status webhooks queue for a while.
    for _ in range(1800):
        bot.check_alive()
        if not unfinished(app):
            await graph.idle(timeout=120)  # the last statuses reach the bot
            if not unfinished(app):
                return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the broadcast did not finish: {states(app)}\n{bot.output()}")


def states(app) -> Counter[str]:
    with Session(app.database) as session:
        return Counter(session.exec(select(OutboxMessage.state)))


def blocked_numbers(app) -> set[str]:
    with Session(app.database) as session:
        return set(
            session.exec(
                select(ChannelAccount.external_id).where(ChannelAccount.blocked == sa.true())
            )
        )


def undeliverable_statuses(app) -> set[str]:
    with Session(app.database) as session:
        return set(
            session.exec(
                select(DeliveryStatus.recipient).where(
                    DeliveryStatus.status == "failed", DeliveryStatus.error_code == 131026
                )
            )
        )


RETRIED_CODES = (130429, 131000)  # the rate limit and a 500


def message_calls(graph: FakeWhatsApp) -> list:
    return [call for call in graph.calls if call.path.endswith("/messages")]


def refused(graph: FakeWhatsApp, code: int) -> set[str]:
    """The numbers a send to which the platform answered with this error."""
    return {call.json["to"] for call in message_calls(graph) if call.error_code == code}


def refused_and_never_sent_again(graph: FakeWhatsApp) -> set[str]:
    """Numbers whose last call was refused for a while (130429, 5xx): given up too soon."""
    last_refused: set[str] = set()
    for call in message_calls(graph):
        if call.error_code in RETRIED_CODES:
            last_refused.add(call.json["to"])
        elif call.ok:
            last_refused.discard(call.json["to"])
    return last_refused


async def broadcast_killed_midway_and_restarted(
    app, graph: FakeWhatsApp, config: Path, url: str, logs: Path
) -> None:
    """`run` sends the Dinas's broadcast, is killed with a third of it sent, and restarts."""
    first = BotProcess(config, logs / "run-1.log")
    second = BotProcess(config, logs / "run-2.log")
    try:
        await first.start()
        await wait_listening(graph, first, url)
        await graph.set_webhook(url, verify_token=VERIFY)
        total = announce(app, datetime.now(UTC))

        await graph.wait_until(lambda: len(announcements(graph)) >= total // 3, timeout=60)
        assert await first.kill() == -9
        assert total // 3 <= len(announcements(graph)) < total  # some sent, not all

        await second.start()
        await wait_listening(graph, second, url)
        await wait_finished(app, graph, second)
    finally:
        await first.kill()
        await second.kill()


async def test_kill_9_in_the_middle_of_a_whatsapp_broadcast_loses_nothing(
    app, database_url, tmp_path
) -> None:
    recipients = ikm_audience()
    register_on_whatsapp(app, recipients, datetime.now(UTC))
    async with FakeWhatsApp(
        access_token=TOKEN,
        app_secret=SECRET,
        templates=approved({"announcement": ANNOUNCEMENT_TEMPLATE}),
        # Meta retries a webhook for days: statuses wait out the dead process, in order.
        webhook_attempts=1200,
        webhook_retry_delay=0.05,
        webhook_timeout=10,
    ) as graph:
        meet_on_whatsapp(graph, recipients)
        graph.fail_every(9, 130429)
        graph.fail_every(13, 131000, status=500)
        port = free_port()
        config = bot_config(
            tmp_path / "config.toml", database_url=database_url, graph=graph, port=port
        )
        url = f"http://127.0.0.1:{port}/webhooks/whatsapp"
        await broadcast_killed_midway_and_restarted(app, graph, config, url, tmp_path)

    tried = Counter(message.to for message in announcements(graph))
    assert set(tried) == {r.wa_id for r in recipients}  # every number was tried
    duplicates = sum(count - 1 for count in tried.values())
    assert duplicates <= IN_FLIGHT_BOUND, f"{duplicates} duplicates: {tried.most_common(5)}"

    reached = {
        wa_id
        for wa_id, person in graph.people.items()
        if any(TEXT in (m.text or "") for m in person.inbox)
    }
    deliverable = {r.wa_id for r in recipients if r.deliverable}
    assert deliverable - reached == set()  # 0 lost
    for recipient in recipients:
        if recipient.deliverable and not recipient.in_window:
            assert {m.template for m in graph.people[recipient.wa_id].inbox} == {"pengumuman_dinas"}

    undeliverable = {r.wa_id for r in recipients if not r.deliverable}
    assert blocked_numbers(app) == undeliverable  # marked, and never asked again
    assert undeliverable_statuses(app) == undeliverable
    assert max(tried[wa_id] for wa_id in undeliverable) <= 2  # once, twice if it was in flight
    assert set(states(app)) <= FINISHED

    assert all(refused(graph, code) for code in RETRIED_CODES)
    assert refused_and_never_sent_again(graph) == set()  # retried until it went
