"""Wrong answers: one friendly sentence (with an example), the same question again, nothing lost.

Each test makes mistakes at some steps of a registration, then finishes it and checks the
saved rows, so an answer given before a mistake is proved to be kept.
"""

from __future__ import annotations

from sqlmodel import Session, select

from bot.core.i18n import Catalog
from models import Company, Consent, IkmProfile, Person, Product
from tests.chat import Chat

PHONE = "+6281234567890"
COMPANY_PHONE = "+6281300000009"

_ID = Catalog.load().translator("id")


def say_id(key: str, **params: object) -> str:
    """A message of the Indonesian catalog, as the person sees it."""
    return _ID(key, **params)


def rows(app, table):
    with Session(app.database) as session:
        return list(session.exec(select(table)))


async def refused(chat: Chat, answer: str, *, error: str, question: str) -> None:
    """`answer` gets `error` alone (short, with an example) and the very same options; the
    question itself stays where it was, one message up, and is not sent again."""
    shown = chat.options
    await chat.say(answer)  # "/foto x.jpg" sends a photo through the console
    assert len(chat.last) == 1, chat.text
    assert chat.last[0].text == error
    assert len(error) <= 200 and question not in chat.text
    assert chat.options == shown


async def start_ikm(chat: Chat) -> None:
    await chat.say("halo")
    await chat.tap("Setuju")
    await chat.tap("Saya pelaku IKM")


async def finish_profile_from_sector(chat: Chat) -> None:
    await chat.tap("Pengolahan lainnya")
    await finish_profile_from_kecamatan(chat)


async def finish_profile_from_kecamatan(chat: Chat) -> None:
    await chat.say("Sukawangi")
    await chat.tap("Lewati")  # desa, NIB and workers: later
    await finish_with_first_product(chat)


async def finish_with_first_product(chat: Chat) -> None:
    await chat.say("Boneka karakter")
    await chat.tap("pcs")
    await chat.say("40-100 ribu")
    await chat.say("200")
    await chat.tap("Lewati")


# --- consent and names -------------------------------------------------------------------


async def test_consent_answered_with_a_number_or_a_word_is_asked_again(app, chat_as) -> None:
    chat = chat_as(PHONE)
    await chat.say("halo")
    consent = chat.last[0].text
    await chat.pick(7)  # there are three options: a short refusal, the notice not resent
    assert chat.last[0].text == say_id("errors.choose_option")
    assert consent not in chat.text
    assert chat.options == ["Setuju", "Tidak setuju", "English"]
    await chat.say("mungkin nanti")
    assert chat.last[0].text == say_id("errors.choose_option")
    assert rows(app, Consent) == []
    await chat.tap("Setuju")
    assert chat.options == ["Saya pelaku IKM", "Saya perusahaan"]
    assert len(rows(app, Consent)) == 1


async def test_unreadable_names_get_an_example_and_the_same_question(app, chat_as) -> None:
    chat = chat_as(PHONE)
    await start_ikm(chat)
    name_error = say_id("ikm.owner_name.invalid", max=120)
    assert "contoh: Siti Aminah" in name_error
    ask_name = say_id("ikm.owner_name.ask")
    for wrong in ("!!!", "a", "  .  ", "Siti Aminah " * 11):  # the last is 131 characters
        await refused(chat, wrong, error=name_error, question=ask_name)
    await refused(chat, "/foto ktp.jpg", error=say_id("errors.need_text"), question=ask_name)
    await chat.say("Siti  Aminah")  # inner spaces are tidied
    assert chat.text == say_id("ikm.business_name.ask")

    business_error = say_id("ikm.business_name.invalid", max=120)
    assert "Contoh: Boneka Berkah Sukawangi" in business_error
    ask_business = say_id("ikm.business_name.ask")
    for wrong in ("???", "b", "x" * 121):
        await refused(chat, wrong, error=business_error, question=ask_business)
    await chat.say("x" * 120)  # exactly the limit is fine
    assert chat.text.startswith(say_id("ikm.sector.ask"))

    await finish_profile_from_sector(chat)
    assert "Nama pemilik: Siti Aminah" in chat.text
    await chat.tap("Simpan")
    [ikm] = rows(app, IkmProfile)
    assert (ikm.owner_name, ikm.business_name) == ("Siti Aminah", "x" * 120)
    [person] = rows(app, Person)
    assert (person.name, person.role) == ("Siti Aminah", "ikm")


