"""The WhatsApp channel against the strict fake Graph API, with people scripted as they chat."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from bot.channels.whatsapp import WhatsAppChannel, _environment_proxy
from bot.config import WhatsAppSettings, WhatsAppTemplate
from bot.core.messages import Reply
from bot.services import outbox
from models import (
    ChannelAccount,
    Consent,
    DeliveryStatus,
    InboundEvent,
    OutboxMessage,
    Person,
    Product,
)
from models.db import transaction
from tests.whatsapp_chat import VERIFY, act, whatsapp_bot

PHONE = "6281234567890"


@pytest.fixture
async def whatsapp(app):
    async with whatsapp_bot(
        app,
        templates={"announcement": WhatsAppTemplate(name="pengumuman_dinas", params=["text"])},
        approved_templates={"pengumuman_dinas": {"id": 1}},
    ) as harness:
        yield harness


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
    assert siti.last_buttons == ["Tambah detail", "Lewati"]
    await act(whatsapp, siti.tap_button("Lewati"))  # desa, NIB and workers: later
    assert "produk" in siti.last_text.lower()
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


async def test_the_same_webhook_twice_is_handled_once_and_asks_again(whatsapp) -> None:
    siti = whatsapp.graph.person(wa_id=PHONE, name="Siti")
    await siti.send_text("halo")
    await whatsapp.process()
    agreed = await siti.send_text("Setuju")
    await whatsapp.process()
    await siti.deliver_again(agreed)
    await whatsapp.process()
    texts = [m.text for m in siti.inbox if m.text]
    assert texts.count("Terima kasih.") == 1  # handled once
    role_question = texts[-1]
    assert "mendaftar sebagai" in role_question and texts.count(role_question) == 2
    with Session(whatsapp.app.database) as session:
        assert len(session.exec(select(Consent)).all()) == 1


async def test_the_handshake(whatsapp) -> None:
    assert await whatsapp.graph.verify(whatsapp.url, VERIFY, "12345") == (200, "12345")
    assert (await whatsapp.graph.verify(whatsapp.url, "wrong", "12345"))[0] == 403


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
    counts = await whatsapp.sender().drain_once()
    assert counts["sent"] == 1 and counts["waiting"] == 1
    template = siti.inbox[-1]
    assert (template.template, template.template_params) == ("pengumuman_dinas", ["Pameran IKM"])

    await act(whatsapp, siti.send_text("menu"))  # the window opens again
    counts = await whatsapp.sender().drain_once()
    assert counts["sent"] == 1
    assert any(m.text and "Apa kabar usahanya" in m.text for m in siti.inbox)


async def test_a_template_meta_has_not_approved_leaves_the_message_waiting(
    whatsapp, caplog
) -> None:
    whatsapp.channel.settings.templates["ikm.nudge"] = WhatsAppTemplate(name="sapaan_bulanan")
    siti = whatsapp.graph.person(wa_id=PHONE, name="Siti")
    await act(whatsapp, siti.send_text("halo"))
    whatsapp.pass_time(timedelta(hours=25))
    enqueue(whatsapp.app, "ikm.nudge", {"business_name": "Boneka"}, "n:1")
    assert (await whatsapp.sender().drain_once())["waiting"] == 1
    assert "132001" in caplog.text and "sapaan_bulanan" in caplog.text

    await act(whatsapp, siti.send_text("menu"))
    assert (await whatsapp.sender().drain_once())["sent"] == 1
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


@pytest.mark.parametrize(
    ("code", "unreachable"),
    [(131026, True), (131049, False), (131000, False)],  # undeliverable; marketing cap; other
)
async def test_a_message_reported_failed_after_it_was_accepted_is_not_counted_sent(
    whatsapp, code, unreachable
) -> None:
    """Meta accepts a message (200 and a wamid), then reports it failed by webhook: the
    outbox row says failed, with the code, so an announcement's progress does not count it
    as reached; only an undeliverable number marks the account blocked."""
    siti = whatsapp.graph.person(wa_id=PHONE, name="Siti")
    await act(whatsapp, siti.send_text("halo"))
    enqueue(whatsapp.app, "announcement", {"text": "Pameran IKM", "image_ref": None}, "a:1")
    whatsapp.graph.fail_delivery(PHONE, code=code)
    await whatsapp.deliver()
    with Session(whatsapp.app.database) as session:
        row = session.exec(select(OutboxMessage)).one()
        account = session.exec(select(ChannelAccount)).one()
    assert row.platform_message_id  # it was accepted
    assert row.state == "failed" and str(code) in row.last_error
    assert account.blocked is unreachable


async def test_statuses_after_a_message_was_sent_keep_it_sent(whatsapp) -> None:
    siti = whatsapp.graph.person(wa_id=PHONE, name="Siti")
    await act(whatsapp, siti.send_text("halo"))
    enqueue(whatsapp.app, "announcement", {"text": "Pameran IKM", "image_ref": None}, "a:1")
    await whatsapp.deliver()
    with Session(whatsapp.app.database) as session:
        row = session.exec(select(OutboxMessage)).one()
        statuses = session.exec(
            select(DeliveryStatus).where(
                DeliveryStatus.platform_message_id == row.platform_message_id
            )
        ).all()
    assert row.state == "sent" and [s.status for s in statuses] in (["delivered"], ["read"])


async def test_rate_limits_retry_and_a_bad_token_stops_sending(whatsapp) -> None:
    siti = whatsapp.graph.person(wa_id=PHONE, name="Siti")
    await act(whatsapp, siti.send_text("halo"))
    enqueue(whatsapp.app, "announcement", {"text": "Satu", "image_ref": None}, "a:1")
    whatsapp.graph.force_error(130429)
    assert (await whatsapp.sender().drain_once())["retry"] == 1
    whatsapp.channel._headers = {"Authorization": "Bearer WRONG"}
    with Session(whatsapp.app.database) as session:
        row = session.exec(select(OutboxMessage)).one()
        row.next_attempt_at = whatsapp.app.engine.clock.now()
        session.add(row)
        session.commit()
    assert (await whatsapp.sender().drain_once())["failed"] == 1
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
    # Typed, not proven: the number is the account's claim, not its identity.
    assert (person.phone, person.claimed_phone) == (None, "+6281299998888")


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


async def test_the_graph_api_is_reached_through_the_proxy_the_environment_names(
    whatsapp, monkeypatch
) -> None:
    """A deployment behind an outbound proxy sets HTTPS_PROXY (here HTTP_PROXY: the fake
    speaks plain HTTP); the channel reads it once. The Graph API's host here resolves
    nowhere, so the message arrives only through the proxy (the fake, which answers a
    request in absolute form as Meta's host would)."""
    siti = whatsapp.graph.person(wa_id=PHONE, name="Siti")
    await act(whatsapp, siti.send_text("halo"))  # her window is open
    monkeypatch.setenv("HTTP_PROXY", whatsapp.graph.base_url)
    for name in ("NO_PROXY", "no_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    unresolvable = whatsapp.channel.settings.model_copy(
        update={"base_url": "http://graph.facebook.invalid"}
    )
    proxied = replace_channel(whatsapp.channel, unresolvable)
    try:
        delivery = await proxied.send(PHONE, Reply("Lewat proxy"), language="id")
    finally:
        await proxied.close()
    assert delivery.outcome == "sent", delivery
    assert siti.last_text == "Lewat proxy"


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({}, None),
        ({"HTTPS_PROXY": "http://proxy.dinas.local:3128"}, "http://proxy.dinas.local:3128"),
        (
            {"HTTPS_PROXY": "http://proxy.dinas.local:3128", "NO_PROXY": "graph.facebook.com"},
            None,
        ),
        ({"HTTP_PROXY": "http://proxy.dinas.local:3128"}, None),  # not for https
    ],
)
def test_the_environment_proxy_for_the_graph_api(monkeypatch, environment, expected) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    url = "https://graph.facebook.com/v21.0/123/messages"
    assert _environment_proxy(url) == expected


def replace_channel(channel: WhatsAppChannel, settings: WhatsAppSettings) -> WhatsAppChannel:
    return WhatsAppChannel(
        settings=settings,
        engine=channel.engine,
        catalog=channel.catalog,
        access_token=channel._headers["Authorization"].removeprefix("Bearer "),
        app_secret=channel.app_secret,
        verify_token=channel.verify_token,
    )
