"""Owners register typing as they do on a phone, and are understood (console transcripts).

Every answer below is one a busy owner really sends: "y" to the data notice, a role in one
word, a sector said by its product, a desa where the kecamatan is asked, "nanti aja" for the
optional details (or "boleh", then "blm punya" for the NIB and "saya sendiri" for the workers),
a unit as "biji", a hedged price and a daily capacity.
"""

from __future__ import annotations

from sqlmodel import Session, select

from bot.core.i18n import Catalog
from models import Consent, IkmProfile, Product
from tests.chat import register_company
from tests.test_procurement_rules import post_need, register_glove_makers, verified_company

PHONE = "+6281234567890"
_ID = Catalog.load().translator("id")


def rows(app, table):
    with Session(app.database) as session:
        return list(session.exec(select(table)))


# Messages an owner typing sends to register with one product (README, "Typed naturally");
# tapping, at most 15 (tests/test_onboarding.py).
MAX_TYPED = 16
NATURAL_REGISTRATION = [
    "halo",
    "y",
    "ikm",
    "Siti Aminah",
    "Boneka Berkah",
    "boneka",
    "sukatenang",  # a desa: its kecamatan is Sukawangi, and the desa question is answered
    "nanti aja",  # the NIB and the workers: later, from Profil
    "Boneka karakter",
    "biji",
    "kurang lebih 50rb",
    "8 biji sehari",
    "ga usah",
    "mantap",
]


async def test_a_registration_typed_as_owners_type_is_understood(app, chat_as) -> None:
    chat = chat_as(PHONE)
    for answer in NATURAL_REGISTRATION:
        await chat.say(answer)
        assert "Maaf" not in chat.text, f"{answer!r} was refused: {chat.text}"
    assert _ID("ikm.registered", business="Boneka Berkah") in chat.text
    assert chat.sent == len(NATURAL_REGISTRATION) <= MAX_TYPED
    [ikm] = rows(app, IkmProfile)
    assert (ikm.sector, ikm.kecamatan, ikm.desa, ikm.nib, ikm.workers) == (
        "32",
        "Sukawangi",
        "Sukatenang",
        None,
        None,
    )
    [product] = rows(app, Product)
    assert (product.unit, product.price_min, product.price_max) == ("buah", 50_000, 50_000)
    assert product.capacity_per_month == 8 * 25  # eight a day, 25 working days
    assert len(rows(app, Consent)) == 1


async def test_the_optional_details_typed_in_words(app, chat_as) -> None:
    chat = chat_as(PHONE)
    answers = [*NATURAL_REGISTRATION[:7], "boleh", "blm punya", "saya sendiri"]
    for answer in [*answers, *NATURAL_REGISTRATION[8:]]:
        await chat.say(answer)
        assert "Maaf" not in chat.text, f"{answer!r} was refused: {chat.text}"
    [ikm] = rows(app, IkmProfile)
    assert (ikm.desa, ikm.nib, ikm.workers) == ("Sukatenang", None, 1)


async def test_small_talk_is_answered_and_the_question_stands(app, chat_as) -> None:
    chat = chat_as(PHONE)
    await chat.say("halo")
    await chat.say("assalamualaikum bu")
    assert chat.last[0].text == _ID("understanding.greeting")
    assert "Setuju" in chat.options  # the consent question stands, its long text not resent
    assert _ID("onboarding.consent") not in chat.text
    await chat.say("siap bu")
    await chat.say("makasih")
    assert chat.last[0].text == _ID("understanding.thanks")
    assert chat.options == [_ID("onboarding.as_ikm"), _ID("onboarding.as_company")]


async def test_an_unsure_reading_asks_with_one_tap(app, chat_as) -> None:
    chat = chat_as(PHONE)
    for answer in ("halo", "setuju", "umkm", "Siti", "Boneka Berkah", "boneka"):
        await chat.say(answer)
    await chat.say("tambun")  # two kecamatan begin so
    assert chat.text == _ID("understanding.which")
    assert chat.options[:-1] == ["Tambun Selatan", "Tambun Utara"]
    await chat.tap("Tambun Utara")
    assert chat.text == _ID("ikm.details.ask")
    await chat.say("boleh")  # the optional details, agreed to in words
    assert chat.text == _ID("ikm.desa.ask")
    await chat.say("tidak tahu")  # skipped in words
    assert chat.text == _ID("ikm.nib.ask")


async def test_the_menu_greets_without_an_empty_or_doubled_honorific(app, chat_as) -> None:
    chat = chat_as(PHONE)
    answers = ["halo", "setuju", "ikm", "ibu sri", "Kue Sri", "kue", "Setu", "lewati", "lewati"]
    answers += ["3 orang", "Nastar", "bungkus", "60rb", "100", "lewati", "simpan"]
    for answer in answers:
        await chat.say(answer)
    assert "Menu utama. Silakan pilih, ibu sri:" in chat.text
    assert "Bapak/Ibu ibu" not in chat.text

    officer = chat_as("+6281100000001")  # the admin, known by number only: no name yet
    await officer.say("halo")
    await officer.say("setuju")
    assert "Menu utama. Silakan pilih:" in officer.text
    assert "Bapak/Ibu :" not in officer.text


async def test_a_button_of_an_earlier_message_typed_acts_as_the_tap(app, chat_as) -> None:
    company = await verified_company(app, chat_as)
    maker, _, _ = await register_glove_makers(chat_as)
    await post_need(company)
    replies = await maker.open()  # the call arrives, with "Ajukan penawaran" under it
    assert any("Ajukan penawaran" in [o.label for o in r.options] for r in replies)
    await maker.say("menu")
    await maker.say("ajukan penawaran")  # typed at the menu, where no such option is
    assert "Target perusahaan" in maker.text  # the offer form of that call

    officer_phone = "+6281100000002"  # verified the company: now told of a second one
    other = chat_as("+6281300000002")
    await register_company(other)
    officer = chat_as(officer_phone)
    await officer.open()
    await officer.say("menu")
    await officer.say("Periksa sekarang")
    assert "Setujui" in officer.options


async def test_a_company_registers_typing_and_each_sector_is_listed_once(app, chat_as) -> None:
    chat = chat_as("+6281300000009")
    for answer in ("halo", "ok", "perusahaan", "PT Sinar Otomotif Indonesia", "kawasan mm"):
        await chat.say(answer)
        assert "Maaf" not in chat.text, f"{answer!r} was refused: {chat.text}"
    await chat.say("Jl. Jababeka Raya Blok F No. 12, Cikarang Utara")
    await chat.say("Bambang Wijaya")
    await chat.say("konveksi, pakaian jadi, seragam")  # three words for one sector
    await chat.tap("Selesai")
    assert "Bidang yang dibeli: Pakaian jadi (14)" in chat.text
    assert chat.text.count("Pakaian jadi") == 1
    assert "MM2100" in chat.text