async def test_skip_words_are_not_saved_as_a_required_name(app, chat_as) -> None:
    """ "Lewati", "belum ada", "gak tau kak" where only a name will do: refused, and asked
    again; a name that merely contains such a word is a name."""
    required = say_id("errors.required")
    chat = chat_as(PHONE)
    await start_ikm(chat)
    ask_name = say_id("ikm.owner_name.ask")
    for wrong in ("Lewati", "skip dulu", "nanti aja", "gak tau kak", "Lupa"):
        await refused(chat, wrong, error=required, question=ask_name)
    await chat.say("Siti Aminah")
    ask_business = say_id("ikm.business_name.ask")
    for wrong in ("belum ada", "blm punya", "Tidak ada", "kosong"):
        await refused(chat, wrong, error=required, question=ask_business)
    await chat.say("Tidak Ada Duanya")  # a shop's name, not "no name"
    assert chat.text.startswith(say_id("ikm.sector.ask"))
    await finish_profile_from_sector(chat)
    await chat.tap("Simpan")
    [ikm] = rows(app, IkmProfile)
    assert (ikm.owner_name, ikm.business_name) == ("Siti Aminah", "Tidak Ada Duanya")

    company = chat_as(COMPANY_PHONE)
    await company.say("halo")
    await company.tap("Setuju")
    await company.tap("Saya perusahaan")
    for wrong in ("lewati", "belum tahu"):
        await refused(company, wrong, error=required, question=say_id("company.name.ask"))
    await company.say("PT Lewati Jaya")
    assert company.text.startswith(say_id("company.estate.ask"))


# --- sector and KBLI ---------------------------------------------------------------------


async def test_unknown_sector_and_non_manufacturing_kbli_are_refused(app, chat_as) -> None:
    chat = chat_as(PHONE)
    await start_ikm(chat)
    await chat.say("Siti Aminah")
    await chat.say("Boneka Berkah")
    sector_error = say_id("ikm.sector.invalid")
    assert "kode KBLI 14111" in sector_error and "misalnya: makanan" in sector_error
    ask_sector = say_id("ikm.sector.ask")
    # unknown words, a trade KBLI (47: retail), division 19, a 4-digit code, a photo
    for wrong in ("asdfgh", "47111", "19100", "1411", "/foto x.jpg"):
        await refused(chat, wrong, error=sector_error, question=ask_sector)

    await chat.say("32111")
    assert chat.text == say_id("ikm.kbli.ask")
    ask_version = say_id("ikm.kbli.ask")
    choose = say_id("errors.choose_option")
    await refused(chat, "7", error=choose, question=ask_version)  # option 7 does not exist
    await refused(chat, "kemarin", error=choose, question=ask_version)
    await chat.tap("Sebelum Des 2025")
    assert chat.text.startswith(say_id("ikm.kecamatan.ask"))

    await finish_profile_from_kecamatan(chat)
    summary = chat.text
    assert "Nama usaha: Boneka Berkah" in summary
    assert "Bidang usaha: Pengolahan lainnya (32)" in summary
    assert "KBLI: 32111 (KBLI 2020)" in summary
    await chat.tap("Simpan")
    [ikm] = rows(app, IkmProfile)
    assert (ikm.owner_name, ikm.business_name) == ("Siti Aminah", "Boneka Berkah")
    assert (ikm.sector, ikm.kbli_code, ikm.kbli_version) == ("32", "32111", "2020")


# --- kecamatan ---------------------------------------------------------------------------


