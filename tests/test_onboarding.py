"""Registration through the console channel, as people would chat."""

from __future__ import annotations

from sqlmodel import Session, select

from models import ChannelAccount, Company, Consent, IkmProfile, Person, Product
from tests.chat import register_company, register_ikm
from tests.conftest import START

PHONE = "+6281234567890"


def rows(app, table):
    with Session(app.database) as session:
        return list(session.exec(select(table)))


async def test_first_contact_asks_consent_and_records_it(app, chat_as) -> None:
    chat = chat_as(PHONE)
    await chat.say("halo")
    assert "Selamat datang" in chat.text
    assert chat.options == ["Setuju", "Tidak setuju", "English"]
    assert rows(app, Consent) == []

    await chat.tap("Setuju")
    assert chat.options == ["Saya pelaku IKM", "Saya perusahaan"]
    [consent] = rows(app, Consent)
    assert consent.text_version == "2026-11"
    assert consent.accepted_at.replace(tzinfo=None) == START.replace(tzinfo=None)


async def test_declining_consent_keeps_nothing(app, chat_as) -> None:
    chat = chat_as(PHONE)
    await chat.say("halo")
    await chat.tap("Tidak setuju")
    assert "tidak kami simpan" in chat.text
    assert rows(app, Person) == []
    assert rows(app, ChannelAccount) == []


async def test_full_ikm_registration_with_every_detail_and_a_second_product(app, chat_as) -> None:
    chat = chat_as(PHONE)
    await chat.say("Assalamualaikum")
    await chat.pick(1)  # Setuju, by its number
    await chat.pick(1)  # Saya pelaku IKM
    await chat.say("Siti Aminah")
    await chat.say("Boneka <Ibu> & Anak")
    await chat.say("32111")  # a 5-digit KBLI from the NIB
    assert chat.options == ["Sebelum Des 2025", "Des 2025 atau sesudah", "Tidak tahu"]
    await chat.tap("Sebelum Des 2025")
    await chat.say("cikarang utr")
    assert chat.options == ["Tambah detail", "Lewati"]
    await chat.tap("Tambah detail")
    await chat.say("Sukatenang")
    await chat.say("9120 0012 3456 7")
    await chat.say("4 orang")
    await chat.say("Boneka karakter")
    await chat.say("PCS")
    await chat.say("40-100 ribu")
    await chat.say("200")
    await chat.tap("Tambah detail")
    await chat.say("Boneka kain isi dakron, tinggi 30 cm")
    await chat.say("10")
    await chat.send_photo("boneka.jpg")
    summary = chat.text
    for expected in (
        "Siti Aminah",
        "Boneka <Ibu> & Anak",
        "Pengolahan lainnya (32)",
        "32111 (KBLI 2020)",
        "Cikarang Utara",
        "Sukatenang",
        "9120001234567",
        "Jumlah pekerja: 4",
        "Rp 40.000 – Rp 100.000 per pcs",
        "200 pcs per bulan",
        "10 pcs",
    ):
        assert expected in summary
    await chat.tap("Simpan")
    assert "sudah terdaftar" in chat.text
    assert "Produk saya" in chat.options

    await chat.tap("Tambah produk")
    await chat.say("Boneka wisuda")
    await chat.tap("pcs")
    await chat.say("Rp 75.000")
    await chat.say("3 ribu")
    await chat.tap("Lewati")
    await chat.tap("Simpan")
    assert "Boneka wisuda tersimpan" in chat.text

    await chat.tap("Produk saya")
    assert "Boneka karakter" in chat.text and "Boneka wisuda" in chat.text

    [ikm] = rows(app, IkmProfile)
    assert (ikm.business_name, ikm.sector, ikm.kbli_code, ikm.kbli_version) == (
        "Boneka <Ibu> & Anak",
        "32",
        "32111",
        "2020",
    )
    assert (ikm.kecamatan, ikm.desa, ikm.nib, ikm.workers) == (
        "Cikarang Utara",
        "Sukatenang",
        "9120001234567",
        4,
    )
    first, second = sorted(rows(app, Product), key=lambda p: p.id)
    assert (first.price_min, first.price_max, first.capacity_per_month) == (40_000, 100_000, 200)
    assert (first.min_order, first.photo_ref) == (10, "console:boneka.jpg")
    assert (second.price_min, second.price_max, second.capacity_per_month) == (75_000, 75_000, 3000)
    [person] = rows(app, Person)
    assert (person.phone, person.role, person.name) == (PHONE, "ikm", "Siti Aminah")


async def test_registering_by_tapping_takes_at_most_fifteen_messages(app, chat_as) -> None:
    """Counted from the first "halo": README's "Understanding what people type" states it."""
    chat = chat_as(PHONE)
    await register_ikm(chat)
    assert "sudah terdaftar" in chat.text
    assert chat.sent <= 15


async def test_summary_edit_changes_one_answer_and_keeps_the_rest(app, chat_as) -> None:
    chat = chat_as(PHONE)
    await chat.say("halo")
    await chat.tap("Setuju")
    await chat.tap("Saya pelaku IKM")
    await chat.say("Siti")
    await chat.say("Boneka Berkah")
    await chat.tap("Pengolahan lainnya")
    await chat.say("Sukawangi")
    await chat.tap("Lewati")  # desa, NIB and workers: later
    await chat.say("Boneka")
    await chat.tap("pcs")
    await chat.say("40rb")
    await chat.say("200")
    await chat.tap("Lewati")
    await chat.tap("Ubah")
    await chat.tap("Harga")
    assert "Sekarang: Rp 40.000 per pcs" in chat.text
    await chat.say("45 ribu")
    assert "Periksa data Anda" in chat.text
    assert "Rp 45.000 per pcs" in chat.text and "Boneka Berkah" in chat.text
    await chat.tap("Simpan")
    [product] = rows(app, Product)
    assert product.price_min == 45_000


async def test_company_registration_waits_for_verification(app, chat_as) -> None:
    chat = chat_as("+6281300000009")
    await register_company(chat)
    assert "menunggu verifikasi" in chat.text
    assert chat.options == [
        "Pasang kebutuhan",
        "Kebutuhan saya",
        "Profil perusahaan",
        "Bahasa / Language",
        "Data saya",
    ]
    [company] = rows(app, Company)
    assert (company.name, company.estate, company.sectors, company.status) == (
        "PT Sinar Otomotif Indonesia",
        "jababeka",
        ["14"],
        "pending",
    )
    await chat.tap("Profil perusahaan")
    assert "menunggu verifikasi Dinas" in chat.text


async def test_company_chooses_several_sectors_by_tap_and_by_typing(app, chat_as) -> None:
    chat = chat_as("+6281300000009")
    await chat.say("halo")
    await chat.tap("Setuju")
    await chat.tap("Saya perusahaan")
    await chat.say("PT Elektronika Mitra")
    await chat.say("mm2100")
    await chat.say("Kawasan MM2100 Blok J-3")
    await chat.say("Rina")
    await chat.tap("Tekstil")
    assert "✓ Tekstil" in chat.options
    await chat.tap("✓ Tekstil")  # a second tap removes it again
    assert "Tekstil" in chat.options
    await chat.say("makanan, pakaian jadi")
    await chat.tap("Selesai")
    await chat.tap("Simpan")
    [company] = rows(app, Company)
    assert company.sectors == ["10", "14"]
    assert company.estate == "mm2100"
