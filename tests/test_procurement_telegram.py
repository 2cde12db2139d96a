"""Procurement end to end over Telegram, against the strict fake Bot API: a company
registers and shares its contact, the Dinas officer verifies it from Telegram, the company
posts a need in one message, the outbox sender delivers the call to the matched IKM with
its three inline buttons, two of them offer (one with a photo of a sample), the company
awards both, the partnerships exist and both sides got each other's contact, never before.
"""

from __future__ import annotations

import logging

from sqlmodel import Session, select

from bot.services import accounts
from models import (
    Company,
    CompanyStatus,
    NeedMatch,
    Offer,
    OutboxMessage,
    Partnership,
    VerificationDecision,
)
from models.db import transaction
from tests.fakes.telegram import FakeUser
from tests.procurement_cast import COMPANY, DOLLS, GLOVES_A, GLOVES_B, OFFICER, QUICK_NEED, Maker
from tests.stored import rows
from tests.telegram_chat import Harness, onboard, press, say, telegram_bot

CALL_TITLE = "Peluang baru untuk usaha Anda"


async def register_company(tg: Harness, user: FakeUser) -> None:
    await onboard(tg, user)
    await press(tg, user, "Saya perusahaan")
    await say(tg, user, "PT Sinar Otomotif Indonesia")
    await press(tg, user, "Jababeka")
    await say(tg, user, "Jl. Jababeka Raya Blok F No. 12, Cikarang Utara")
    await say(tg, user, "Bambang Wijaya")
    await press(tg, user, "Pakaian jadi")
    await press(tg, user, "Selesai")
    await press(tg, user, "Simpan")
    assert "menunggu verifikasi" in user.inbox[-2].shown_text


async def register_ikm(tg: Harness, user: FakeUser, maker: Maker) -> None:
    await onboard(tg, user)
    await press(tg, user, "Saya pelaku IKM")
    await say(tg, user, user.first_name)
    await say(tg, user, maker.business)
    await press(tg, user, maker.sector)
    await say(tg, user, maker.kecamatan)
    await press(tg, user, "Lewati")  # desa, NIB and workers: later
    await say(tg, user, maker.product)
    await press(tg, user, maker.unit)
    await say(tg, user, "7rb")
    await say(tg, user, maker.capacity)
    await press(tg, user, "Lewati")
    await press(tg, user, "Simpan")
    assert "sudah terdaftar" in user.inbox[-2].shown_text


def texts_since(user: FakeUser, start: int) -> str:
    return "\n".join(message.shown_text for message in user.inbox[start:])


def recent(user: FakeUser, count: int = 3) -> str:
    """The last few messages: one answer may come as a confirmation then the next screen."""
    return texts_since(user, len(user.inbox) - count)


