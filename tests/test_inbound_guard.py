"""One bad inbound item never holds back another (issue 11, items 1 and 7): oddly shaped
but signed WhatsApp bodies, unreadable Telegram updates, forged list pages and oversized
webhook bodies, driven through the fake platforms and the real web app."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest
from sqlmodel import Session, select

from bot.config import WhatsAppTemplate
from bot.services import inbound
from bot.web import build_web_app
from models import DeliveryStatus, InboundEvent
from tests.fakes.telegram import LoopbackServer
from tests.telegram_chat import telegram_bot
from tests.whatsapp_chat import act, whatsapp_bot

SITI = "6281234567890"
BUDI = "6281298765432"
NOT_READABLE = "belum bisa kami baca"
WELCOME = "Selamat datang"
GREETING = "Halo juga"  # a second "halo" at the same question: greeted, the question stands


@pytest.fixture
async def whatsapp(app):
    async with whatsapp_bot(
        app,
        templates={"announcement": WhatsAppTemplate(name="pengumuman_dinas", params=["text"])},
        approved_templates={"pengumuman_dinas": {"id": 1}},
    ) as harness:
        yield harness


@pytest.fixture
async def telegram(app):
    async with telegram_bot(app) as harness:
        yield harness


def body(*, messages: Any = None, statuses: Any = None, entry: Any = None) -> dict:
    """A webhook body as Meta wraps it; `entry` replaces the whole entry list when given."""
    value: dict[str, Any] = {"messaging_product": "whatsapp"}
    if messages is not None:
        value["messages"] = messages
        value["contacts"] = [{"profile": {"name": "Siti"}, "wa_id": SITI}]
    if statuses is not None:
        value["statuses"] = statuses
    changes = [{"field": "messages", "value": value}]
    return {
        "object": "whatsapp_business_account",
        "entry": entry if entry is not None else [{"id": "1", "changes": changes}],
    }


async def deliver(harness, payload: dict, *writers) -> int:
    """POST a hand-built body signed as Meta signs it; its writers have written just now
    (their 24-hour window is open, as for any message they send)."""
    for person in writers:
        person.last_inbound = harness.graph.clock()
    return (await harness.graph.deliver(payload)).status


def message(kind: str, wamid: str, **content: Any) -> dict:
    return {"from": SITI, "id": wamid, "timestamp": "1", "type": kind, **content}


def stored(app) -> list[InboundEvent]:
    with Session(app.database) as session:
        return list(session.exec(select(InboundEvent).order_by(InboundEvent.id)))


def quarantined(app) -> dict[str, int]:
    with Session(app.database) as session:
        return inbound.quarantined_counts(session)


async def test_a_location_without_coordinates_is_answered_and_holds_back_no_one(whatsapp):
    siti = whatsapp.graph.person(wa_id=SITI, name="Siti")
    budi = whatsapp.graph.person(wa_id=BUDI, name="Budi")
    broken = message("location", "wamid.loc", location={"name": "Pasar"})
    assert await deliver(whatsapp, body(messages=[broken]), siti) == 200
    await act(whatsapp, budi.send_text("halo"))
    assert NOT_READABLE in siti.last_text
    assert WELCOME in budi.last_text
    assert all(event.processed_at is not None for event in stored(whatsapp.app))


async def test_wrong_types_at_every_level_are_read_as_far_as_they_go(whatsapp):
    siti = whatsapp.graph.person(wa_id=SITI, name="Siti")
    budi = whatsapp.graph.person(wa_id=BUDI, name="Budi")
    lone_entry = {
        "id": "1",
        "changes": {
            "field": "messages",
            "value": body(messages=message("text", "wamid.lone", text={"body": "halo"}))["entry"][
                0
            ]["changes"][0]["value"],
        },
    }
    junk = [
        body(entry=lone_entry),  # `entry` and `changes` objects where lists belong
        body(entry="junk"),
        body(messages=[message("text", 12345, text="halo")]),  # text not an object
        body(messages=[message("image", "wamid.img", image=["no id"])]),
        body(statuses={"id": ["x"], "status": 7, "errors": "none"}),
        body(messages=[None, 5, {"from": ["x"], "id": "wamid.nobody"}]),
    ]
    for payload in junk:
        assert await deliver(whatsapp, payload, siti) == 200
    await act(whatsapp, budi.send_text("halo"))
    texts = [m.text or "" for m in siti.inbox]
    assert WELCOME in texts[0]  # the lone entry, read as a list of one
    assert sum(NOT_READABLE in text for text in texts) == 2  # the text and the image
    assert WELCOME in budi.last_text
    assert quarantined(whatsapp.app) == {}
    assert all(event.processed_at is not None for event in stored(whatsapp.app))


async def test_a_body_that_keeps_failing_is_quarantined_and_the_rest_go_on(whatsapp, caplog):
    siti = whatsapp.graph.person(wa_id=SITI, name="Siti")
    budi = whatsapp.graph.person(wa_id=BUDI, name="Budi")
    # An error code no database column holds: recording this status fails on every pass.
    refused = {"id": "wamid.out", "status": "failed", "errors": [{"code": 10**30}]}
    hello = message("text", "wamid.hello", text={"body": "halo"})
    await deliver(whatsapp, body(messages=[hello], statuses=[refused]), siti)
    caplog.set_level(logging.WARNING)
    for _ in range(5):
        await act(whatsapp, budi.send_text("halo"))
    assert len([m for m in siti.inbox if WELCOME in (m.text or "")]) == 1  # answered once
    answered = [m for m in budi.inbox if WELCOME in (m.text or "") or GREETING in (m.text or "")]
    assert len(answered) == 5  # every time
    first = stored(whatsapp.app)[0]
    assert first.quarantined_at is not None and first.processed_at is None
    assert first.attempts == inbound.MAX_ATTEMPTS and "status wamid.out" in first.last_error
    assert quarantined(whatsapp.app) == {"whatsapp": 1}
    lines = [r for r in caplog.records if "quarantined" in r.getMessage()]
    assert len(lines) == 1 and f"body {first.id}" in lines[0].getMessage()
    assert all(event.processed_at is not None for event in stored(whatsapp.app)[1:])


async def test_statuses_that_cannot_be_recorded_as_they_come_are_kept_and_guarded(whatsapp, caplog):
    siti = whatsapp.graph.person(wa_id=SITI, name="Siti")
    await act(whatsapp, siti.send_text("halo"))
    sent = siti.last_message
    # Statuses alone are recorded before their 200, without their body; these cannot be
    # (no column holds that code), so their body is kept instead and goes the guarded way.
    refused = {"id": "wamid.out", "status": "failed", "errors": [{"code": 10**30}]}
    read = {"id": sent.wamid, "status": "read", "recipient_id": SITI}
    caplog.set_level(logging.WARNING)
    assert await deliver(whatsapp, body(statuses=[refused, read])) == 200
    for _ in range(inbound.MAX_ATTEMPTS):
        await whatsapp.channel.process_pending()
    kept = [event for event in stored(whatsapp.app) if "statuses" in str(event.payload)]
    assert len(kept) == 1 and kept[0].quarantined_at is not None
    assert kept[0].attempts == inbound.MAX_ATTEMPTS and "status wamid.out" in kept[0].last_error
    with Session(whatsapp.app.database) as session:  # the body's good status is recorded
        statuses = dict(
            session.execute(select(DeliveryStatus.platform_message_id, DeliveryStatus.status)).all()
        )
    assert statuses[sent.wamid] == "read"
    assert any("keeping their bodies" in r.getMessage() for r in caplog.records)


async def reach_the_sector_list(whatsapp, person) -> None:
    await act(whatsapp, person.send_text("halo"))
    await act(whatsapp, person.tap_button("Setuju"))
    await act(whatsapp, person.tap_button("Saya pelaku IKM"))
    await act(whatsapp, person.send_text("Siti Aminah"))
    await act(whatsapp, person.send_text("Boneka Berkah"))
    assert person.last_rows[-1] == "Lainnya"


def more_row(wamid: str, row_id: str) -> dict:
    reply = {"type": "list_reply", "list_reply": {"id": row_id, "title": "Lainnya"}}
    return message("interactive", wamid, interactive=reply)


@pytest.mark.parametrize("row_id", ["~more:junk", "~more:999", "~more:-3", "~more:" + "9" * 5000])
async def test_a_forged_list_page_gets_the_first_page(whatsapp, row_id):
    siti = whatsapp.graph.person(wa_id=SITI, name="Siti")
    await reach_the_sector_list(whatsapp, siti)
    first_page, shown = siti.last_rows, len(siti.inbox)
    await act(whatsapp, deliver(whatsapp, body(messages=[more_row("wamid.f", row_id)]), siti))
    assert len(siti.inbox) == shown + 1 and siti.last_message.rows  # a list, sent anew
    assert siti.last_rows == first_page
    assert all(event.processed_at is not None for event in stored(whatsapp.app))


async def test_a_list_page_with_no_list_open_gets_a_clear_sentence(whatsapp):
    siti = whatsapp.graph.person(wa_id=SITI, name="Siti")
    await act(whatsapp, deliver(whatsapp, body(messages=[more_row("wamid.m", "~more:9")]), siti))
    assert "sudah tidak berlaku" in siti.last_text


# --- Telegram ---------------------------------------------------------------------------------


def unreadable_update(update_id: int, user_id: int) -> dict:
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1,
            "date": "yesterday",  # not a timestamp: python-telegram-bot refuses the update
            "chat": {"id": user_id, "type": "private", "first_name": "Siti"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Siti"},
            "text": "halo",
        },
    }


async def test_an_unreadable_telegram_update_by_webhook_is_answered_and_kept(telegram):
    siti = telegram.api.user(111, "Siti", phone="+6281234567890", started=True)
    budi = telegram.api.user(222, "Budi", phone="+6281298765432", started=True)
    web = build_web_app(telegram=telegram.channel, telegram_secret="s3cret")
    headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret"}
    async with LoopbackServer(web) as server, httpx.AsyncClient(base_url=server.url) as client:
        broken = await client.post(
            "/webhooks/telegram", json=unreadable_update(7, 111), headers=headers
        )
        junk = await client.post("/webhooks/telegram", json={"update_id": "x"}, headers=headers)
        assert (broken.status_code, junk.status_code) == (200, 200)
    assert NOT_READABLE in siti.last_text
    await budi.send_text("/start")
    await telegram.pump()
    assert WELCOME in budi.last_text
    assert quarantined(telegram.app) == {"telegram": 1}


async def test_an_unreadable_telegram_update_in_a_polled_batch_holds_back_no_one(telegram):
    siti = telegram.api.user(111, "Siti", phone="+6281234567890", started=True)
    budi = telegram.api.user(222, "Budi", phone="+6281298765432", started=True)
    bad = unreadable_update(0, 111)["message"]
    await telegram.api.enqueue_update("message", bad)
    await budi.send_text("/start")
    assert await telegram.pump() == 2
    assert NOT_READABLE in siti.last_text
    assert WELCOME in budi.last_text
    assert await telegram.pump() == 0  # the batch was confirmed, not fetched again


# --- body size ------------------------------------------------------------------------------


async def raw_post(url: str, path: str, head: dict[str, str], payload: bytes) -> int:
    """POST `payload` with exactly these headers and never finish the body: only a server
    that stops reading at the cap can answer at all."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", *(f"{k}: {v}" for k, v in head.items())]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + payload)
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), timeout=5)
    writer.close()
    return int(status_line.split()[1])


