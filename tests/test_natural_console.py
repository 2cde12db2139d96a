"""Owners and buyers typing as they do on a phone, the whole story (console transcripts): a
glove maker registers, a company registers and posts a need in one message, the maker offers
typing every answer, and signs up for a bimtek with "daftar" and "iya".

The scripts are shared with tests/test_natural_telegram.py and tests/test_natural_whatsapp.py,
so the three channels are held to the same answers. Nothing clear may be refused: a refusal
begins "Maaf".
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, select

from bot.core import understanding
from bot.core.i18n import Catalog
from bot.core.messages import Option
from bot.core.understanding import Expect, Kind, Reading
from models import BimtekRegistration, Company, IkmProfile, Need, Offer, Product
from tests.chat import register_ikm
from tests.procurement_cast import COMPANY, OFFICER
from tests.test_procurement_flow import grant_officer, register_glove_makers, verify_company
from tests.test_procurement_rules import post_need, press, verified_company

_ID = Catalog.load().translator("id")
MAKER = "+6281200000031"
BUSINESS = "Konveksi Siti & Putri"  # "&" must reach Telegram escaped, and be shown as typed
REFUSED = "Maaf"

# Each answer typed; on Telegram the contact is shared after the data notice (one more message).
IKM_BEFORE_CONTACT = ["halo", "y"]
IKM_AFTER_CONTACT = [
    "umkm",
    "Siti Aminah",
    BUSINESS,
    "konveksi",
    "telaga asih",  # a kelurahan of Cikarang Barat: the kecamatan and the desa at once
    "nanti aja",  # the NIB and the workers: later, from Profil
    "Sarung tangan katun",
    "psg",
    "kurang lebih 7rb",
    "150 psg sehari",
    "ga usah",
    "mantap",
]
MAX_REGISTRATION_MESSAGES = 16

COMPANY_BEFORE_CONTACT = ["halo", "ok"]
COMPANY_AFTER_CONTACT = [
    "perusahaan",
    "PT Sinar Otomotif Indonesia",
    "jbbk",
    "Jl. Jababeka Raya Blok F No. 12, Cikarang Utara",
    "Bambang Wijaya",
    "konveksi",
    "selesai",
    "sudah benar",
]
NEED = "kebutuhan 5000 psg sarung tangan katun, 7rb/psg, sebelum jumat, kirim ke jbbk"
NEED_AFTER = ["akhir desember", "gas"]  # the delivery date asked, then the summary confirmed

OFFER = ["7,5rb", "3rb psg", "2 mingguan", "bisa bertahap, wa 0812-3456-7890", "ga usah", "kirim"]
BIMTEK_SIGN_UP = ["daftar", "iya"]

# The officer's bimtek, answered with the labels of its buttons (the officer is not the story).
BIMTEK = [
    "menu",
    "Buat bimtek",
    "Bimtek Menjahit Sarung Tangan",
    "Lewati",
    "Kemenperin",
    "Kamis 26/11/2026 jam 9",
    "Aula Dinas Perindustrian, Cikarang Pusat",
    "20",
    "Pakaian jadi",
    "Selesai",
    "Semua",
    "Sehari sebelumnya",
    "Peserta menerima mesin jahit portabel",
    "Simpan & umumkan",
]


def rows(app, table) -> list:
    with Session(app.database) as session:
        return list(session.exec(select(table)))


def assert_maker_stored(app) -> None:
    [ikm] = [i for i in rows(app, IkmProfile) if i.business_name == BUSINESS]
    assert (ikm.sector, ikm.kecamatan, ikm.desa, ikm.nib, ikm.workers) == (
        "14",
        "Cikarang Barat",
        "Telaga Asih",
        None,
        None,
    )
    [product] = rows(app, Product)
    assert (product.unit, product.price_min, product.price_max) == ("pasang", 7_000, 7_000)
    assert product.capacity_per_month == 150 * 25  # a day's 150, 25 working days


def assert_company_stored(app) -> None:
    [company] = rows(app, Company)
    assert company.name == "PT Sinar Otomotif Indonesia"
    assert company.estate == "jababeka"  # the estate's key
    assert company.sectors == ["14"]


def assert_need_stored(app) -> None:
    [need] = rows(app, Need)
    assert (need.title, need.quantity, need.unit, need.price_per_unit) == (
        "sarung tangan katun",
        5000,
        "pasang",
        7000,
    )
    assert need.sectors == ["14"]
    assert need.delivery_place == "Jababeka"


def assert_offer_stored(app) -> None:
    [offer] = rows(app, Offer)
    assert (offer.price_per_unit, offer.quantity, offer.lead_time_days) == (7500, 3000, 14)
    assert "bertahap" in offer.note and "3456" not in offer.note


def assert_signed_up(app) -> None:
    [registration] = rows(app, BimtekRegistration)
    assert registration.status == "registered"


async def say_all(chat, answers: list[str]) -> None:
    for answer in answers:
        await chat.say(answer)
        assert REFUSED not in chat.text, f"{answer!r} was refused: {chat.text}"


async def test_the_whole_story_typed_as_people_type(app, chat_as) -> None:
    maker = chat_as(MAKER)
    registration = IKM_BEFORE_CONTACT + IKM_AFTER_CONTACT
    await say_all(maker, registration)
    assert _ID("ikm.registered", business=BUSINESS) in maker.text
    assert len(registration) <= MAX_REGISTRATION_MESSAGES
    assert_maker_stored(app)

    grant_officer(app)
    company = chat_as(COMPANY)
    await say_all(company, COMPANY_BEFORE_CONTACT + COMPANY_AFTER_CONTACT)
    assert_company_stored(app)
    await verify_company(chat_as(OFFICER))
    await company.open()
    await say_all(company, [f"/{NEED}", *NEED_AFTER])
    assert "sudah diterbitkan" in company.text
    assert_need_stored(app)

    replies = await maker.open()
    assert any("Ajukan penawaran" in [o.label for o in r.options] for r in replies)
    await say_all(maker, ["ajukan penawaran", *OFFER])
    assert "terkirim" in maker.text
    assert_offer_stored(app)

    officer = chat_as(OFFICER)
    await say_all(officer, BIMTEK)
    assert "dibuat dan diumumkan" in officer.text
    await maker.open()
    assert "Bimtek baru untuk usaha Anda" in maker.text
    await say_all(maker, BIMTEK_SIGN_UP)
    assert "Anda terdaftar" in maker.text
    assert_signed_up(app)


# --- each answer the story found refused, on its own ---------------------------------------


async def offer_form(app, chat_as):
    """A verified company's glove need, and a glove maker at its offer form."""
    company = await verified_company(app, chat_as)
    maker, _, _ = await register_glove_makers(chat_as)
    need = await post_need(company)
    await press(maker, f"@tawar:{need.id}", "Ajukan penawaran")
    assert "Target perusahaan" in maker.text
    return company, maker


