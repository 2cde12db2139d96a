"""A person's own account: seeing, exporting and deleting their data; the language."""

from __future__ import annotations

import json

from sqlmodel import Session, select

from models import (
    ChannelAccount,
    Company,
    Consent,
    ConversationState,
    IkmProfile,
    OutboxMessage,
    Person,
    Product,
)
from models.db import transaction
from models.outbox import OutboxState
from tests.chat import register_company, register_ikm

PHONE = "+6281234567890"
OTHER_PHONE = "+6285700000002"
COMPANY_PHONE = "+6281300000009"

PERSON_TABLES = (ChannelAccount, Consent, IkmProfile, Company, ConversationState)


def rows(app, table):
    with Session(app.database) as session:
        return list(session.exec(select(table)))


def person_id(app, phone: str) -> int:
    with Session(app.database) as session:
        return session.exec(select(Person.id).where(Person.phone == phone)).one()


def everything_of(app, pid: int) -> dict[str, list]:
    """Every row that belongs to person `pid`, by table."""
    with Session(app.database) as session:
        found = {"Person": list(session.exec(select(Person).where(Person.id == pid)))}
        for table in PERSON_TABLES:
            found[table.__name__] = list(session.exec(select(table).where(table.person_id == pid)))
        ikm_ids = [ikm.id for ikm in found["IkmProfile"]]
        found["Product"] = list(session.exec(select(Product).where(Product.ikm_id.in_(ikm_ids))))
        return found


# --- "hapus data": what is stored ---------------------------------------------------------


async def test_hapus_data_shows_everything_stored(app, chat_as) -> None:
    chat = chat_as(PHONE)
    await register_ikm(chat)
    await chat.say("hapus data")
    [reply] = chat.last
    assert reply.title == "Data Anda yang kami simpan"
    for expected in (
        "Ini semua data Anda di Sinergi IKM:",
        "Nomor HP: 0812-3456-7890",
        "Nama: Siti Aminah",
        "Bahasa: Bahasa Indonesia",
        "Peran: pelaku IKM",
        "Saluran: console",
        "Persetujuan data (versi 2026-11) pada 22/11/2026 10:00 WIB",
        "Nama usaha: Boneka Berkah Sukawangi",
        "Kecamatan: Sukawangi",
        "Produk: Boneka karakter",
        "Harga: Rp 40.000 – Rp 100.000 per pcs",
        "Anda bisa mengunduh atau menghapus semua data ini.",
    ):
        assert expected in reply.text
    assert chat.options == ["Unduh data saya", "Hapus semua data", "Kembali ke menu"]


async def test_hapus_data_works_in_the_middle_of_a_registration(app, chat_as) -> None:
    chat = chat_as(PHONE)
    await chat.say("halo")
    await chat.tap("Setuju")
    await chat.tap("Saya pelaku IKM")
    await chat.say("Siti Aminah")
    await chat.say("Hapus  Data")  # any case and spacing, at any step
    [reply] = chat.last
    assert reply.title == "Data Anda yang kami simpan"
    assert "Nomor HP: 0812-3456-7890" in reply.text
    assert "Peran: -" in reply.text
    assert "Persetujuan data (versi 2026-11)" in reply.text
    assert chat.options == ["Unduh data saya", "Hapus semua data", "Kembali ke menu"]


async def test_data_saya_from_the_menu_then_delete_everything(app, chat_as) -> None:
    chat = chat_as(PHONE)
    await register_ikm(chat)
    await chat.tap("Data saya")
    await chat.tap("Hapus semua data")
    await chat.tap("Ya, hapus semua")
    assert chat.text == "Semua data Anda sudah dihapus. Terima kasih telah memakai Sinergi IKM."
    assert rows(app, Person) == []


async def test_unduh_data_saya_through_the_chat(app, chat_as) -> None:
    chat = chat_as(PHONE)
    await register_ikm(chat)
    await chat.say("data saya")
    await chat.tap("Unduh data saya")
    document = chat.last[0].document
    assert document is not None
    assert [p["name"] for p in json.loads(document.content)["products"]] == ["Boneka karakter"]


# --- export and deletion, reached past the broken overview ---------------------------------