def chunked(size: int) -> bytes:
    piece = b"x" * 65536
    chunks = [piece] * (size // len(piece) + 1)
    return b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks)


@pytest.mark.parametrize("path", ["/webhooks/whatsapp", "/webhooks/telegram"])
async def test_an_oversized_webhook_body_is_refused_unread(whatsapp, telegram, path):
    web = build_web_app(
        whatsapp=whatsapp.channel,
        telegram=telegram.channel,
        telegram_secret="s3cret",
    )  # the default cap: 1 MB
    head = {"X-Telegram-Bot-Api-Secret-Token": "s3cret", "X-Hub-Signature-256": "sha256=0"}
    async with LoopbackServer(web) as server:
        declared = {**head, "Content-Length": str(50 * 1_048_576)}
        assert await raw_post(server.url, path, declared, b"{") == 413
        streamed = {**head, "Transfer-Encoding": "chunked"}
        assert await raw_post(server.url, path, streamed, chunked(1_200_000)) == 413
    assert stored(whatsapp.app) == []


async def test_a_body_under_the_cap_still_goes_through(whatsapp):
    siti = whatsapp.graph.person(wa_id=SITI, name="Siti")
    await act(whatsapp, siti.send_text("halo " + "a" * 60_000))
    assert WELCOME in siti.last_text