async def test_a_need_goes_from_post_to_two_partnerships_over_telegram(app, caplog) -> None:
    with transaction(app.database) as session:
        accounts.grant_dinas(session, phone=OFFICER, now=app.engine.clock.now(), language="id")

    async with telegram_bot(app) as tg:
        company = tg.api.user(301, "Bambang", phone=COMPANY)
        await register_company(tg, company)
        await say(tg, company, "/kebutuhan")
        assert "masih menunggu verifikasi" in company.last_text

        officer = tg.api.user(100, "Rina", phone=OFFICER)
        await onboard(tg, officer)
        await say(tg, officer, "menu")
        await press(tg, officer, "Verifikasi perusahaan")
        assert "1 perusahaan menunggu verifikasi" in officer.last_text
        await press(tg, officer, "PT Sinar Otomotif Indonesia")
        assert "Bambang Wijaya" in officer.last_text
        await press(tg, officer, "Setujui")
        assert "PT Sinar Otomotif Indonesia disetujui" in recent(officer)
        [decision] = rows(app, VerificationDecision)
        assert (decision.decision, decision.officer_phone) == ("verified", OFFICER)

        seen = len(company.inbox)
        await tg.deliver()
        assert "terverifikasi" in texts_since(company, seen).lower()

        first = tg.api.user(401, "Wati", phone=GLOVES_A.phone)
        second = tg.api.user(402, "Yanti", phone=GLOVES_B.phone)
        dolls = tg.api.user(403, "Siti", phone=DOLLS.phone)
        for user, maker in ((first, GLOVES_A), (second, GLOVES_B), (dolls, DOLLS)):
            await register_ikm(tg, user, maker)

        await say(tg, company, QUICK_NEED)
        assert "Sudah saya catat" in recent(company)  # the sector read from the words
        await say(tg, company, "31/12")
        assert "Periksa kebutuhan" in company.last_text
        assert "5.000 pasang" in company.last_text
        await press(tg, company, "Terbitkan")
        assert "dikirim ke 2 IKM" in recent(company)
        assert "2 IKM bersama dapat memenuhi 5.000 pasang" in recent(company)

        before = {user.id: len(user.inbox) for user in (first, second, dolls)}
        await tg.deliver()
        for user in (first, second):
            call = user.last_message
            assert CALL_TITLE in call.shown_text and "Cocok karena" in call.shown_text
            assert call.buttons == ["Lihat detail", "Ajukan penawaran", "Tidak berminat"]
            data = [button["callback_data"] for row in call.inline_keyboard for button in row]
            # Deep links, not positions: they still work when other messages came after.
            assert [item.split(":")[0] for item in data] == ["@peluang", "@tawar", "@tidak"]
        assert CALL_TITLE not in texts_since(dolls, before[dolls.id])

        await press(tg, first, "Lihat detail")
        assert "5.000 pasang" in first.last_text
        await offer(tg, first, price="7.500", quantity="3000")
        await offer(tg, second, price="8rb", quantity="2.000", photo=True)
        [with_photo] = [o for o in rows(app, Offer) if o.photo_ref]
        assert with_photo.photo_ref.startswith("telegram:")

        seen = len(company.inbox)
        await tg.deliver()
        news = texts_since(company, seen)
        assert news.count("Penawaran baru") == 2
        # Before any award, nothing the company was shown carries an IKM's phone number.
        shown = texts_since(company, 0)
        assert "0812-0000-0021" not in shown and "6281200000021" not in shown
        assert "0812-0000-0022" not in shown and "6281200000022" not in shown

        await press(tg, company, "Lihat penawaran")
        assert "Konveksi Tangan Terampil" in company.last_text
        assert "Rajut Glove Setu" in company.last_text
        await press(tg, company, "1. Konveksi Tangan Terampil")
        await press(tg, company, "Pilih penawaran ini")
        all_of_it = company.last_message
        award = all_of_it.button("Semua (3.000)")["callback_data"]
        await company.press_data(award, all_of_it.message_id)
        await company.press_data(award, all_of_it.message_id)  # a double tap: one award
        await tg.pump()
        assert "Kemitraan dengan Konveksi Tangan Terampil tercatat: 3.000 pasang" in recent(company)
        await press(tg, company, "2. Rajut Glove Setu")
        await press(tg, company, "Pilih penawaran ini")
        await press(tg, company, "Semua (2.000)")
        assert "Seluruh jumlah sudah terpenuhi" in recent(company)

        partnerships = sorted(rows(app, Partnership), key=lambda p: p.id)
        assert [(p.quantity, p.value) for p in partnerships] == [
            (3000, 3000 * 7500),
            (2000, 2000 * 8000),
        ]
        assert {o.status for o in rows(app, Offer)} == {"awarded"}
        assert len(rows(app, NeedMatch)) == 2
        with Session(app.database) as session:
            assert session.exec(select(Company)).one().status == CompanyStatus.VERIFIED

        seen = {user.id: len(user.inbox) for user in (company, first, second)}
        await tg.deliver()
        for user in (first, second):
            won = texts_since(user, seen[user.id])
            assert "Selamat, penawaran Anda dipilih!" in won
            assert "Bambang Wijaya di 0813-0000-0001" in won
        contacts = texts_since(company, seen[company.id])
        assert "0812-0000-0021" in contacts and "0812-0000-0022" in contacts
        assert_every_refused_send_went_out_later(tg)
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


def assert_every_refused_send_went_out_later(tg: Harness) -> None:
    """Several messages in one turn meet the per-chat flood limit: each 429 is retried
    after `retry_after`. The only other refusals: the double tap's second keyboard edit,
    and answering a replayed update's callback query a second time."""
    calls = tg.api.calls
    for index, call in enumerate(calls):
        if call.ok:
            continue
        if call.status == 429:
            same = (call.method, call.params.get("chat_id"), call.params.get("text"))
            assert any(
                later.ok
                and (later.method, later.params.get("chat_id"), later.params.get("text")) == same
                for later in calls[index + 1 :]
            ), call
        elif call.method == "answerCallbackQuery":  # the replayed update's query, answered
            assert "query is too old" in call.description
        else:
            assert call.method == "editMessageReplyMarkup", call
            assert "message is not modified" in call.description


async def offer(
    tg: Harness, user: FakeUser, *, price: str, quantity: str, photo: bool = False
) -> None:
    await press(tg, user, "Ajukan penawaran")
    assert "Target perusahaan: Rp 8.000/pasang" in user.last_text
    await say(tg, user, price)
    await say(tg, user, quantity)
    await say(tg, user, "2 minggu")
    await press(tg, user, "Lewati")  # no note
    if photo:
        await user.send_photo(file_id="AgACAgIAAxkBAAIContohSarung")
        await tg.pump()
    else:
        await press(tg, user, "Lewati")
    assert "Siap dalam: 14 hari" in user.last_text
    await press(tg, user, "Kirim penawaran")
    assert "terkirim" in recent(user)
    stored = (len(rows(tg.app, Offer)), len(rows(tg.app, OutboxMessage)))
    await tg.replay_last()  # the webhook delivered twice: no second offer, no second notice
    assert (len(rows(tg.app, Offer)), len(rows(tg.app, OutboxMessage))) == stored