async def test_export_holds_my_data_and_nobody_elses(app, chat_as) -> None:
    siti, budi = chat_as(PHONE), chat_as(OTHER_PHONE)
    await register_ikm(siti)
    await siti.tap("Tambah produk")
    await siti.say("Boneka wisuda")
    await siti.tap("pcs")
    await siti.say("75rb")
    await siti.say("100")
    await siti.tap("Lewati")
    await siti.tap("Simpan")
    await register_ikm(budi, business="Sarung Tangan Budi")

    await siti.say("hapus data")
    replies = await siti.tap("Unduh data saya")
    assert replies[0].text == "Ini salinan data Anda."
    document = replies[0].document
    assert document is not None
    assert (document.filename, document.mime_type) == ("data-sinergi-ikm.json", "application/json")
    data = json.loads(document.content.decode("utf-8"))
    assert data["person"]["phone"] == PHONE
    assert data["person"]["name"] == "Siti Aminah"
    assert data["person"]["role"] == "ikm"
    assert [c["text_version"] for c in data["consents"]] == ["2026-11"]
    assert [a["external_id"] for a in data["channel_accounts"]] == [PHONE]
    assert data["ikm_profile"]["business_name"] == "Boneka Berkah Sukawangi"
    products = [(p["name"], p["price_min"], p["price_max"]) for p in data["products"]]
    assert products == [("Boneka karakter", 40_000, 100_000), ("Boneka wisuda", 75_000, 75_000)]
    assert data["company"] is None
    assert "Sarung Tangan Budi" not in document.content.decode("utf-8")
    assert OTHER_PHONE not in document.content.decode("utf-8")
    # then back to the menu; nothing was deleted
    assert siti.text.endswith("Menu utama. Silakan pilih, Bapak/Ibu Siti Aminah:")
    assert len(rows(app, Product)) == 3


async def test_delete_everything_removes_every_row_of_that_person_only(app, chat_as) -> None:
    siti, budi, company = chat_as(PHONE), chat_as(OTHER_PHONE), chat_as(COMPANY_PHONE)
    await register_ikm(siti)
    await register_ikm(budi, business="Sarung Tangan Budi")
    await register_company(company)
    siti_id, budi_id, company_id = (person_id(app, p) for p in (PHONE, OTHER_PHONE, COMPANY_PHONE))
    siti_before = everything_of(app, siti_id)
    assert all(found for table, found in siti_before.items() if table != "Company")
    budi_before = everything_of(app, budi_id)
    company_before = everything_of(app, company_id)

    await siti.say("hapus data")
    await siti.tap("Hapus semua data")
    assert siti.text.startswith(
        "Yakin hapus semua data Anda? Profil, produk dan riwayat akan hilang "
        "dan tidak bisa dikembalikan.\n\nCatatan kemitraan, penawaran yang sudah diputuskan"
    )
    assert siti.options == ["Ya, hapus semua", "Tidak"]
    await siti.tap("Ya, hapus semua")
    assert siti.text == "Semua data Anda sudah dihapus. Terima kasih telah memakai Sinergi IKM."
    assert siti.options == []

    assert everything_of(app, siti_id) == {
        "Person": [],
        "ChannelAccount": [],
        "Consent": [],
        "IkmProfile": [],
        "Company": [],
        "ConversationState": [],
        "Product": [],
    }
    assert everything_of(app, budi_id) == budi_before
    assert everything_of(app, company_id) == company_before
    assert len(rows(app, Person)) == 2

    # writing again is a first contact: welcome and consent, nothing remembered
    await siti.say("halo")
    assert siti.text.startswith("Selamat datang di Sinergi IKM")
    assert siti.options == ["Setuju", "Tidak setuju", "English"]
    [fresh] = [p for p in rows(app, Person) if p.phone == PHONE]
    assert fresh.id != siti_id
    assert (fresh.name, fresh.role) == (None, None)
    assert everything_of(app, fresh.id)["Consent"] == []
    await siti.tap("Setuju")
    assert siti.options == ["Saya pelaku IKM", "Saya perusahaan"]


async def test_a_company_deleting_its_data_loses_the_company_row(app, chat_as) -> None:
    company, siti = chat_as(COMPANY_PHONE), chat_as(PHONE)
    await register_company(company)
    await register_ikm(siti)
    company_id = person_id(app, COMPANY_PHONE)

    await company.say("hapus data")
    await company.tap("Hapus semua data")
    await company.tap("Ya, hapus semua")
    assert not any(everything_of(app, company_id).values())
    assert rows(app, Company) == []
    assert len(rows(app, IkmProfile)) == 1 and len(rows(app, Product)) == 1


async def test_declining_the_deletion_keeps_everything(app, chat_as) -> None:
    siti = chat_as(PHONE)
    await register_ikm(siti)
    siti_id = person_id(app, PHONE)
    before = everything_of(app, siti_id)

    await siti.say("hapus data")
    await siti.tap("Hapus semua data")
    await siti.say("7")  # no such option: asked again, nothing deleted
    assert siti.last[0].text.startswith("Maaf, pilihan itu tidak ada.")
    assert siti.options == ["Ya, hapus semua", "Tidak"]
    await siti.tap("Tidak")
    assert siti.text == (
        "Baik, data Anda tidak dihapus.\nMenu utama. Silakan pilih, Bapak/Ibu Siti Aminah:"
    )
    after = everything_of(app, siti_id)
    for table in ("Person", "ChannelAccount", "Consent", "IkmProfile", "Product"):
        assert after[table] == before[table], table