async def test_unknown_and_ambiguous_kecamatan(app, chat_as) -> None:
    chat = chat_as(PHONE)
    await start_ikm(chat)
    await chat.say("Siti Aminah")
    await chat.say("Boneka Berkah")
    await chat.tap("Pakaian jadi")
    ask = say_id("ikm.kecamatan.ask")
    error = say_id("ikm.kecamatan.invalid")
    assert "Contoh: Sukawangi, Tambun Selatan, Cikarang Utara" in error
    for wrong in ("Bogor", "xyz", "/foto peta.jpg"):
        await refused(chat, wrong, error=error, question=ask)

    await chat.say("cikarang")  # five kecamatan start with Cikarang: which one?
    assert chat.text == say_id("understanding.which")
    candidates = chat.options
    assert sorted(candidates[:-1]) == [
        "Cikarang Barat",
        "Cikarang Pusat",
        "Cikarang Selatan",
        "Cikarang Timur",
        "Cikarang Utara",
    ]
    assert candidates[-1] == say_id("understanding.not_this")
    await chat.say("entahlah")  # not a place: the reason, with an example
    assert chat.text == error

    await chat.say("cikarang")
    await chat.tap(say_id("understanding.not_this"))
    assert chat.text == f"{say_id('understanding.again')}\n{ask}"  # no error, the question
    assert "Cikarang Utara" in chat.options
    await chat.say("cikarang")
    await chat.tap("Cikarang Utara")
    assert chat.text == say_id("ikm.details.ask")
    await chat.tap("Lewati")
    await finish_with_first_product(chat)
    assert "Kecamatan: Cikarang Utara" in chat.text
    assert "Bidang usaha: Pakaian jadi (14)" in chat.text
    await chat.tap("Simpan")
    [ikm] = rows(app, IkmProfile)
    assert (ikm.kecamatan, ikm.sector, ikm.business_name) == (
        "Cikarang Utara",
        "14",
        "Boneka Berkah",
    )


async def test_a_city_outside_bekasi_is_not_found(app, chat_as) -> None:
    chat = chat_as(PHONE)
    await start_ikm(chat)
    await chat.say("Siti Aminah")
    await chat.say("Boneka Berkah")
    await chat.tap("Pakaian jadi")
    await refused(
        chat,
        "Bandung",
        error=say_id("ikm.kecamatan.invalid"),
        question=say_id("ikm.kecamatan.ask"),
    )


# --- desa, NIB, workers ------------------------------------------------------------------


async def test_wrong_desa_nib_and_workers_are_asked_again(app, chat_as) -> None:
    chat = chat_as(PHONE)
    await start_ikm(chat)
    await chat.say("Siti Aminah")
    await chat.say("Boneka Berkah")
    await chat.tap("Pengolahan lainnya")
    await chat.say("Sukawangi")
    await chat.tap("Tambah detail")

    desa_error = say_id("ikm.desa.invalid", max=80)
    assert "Contoh: Sukatenang" in desa_error
    for wrong in ("!!", "d", "D" * 81):
        await refused(chat, wrong, error=desa_error, question=say_id("ikm.desa.ask"))
    await chat.say("Sukatenang")

    nib_error = say_id("ikm.nib.invalid")
    assert "Contoh: 9120001234567" in nib_error
    ask_nib = say_id("ikm.nib.ask")
    for wrong in ("912000123456", "91200012345678", "91200012345AB"):
        await refused(chat, wrong, error=nib_error, question=ask_nib)
    await refused(chat, "/foto nib.jpg", error=say_id("errors.need_text"), question=ask_nib)
    await chat.say("9120 0012 3456 7")

    workers_error = say_id("ikm.workers.invalid")
    assert "contoh: 5" in workers_error
    ask_workers = say_id("ikm.workers.ask")
    for wrong in ("banyak", "-3"):
        await refused(chat, wrong, error=workers_error, question=ask_workers)
    too_many = say_id("numbers.too_large", limit="100.000")
    for wrong in ("lima ratus ribu orang", "200000"):
        await refused(chat, wrong, error=too_many, question=ask_workers)
    await refused(chat, "/foto pekerja.jpg", error=say_id("errors.need_text"), question=ask_workers)
    await chat.say("4 orang")
    assert chat.text == say_id("product.name.ask")

    await finish_with_first_product(chat)
    summary = chat.text
    for line in ("Desa: Sukatenang", "NIB: 9120001234567", "Jumlah pekerja: 4"):
        assert line in summary
    await chat.tap("Simpan")
    [ikm] = rows(app, IkmProfile)
    assert (ikm.kecamatan, ikm.desa, ikm.nib, ikm.workers) == (
        "Sukawangi",
        "Sukatenang",
        "9120001234567",
        4,
    )


async def test_zero_workers_is_refused(app, chat_as) -> None:
    chat = chat_as(PHONE)
    await start_ikm(chat)
    await chat.say("Siti Aminah")
    await chat.say("Boneka Berkah")
    await chat.tap("Pengolahan lainnya")
    await chat.say("Sukawangi")
    await chat.tap("Tambah detail")
    await chat.tap("Lewati")
    await chat.tap("Lewati")
    await refused(
        chat, "0", error=say_id("ikm.workers.invalid"), question=say_id("ikm.workers.ask")
    )


