"""The WhatsApp channel against the strict fake Graph API, with people scripted as they chat."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from bot.channels.whatsapp import WhatsAppChannel
from bot.config import WhatsAppSettings, WhatsAppTemplate
from bot.sending import OutboxSender, RateLimit, SenderSettings
from bot.services import outbox
from bot.web import build_web_app
from models import (
    ChannelAccount,
    DeliveryStatus,
    InboundEvent,
    OutboxMessage,
    Person,
    Product,
)
from models.db import transaction
from tests.fakes.telegram import LoopbackServer, ManualClock
from tests.fakes.whatsapp import FakeWhatsApp

VERIFY = "verify-me"
SECRET = "app-secret"
PHONE = "6281234567890"


class Harness:
    def __init__(self, graph: FakeWhatsApp, app, server_url: str) -> None:
        self.graph = graph
        self.app = app
        self.channel = WhatsAppChannel(
            settings=WhatsAppSettings(
                enabled=True,
                base_url=graph.base_url,
                api_version=graph.api_version,
                phone_number_id=graph.phone_number_id,
                templates={
                    "announcement": WhatsAppTemplate(name="pengumuman_dinas", params=["text"])
                },
            ),
            engine=app.engine,
            catalog=app.catalog,
            access_token=graph.access_token,
            app_secret=SECRET,
            verify_token=VERIFY,
        )
        self.url = f"{server_url}/webhooks/whatsapp"

    async def process(self) -> None:
        await self.graph.idle()
        await self.channel.process_pending()
        await self.graph.idle()
        await self.channel.process_pending()  # the statuses of the replies


@pytest.fixture
async def whatsapp(app):
    graph_clock = ManualClock()
    async with FakeWhatsApp(
        app_secret=SECRET,
        clock=graph_clock,
        user_pause=7.0,
        templates={"pengumuman_dinas": {"id": 1}},
    ) as graph:
        holder: dict = {}  # the web app, built once the channel knows the server's address
        async with LoopbackServer(_Deferred(holder)) as server:
            harness = Harness(graph, app, server.url)
            holder["app"] = build_web_app(whatsapp=harness.channel)
            await graph.set_webhook(harness.url, verify_token=VERIFY)
            yield harness
            await harness.channel.close()
        assert graph.crashes == []


class _Deferred:
    """An ASGI app that forwards to the one put in `holder` (built after the server)."""

    def __init__(self, holder: dict) -> None:
        self.holder = holder

    async def __call__(self, scope, receive, send) -> None:
        await self.holder["app"](scope, receive, send)


async def act(harness: Harness, action) -> None:
    await action
    await harness.process()


async def test_full_onboarding_with_buttons_and_a_paged_sector_list(whatsapp) -> None:
    siti = whatsapp.graph.person(wa_id=PHONE, name="Siti")
    await act(whatsapp, siti.send_text("halo"))
    assert "Selamat datang" in siti.last_text
    assert siti.last_buttons == ["Setuju", "Tidak setuju", "English"]
    await act(whatsapp, siti.tap_button("Setuju"))
    await act(whatsapp, siti.tap_button("Saya pelaku IKM"))
    await act(whatsapp, siti.send_text("Siti Aminah"))
    await act(whatsapp, siti.send_text("Boneka Berkah"))
    assert len(siti.last_rows) == 10 and siti.last_rows[-1] == "Lainnya"
    await act(whatsapp, siti.choose_row("Lainnya"))
    await act(whatsapp, siti.choose_row("Lainnya"))
    await act(whatsapp, siti.choose_row("Pengolahan lainnya"))
    assert "kecamatan" in siti.last_text.lower()
    await act(whatsapp, siti.send_text("cikarang utr"))
    for _ in range(3):
        await act(whatsapp, siti.tap_button("Lewati"))
    await act(whatsapp, siti.send_text("Boneka karakter"))
    await act(whatsapp, siti.choose_row("pcs"))
    await act(whatsapp, siti.send_text("40-100 ribu"))
    await act(whatsapp, siti.send_text("200"))
    await act(whatsapp, siti.tap_button("Tambah detail"))
    await act(whatsapp, siti.send_text("Boneka kain isi dakron"))
    await act(whatsapp, siti.tap_button("Lewati"))
    await act(whatsapp, siti.send_image(media_id="MEDIA-BONEKA"))
    assert "*Periksa data Anda*" in siti.last_text
    await act(whatsapp, siti.tap_button("Simpan"))
    with Session(whatsapp.app.database) as session:
        person = session.exec(select(Person)).one()
        product = session.exec(select(Product)).one()
        statuses = session.exec(select(DeliveryStatus)).all()
    assert (person.phone, person.role) == ("+6281234567890", "ikm")
    assert product.photo_ref == "whatsapp:MEDIA-BONEKA"
    assert statuses and {s.status for s in statuses} <= {"sent", "delivered", "read"}


async def test_a_bad_signature_is_refused_and_nothing_is_stored(whatsapp) -> None:
    siti = whatsapp.graph.person(wa_id=PHONE, name="Siti")
    bad = await siti.send_text("halo", signature="bad")
    missing = await siti.send_text("halo", signature=None)
    assert bad.status == 403 and missing.status == 403
    with Session(whatsapp.app.database) as session:
        assert session.exec(select(InboundEvent)).all() == []
        assert session.exec(select(Person)).all() == []


async def test_the_same_webhook_twice_is_handled_once(whatsapp) -> None:
    siti = whatsapp.graph.person(wa_id=PHONE, name="Siti")
    first = await siti.send_text("halo")
    await whatsapp.process()
    await siti.deliver_again(first)
    await whatsapp.process()
    welcomes = [m for m in siti.inbox if m.text and "Selamat datang" in m.text]
    assert len(welcomes) == 1


async def test_the_handshake(whatsapp) -> None:
    assert await whatsapp.graph.verify(whatsapp.url, VERIFY, "12345") == (200, "12345")
    assert (await whatsapp.graph.verify(whatsapp.url, "wrong", "12345"))[0] == 403


def sender(harness: Harness) -> OutboxSender:
    return OutboxSender(
        database=harness.app.database,
        transports={"whatsapp": harness.channel},
        limits={"whatsapp": RateLimit(1000)},
        render=harness.app.engine.render,
        clock=harness.app.engine.clock,
        settings=SenderSettings(concurrency=1),
    )


def enqueue(app, template: str, params: dict, key: str) -> None:
    with Session(app.database) as session:
        person_id = session.exec(select(Person.id)).one()
    with transaction(app.database) as session:
        outbox.enqueue(
            session,
            person_id=person_id,
            key=key,
            template=template,
            params=params,
            now=app.engine.clock.now(),
        )


async def test_outside_the_window_a_template_goes_or_the_message_waits(whatsapp, clock) -> None:
    siti = whatsapp.graph.person(wa_id=PHONE, name="Siti")
    await act(whatsapp, siti.send_text("halo"))
    clock.advance(timedelta(hours=25))
    whatsapp.graph.clock.advance(25 * 3600)
    enqueue(whatsapp.app, "announcement", {"text": "Pameran IKM", "image_ref": None}, "a:1")
    enqueue(whatsapp.app, "ikm.nudge", {"business_name": "Boneka"}, "n:1")
    counts = await sender(whatsapp).drain_once()
    assert counts["sent"] == 1 and counts["waiting"] == 1
    template = siti.inbox[-1]
    assert (template.template, template.template_params) == ("pengumuman_dinas", ["Pameran IKM"])

    await act(whatsapp, siti.send_text("menu"))  # the window opens again
    counts = await sender(whatsapp).drain_once()
    assert counts["sent"] == 1
    assert any(m.text and "Apa kabar usahanya" in m.text for m in siti.inbox)


async def test_a_failed_status_is_recorded_and_marks_the_number(whatsapp) -> None:
    siti = whatsapp.graph.person(wa_id=PHONE, name="Siti")
    await act(whatsapp, siti.send_text("halo"))
    whatsapp.graph.fail_delivery(PHONE, code=131026)
    await act(whatsapp, siti.tap_button("Setuju"))
    with Session(whatsapp.app.database) as session:
        failed = session.exec(select(DeliveryStatus).where(DeliveryStatus.status == "failed")).all()
        account = session.exec(select(ChannelAccount)).one()
    assert failed and failed[0].error_code == 131026
    assert account.blocked


async def test_rate_limits_retry_and_a_bad_token_stops_sending(whatsapp) -> None:
    siti = whatsapp.graph.person(wa_id=PHONE, name="Siti")
    await act(whatsapp, siti.send_text("halo"))
    enqueue(whatsapp.app, "announcement", {"text": "Satu", "image_ref": None}, "a:1")
    whatsapp.graph.force_error(130429)
    assert (await sender(whatsapp).drain_once())["retry"] == 1
    whatsapp.channel._headers = {"Authorization": "Bearer WRONG"}
    with Session(whatsapp.app.database) as session:
        row = session.exec(select(OutboxMessage)).one()
        row.next_attempt_at = whatsapp.app.engine.clock.now()
        session.add(row)
        session.commit()
    assert (await sender(whatsapp).drain_once())["failed"] == 1
    assert whatsapp.channel._stopped


async def test_a_number_from_telegram_finds_its_data_on_whatsapp(whatsapp, chat_as) -> None:
    from tests.chat import register_ikm

    await register_ikm(chat_as("+6281234567890"))
    siti = whatsapp.graph.person(wa_id=PHONE, name="Siti")
    await act(whatsapp, siti.send_text("produk"))
    assert "Boneka karakter" in siti.last_text


async def test_a_username_only_person_is_asked_for_the_number(whatsapp) -> None:
    anon = whatsapp.graph.person(wa_id="6289900001111", name="Anon", has_phone=False)
    await act(whatsapp, anon.send_text("halo"))
    await act(whatsapp, anon.tap_button("Setuju"))
    assert "nomor HP" in anon.last_text
    await act(whatsapp, anon.send_text("0812-9999-8888"))
    assert anon.last_buttons == ["Saya pelaku IKM", "Saya perusahaan"]
    with Session(whatsapp.app.database) as session:
        account = session.exec(select(ChannelAccount)).one()
        person = session.exec(select(Person)).one()
    assert account.platform_user_id and account.external_id == account.platform_user_id
    assert person.phone == "+6281299998888"


async def test_a_typed_number_cannot_take_over_someone_elses_account(whatsapp, chat_as) -> None:
    from tests.chat import register_ikm

    await register_ikm(chat_as("+6281234567890"))
    attacker = whatsapp.graph.person(wa_id="6289900002222", name="X", has_phone=False)
    await act(whatsapp, attacker.send_text("halo"))
    await act(whatsapp, attacker.tap_button("Setuju"))
    await act(whatsapp, attacker.send_text("0812-3456-7890"))
    assert "sudah terdaftar" in attacker.last_text
    await act(whatsapp, attacker.send_text("produk"))
    assert "Boneka karakter" not in (attacker.last_text or "")
    await act(whatsapp, attacker.send_text("0811-0000-0001"))  # an admin's number
    with Session(whatsapp.app.database) as session:
        people = session.exec(select(Person)).all()
    assert sorted(p.phone or "" for p in people) == ["", "+6281234567890"]
