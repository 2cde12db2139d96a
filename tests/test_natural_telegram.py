"""The story of tests/test_natural_console.py over Telegram, against the strict fake Bot API:
every answer typed as people type it (the contact shared with the button Telegram shows), and
the call's "Ajukan penawaran" typed instead of tapped. Nothing clear is refused, what was meant
is stored, and every message keeps Telegram's limits: callback data of 64 bytes at most, and
what people typed ("&" in a business name) escaped for HTML and shown as typed.
"""

from __future__ import annotations

import json
import logging

from bot.services import accounts
from models.db import transaction
from tests.fakes.telegram import FakeUser
from tests.procurement_cast import COMPANY, OFFICER
from tests.telegram_chat import Harness, onboard, press, say, telegram_bot
from tests.test_natural_console import (
    BIMTEK,
    BIMTEK_SIGN_UP,
    BUSINESS,
    COMPANY_AFTER_CONTACT,
    COMPANY_BEFORE_CONTACT,
    IKM_AFTER_CONTACT,
    IKM_BEFORE_CONTACT,
    MAKER,
    MAX_REGISTRATION_MESSAGES,
    NEED,
    NEED_AFTER,
    OFFER,
    REFUSED,
    assert_company_stored,
    assert_maker_stored,
    assert_need_stored,
    assert_offer_stored,
    assert_signed_up,
)

CALLBACK_DATA_LIMIT = 64


def since(user: FakeUser, start: int) -> str:
    return "\n".join(message.shown_text for message in user.inbox[start:])


async def say_all(tg: Harness, user: FakeUser, answers: list[str]) -> int:
    """Type each answer; none may be refused. Returns how many messages were sent."""
    for answer in answers:
        seen = len(user.inbox)
        await user.send_text(answer)
        await tg.pump()
        answered = since(user, seen)
        assert answered, f"no answer to {answer!r}"
        assert REFUSED not in answered, f"{answer!r} was refused: {answered}"
    return len(answers)


async def register_typing(tg: Harness, user: FakeUser, before: list[str], after: list[str]) -> int:
    """Typed answers around the one tap Telegram needs: sharing one's own contact."""
    sent = await say_all(tg, user, before)
    assert user.reply_keyboard_labels == ["Bagikan nomor HP"]
    await user.share_contact()
    await tg.pump()
    return sent + 1 + await say_all(tg, user, after)


def assert_within_telegram_limits(tg: Harness) -> None:
    for call in tg.api.calls:
        markup = call.params.get("reply_markup")
        if isinstance(markup, str):
            markup = json.loads(markup)
        for row in (markup or {}).get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data", "")
                assert len(data.encode("utf-8")) <= CALLBACK_DATA_LIMIT, button
    assert not [call for call in tg.api.calls if not call.ok and call.status == 400]


async def test_a_story_typed_as_people_type_over_telegram(app, caplog) -> None:
    with transaction(app.database) as session:
        accounts.grant_dinas(session, phone=OFFICER, now=app.engine.clock.now(), language="id")

    async with telegram_bot(app) as tg:
        maker = tg.api.user(501, "Siti", phone=MAKER)
        sent = await register_typing(tg, maker, IKM_BEFORE_CONTACT, IKM_AFTER_CONTACT)
        assert f"{BUSINESS} sudah terdaftar" in since(maker, len(maker.inbox) - 2)
        assert sent <= MAX_REGISTRATION_MESSAGES
        assert_maker_stored(app)
        summary = next(m for m in maker.inbox if BUSINESS in m.shown_text)
        assert "Siti &amp; Putri" in summary.text  # escaped on the wire, shown as typed

        company = tg.api.user(502, "Bambang", phone=COMPANY)
        await register_typing(tg, company, COMPANY_BEFORE_CONTACT, COMPANY_AFTER_CONTACT)
        assert_company_stored(app)

        officer = tg.api.user(503, "Rina", phone=OFFICER)
        await onboard(tg, officer)
        await say(tg, officer, "menu")
        await press(tg, officer, "Verifikasi perusahaan")
        await press(tg, officer, "PT Sinar Otomotif Indonesia")
        await press(tg, officer, "Setujui")
        await tg.deliver()

        await say_all(tg, company, [f"/{NEED}", *NEED_AFTER])
        assert "sudah diterbitkan" in since(company, len(company.inbox) - 3)
        assert_need_stored(app)

        await tg.deliver()
        assert maker.last_message.buttons == ["Lihat detail", "Ajukan penawaran", "Tidak berminat"]
        await say_all(tg, maker, ["ajukan penawaran", *OFFER])  # typed, not tapped
        assert "terkirim" in since(maker, len(maker.inbox) - 2)
        assert_offer_stored(app)

        await say_all(tg, officer, BIMTEK)
        assert "dibuat dan diumumkan" in since(officer, len(officer.inbox) - 2)
        await tg.deliver()
        assert "Bimtek baru untuk usaha Anda" in maker.last_text
        await say_all(tg, maker, BIMTEK_SIGN_UP)
        assert "Anda terdaftar" in since(maker, len(maker.inbox) - 2)
        assert_signed_up(app)

        assert_within_telegram_limits(tg)
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
