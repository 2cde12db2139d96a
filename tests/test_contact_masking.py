"""Before an award, a phone number, e-mail or link typed into an offer's note, a company's
question or an IKM's answer is hidden from the other side, and the writer is told why."""

from __future__ import annotations

from sqlmodel import Session, select

from bot.core.i18n import Catalog
from models import Offer, OfferQuestion
from tests.test_procurement_rules import (
    post_need,
    press,
    register_glove_makers,
    verified_company,
)

_ID = Catalog.load().translator("id")
HIDDEN = _ID("privacy.contact_hidden")
WHY = _ID("privacy.contact_hidden_why")


async def test_contacts_in_notes_questions_and_answers_are_hidden(app, chat_as) -> None:
    company = await verified_company(app, chat_as)
    maker, _, _ = await register_glove_makers(chat_as)
    need = await post_need(company)

    await press(maker, f"@tawar:{need.id}", "Ajukan penawaran")
    await maker.say("7.500")
    await maker.say("3000")
    await maker.say("2 minggu")
    await maker.say("bisa kirim bertahap, wa aja ke 0812-3456-7890 atau cek instagram.com/glove")
    await maker.tap("Lewati")  # no photo
    assert WHY in maker.text and HIDDEN in maker.text
    assert "3456" not in maker.text and "instagram" not in maker.text
    await maker.tap("Kirim penawaran")

    await company.open()
    await press(company, f"@penawaran:{need.id}", "Lihat penawaran")
    await company.tap("1. Konveksi Tangan Terampil")
    assert "bisa kirim bertahap" in company.text and "0812-3456" not in company.text
    await company.tap("Tanya IKM")
    await company.say("Boleh minta no hp? Email kami beli@sinar.co.id")
    assert WHY in company.text

    replies = await maker.open()
    question = "\n".join(reply.text for reply in replies)
    assert "Boleh minta no hp?" in question and "sinar.co.id" not in question
    await maker.tap("Jawab")
    await maker.say("Silakan telp 08123456789")
    assert WHY in maker.text

    with Session(app.database) as session:
        stored = session.exec(select(OfferQuestion)).one()
        offer = session.exec(select(Offer)).one()
    assert "sinar.co.id" not in stored.question and "08123456789" not in stored.answer
    assert "0812-3456-7890" not in (offer.note or "")


async def test_tidak_ada_is_an_answer_to_a_companys_question(app, chat_as) -> None:
    """Where a reply goes to the other side, "tidak ada" is what the IKM means, not a skip."""
    company = await verified_company(app, chat_as)
    maker, _, _ = await register_glove_makers(chat_as)
    need = await post_need(company)
    await press(maker, f"@tawar:{need.id}", "Ajukan penawaran")
    for line in ("7.500", "3000", "2 minggu", "bisa kirim bertahap"):
        await maker.say(line)
    await maker.tap("Lewati")  # no photo
    await maker.tap("Kirim penawaran")

    await company.open()
    await press(company, f"@penawaran:{need.id}", "Lihat penawaran")
    await company.tap("1. Konveksi Tangan Terampil")
    await company.tap("Tanya IKM")
    await company.say("Ada sertifikat SNI?")
    await maker.open()
    await maker.tap("Jawab")
    await maker.say("Tidak ada")
    with Session(app.database) as session:
        stored = session.exec(select(OfferQuestion)).one()
    assert stored.answer == "Tidak ada"
