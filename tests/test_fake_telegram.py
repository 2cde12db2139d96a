"""The fake Telegram Bot API (tests/fakes/telegram.py), driven by python-telegram-bot itself.

If PTB can talk to the fake and gets Telegram's errors from it, a channel tested against the
fake meets the same answers in production.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import time

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, NetworkError, RetryAfter

from tests.fakes.telegram import (
    FAKE_JPEG,
    EntityParseError,
    FakeTelegram,
    LoopbackServer,
    ManualClock,
    parse_html,
)

TOKEN = "123:ABC"
SITI = 111

# PTB 22 warns whenever it builds a RetryAfter (retry_after becomes a timedelta in PTB 23).
pytestmark = pytest.mark.filterwarnings(
    "ignore:Deprecated since version v22.2:telegram.warnings.PTBDeprecationWarning"
)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def api(clock: ManualClock):
    # Each action of a simulated person takes a second, as a person would.
    async with FakeTelegram(token=TOKEN, clock=clock, user_pause=1.0) as fake:
        yield fake


@pytest.fixture
async def bot(api: FakeTelegram):
    async with Bot(TOKEN, base_url=api.base_url, base_file_url=api.base_file_url) as client:
        yield client


@pytest.fixture
async def siti(api: FakeTelegram):
    person = api.user(user_id=SITI, first_name="Siti", phone="+6281234567890")
    await person.send_text("/start")
    return person


def keyboard(*labels_and_data: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data)] for label, data in labels_and_data]
    )


def retry_seconds(error: RetryAfter) -> float:
    """RetryAfter.retry_after is an int in PTB 22 (a timedelta with PTB_TIMEDELTA=1)."""
    retry_after = error.retry_after
    if isinstance(retry_after, dtm.timedelta):
        return retry_after.total_seconds()
    return retry_after


async def updates_of(bot: Bot) -> list[Update]:
    """Everything queued, confirmed at once (the next call starts after them)."""
    updates = await bot.get_updates(timeout=0)
    if updates:
        await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
    return list(updates)


# -- talking to it ------------------------------------------------------------------------------


async def test_ptb_initializes_against_the_fake_and_gets_the_bot(api, bot):
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (123, "sinergi_ikm_bot", True)
    assert [call.method for call in api.calls] == ["getMe", "getMe"]  # initialize(), get_me()


async def test_a_wrong_token_is_unauthorized_and_an_unknown_method_not_found(api):
    with pytest.raises(InvalidToken):
        async with Bot("999:WRONG", base_url=api.base_url):
            pass
    async with httpx.AsyncClient(trust_env=False) as client:
        wrong = await client.post(f"{api.base_url}999:WRONG/getMe")
        unknown = await client.post(f"{api.base_url}{TOKEN}/sendTelepathy")
    assert wrong.status_code == 401
    assert wrong.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    assert unknown.status_code == 404
    assert unknown.json() == {"ok": False, "error_code": 404, "description": "Not Found"}


async def test_json_form_and_query_parameters_all_decode_the_same(api, siti):
    markup = {"inline_keyboard": [[{"text": "Ya", "callback_data": "y"}]]}
    async with httpx.AsyncClient(trust_env=False) as client:
        url = f"{api.base_url}{TOKEN}/sendMessage"
        as_json = await client.post(
            url, json={"chat_id": SITI, "text": "a", "reply_markup": markup}
        )
        as_form = await client.post(
            url, data={"chat_id": str(SITI), "text": "b", "reply_markup": json.dumps(markup)}
        )
        as_query = await client.get(url, params={"chat_id": SITI, "text": "c"})
    assert [r.status_code for r in (as_json, as_form, as_query)] == [200, 200, 200]
    sent = api.calls_to("sendMessage")
    assert [c.params["chat_id"] for c in sent] == [SITI, SITI, SITI]
    assert sent[0].params["reply_markup"] == sent[1].params["reply_markup"] == markup
    assert [m.visible_text for m in siti.inbox] == ["a", "b", "c"]


# -- HTML ---------------------------------------------------------------------------------------


async def test_valid_html_is_recorded_raw_and_visible(api, bot, siti):
    message = await bot.send_message(SITI, "<b>x</b> &amp; y", parse_mode="HTML")
    assert message.text == "x & y"
    assert message.entities[0].type == "bold"
    assert message.from_user.is_bot
    recorded = siti.inbox[-1]
    assert (recorded.text, recorded.visible_text, recorded.parse_mode) == (
        "<b>x</b> &amp; y",
        "x & y",
        "HTML",
    )
    assert siti.last_text == "x & y"


async def test_invalid_html_is_a_bad_request_with_telegrams_words(api, bot, siti):
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(SITI, "Boneka <Ibu> & Anak", parse_mode="HTML")
    assert api.calls[-1].response == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: can't parse entities: "
        'Unsupported start tag "ibu" at byte offset 7',
    }
    with pytest.raises(BadRequest, match=r"(?i)end tag corresponding to start tag"):
        await bot.send_message(SITI, "<b>Boneka", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(SITI, "Boneka & Anak", parse_mode="HTML")
    # Without a parse mode the same text is plain and fine.
    await bot.send_message(SITI, "Boneka <Ibu> & Anak")
    assert siti.last_text == "Boneka <Ibu> & Anak"


@pytest.mark.parametrize(
    ("html", "visible", "types"),
    [
        (
            "<b>a</b><i>b</i><u>c</u><s>d</s>",
            "abcd",
            ["bold", "italic", "underline", "strikethrough"],
        ),
        ("<strong><em>x</em></strong>", "x", ["bold", "italic"]),
        ('<span class="tg-spoiler">r</span><tg-spoiler>s</tg-spoiler>', "rs", ["spoiler"] * 2),
        ('<a href="https://bekasikab.go.id">Dinas</a>', "Dinas", ["text_link"]),
        ('<pre><code class="language-python">x = 1</code></pre>', "x = 1", ["pre"]),
        ("<code>&lt;b&gt;</code> &#38; &#x26; &quot;", '<b> & & "', ["code"]),
        ("<blockquote>kutipan</blockquote>", "kutipan", ["blockquote"]),
        ("  <B>halo</B>\n", "halo", ["bold"]),
        ("😀 <b>x</b>", "😀 x", ["bold"]),
    ],
)
def test_the_html_parser_accepts_what_telegram_accepts(html, visible, types):
    text, entities = parse_html(html)
    assert text.strip() == visible
    assert [e["type"] for e in entities] == types


def test_entity_offsets_are_utf16_like_telegrams():
    assert parse_html("😀 <b>x</b>")[1] == [{"type": "bold", "offset": 3, "length": 1}]


@pytest.mark.parametrize(
    ("html", "error"),
    [
        ("Boneka <Ibu> & Anak", 'Unsupported start tag "ibu" at byte offset 7'),
        ("é<br>", 'Unsupported start tag "br" at byte offset 2'),
        ("<b>tebal", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>a</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("a</b>", "Unexpected end tag at byte offset 1"),
        ('<span class="x">s</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("<b", "Unclosed start tag at byte offset 0"),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("Boneka & Anak", 'Character "&" at byte offset 7 must be escaped'),
        ("&nbsp;", 'Character "&" at byte offset 0 must be escaped'),
    ],
)
def test_the_html_parser_refuses_what_telegram_refuses(html, error):
    with pytest.raises(EntityParseError) as refused:
        parse_html(html)
    assert str(refused.value).startswith(error)


def test_a_bare_ampersand_passes_when_not_strict_like_telegrams_parser():
    assert parse_html("Boneka & Anak", strict_ampersand=False) == ("Boneka & Anak", [])


# -- lengths and keyboards ----------------------------------------------------------------------


async def test_text_limits_count_after_entity_parsing(api, bot, siti, clock):
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(SITI, "  \n ")
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(SITI, "<b> </b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(SITI, "a" * 4097)
    await bot.send_message(SITI, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")
    assert len(siti.last_text) == 4096
    assert api.calls[-2].description == "Bad Request: message is too long"


async def test_callback_data_over_64_bytes_is_button_data_invalid(api, bot, siti):
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await bot.send_message(SITI, "Pilih", reply_markup=keyboard(("Ya", "x" * 65)))
    assert api.calls[-1].description == "Bad Request: BUTTON_DATA_INVALID"
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await bot.send_message(SITI, "Pilih", reply_markup=keyboard(("Ya", "é" * 33)))  # 66 B
    await bot.send_message(SITI, "Pilih", reply_markup=keyboard(("Ya", "é" * 32)))  # 64 bytes
    assert siti.last_buttons == ["Ya"]


async def test_keyboards_need_a_label_an_action_and_at_most_100_buttons(api, bot, siti):
    too_many = InlineKeyboardMarkup(
        [[InlineKeyboardButton(str(i), callback_data=str(i)) for i in range(8)]] * 13
    )
    with pytest.raises(BadRequest, match=r"(?i)reply_markup_too_long"):
        await bot.send_message(SITI, "Pilih", reply_markup=too_many)
    async with httpx.AsyncClient(trust_env=False) as client:
        url = f"{api.base_url}{TOKEN}/sendMessage"
        no_action = await client.post(
            url,
            json={
                "chat_id": SITI,
                "text": "a",
                "reply_markup": {"inline_keyboard": [[{"text": "x"}]]},
            },
        )
        no_label = await client.post(
            url,
            json={
                "chat_id": SITI,
                "text": "a",
                "reply_markup": {"inline_keyboard": [[{"text": " ", "callback_data": "x"}]]},
            },
        )
    assert "Text buttons are unallowed" in no_action.json()["description"]
    assert no_label.json()["description"] == "Bad Request: BUTTON_TEXT_INVALID"


# -- limits and failures ------------------------------------------------------------------------


async def test_a_forced_429_is_retry_after_for_ptb(api, bot, siti):
    api.force_429(times=1, retry_after=7)
    with pytest.raises(RetryAfter) as limited:
        await bot.send_message(SITI, "halo")
    assert retry_seconds(limited.value) == 7
    assert api.calls[-1].response == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 7",
        "parameters": {"retry_after": 7},
    }
    await bot.send_message(SITI, "halo")  # only once
    assert api.count_429 == 1


async def test_per_chat_rate_limit_allows_a_burst_then_one_a_second(api, bot, siti, clock):
    for n in range(3):
        await bot.send_message(SITI, f"pesan {n}")
    with pytest.raises(RetryAfter) as limited:
        await bot.send_message(SITI, "pesan 3")
    assert retry_seconds(limited.value) == 1
    clock.advance(1.0)
    await bot.send_message(SITI, "pesan 3")
    assert [m.visible_text for m in siti.inbox] == [f"pesan {n}" for n in range(4)]


async def test_global_rate_limit_counts_every_chat():
    clock = ManualClock()
    async with FakeTelegram(
        TOKEN, clock=clock, per_chat_per_second=None, global_per_second=2
    ) as api:
        people = [api.user(user_id=200 + n, first_name=f"P{n}", started=True) for n in range(3)]
        async with Bot(TOKEN, base_url=api.base_url) as bot:
            await bot.send_message(people[0].id, "a")
            await bot.send_message(people[1].id, "b")
            with pytest.raises(RetryAfter):
                await bot.send_message(people[2].id, "c")
            clock.advance(0.5)
            await bot.send_message(people[2].id, "c")
        assert api.count_429 == 1


async def test_a_forced_502_is_a_network_error(api, bot, siti):
    api.force_5xx(times=1)
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(SITI, "halo")
    assert api.calls[-1].response == {"ok": False, "error_code": 502, "description": "Bad Gateway"}


async def test_a_person_who_blocked_the_bot_is_forbidden(api, bot, siti):
    update = await siti.block()
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(SITI, "halo")
    parsed = Update.de_json(update, bot)
    assert parsed.my_chat_member.old_chat_member.status == "member"
    assert parsed.my_chat_member.new_chat_member.status == "kicked"
    assert parsed.my_chat_member.new_chat_member.user.id == 123  # the member is the bot
    with pytest.raises(AssertionError, match="blocked"):
        await siti.send_text("halo")
    back = Update.de_json(await siti.unblock(), bot)
    assert back.my_chat_member.new_chat_member.status == "member"
    await bot.send_message(SITI, "selamat datang kembali")


async def test_the_bot_cannot_write_first_or_to_an_unknown_chat(api, bot):
    api.user(user_id=222, first_name="Budi")
    with pytest.raises(Forbidden, match="can't initiate conversation"):
        await bot.send_message(222, "halo")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(999, "halo")


# -- updates ------------------------------------------------------------------------------------


async def test_get_updates_confirms_with_offset(api, bot, siti):
    await siti.send_text("halo")
    first = await bot.get_updates(timeout=0)
    assert [u.message.text for u in first] == ["/start", "halo"]
    assert first[0].message.entities[0].type == "bot_command"
    assert first[0].message.chat.id == first[0].message.from_user.id == SITI
    assert first[1].update_id == first[0].update_id + 1
    assert first[1].message.message_id > first[0].message.message_id
    assert len(await bot.get_updates(timeout=0)) == 2  # not confirmed yet
    assert await bot.get_updates(offset=first[-1].update_id + 1, timeout=0) == ()
    assert api.pending_updates == []


async def test_a_long_poll_returns_as_soon_as_a_person_writes(api, bot, siti):
    await updates_of(bot)
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await api.wait_until(lambda: api.waiting_polls == 1, timeout=2)
    await siti.send_text("ada pesanan?")
    updates = await asyncio.wait_for(poll, 2)
    assert [u.message.text for u in updates] == ["ada pesanan?"]
    assert time.monotonic() - started < 2


async def test_a_long_poll_with_nothing_to_say_ends_at_its_timeout(api):
    async with httpx.AsyncClient(trust_env=False) as client:
        started = time.monotonic()
        answer = await client.post(f"{api.base_url}{TOKEN}/getUpdates", json={"timeout": 0.3})
    assert answer.json() == {"ok": True, "result": []}
    assert 0.25 < time.monotonic() - started < 2


async def test_a_second_copy_of_the_bot_polling_terminates_the_first(api, bot):
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await api.wait_until(lambda: api.waiting_polls == 1, timeout=2)
    async with Bot(TOKEN, base_url=api.base_url) as second_copy:
        assert await second_copy.get_updates(timeout=0) == ()
    with pytest.raises(Conflict, match="terminated by other getUpdates"):
        await asyncio.wait_for(first, 2)


async def test_press_sends_a_callback_query_answered_once(api, bot, siti):
    sent = await bot.send_message(
        SITI, "Setuju?", reply_markup=keyboard(("Setuju", "consent:yes"), ("Tidak", "consent:no"))
    )
    await updates_of(bot)
    await siti.press("Setuju")
    (update,) = await updates_of(bot)
    query = update.callback_query
    assert query.data == "consent:yes"
    assert query.from_user.id == SITI
    assert query.message.message_id == sent.message_id
    assert query.message.reply_markup.inline_keyboard[0][0].text == "Setuju"
    assert query.chat_instance
    assert await bot.answer_callback_query(query.id, text="Tersimpan")
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query.id)
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query("12345")
    assert [a["text"] for a in api.answered_callbacks] == ["Tersimpan"]
    with pytest.raises(AssertionError, match="no inline button 'Batal'"):
        await siti.press("Batal")
    forged = Update.de_json(await siti.press_data("consent:maybe", sent.message_id), bot)
    assert forged.callback_query.data == "consent:maybe"


async def test_a_callback_query_answered_too_late_is_too_old(api, bot, siti, clock):
    await bot.send_message(SITI, "Setuju?", reply_markup=keyboard(("Setuju", "yes")))
    update = Update.de_json(await siti.press("Setuju"), bot)
    clock.advance(16)
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(update.callback_query.id)


async def test_editing_without_reply_markup_takes_the_keyboard_away(api, bot, siti):
    sent = await bot.send_message(SITI, "Setuju?", reply_markup=keyboard(("Setuju", "yes")))
    assert siti.last_buttons == ["Setuju"]
    edited = await bot.edit_message_text("Tersimpan", chat_id=SITI, message_id=sent.message_id)
    assert edited.text == "Tersimpan" and edited.edit_date is not None
    recorded = siti.inbox[-1]
    assert recorded.keyboard_removed and recorded.reply_markup is None
    assert recorded.edits[0]["visible_text"] == "Setuju?"
    assert siti.last_buttons == []
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("Tersimpan", chat_id=SITI, message_id=sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=SITI, message_id=999)
    await bot.edit_message_reply_markup(SITI, sent.message_id, reply_markup=keyboard(("Ubah", "e")))
    assert siti.last_buttons == ["Ubah"]


async def test_contact_photo_and_other_updates_parse_into_ptb_objects(api, bot, siti):
    await updates_of(bot)
    await siti.share_contact()
    await siti.share_contact(phone="+6281299990000", user_id=222)
    await siti.send_photo(file_id="AgACfotoproduk", caption="Boneka")
    await siti.send_sticker()
    await siti.send_voice()
    await siti.send_poll()
    await siti.send_location()
    await siti.send_text("40rb")
    await siti.edit_last_message("45rb")
    updates = await updates_of(bot)
    own, other, photo, sticker, voice, poll, location, text, edited = updates
    assert own.message.contact.phone_number == "6281234567890"
    assert own.message.contact.user_id == SITI
    assert (other.message.contact.phone_number, other.message.contact.user_id) == (
        "+6281299990000",
        222,
    )
    sizes = photo.message.photo
    assert [s.width for s in sizes] == [90, 320, 800]
    assert sizes[-1].file_id == "AgACfotoproduk" and photo.message.caption == "Boneka"
    assert sticker.message.sticker.emoji == "👍"
    assert voice.message.voice.mime_type == "audio/ogg"
    assert [o.text for o in poll.message.poll.options] == ["Senin", "Selasa"]
    assert round(location.message.location.latitude, 2) == -6.26
    assert edited.edited_message.text == "45rb"
    assert edited.edited_message.message_id == text.message.message_id
    file = await bot.get_file(sizes[-1].file_id)
    assert file.file_path.startswith(api.base_file_url)
    assert await file.download_as_bytearray() == FAKE_JPEG
    with pytest.raises(BadRequest, match=r"(?i)invalid file_id"):
        await bot.get_file("AgACnotthere")


async def test_the_bot_sends_photos_and_documents(api, bot, siti):
    uploaded = await bot.send_photo(SITI, FAKE_JPEG, caption="<b>Boneka</b>", parse_mode="HTML")
    assert uploaded.caption == "Boneka" and len(uploaded.photo) == 3
    assert siti.inbox[-1].photo_source == "upload"
    await siti.send_photo(file_id="AgACdarisiti")
    again = await bot.send_photo(SITI, "AgACdarisiti")
    assert again.photo[-1].file_id == "AgACdarisiti"
    with pytest.raises(BadRequest, match=r"(?i)caption is too long"):
        await bot.send_photo(SITI, "AgACdarisiti", caption="a" * 1025)
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_photo(SITI, "AgACnotthere")
    with pytest.raises(BadRequest, match=r"(?i)image_process_failed"):
        await bot.send_photo(SITI, b"not an image")
    document = await bot.send_document(SITI, b"%PDF-1.4", filename="katalog.pdf")
    assert document.document.file_name == "katalog.pdf"
    assert siti.last_text == ""


async def test_reply_keyboard_asks_for_the_contact(api, bot, siti):
    share = ReplyKeyboardMarkup(
        [[KeyboardButton("Bagikan nomor", request_contact=True)]], one_time_keyboard=True
    )
    await bot.send_message(SITI, "Boleh minta nomor HP?", reply_markup=share)
    assert siti.reply_keyboard["keyboard"][0][0]["request_contact"] is True
    assert siti.reply_keyboard["one_time_keyboard"] is True
    update = Update.de_json(await siti.tap_reply("Bagikan nomor"), bot)
    assert update.message.contact.user_id == SITI
    assert siti.reply_keyboard_collapsed
    await bot.send_message(SITI, "Terima kasih", reply_markup=ReplyKeyboardRemove())
    assert siti.reply_keyboard is None
    with pytest.raises(BadRequest, match=r"(?i)inline keyboard expected"):
        await bot.edit_message_text("x", SITI, siti.inbox[-1].message_id, reply_markup=share)


async def test_next_message_and_wait_until(api, bot, siti):
    async def answer_later() -> None:
        await asyncio.sleep(0.01)
        await bot.send_message(SITI, "Halo Siti")

    task = asyncio.create_task(answer_later())
    message = await siti.next_message(timeout=2)
    await task
    assert message.visible_text == "Halo Siti"
    with pytest.raises(AssertionError, match=r"waited 0\.05s"):
        await api.wait_until(lambda: len(siti.inbox) > 1, timeout=0.05)


# -- commands -----------------------------------------------------------------------------------


async def test_set_my_commands_is_validated(api, bot):
    commands = [BotCommand("menu", "Menu utama"), BotCommand("hapus_data", "Hapus data saya")]
    assert await bot.set_my_commands(commands)
    assert [c["command"] for c in api.commands] == ["menu", "hapus_data"]
    assert [c.command for c in await bot.get_my_commands()] == ["menu", "hapus_data"]
    for command, description, error in [
        ("Menu", "Menu utama", "BOT_COMMAND_INVALID"),
        ("hapus-data", "Hapus", "BOT_COMMAND_INVALID"),
        ("a" * 33, "Terlalu panjang", "BOT_COMMAND_INVALID"),
        ("menu", "", "BOT_COMMAND_DESCRIPTION_INVALID"),
        ("menu", "d" * 257, "BOT_COMMAND_DESCRIPTION_INVALID"),
    ]:
        with pytest.raises(BadRequest):
            await bot.set_my_commands([BotCommand(command, description)])
        assert api.calls[-1].description == f"Bad Request: {error}"
    assert [c["command"] for c in api.commands] == ["menu", "hapus_data"]


# -- webhooks -----------------------------------------------------------------------------------


class Receiver:
    """A tiny webhook endpoint: answers the given statuses in turn, then 200."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.received: list[tuple[dict, dict]] = []
        self.app = Starlette(routes=[Route("/tg", self.hook, methods=["POST"])])

    async def hook(self, request: Request) -> JSONResponse:
        self.received.append((dict(request.headers), await request.json()))
        status = self.statuses.pop(0) if self.statuses else 200
        return JSONResponse({}, status_code=status)


