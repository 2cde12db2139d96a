"""Procurement end to end through the console: a company registers and waits, the Dinas
verifies it, it posts a need in one message, the matched IKM receive the call and offer,
the company awards two of them, the partnerships exist and both sides got each other's
contact (and never before the award)."""

from __future__ import annotations

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
from tests.chat import register_company, register_ikm
from tests.procurement_cast import COMPANY, DOLLS, GLOVES_A, GLOVES_B, OFFICER, QUICK_NEED


def grant_officer(app) -> None:
    with transaction(app.database) as session:
        accounts.grant_dinas(session, phone=OFFICER, now=app.engine.clock.now(), language="id")


async def verify_company(officer, name: str = "PT Sinar Otomotif Indonesia") -> None:
    await officer.say("halo")
    await officer.tap("Setuju")
    await officer.tap("Verifikasi perusahaan")
    assert "1 perusahaan menunggu verifikasi" in officer.text
    await officer.tap(name)
    assert "Bambang Wijaya, 0813-0000-0001" in officer.text or "Bambang Wijaya" in officer.text
    await officer.tap("Setujui")
    assert f"{name} disetujui" in officer.text


async def register_glove_makers(chat_as) -> tuple:
    chats = []
    for maker in (GLOVES_A, GLOVES_B, DOLLS):
        chats.append(chat_as(maker.phone))
        await register_ikm(chats[-1], **maker.answers())
    return tuple(chats)


def company_texts(app) -> list[str]:
    with Session(app.database) as session:
        company = session.exec(select(Company)).one()
        rows = session.exec(
            select(OutboxMessage).where(OutboxMessage.person_id == company.person_id)
        ).all()
    return [str(row.content) for row in rows]


async def make_offer(chat, price: str, quantity: str) -> None:
    replies = await chat.open()
    assert any(reply.title == "Peluang baru untuk usaha Anda" for reply in replies)
    call = next(reply for reply in replies if reply.title == "Peluang baru untuk usaha Anda")
    assert "Cocok karena" in call.text and "sarung tangan" in call.text.lower()
    assert [option.label for option in call.options] == [
        "Lihat detail",
        "Ajukan penawaran",
        "Tidak berminat",
    ]
    await chat.tap("Ajukan penawaran")
    assert "Target perusahaan: Rp 8.000/pasang" in chat.text
    await chat.say(price)
    await chat.say(quantity)
    await chat.say("2 minggu")
    await chat.tap("Lewati")
    await chat.tap("Lewati")
    assert "Siap dalam: 14 hari" in chat.text
    await chat.tap("Kirim penawaran")
    assert "terkirim" in chat.text


async def test_company_verified_posts_need_ikm_offer_and_two_are_awarded(
    app, chat_as, clock
) -> None:
    grant_officer(app)
    company = chat_as(COMPANY)
    await register_company(company)
    await company.say("kebutuhan")
    assert "menunggu verifikasi" in company.text  # not verified yet: cannot post

    officer = chat_as(OFFICER)
    await verify_company(officer)
    with Session(app.database) as session:
        assert session.exec(select(Company)).one().status == CompanyStatus.VERIFIED
        decision = session.exec(select(VerificationDecision)).one()
        assert (decision.decision, decision.officer_phone) == ("verified", OFFICER)

    first, second, dolls = await register_glove_makers(chat_as)

    inbox = await company.open()
    assert any(reply.title == "Perusahaan terverifikasi" for reply in inbox)
    await company.say(QUICK_NEED)
    assert "Sudah saya catat" in company.text  # it asks only what it could not read
    # The sector is read from the product words: gloves are apparel.
    assert "Kapan barang harus diterima" in company.text
    await company.say("31/12")
    assert "Periksa kebutuhan" in company.text
    assert "5.000 pasang" in company.text and "Rp 8.000 per pasang" in company.text
    assert "Senin, 30 November 2026 pukul 23.59 WIB" in company.text
    await company.tap("Terbitkan")
    assert "dikirim ke 2 IKM" in company.text
    assert "2 IKM bersama dapat memenuhi 5.000 pasang" in company.text

    assert await dolls.open() == [] or not any(
        reply.title == "Peluang baru untuk usaha Anda" for reply in dolls.last
    )
    await make_offer(first, "7.500", "3000")
    await make_offer(second, "8rb", "2.000")

    # Before any award, nothing the company received carries an IKM's phone number.
    assert not any(
        "6281200000021" in text or "6281200000022" in text for text in company_texts(app)
    )

    inbox = await company.open()
    assert sum(reply.title == "Penawaran baru" for reply in inbox) == 2
    await company.tap("Lihat penawaran")
    assert "Konveksi Tangan Terampil" in company.text and "Rajut Glove Setu" in company.text
    assert "0812" not in company.text
    await company.tap("1. Konveksi Tangan Terampil")
    await company.tap("Pilih penawaran ini")
    await company.tap("Semua (3.000)")
    assert "Kemitraan dengan Konveksi Tangan Terampil tercatat: 3.000 pasang" in company.text
    await company.tap("2. Rajut Glove Setu")
    await company.tap("Pilih penawaran ini")
    await company.tap("Semua (2.000)")
    assert "Seluruh jumlah sudah terpenuhi" in company.text

    with Session(app.database) as session:
        partnerships = session.exec(select(Partnership).order_by(Partnership.id)).all()
        assert [(p.quantity, p.value) for p in partnerships] == [
            (3000, 3000 * 7500),
            (2000, 2000 * 8000),
        ]
        assert {o.status for o in session.exec(select(Offer)).all()} == {"awarded"}
        assert len(session.exec(select(NeedMatch)).all()) == 2

    won = await first.open()
    assert any(reply.title == "Selamat, penawaran Anda dipilih!" for reply in won)
    assert "Bambang Wijaya di 0813-0000-0001" in "\n".join(r.text for r in won)
    partner_news = await company.open()
    text = "\n".join(reply.text for reply in partner_news)
    assert "0812-0000-0021" in text and "0812-0000-0022" in text