async def test_a_lead_time_said_with_an_is_understood(app, chat_as) -> None:
    _, maker = await offer_form(app, chat_as)
    await say_all(maker, ["7.500", "3000", "2 mingguan"])
    assert maker.text == _ID("offer.note.ask")


async def test_every_offer_answer_is_read_by_the_understanding_layer(app, chat_as) -> None:
    _, maker = await offer_form(app, chat_as)
    await say_all(maker, ["kurang lebih 7,5rb", "3000", "2 minggu", "gak ada"])  # a skip
    assert maker.text == _ID("offer.photo.ask")


async def test_a_photo_skipped_in_words_is_skipped(app, chat_as) -> None:
    _, maker = await offer_form(app, chat_as)
    await say_all(maker, ["7.500", "3000", "2 minggu"])
    await maker.tap("Lewati")  # no note
    assert maker.options == ["Lewati"]  # the photo: no text of its own is read
    await say_all(maker, ["ga usah"])
    assert "Periksa penawaran" in maker.text


async def test_a_summary_is_confirmed_with_its_first_word(app, chat_as) -> None:
    _, maker = await offer_form(app, chat_as)
    await say_all(maker, ["7.500", "3000", "2 minggu"])
    await maker.tap("Lewati")
    await maker.tap("Lewati")
    assert maker.options == ["Kirim penawaran", "Ubah", "Batal"]
    await say_all(maker, ["kirim"])  # "Tekan Kirim", says the summary
    assert "terkirim" in maker.text


async def test_a_summary_naming_no_yes_is_confirmed_with_a_yes_word(app, chat_as) -> None:
    company = await verified_company(app, chat_as)
    await company.say(
        "/kebutuhan 300 pasang sarung tangan rajut, 8rb/psg, batas 30/11, kirim ke jbbk"
    )
    await company.say("31/12")
    assert company.options == ["Terbitkan", "Ubah", "Batal"]
    await say_all(company, ["gas"])
    assert "sudah diterbitkan" in company.text


def test_a_yes_or_no_word_picks_only_an_option_it_can_mean() -> None:
    now = datetime(2026, 11, 22, 3, tzinfo=UTC)

    def read(text: str, *ids: str) -> Reading:
        options = tuple(Option(option_id, option_id.title()) for option_id in ids)
        return understanding.read(text, Expect(Kind.CHOICE, options=options), now=now)

    assert read("gas", "publish", "edit", "drop").value == "publish"
    assert read("ga", "register", "back").value == "back"
    assert not read("iya", "publish", "send").understood  # two could be meant: neither
    assert not read("iya", "edit", "drop").understood  # none goes forward
    assert read("kirim", "kirim penawaran", "ubah").value == "kirim penawaran"
    assert not read("lihat", "lihat detail", "lihat penawaran").understood


async def test_a_bimtek_announced_is_taken_with_daftar_and_iya(app, chat_as) -> None:
    maker = chat_as(MAKER)
    await register_ikm(maker, sector="Pakaian jadi")
    grant_officer(app)
    await say_all(chat_as(OFFICER), ["halo", "setuju", *BIMTEK[1:]])
    await maker.open()
    assert any("Lihat dan daftar" in [o.label for o in r.options] for r in maker.last)
    await say_all(maker, ["daftar"])  # at the menu: the announcement's button, in a word
    assert "Sisa kursi" in maker.text
    await say_all(maker, ["ga"])  # a no-word goes back, where the question names no "no"
    assert "Bimtek Menjahit Sarung Tangan" in maker.options
    await maker.tap("Bimtek Menjahit Sarung Tangan")
    await say_all(maker, ["iya"])
    assert "Anda terdaftar" in maker.text
    assert_signed_up(app)