# --- the first product -------------------------------------------------------------------


async def test_wrong_product_answers_are_asked_again(app, chat_as) -> None:
    chat = chat_as(PHONE)
    await start_ikm(chat)
    await chat.say("Siti Aminah")
    await chat.say("Boneka Berkah")
    await chat.tap("Pengolahan lainnya")
    await chat.say("Sukawangi")
    await chat.tap("Tambah detail")
    await chat.tap("Lewati")
    await chat.tap("Lewati")
    await chat.say("3")

    name_error = say_id("product.name.invalid", max=120)
    assert "Contoh: Sarung tangan kerja katun" in name_error
    for wrong in ("...", "z", "y" * 121):
        await refused(chat, wrong, error=name_error, question=say_id("product.name.ask"))
    await chat.say("Boneka karakter")

    unit_error = say_id("product.unit.invalid")
    assert "Contoh: pcs, pasang, lusin, kodi, kg, meter" in unit_error
    ask_unit = say_id("product.unit.ask")
    await refused(chat, "xyz", error=unit_error, question=ask_unit)
    await refused(chat, "/foto x.jpg", error=say_id("errors.need_text"), question=ask_unit)
    await chat.tap("lusin")

    price_error = say_id("product.price.invalid")
    assert "Contoh: 40rb, 40-100 ribu, Rp 40.000, 1,5 juta" in price_error
    ask_price = say_id("product.price.ask")
    for wrong in ("murah", "0", "-5000", "Rp 0"):
        await refused(chat, wrong, error=price_error, question=ask_price)
    await refused(chat, "/foto harga.jpg", error=say_id("errors.need_text"), question=ask_price)
    await chat.say("Rp 480.000")

    capacity_error = say_id("product.capacity.invalid", unit="lusin")
    assert "Tulis jumlah lusin per bulan, contoh: 200 atau 3 ribu" in capacity_error
    ask_capacity = say_id("product.capacity.ask", unit="lusin")
    for wrong in ("banyak", "0", "-20"):
        await refused(chat, wrong, error=capacity_error, question=ask_capacity)
    too_many = say_id("numbers.too_large", limit="100.000.000")
    await refused(chat, "200000000 lusin", error=too_many, question=ask_capacity)
    await chat.say("20")

    choose = say_id("errors.choose_option")
    ask_details = say_id("product.details.ask")
    await refused(chat, "9", error=choose, question=ask_details)  # only 2 options
    await refused(chat, "apa", error=choose, question=ask_details)
    await refused(chat, "/foto x.jpg", error=choose, question=ask_details)
    await chat.tap("Tambah detail")

    await refused(
        chat,
        "ab",
        error=say_id("product.description.invalid", max=500),
        question=say_id("product.description.ask"),
    )
    await chat.say("Boneka kain isi dakron, tinggi 30 cm")

    min_error = say_id("product.min_order.invalid", unit="lusin")
    assert "contoh: 50" in min_error
    ask_min = say_id("product.min_order.ask", unit="lusin")
    for wrong in ("0", "sedikit"):
        await refused(chat, wrong, error=min_error, question=ask_min)
    await chat.say("5")

    photo_error = say_id("product.photo.invalid")
    ask_photo = say_id("product.photo.ask")
    for wrong in ("nanti saya kirim", "5", "boneka.jpg"):
        await refused(chat, wrong, error=photo_error, question=ask_photo)
    await chat.send_photo("boneka.jpg")

    summary = chat.text
    for line in (
        "Nama pemilik: Siti Aminah",
        "Nama usaha: Boneka Berkah",
        "Jumlah pekerja: 3",
        "Produk: Boneka karakter",
        "Satuan: lusin",
        "Harga: Rp 480.000 per lusin",
        "Kapasitas: 20 lusin per bulan",
        "Deskripsi: Boneka kain isi dakron, tinggi 30 cm",
        "Minimal pesanan: 5 lusin",
        "Foto: ada",
    ):
        assert line in summary
    await chat.tap("Simpan")
    assert "Boneka Berkah sudah terdaftar" in chat.text
    [product] = rows(app, Product)
    assert (product.name, product.unit, product.price_min, product.price_max) == (
        "Boneka karakter",
        "lusin",
        480_000,
        480_000,
    )
    assert (product.capacity_per_month, product.min_order, product.photo_ref) == (
        20,
        5,
        "console:boneka.jpg",
    )
    assert product.description == "Boneka kain isi dakron, tinggi 30 cm"