# --- language ------------------------------------------------------------------------------


async def test_bahasa_switches_every_following_message_and_back(app, chat_as) -> None:
    chat = chat_as(PHONE)
    await register_ikm(chat)
    await chat.say("bahasa")
    assert chat.text == "Pilih bahasa / Choose a language:"
    assert chat.options == ["Bahasa Indonesia", "English"]
    await chat.tap("English")
    assert chat.text == "Language changed to English.\nMain menu. Please choose, Siti Aminah:"
    assert chat.options == [
        "Procurement calls",
        "My products",
        "Add product",
        "Bimtek (training)",
        "Business profile",
        "Language / Bahasa",
        "My data",
    ]
    [person] = rows(app, Person)
    assert person.language == "en"

    await chat.tap("My products")
    assert chat.text == "Your products:\n1. Boneka karakter: Rp 40.000 – Rp 100.000 per pcs"
    assert chat.options == ["Boneka karakter", "Add product", "Back to menu"]
    await chat.say("whatever")
    assert chat.last[0].text == "Sorry, that option does not exist. Please choose one below."
    assert chat.options == ["Boneka karakter", "Add product", "Back to menu"]
    await chat.tap("Add product")
    assert chat.text == (
        "What product do you make? Write the product name (e.g. Character dolls, "
        "Cotton work gloves)."
    )
    await chat.say("!!!")
    assert chat.last[0].text.startswith(
        "Sorry, we could not read the product name. Example: Cotton work gloves"
    )
    await chat.say("cancel")
    assert chat.text.startswith("OK, cancelled. Data already saved is still safe.")
    await chat.say("profil")
    assert chat.last[0].title == "Business profile"

    await chat.say("language")
    await chat.tap("Bahasa Indonesia")
    assert chat.text == (
        "Bahasa sudah diganti ke Bahasa Indonesia.\n"
        "Menu utama. Silakan pilih, Bapak/Ibu Siti Aminah:"
    )
    assert chat.options[:2] == ["Peluang pengadaan", "Produk saya"]
    [person] = rows(app, Person)
    assert person.language == "id"
    await chat.tap("Produk saya")
    assert chat.text.startswith("Produk Anda:")


async def test_what_waits_to_be_sent_follows_the_new_language(app, chat_as) -> None:
    chat = chat_as(PHONE)
    await register_ikm(chat)
    [person] = rows(app, Person)
    now = app.engine.clock.now()
    with transaction(app.database) as session:
        for key, state in (("waits", OutboxState.PENDING), ("went", OutboxState.SENT)):
            session.add(
                OutboxMessage(
                    idempotency_key=key,
                    person_id=person.id,
                    channel="telegram",  # queued for another of the person's channels
                    account_id="111",
                    kind="announcement",
                    content={"template": "announcement", "params": {"text": "Pameran"}},
                    language="id",
                    state=state,
                    next_attempt_at=now,
                )
            )
    await chat.say("bahasa")
    await chat.tap("English")
    languages = {row.idempotency_key: row.language for row in rows(app, OutboxMessage)}
    assert languages == {"waits": "en", "went": "id"}


async def test_a_company_switches_language_too(app, chat_as) -> None:
    chat = chat_as(COMPANY_PHONE)
    await register_company(chat)
    await chat.tap("Bahasa / Language")
    await chat.tap("English")
    assert chat.text == "Language changed to English.\nCompany main menu. Please choose:"
    await chat.tap("Company profile")
    assert chat.last[0].title == "Company profile"
    assert "Status: waiting for Dinas verification" in chat.text


async def test_switching_language_mid_flow_keeps_the_answers(app, chat_as) -> None:
    chat = chat_as(PHONE)
    await register_ikm(chat)
    await chat.tap("Tambah produk")
    await chat.say("Keripik singkong")
    await chat.tap("kg")
    await chat.say("bahasa")
    await chat.tap("English")
    assert "Continue where I was" in chat.options
    await chat.tap("Continue where I was")
    assert chat.text.startswith("What is the price per unit?")
    await chat.say("25rb")
    await chat.say("300")
    await chat.tap("Skip")
    assert "Product: Keripik singkong" in chat.text
    assert "Unit: kg" in chat.text
