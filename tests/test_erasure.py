"""`hapus data` removes every trace of the person at once, and never another party's records:
partnerships, decided offers and verification decisions stay, with the erased party shown
as "IKM (data dihapus)" / "Perusahaan (data dihapus)", and the other party is told where
it matters."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, select

from bot.config import WhatsAppTemplate
from bot.services import erasure
from models import (
    BimtekRegistration,
    BimtekSession,
    Company,
    DeliveryStatus,
    IkmProfile,
    InboundEvent,
    Need,
    Offer,
    Partnership,
    VerificationDecision,
)
from tests.chat import register_company, register_ikm
from tests.procurement_cast import COMPANY, GLOVES_A, GLOVES_B, QUICK_NEED
from tests.test_bimtek_flow import OFFICER, create_bimtek
from tests.test_procurement_flow import (
    grant_officer,
    make_offer,
    register_glove_makers,
    verify_company,
)
from tests.whatsapp_chat import act, whatsapp_bot

ERASED_IKM = "IKM (data dihapus)"
ERASED_COMPANY = "Perusahaan (data dihapus)"


def phone_forms(e164: str) -> list[str]:
    """How a number can be written down: +6281..., 6281... (a wa_id), 081..., 0812-..."""
    digits = e164.lstrip("+")
    local = "0" + digits[2:]
    return [digits, local, f"{local[:4]}-{local[4:8]}-{local[8:]}"]


def rows_holding(app, needles: list[str]) -> list[str]:
    """Every text or JSON value, in every table of the schema, that holds one of `needles`:
    a new table is scanned without being named here."""
    found = []
    with Session(app.database) as session:
        for table in SQLModel.metadata.sorted_tables:
            columns = [
                column
                for column in table.columns
                if isinstance(column.type, sa.String | sa.JSON | sa.Text)
            ]
            for row in session.execute(sa.select(*columns)) if columns else []:
                for column, value in zip(columns, row, strict=True):
                    text = value if isinstance(value, str) else json.dumps(value)
                    for needle in needles:
                        if needle.lower() in (text or "").lower():
                            found.append(f"{table.name}.{column.name}: {text[:120]}")
    return found


def messages_in(body: dict) -> list[dict]:
    return [
        message
        for entry in body.get("entry", [])
        for change in entry.get("changes", [])
        for message in change.get("value", {}).get("messages", [])
    ]


async def post_need_and_collect_offers(app, chat_as) -> tuple:
    """A verified company's glove need; the two glove makers offer."""
    grant_officer(app)
    company = chat_as(COMPANY)
    await register_company(company)
    await verify_company(chat_as("+6281100000002"))
    first, second, _dolls = await register_glove_makers(chat_as)
    await company.open()
    await company.say(QUICK_NEED)  # the sector is read from the product words
    await company.say("31/12")
    await company.tap("Terbitkan")
    await make_offer(first, "7.500", "3000")
    await make_offer(second, "8rb", "2.000")
    await company.open()
    return company, first, second


async def erase(chat) -> None:
    await chat.say("hapus data")
    await chat.tap("Hapus semua data")
    await chat.tap("Ya, hapus semua")
    assert "Semua data Anda sudah dihapus" in chat.text


def test_every_table_is_decided_in_the_erasure() -> None:
    assert set(erasure.TABLES) == set(SQLModel.metadata.tables)


async def test_an_awarded_ikm_erases_itself_and_the_partnership_stays_anonymised(
    app, chat_as
) -> None:
    company, first, _second = await post_need_and_collect_offers(app, chat_as)
    await company.tap("Lihat penawaran")
    await company.tap(f"1. {GLOVES_A.business}")
    await company.tap("Pilih penawaran ini")
    await company.tap("Semua (3.000)")
    assert f"Kemitraan dengan {GLOVES_A.business} tercatat" in company.text
    await first.open()
    assert rows_holding(app, [GLOVES_A.business, *phone_forms(GLOVES_A.phone)])

    await erase(first)

    with Session(app.database) as session:
        [partnership] = session.exec(select(Partnership)).all()
        ikm = session.get(IkmProfile, partnership.ikm_id)
        assert (partnership.quantity, partnership.value) == (3000, 3000 * 7500)
        assert (ikm.person_id, ikm.sector, ikm.kecamatan) == (None, "14", "Cikarang Barat")
        awarded = session.get(Offer, partnership.offer_id)
        assert (awarded.status, awarded.person_id) == ("awarded", None)
    assert rows_holding(app, [GLOVES_A.business, *phone_forms(GLOVES_A.phone)]) == []
    # The other maker keeps everything, their name included.
    assert rows_holding(app, [GLOVES_B.business])

    await company.say("menu")
    await company.tap("Kebutuhan saya")
    await company.tap("sarung tangan kerja katun")
    await company.tap("Lihat penawaran")
    assert f"{ERASED_IKM} ✅" in company.text and GLOVES_B.business in company.text
    await company.tap(f"1. {ERASED_IKM}")
    assert "Tanya IKM" not in company.options  # no one is left to answer
    await company.tap("Semua penawaran")
    inbox = "\n".join(reply.text for reply in await company.open())
    assert GLOVES_A.business not in inbox