async def test_a_wrong_answer_while_editing_from_the_summary_keeps_the_edit(app, chat_as) -> None:
    chat = chat_as(PHONE)
    await start_ikm(chat)
    await chat.say("Siti Aminah")
    await chat.say("Boneka Berkah")
    await finish_profile_from_sector(chat)
    await chat.tap("Ubah")
    await chat.tap("Harga")
    question = f"{say_id('product.price.ask')}\n(Sekarang: Rp 40.000 – Rp 100.000 per pcs)"
    assert chat.text == question
    await refused(chat, "murah", error=say_id("product.price.invalid"), question=question)
    await refused(chat, "0", error=say_id("product.price.invalid"), question=question)
    await chat.say("45rb")
    # straight back to the summary, not on to the capacity question
    assert chat.last[0].title == "Periksa data Anda"
    assert "Harga: Rp 45.000 per pcs" in chat.text
    assert "Kapasitas: 200 pcs per bulan" in chat.text
    await chat.tap("Simpan")
    [product] = rows(app, Product)
    assert (product.price_min, product.price_max, product.capacity_per_month) == (
        45_000,
        45_000,
        200,
    )


# --- company registration ----------------------------------------------------------------


async def test_wrong_company_answers_are_asked_again(app, chat_as) -> None:
    chat = chat_as(COMPANY_PHONE)
    await chat.say("halo")
    await chat.tap("Setuju")
    await chat.tap("Saya perusahaan")

    name_error = say_id("company.name.invalid", max=160)
    assert "Contoh: PT Maju Bersama Indonesia" in name_error
    ask_name = say_id("company.name.ask")
    for wrong in ("!!!", "P", "P" * 161):
        await refused(chat, wrong, error=name_error, question=ask_name)
    await refused(chat, "/foto logo.jpg", error=say_id("errors.need_text"), question=ask_name)
    await chat.say("PT Sinar Otomotif Indonesia")

    choose = say_id("errors.choose_option")
    ask_estate = say_id("company.estate.ask")
    for wrong in ("Bandung", "99", "/foto x.jpg"):
        await refused(chat, wrong, error=choose, question=ask_estate)
    await chat.say("jababeka")

    address_error = say_id("company.address.invalid")
    assert "Contoh: Jl. Jababeka XII Blok W No. 5, Cikarang Utara" in address_error
    ask_address = say_id("company.address.ask")
    for wrong in ("Jl.", "abcd", "-----"):
        await refused(chat, wrong, error=address_error, question=ask_address)
    await chat.say("Jl. Jababeka Raya Blok F No. 12, Cikarang Utara")

    contact_error = say_id("company.contact_name.invalid", max=120)
    assert "Contoh: Budi Santoso" in contact_error
    await refused(chat, "a", error=contact_error, question=say_id("company.contact_name.ask"))
    await chat.say("Bambang Wijaya")

    ask_sectors = say_id("company.sectors.ask")
    await refused(chat, "Selesai", error=say_id("company.sectors.none"), question=ask_sectors)
    sectors_error = say_id("company.sectors.invalid")
    assert "Contoh: makanan, pakaian jadi, 22" in sectors_error
    for wrong in ("asdfgh", "makanan, asdfgh", "/foto x.jpg"):
        await refused(chat, wrong, error=sectors_error, question=ask_sectors)
    await chat.tap("Pakaian jadi")
    assert "✓ Pakaian jadi" in chat.options
    await chat.tap("Selesai")

    summary = chat.text
    for line in (
        "Perusahaan: PT Sinar Otomotif Indonesia",
        "Kawasan: Jababeka",
        "Alamat: Jl. Jababeka Raya Blok F No. 12, Cikarang Utara",
        "Penanggung jawab: Bambang Wijaya",
        "Nomor HP: 0813-0000-0009",
        "Bidang yang dibeli: Pakaian jadi (14)",
    ):
        assert line in summary
    await chat.tap("Simpan")
    [company] = rows(app, Company)
    assert (company.name, company.estate, company.address, company.contact_name) == (
        "PT Sinar Otomotif Indonesia",
        "jababeka",
        "Jl. Jababeka Raya Blok F No. 12, Cikarang Utara",
        "Bambang Wijaya",
    )
    assert (company.sectors, company.status) == (["14"], "pending")
