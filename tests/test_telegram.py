"""The Telegram channel against the strict fake Bot API, with people scripted as they chat."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from telegram.error import Forbidden, NetworkError, TimedOut

from bot.app import build_app
from bot.channels.telegram import html_pieces
from bot.channels.telegram_aiohttp import AiohttpRequest
from bot.config import TelegramSettings
from bot.core.messages import Document, Option, Picture, Reply
from bot.sending import Outgoing
from bot.services import accounts
from bot.web import build_web_app
from models import ChannelAccount, Consent, IkmProfile, Person, Product
from models.db import transaction
from tests.conftest import START
from tests.fakes.telegram import FAKE_JPEG, UPDATE_ID_START, LoopbackServer, parse_html
from tests.stored import rows
from tests.telegram_chat import TOKEN, Harness, onboard, press, say, telegram_bot


@pytest.fixture
async def telegram(app):
    async with telegram_bot(app) as harness:
        yield harness


async def onboard_until_role(harness: Harness, user) -> None:
    await onboard(harness, user)
    assert user.last_buttons == ["Saya pelaku IKM", "Saya perusahaan"]


async def test_full_ikm_onboarding_with_contact_and_product_photo(telegram) -> None:
    siti = telegram.api.user(111, "Siti", phone="+6281234567890")
    await onboard_until_role(telegram, siti)
    await press(telegram, siti, "Saya pelaku IKM")
    await say(telegram, siti, "Siti Aminah")
    await say(telegram, siti, "Boneka Berkah")
    await press(telegram, siti, "Pengolahan lainnya")
    await say(telegram, siti, "cikarang utr")
    assert siti.last_buttons == ["Tambah detail", "Lewati"]
    await press(telegram, siti, "Tambah detail")
    await say(telegram, siti, "Sukatenang")
    await press(telegram, siti, "Lewati")
    await say(telegram, siti, "4")
    await say(telegram, siti, "Boneka karakter")
    await press(telegram, siti, "pcs")
    await say(telegram, siti, "40-100 ribu")
    await say(telegram, siti, "200")
    await press(telegram, siti, "Tambah detail")
    await say(telegram, siti, "Boneka kain isi dakron")
    await press(telegram, siti, "Lewati")
    await siti.send_photo(file_id="AgACAgIAAxkBAAIBoneka")
    await telegram.pump()
    summary = siti.last_text
    assert "Periksa data Anda" in summary and "Foto: ada" in summary
    await press(telegram, siti, "Simpan")
    assert "sudah terdaftar" in siti.inbox[-2].visible_text

    [person] = rows(telegram.app, Person)
    assert (person.phone, person.role) == ("+6281234567890", "ikm")
    [product] = rows(telegram.app, Product)
    assert product.photo_ref == "telegram:AgACAgIAAxkBAAIBoneka"
    [ikm] = rows(telegram.app, IkmProfile)
    assert (ikm.kecamatan, ikm.desa, ikm.workers) == ("Cikarang Utara", "Sukatenang", 4)
    # Every press was answered and its keyboard taken away.
    presses = [c for c in telegram.api.calls_to("answerCallbackQuery") if c.ok]
    assert len(presses) == len(telegram.api.answered_callbacks) >= 8
    assert all(m.keyboard_removed for m in siti.inbox if m.edits)


async def test_someone_elses_contact_is_refused(telegram) -> None:
    siti = telegram.api.user(111, "Siti", phone="+6281234567890")
    await say(telegram, siti, "halo")
    await press(telegram, siti, "Setuju")
    await siti.share_contact(phone="6289876543210", user_id=999)
    await telegram.pump()
    assert "nomor HP Anda sendiri" in siti.last_text
    assert rows(telegram.app, Person)[0].phone is None
    await siti.share_contact()
    await telegram.pump()
    assert rows(telegram.app, Person)[0].phone == "+6281234567890"


async def test_markup_in_names_and_emoji_show_as_typed(telegram) -> None:
    siti = telegram.api.user(111, "Siti", phone="+6281234567890")
    await onboard_until_role(telegram, siti)
    await press(telegram, siti, "Saya pelaku IKM")
    await say(telegram, siti, "Siti <b>")
    await say(telegram, siti, "Boneka <Ibu> & Anak 🧸")
    await press(telegram, siti, "Pengolahan lainnya")
    await say(telegram, siti, "Sukawangi")
    await press(telegram, siti, "Lewati")  # desa, NIB and workers: later
    await say(telegram, siti, 'Boneka <mini> & "lucu" 🧸✨')
    await press(telegram, siti, "pcs")
    await say(telegram, siti, "40rb")
    await say(telegram, siti, "100")
    await press(telegram, siti, "Lewati")
    summary = siti.last_text
    assert "Nama usaha: Boneka <Ibu> & Anak 🧸" in summary
    assert 'Produk: Boneka <mini> & "lucu" 🧸✨' in summary
    assert "Nama pemilik: Siti <b>" in summary
    assert not [c for c in telegram.api.calls if not c.ok]


async def test_a_double_press_saves_once(telegram) -> None:
    siti = telegram.api.user(111, "Siti", phone="+6281234567890")
    await onboard_until_role(telegram, siti)
    await press(telegram, siti, "Saya pelaku IKM")
    await say(telegram, siti, "Siti")
    await say(telegram, siti, "Boneka Berkah")
    await press(telegram, siti, "Makanan")
    await say(telegram, siti, "Sukawangi")
    await press(telegram, siti, "Lewati")  # desa, NIB and workers: later
    await say(telegram, siti, "Keripik")
    await press(telegram, siti, "pcs")
    await say(telegram, siti, "15rb")
    await say(telegram, siti, "500")
    await press(telegram, siti, "Lewati")
    summary = siti.last_message
    save = summary.button("Simpan")["callback_data"]
    await siti.press_data(save, summary.message_id)
    await siti.press_data(save, summary.message_id)  # the second tap, before any answer
    await telegram.pump()
    assert len(rows(telegram.app, IkmProfile)) == 1
    assert len(rows(telegram.app, Product)) == 1
    assert len(telegram.api.answered_callbacks) >= 2  # both taps stop spinning
    texts = [m.visible_text for m in siti.inbox[-3:]]
    assert sum("sudah terdaftar" in text for text in texts) == 1


async def test_block_and_unblock_mark_the_account(telegram) -> None:
    siti = telegram.api.user(111, "Siti", phone="+6281234567890")
    await say(telegram, siti, "halo")
    await siti.block()
    await telegram.pump()
    assert rows(telegram.app, ChannelAccount)[0].blocked
    await siti.unblock()
    await telegram.pump()
    assert not rows(telegram.app, ChannelAccount)[0].blocked


async def test_a_send_to_a_blocked_user_marks_them_blocked(telegram) -> None:
    siti = telegram.api.user(111, "Siti", phone="+6281234567890")
    await say(telegram, siti, "halo")
    await siti.block()  # the my_chat_member update is not handled yet
    sent = await telegram.channel.send(111, Reply("Pengumuman"))
    assert sent is False
    assert rows(telegram.app, ChannelAccount)[0].blocked


async def test_restart_in_the_middle_of_registration_continues(telegram, settings, clock) -> None:
    siti = telegram.api.user(111, "Siti", phone="+6281234567890")
    await onboard_until_role(telegram, siti)
    await press(telegram, siti, "Saya pelaku IKM")
    await say(telegram, siti, "Siti Aminah")
    await telegram.stop()  # the process stops

    restarted = Harness(telegram.api, build_app(settings, clock=clock))
    restarted.offset = telegram.offset
    await restarted.start()
    try:
        await say(restarted, siti, "Boneka Berkah")
        assert "bidang apa" in siti.last_text
    finally:
        await restarted.stop()
        restarted.app.close()
    telegram.channel = restarted.channel  # the fixture's teardown stops this one again
    await restarted.start()


async def test_flood_limit_waits_retry_after_and_retries(telegram) -> None:
    siti = telegram.api.user(111, "Siti", phone="+6281234567890")
    await siti.send_text("halo")
    telegram.api.force_429(times=1, retry_after=7)
    await telegram.pump()
    assert "Selamat datang" in siti.last_text
    assert 7 in telegram.slept


async def test_bad_request_is_logged_and_does_not_crash(telegram, caplog) -> None:
    telegram.api.user(111, "Siti", phone="+6281234567890", started=True)
    too_many = tuple(Option(f"o{n}", f"pilihan {n}") for n in range(150))
    assert await telegram.channel.send(111, Reply("Pilih", options=too_many)) is False
    assert "refused" in caplog.text


async def test_long_texts_are_split_at_paragraphs_under_the_limit() -> None:
    paragraph = "Produk unggulan Bekasi. " * 30
    reply = Reply("\n\n".join([paragraph] * 12), title="Katalog <IKM>")
    pieces = html_pieces(reply)
    assert len(pieces) > 1
    for piece in pieces:
        visible, _ = parse_html(piece)
        assert len(visible) <= 4096
    assert pieces[0].startswith("<b>Katalog &lt;IKM&gt;</b>")


async def test_unknown_updates_are_answered_politely_or_ignored(telegram) -> None:
    siti = telegram.api.user(111, "Siti", phone="+6281234567890")
    await say(telegram, siti, "halo")
    before = len(siti.inbox)
    await siti.send_sticker()
    await telegram.pump()
    sorry, question = siti.inbox[-2:]
    assert "belum bisa kami baca" in sorry.visible_text
    assert "Selamat datang" in question.visible_text  # the same question again
    await siti.send_voice()
    await siti.send_poll()
    await siti.edit_last_message("halo lagi")
    await telegram.pump()
    assert len(siti.inbox) == before + 6  # sticker, voice, poll answered; the edit ignored


async def test_command_menu_is_indonesian(telegram) -> None:
    commands = {c["command"]: c["description"] for c in telegram.api.commands}
    assert set(commands) >= {"start", "menu", "produk", "profil", "bantuan", "batal"}
    assert commands["batal"] == "Batalkan langkah ini"


async def test_long_polling_serves_a_person(telegram) -> None:
    siti = telegram.api.user(111, "Siti", phone="+6281234567890")
    stop = asyncio.Event()
    telegram.channel.settings = TelegramSettings(enabled=True, poll_timeout=1)
    polling = asyncio.ensure_future(telegram.channel.poll(stop))
    try:
        await siti.send_text("/start")
        await telegram.api.wait_until(lambda: siti.last_text and "Selamat" in siti.last_text)
        # Stop while the next poll waits, not while its request is still arriving.
        await telegram.api.wait_until(lambda: telegram.api.waiting_polls)
    finally:
        stop.set()
        await asyncio.wait_for(polling, timeout=5)


@asynccontextmanager
async def polling(harness: Harness) -> AsyncIterator[None]:
    """The channel long-polling the fake, as `run` does, until the block ends."""
    stop = asyncio.Event()
    harness.channel.settings = TelegramSettings(enabled=True, poll_timeout=1)
    poller = asyncio.ensure_future(harness.channel.poll(stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(poller, timeout=5)


async def answered(harness: Harness, user, count: int) -> None:
    await harness.api.wait_until(lambda: len(user.inbox) >= count, what=f"{count} messages")


async def confirmed(harness: Harness) -> None:
    await harness.api.wait_until(lambda: not harness.api.pending_updates, what="confirmation")


async def test_updates_numbered_anew_after_a_quiet_week_are_answered_while_polling(
    telegram,
) -> None:
    # Telegram chooses the next update id at random after a week without updates: here
    # lower than the last one, which a poller must not mistake for an update it has seen.
    siti = telegram.api.user(111, "Siti", started=True)
    async with polling(telegram):
        await siti.send_text("/start")
        await answered(telegram, siti, 1)
        await confirmed(telegram)  # the week without updates
        telegram.api.choose_update_ids_anew(start=1_000)
        await siti.send_text("bantuan")
        await answered(telegram, siti, 2)
        await confirmed(telegram)


async def test_an_update_id_seen_before_a_quiet_week_is_not_taken_for_a_redelivery(
    telegram,
) -> None:
    # After a restart the new numbering starts where the old one did: the same update id
    # as a message handled days ago (its id is remembered 8 days) is a new message.
    siti = telegram.api.user(111, "Siti", started=True)
    async with polling(telegram):
        await siti.send_text("/start")
        await answered(telegram, siti, 1)
        await confirmed(telegram)
    telegram.api.choose_update_ids_anew(start=UPDATE_ID_START)
    async with polling(telegram):
        await siti.send_text("bantuan")
        await answered(telegram, siti, 2)


async def test_webhook_refuses_a_wrong_secret_and_serves_the_right_one(telegram) -> None:
    web = build_web_app(telegram=telegram.channel, telegram_secret="s3cret-token")
    siti = telegram.api.user(111, "Siti", phone="+6281234567890", started=True)
    update = {
        "update_id": 5000,
        "message": {
            "message_id": 1,
            "date": 1700000000,
            "chat": {"id": 111, "type": "private", "first_name": "Siti"},
            "from": {"id": 111, "is_bot": False, "first_name": "Siti"},
            "text": "halo",
        },
    }
    async with LoopbackServer(web) as server, httpx.AsyncClient(base_url=server.url) as client:
        refused = await client.post("/webhooks/telegram", json=update)
        wrong = await client.post(
            "/webhooks/telegram",
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"},
        )
        assert (refused.status_code, wrong.status_code) == (403, 403)
        assert rows(telegram.app, Person) == []
        accepted = await client.post(
            "/webhooks/telegram",
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"},
        )
        again = await client.post(
            "/webhooks/telegram",
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"},
        )
        assert (accepted.status_code, again.status_code) == (200, 200)
        health = await client.get("/healthz")
        assert health.json() == {"status": "ok"}
    # Handled once (one person); the repeat only asks the same question again.
    assert len(rows(telegram.app, Person)) == 1
    asked = [m.visible_text for m in siti.inbox]
    assert len(asked) == 2 and asked[0] == asked[1]


def outgoing(text: str) -> Outgoing:
    return Outgoing("111", Reply(text), "announcement", {"text": text}, "id")


async def test_outbox_delivery_classifies_platform_answers(telegram) -> None:
    siti = telegram.api.user(111, "Siti", phone="+6281234567890", started=True)
    assert (await telegram.channel.deliver(outgoing("satu"))).outcome == "sent"
    telegram.api.force_429(times=1, retry_after=3)
    delivery = await telegram.channel.deliver(outgoing("dua"))
    assert (delivery.outcome, delivery.retry_after) == ("retry", 3)
    telegram.api.force_5xx(times=1)
    assert (await telegram.channel.deliver(outgoing("tiga"))).outcome == "retry"
    await siti.block()
    assert (await telegram.channel.deliver(outgoing("empat"))).outcome == "blocked"
    telegram.api.token = "123456:REVOKED"  # the token was revoked at @BotFather
    refused = await telegram.channel.deliver(outgoing("lima"))
    assert (refused.outcome, refused.error) == ("failed", "401 invalid token")
    assert await telegram.channel.send(111, Reply("enam")) is False  # sending has stopped


async def test_a_number_registered_on_another_channel_keeps_its_data(telegram, chat_as) -> None:
    from tests.chat import register_ikm

    await register_ikm(chat_as("+6281234567890"))  # first registered through the console
    siti = telegram.api.user(111, "Siti", phone="+6281234567890")
    await say(telegram, siti, "halo")
    await press(telegram, siti, "Setuju")
    await siti.share_contact()
    await telegram.pump()
    assert "sudah terdaftar" in siti.last_text
    await say(telegram, siti, "/produk")
    assert "Boneka karakter" in siti.last_text
    [person] = rows(telegram.app, Person)
    assert sorted(a.channel for a in rows(telegram.app, ChannelAccount)) == ["console", "telegram"]
    assert person.role == "ikm"


async def test_an_officer_added_by_phone_consents_once_on_telegram(telegram) -> None:
    with transaction(telegram.app.database) as session:
        accounts.grant_dinas(session, phone="+6281100000002", now=START, language="id")
    rina = telegram.api.user(100, "Rina", phone="+6281100000002")
    await onboard(telegram, rina)
    assert "sudah terdaftar" in rina.last_text
    await say(telegram, rina, "menu")
    # The consent given before sharing the contact stays with the officer it leads to.
    assert "Verifikasi perusahaan" in rina.last_buttons
    [person] = rows(telegram.app, Person)
    assert [consent.person_id for consent in rows(telegram.app, Consent)] == [person.id]


async def test_an_unreachable_user_in_the_contact_step_can_still_type_commands(telegram) -> None:
    siti = telegram.api.user(111, "Siti", phone="+6281234567890")
    await say(telegram, siti, "halo")
    await press(telegram, siti, "Setuju")
    await say(telegram, siti, "0812 3456 7890")  # typed, not shared: not proof of the number
    assert "Bagikan nomor HP" in siti.last_text
    assert rows(telegram.app, Person)[0].phone is None


# --- the HTTP transport, against a server scripted byte by byte ------------------------------

OK = b'{"ok":true,"result":true}'


class ScriptedServer:
    """Answers each request with the next scripted action; counts connections."""

    def __init__(self, *actions: bytes | str) -> None:
        self.actions = list(actions)
        self.connections = 0
        self.handlers: set[asyncio.Task] = set()

    async def __aenter__(self) -> ScriptedServer:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/bot{TOKEN}"
        return self

    async def __aexit__(self, *exc_info) -> None:
        self.server.close()
        for task in self.handlers:
            task.cancel()
        await asyncio.gather(*self.handlers, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.handlers.add(asyncio.current_task())
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    ),
                    0,
                )
                await reader.readexactly(length)
                action = self.actions.pop(0)
                if action in ("hang", "slow"):
                    await asyncio.sleep(60 if action == "hang" else 0.2)
                    action = answer()
                if action == "drop":
                    break
                writer.write(action)
                await writer.drain()
                if b"Connection: close" in action:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        writer.close()


def answer(body: bytes = OK, status: str = "200 OK", *headers: str) -> bytes:
    lines = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def chunked(body: bytes) -> bytes:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    return head + b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)


async def test_requests_share_one_kept_alive_connection() -> None:
    server = ScriptedServer(answer(), chunked(OK), answer())
    async with server, AiohttpRequest() as request:
        for _ in range(3):
            assert await request.post(f"{server.url}/sendMessage") is True
    assert server.connections == 1


async def test_a_connection_the_server_ends_is_not_reused() -> None:
    server = ScriptedServer(answer(OK, "200 OK", "Connection: close"), answer())
    async with server, AiohttpRequest() as request:
        assert await request.post(f"{server.url}/sendMessage") is True
        assert await request.post(f"{server.url}/sendMessage") is True
    assert server.connections == 2


async def test_a_dropped_connection_fails_that_call_only() -> None:
    server = ScriptedServer("drop", answer())
    async with server, AiohttpRequest() as request:
        with pytest.raises(NetworkError):
            await request.post(f"{server.url}/sendMessage")
        assert await request.post(f"{server.url}/sendMessage") is True


async def test_no_answer_in_time_is_timed_out_and_a_full_pool_is_too() -> None:
    server = ScriptedServer("hang", "slow")
    async with server, AiohttpRequest(connection_pool_size=1, pool_timeout=0.05) as request:
        with pytest.raises(TimedOut):
            await request.post(f"{server.url}/sendMessage", read_timeout=0.05)
        hanging = asyncio.ensure_future(request.post(f"{server.url}/sendMessage"))
        await asyncio.sleep(0.01)
        with pytest.raises(TimedOut, match="Pool timeout"):
            await request.post(f"{server.url}/sendMessage")
        assert await hanging is True


async def test_platform_errors_come_out_as_ptb_errors() -> None:
    refused = b'{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked"}'
    server = ScriptedServer(answer(refused, "403 Forbidden"))
    async with server, AiohttpRequest() as request:
        with pytest.raises(Forbidden, match="blocked"):
            await request.post(f"{server.url}/sendMessage")


async def test_documents_and_pictures_are_uploaded_as_the_strict_fake_accepts_them(
    telegram,
) -> None:
    siti = telegram.api.user(111, "Siti", phone="+6281234567890", started=True)
    export = Reply("Data Anda", document=Document("data.json", b'{"nama": "Siti"}'))
    assert await telegram.channel.send(111, export)
    assert siti.inbox[-1].document["file_name"] == "data.json"
    chart = Reply("Grafik", picture=Picture("grafik.jpg", lambda: FAKE_JPEG, "image/jpeg"))
    assert await telegram.channel.send(111, chart)
    assert siti.inbox[-1].photo is not None
    assert siti.inbox[-1].visible_caption == "Grafik"