async def test_an_ikm_with_an_open_offer_erases_itself_and_the_company_is_told(
    app, chat_as
) -> None:
    company, first, _second = await post_need_and_collect_offers(app, chat_as)

    await erase(first)

    inbox = await company.open()
    [told] = [reply for reply in inbox if reply.title == "Penawaran ditarik"]
    assert "ditarik karena pelaku IKM tersebut menghapus datanya" in told.text
    with Session(app.database) as session:
        statuses = {offer.person_id: offer.status for offer in session.exec(select(Offer))}
    assert statuses[None] == "withdrawn" and "active" in statuses.values()
    assert rows_holding(app, [GLOVES_A.business, *phone_forms(GLOVES_A.phone)]) == []


async def test_a_company_erases_itself_and_offers_and_decisions_stay(app, chat_as) -> None:
    company, first, second = await post_need_and_collect_offers(app, chat_as)
    await company.tap("Lihat penawaran")
    await company.tap(f"1. {GLOVES_A.business}")
    await company.tap("Tanya IKM")
    await company.say("Bisa kirim contoh dulu?")

    await erase(company)

    with Session(app.database) as session:
        [need] = session.exec(select(Need)).all()
        offers = session.exec(select(Offer)).all()
        [decision] = session.exec(select(VerificationDecision)).all()
        [kept] = session.exec(select(Company)).all()
    assert need.status == "cancelled"
    assert len(offers) == 2 and all(offer.person_id is not None for offer in offers)
    assert (decision.decision, decision.company_name) == ("verified", "")
    assert (kept.person_id, kept.name) == (None, "")
    company_traces = ["PT Sinar Otomotif", "Jl. Jababeka Raya Blok F", *phone_forms(COMPANY)]
    assert rows_holding(app, company_traces) == []

    for maker in (first, second):
        inbox = await maker.open()
        assert any(reply.title == "Kebutuhan ini dibatalkan perusahaan" for reply in inbox)
        assert any(ERASED_COMPANY in reply.text for reply in inbox)
        assert not any("PT Sinar Otomotif" in reply.text for reply in inbox)
    await first.tap("Jawab")  # a question asked before the company left
    await first.say("Bisa, Pak")
    assert "Jawaban terkirim" in first.text
    assert rows_holding(app, company_traces) == []
    await first.say("peluang")
    assert "PT Sinar Otomotif" not in first.text


async def test_whatsapp_bodies_and_statuses_of_the_person_go_at_once(app, chat_as) -> None:
    wa_id = GLOVES_A.phone.lstrip("+")
    await register_ikm(chat_as(GLOVES_A.phone), business=GLOVES_A.business)
    async with whatsapp_bot(
        app,
        templates={"announcement": WhatsAppTemplate(name="pengumuman_dinas", params=["text"])},
        approved_templates={"pengumuman_dinas": {"id": 1}},
    ) as whatsapp:
        other = whatsapp.graph.person(wa_id="6285700000002", name="Budi")
        await act(whatsapp, other.send_text("halo"))
        siti = whatsapp.graph.person(wa_id=wa_id, name="Siti Aminah")
        await act(whatsapp, siti.send_text("hapus data"))
        await act(whatsapp, siti.tap_button("Hapus semua data"))
        with Session(app.database) as session:
            bodies = session.exec(select(InboundEvent)).all()
            assert any(wa_id in json.dumps(body.payload) for body in bodies)
            assert session.exec(select(DeliveryStatus)).all()
        await act(whatsapp, siti.tap_button("Ya, hapus semua"))
        assert "Semua data Anda sudah dihapus" in siti.last_text

    with Session(app.database) as session:
        bodies = [body.payload for body in session.exec(select(InboundEvent))]
        statuses = session.exec(select(DeliveryStatus)).all()
    assert {status.recipient for status in statuses} == {"6285700000002"}
    mentioning = [body for body in bodies if wa_id in json.dumps(body)]
    # Only the farewell's own delivery statuses came after the deletion: no message, no name.
    assert all(not messages_in(body) and "Siti" not in json.dumps(body) for body in mentioning)
    assert any("Budi" in json.dumps(body) for body in bodies)  # others' bodies are theirs


async def test_an_attendance_stays_for_the_dinas_under_the_anonymised_label(
    app, chat_as, clock
) -> None:
    chat = chat_as(GLOVES_A.phone)
    await register_ikm(chat, business="Boneka Hadir Selalu")
    grant_officer(app)
    officer = chat_as(OFFICER)
    await create_bimtek(officer, reach=1)
    await chat.open()
    await chat.tap("Lihat dan daftar")
    await chat.tap("Daftar")
    with Session(app.database) as session:
        code = session.exec(select(BimtekSession)).one().checkin_code
    clock.set(datetime(2026, 11, 26, 2, 0, tzinfo=UTC))  # 09:00 WIB, at the venue
    await chat.say("hadir")
    await chat.say(code)
    assert "sudah tercatat" in chat.text

    await erase(chat)

    with Session(app.database) as session:
        [attended] = session.exec(select(BimtekRegistration)).all()
    assert attended.person_id is None and attended.attended_at is not None
    assert rows_holding(app, ["Boneka Hadir Selalu", *phone_forms(GLOVES_A.phone)]) == []
    await officer.say("bimtek")
    await officer.tap("Bimtek Menjahit Boneka")
    assert f"1. {ERASED_IKM} (" in officer.text and "✓" in officer.text
    await officer.tap("Unduh daftar (CSV)")
    [document] = [reply.document for reply in officer.last if reply.document]
    assert ERASED_IKM in document.content.decode("utf-8")