async def test_webhook_delivers_updates_with_the_secret_header(api, bot, siti):
    receiver = Receiver()
    async with LoopbackServer(receiver.app) as hook:
        assert await bot.set_webhook(f"{hook.url}/tg", secret_token="rahasia_123")
        with pytest.raises(Conflict, match="webhook is active"):
            await bot.get_updates(timeout=0)
        await siti.send_text("halo")
        await api.wait_until(lambda: len(receiver.received) == 2, timeout=3)
        headers, body = receiver.received[-1]
        assert headers["x-telegram-bot-api-secret-token"] == "rahasia_123"
        assert Update.de_json(body, bot).message.text == "halo"
        info = await bot.get_webhook_info()
        assert info.url == f"{hook.url}/tg" and info.pending_update_count == 0
        assert api.webhook["secret_token"] == "rahasia_123"
        assert await bot.delete_webhook()
    await siti.send_text("lagi")
    assert [u.message.text for u in await bot.get_updates(timeout=0)] == ["lagi"]


async def test_webhook_retries_a_failed_delivery_a_bounded_number_of_times(api, bot, siti):
    receiver = Receiver(500, 503, 500, 500)
    async with LoopbackServer(receiver.app) as hook:
        await bot.set_webhook(f"{hook.url}/tg")
        # The /start update: 500, 503, 500 -> given up after 3 attempts. "halo": 500, 200.
        await siti.send_text("halo")
        await api.wait_until(lambda: len(api.webhook_deliveries) == 5, timeout=3)
        assert [d.status for d in api.webhook_deliveries] == [500, 503, 500, 500, 200]
        assert [u["message"]["text"] for u in api.dropped_updates] == ["/start"]
        info = await bot.get_webhook_info()
        assert (
            info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
        )


async def test_webhooks_go_to_loopback_only(api, bot):
    with pytest.raises(BadRequest, match=r"(?i)bad webhook"):
        await bot.set_webhook("https://example.com/tg")
    with pytest.raises(BadRequest, match=r"(?i)secret token contains unallowed characters"):
        await bot.set_webhook("http://127.0.0.1:9/tg", secret_token="a+b/c=")
    assert api.webhook["url"] == ""


async def test_the_server_stops_quickly_even_with_a_poll_waiting():
    started = time.monotonic()
    async with FakeTelegram(TOKEN) as api:
        bot = Bot(TOKEN, base_url=api.base_url)
        await bot.initialize()
        poll = asyncio.create_task(bot.get_updates(timeout=30))
        await api.wait_until(lambda: api.waiting_polls == 1, timeout=2)
    try:
        assert await asyncio.wait_for(poll, 2) == ()
    finally:
        await bot.shutdown()
    assert time.monotonic() - started < 3
