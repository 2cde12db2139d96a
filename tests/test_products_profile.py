"""After registering: "Produk saya" (list, edit, delete), and editing the saved profiles."""

from __future__ import annotations

from sqlmodel import Session, select

from bot.core.messages import Incoming
from models import Company, ConversationState, IkmProfile, Person, Product
from tests.chat import Chat, register_company, register_ikm

PHONE = "+6281234567890"
OTHER_PHONE = "+6285700000002"
COMPANY_PHONE = "+6281300000009"

NO_SUCH_OPTION = "Maaf, pilihan itu tidak ada. Silakan pilih salah satu di bawah."


def rows(app, table):
    with Session(app.database) as session:
        return list(session.exec(select(table)))


def products_of(app, phone: str) -> list[Product]:
    with Session(app.database) as session:
        person = session.exec(select(Person).where(Person.phone == phone)).one()
        ikm = session.exec(select(IkmProfile).where(IkmProfile.person_id == person.id)).one()
        return list(
            session.exec(select(Product).where(Product.ikm_id == ikm.id).order_by(Product.id))
        )


def step_of(app, phone: str) -> str | None:
    with Session(app.database) as session:
        person = session.exec(select(Person).where(Person.phone == phone)).one()
        return session.get(ConversationState, person.id).step


async def add_product(chat: Chat, name: str, price: str = "75rb", capacity: str = "100") -> None:
    await chat.tap("Tambah produk")
    await chat.say(name)
    await chat.tap("pcs")
    await chat.say(price)
    await chat.say(capacity)
    await chat.tap("Lewati")
    await chat.tap("Simpan")
    assert chat.text.startswith(f"Produk {name} tersimpan.")


async def registered_with_two_products(chat: Chat) -> None:
    await register_ikm(chat)
    await add_product(chat, "Boneka wisuda")


async def forged(app, phone: str, option_id: str) -> list:
    """A message carrying an option id the bot never showed this person."""
    return await app.engine.handle(
        Incoming(
            channel="console", account_id=phone, phone=phone, option_id=option_id, text=option_id
        )
    )


# --- Produk saya -------------------------------------------------------------------------


async def test_my_products_lists_every_product_with_its_price(app, chat_as) -> None:
    chat = chat_as(PHONE)
    await registered_with_two_products(chat)
    await chat.tap("Produk saya")
    assert chat.text == (
        "Produk Anda:\n"
        "1. Boneka karakter: Rp 40.000 – Rp 100.000 per pcs\n"
        "2. Boneka wisuda: Rp 75.000 per pcs"
    )
    assert chat.options == ["Boneka karakter", "Boneka wisuda", "Tambah produk", "Kembali ke menu"]
    await chat.tap("Boneka wisuda")
    assert chat.text == (
        "Produk: Boneka wisuda\n"
        "Satuan: pcs\n"
        "Harga: Rp 75.000 per pcs\n"
        "Kapasitas: 100 pcs per bulan\n"
        "Deskripsi: (belum diisi)\n"
        "Minimal pesanan: (belum diisi)\n"
        "Foto: (belum diisi)"
    )
    assert chat.options == ["Ubah", "Hapus", "Daftar produk"]
    await chat.tap("Daftar produk")
    assert chat.text.startswith("Produk Anda:")
    await chat.tap("Kembali ke menu")
    assert chat.text == "Menu utama. Silakan pilih, Bapak/Ibu Siti Aminah:"


async def test_edit_a_product_changes_its_row_and_nothing_else(app, chat_as) -> None:
    chat = chat_as(PHONE)
    await registered_with_two_products(chat)
    first_before, second_before = products_of(app, PHONE)

    await chat.say("produk saya")  # typed, as a command
    await chat.tap("Boneka karakter")
    await chat.tap("Ubah")
    await chat.tap("Harga")
    question = (
        "Berapa harga per satuan? Boleh kisaran. Contoh: 40rb, 40-100 ribu, Rp 40.000.\n"
        "(Sekarang: Rp 40.000 – Rp 100.000 per pcs)"
    )
    assert chat.text == question
    await chat.say("murah")
    assert chat.last[0].text == (
        "Maaf, harga belum terbaca. Contoh: 40rb, 40-100 ribu, Rp 40.000, 1,5 juta."
    )
    await chat.say("55 ribu")
    assert chat.last[0].title == "Periksa data produk"
    assert "Harga: Rp 55.000 per pcs" in chat.text
    await chat.tap("Ubah")
    await chat.tap("Produk")
    assert "(Sekarang: Boneka karakter)" in chat.text
    await chat.say("Boneka karakter besar")
    assert "Produk: Boneka karakter besar" in chat.text
    assert "Harga: Rp 55.000 per pcs" in chat.text
    assert products_of(app, PHONE)[0].name == "Boneka karakter"  # nothing saved before Simpan
    await chat.tap("Simpan")
    assert chat.text.startswith("Perubahan produk Boneka karakter besar tersimpan.")

    first, second = products_of(app, PHONE)
    assert first.id == first_before.id
    assert (first.name, first.price_min, first.price_max) == (
        "Boneka karakter besar",
        55_000,
        55_000,
    )
    assert (first.unit, first.capacity_per_month) == ("pcs", 200)
    assert second.model_dump() == second_before.model_dump()
    await chat.tap("Produk saya")
    assert "1. Boneka karakter besar: Rp 55.000 per pcs" in chat.text


async def test_delete_a_product_asks_first(app, chat_as) -> None:
    chat = chat_as(PHONE)
    await registered_with_two_products(chat)
    await chat.tap("Produk saya")
    await chat.tap("Boneka wisuda")
    await chat.tap("Hapus")
    assert chat.text == "Yakin hapus produk Boneka wisuda?"
    assert chat.options == ["Ya, hapus", "Tidak"]
    await chat.tap("Tidak")
    assert [p.name for p in products_of(app, PHONE)] == ["Boneka karakter", "Boneka wisuda"]
    assert chat.options == ["Boneka karakter", "Boneka wisuda", "Tambah produk", "Kembali ke menu"]

    await chat.tap("Boneka wisuda")
    await chat.tap("Hapus")
    await chat.tap("Ya, hapus")
    assert chat.text == (
        "Produk Boneka wisuda sudah dihapus.\n"
        "Produk Anda:\n"
        "1. Boneka karakter: Rp 40.000 – Rp 100.000 per pcs"
    )
    assert chat.options == ["Boneka karakter", "Tambah produk", "Kembali ke menu"]
    assert [p.name for p in products_of(app, PHONE)] == ["Boneka karakter"]


async def test_the_list_shows_when_there_are_no_products(app, chat_as) -> None:
    chat = chat_as(PHONE)
    await register_ikm(chat)
    await chat.tap("Produk saya")
    await chat.tap("Boneka karakter")
    await chat.tap("Hapus")
    await chat.tap("Ya, hapus")
    assert chat.text == (
        "Produk Boneka karakter sudah dihapus.\nBelum ada produk. Tambahkan produk pertama Anda."
    )
    assert chat.options == ["Tambah produk", "Kembali ke menu"]
    assert rows(app, Product) == []


# --- one IKM never reaches another's products --------------------------------------------


async def test_the_list_only_offers_my_own_products(app, chat_as) -> None:
    siti, budi = chat_as(PHONE), chat_as(OTHER_PHONE)
    await registered_with_two_products(siti)
    await register_ikm(budi, business="Sarung Tangan Budi")
    await add_product(budi, "Sarung tangan katun", price="8rb", capacity="5 ribu")

    for chat, phone, foreign in ((siti, PHONE, OTHER_PHONE), (budi, OTHER_PHONE, PHONE)):
        await chat.tap("Produk saya")
        [reply] = chat.last
        own = {f"p:{p.id}" for p in products_of(app, phone)}
        offered = {option.id for option in reply.options}
        assert offered == own | {"add", "back"}
        for product in products_of(app, foreign):
            assert f"p:{product.id}" not in offered
            if product.name not in {p.name for p in products_of(app, phone)}:
                assert product.name not in chat.text
    assert "Sarung tangan katun" in budi.text and "Boneka wisuda" not in budi.text


async def test_a_forged_option_id_does_not_open_or_delete_anothers_product(app, chat_as) -> None:
    siti, budi = chat_as(PHONE), chat_as(OTHER_PHONE)
    await registered_with_two_products(siti)
    await register_ikm(budi, business="Sarung Tangan Budi")
    sitis = products_of(app, PHONE)
    [budis] = products_of(app, OTHER_PHONE)

    await budi.tap("Produk saya")
    budis_list = "Produk Anda:\n1. Boneka karakter: Rp 40.000 – Rp 100.000 per pcs"
    assert budi.text == budis_list
    assert step_of(app, OTHER_PHONE) == "produk.daftar"
    for product in sitis:
        [reply] = await forged(app, OTHER_PHONE, f"p:{product.id}")
        assert reply.text == NO_SUCH_OPTION
        assert step_of(app, OTHER_PHONE) == "produk.daftar"
        # the same id typed as plain text is not an option either
        [typed] = await app.engine.handle(
            Incoming(
                channel="console",
                account_id=OTHER_PHONE,
                phone=OTHER_PHONE,
                text=f"p:{product.id}",
            )
        )
        assert typed.text.startswith(NO_SUCH_OPTION)
    # and then the steps of deleting: none of them is open to Budi now
    for option_id in ("delete", "yes", "edit", "save"):
        [reply] = await forged(app, OTHER_PHONE, option_id)
        assert reply.text.startswith(NO_SUCH_OPTION)
    assert [p.model_dump() for p in products_of(app, PHONE)] == [p.model_dump() for p in sitis]

    # Budi's own product opens, and shows his, never Siti's
    [reply] = await forged(app, OTHER_PHONE, f"p:{budis.id}")
    assert reply.text.startswith("Produk: Boneka karakter")
    assert step_of(app, OTHER_PHONE) == "produk.detail"
    [reply] = await forged(app, OTHER_PHONE, f"p:{sitis[1].id}")
    assert reply.text.startswith(NO_SUCH_OPTION)
    assert step_of(app, OTHER_PHONE) == "produk.detail"


async def test_a_company_cannot_open_products(app, chat_as) -> None:
    chat = chat_as(COMPANY_PHONE)
    await register_company(chat)
    await chat.say("produk")
    assert chat.last[0].text == "Maaf, menu itu khusus untuk pelaku IKM."
    assert chat.options == [
        "Pasang kebutuhan",
        "Kebutuhan saya",
        "Profil perusahaan",
        "Bahasa / Language",
        "Data saya",
    ]
    await chat.say("tambah produk")
    assert chat.last[0].text == "Maaf, menu itu khusus untuk pelaku IKM."


# --- Profil usaha ------------------------------------------------------------------------


async def test_edit_ikm_profile_kecamatan(app, chat_as) -> None:
    chat = chat_as(PHONE)
    await register_ikm(chat)
    [before] = rows(app, IkmProfile)
    products_before = [p.model_dump() for p in rows(app, Product)]

    await chat.tap("Profil usaha")
    assert chat.last[0].title == "Profil usaha"
    assert chat.last[0].text == (
        "Nama pemilik: Siti Aminah\n"
        "Nama usaha: Boneka Berkah Sukawangi\n"
        "Bidang usaha: Pengolahan lainnya (32)\n"
        "KBLI: (belum diisi)\n"
        "Kecamatan: Sukawangi\n"
        "Desa: (belum diisi)\n"
        "NIB: (belum diisi)\n"
        "Jumlah pekerja: (belum diisi)"
    )
    assert chat.options == ["Ubah profil", "Kembali ke menu"]
    await chat.tap("Ubah profil")
    assert chat.text == "Bagian mana yang ingin diubah?"
    assert chat.options == [
        "Nama pemilik",
        "Nama usaha",
        "Bidang usaha",
        "Kecamatan",
        "Desa",
        "NIB",
        "Jumlah pekerja",
        "Kembali ke ringkasan",
    ]  # no product fields: products are edited from "Produk saya"
    await chat.tap("Kecamatan")
    await chat.say("Bogor")
    assert chat.last[0].text.startswith("Maaf, kecamatan itu tidak ditemukan")
    await chat.say("tambun sel")
    assert chat.last[0].title == "Periksa data Anda"
    assert "Kecamatan: Tambun Selatan" in chat.text
    assert "Produk:" not in chat.text
    assert rows(app, IkmProfile)[0].kecamatan == "Sukawangi"  # not saved yet
    await chat.tap("Ubah")
    await chat.tap("Kembali ke ringkasan")
    assert "Kecamatan: Tambun Selatan" in chat.text
    await chat.tap("Simpan")
    assert chat.text == (
        "Profil usaha tersimpan.\nMenu utama. Silakan pilih, Bapak/Ibu Siti Aminah:"
    )

    [after] = rows(app, IkmProfile)
    assert after.kecamatan == "Tambun Selatan"
    assert after.model_dump(exclude={"kecamatan", "updated_at"}) == before.model_dump(
        exclude={"kecamatan", "updated_at"}
    )
    assert [p.model_dump() for p in rows(app, Product)] == products_before
    await chat.tap("Profil usaha")
    assert "Kecamatan: Tambun Selatan" in chat.text


async def test_details_skipped_at_registration_are_completed_from_the_profile(app, chat_as) -> None:
    chat = chat_as(PHONE)
    await register_ikm(chat)  # desa, NIB and workers left for later with one "Lewati"
    await chat.tap("Profil usaha")
    await chat.tap("Ubah profil")
    await chat.tap("Desa")
    await chat.say("Sukatenang")
    assert chat.last[0].title == "Periksa data Anda"  # one field, then back to the summary
    await chat.tap("Ubah")
    await chat.tap("NIB")
    await chat.say("9120001234567")
    await chat.tap("Ubah")
    await chat.tap("Kecamatan")
    await chat.say("telaga asih")  # a desa: the kecamatan and the desa at once
    assert chat.last[0].title == "Periksa data Anda"
    await chat.tap("Simpan")
    [ikm] = rows(app, IkmProfile)
    assert (ikm.kecamatan, ikm.desa, ikm.nib, ikm.workers) == (
        "Cikarang Barat",
        "Telaga Asih",
        "9120001234567",
        None,
    )


async def test_edit_ikm_owner_name_renames_the_person(app, chat_as) -> None:
    chat = chat_as(PHONE)
    await register_ikm(chat)
    await chat.tap("Profil usaha")
    await chat.tap("Ubah profil")
    await chat.tap("Nama pemilik")
    assert "(Sekarang: Siti Aminah)" in chat.text
    await chat.say("Siti Rahmawati")
    await chat.tap("Ubah")
    await chat.tap("Jumlah pekerja")
    await chat.say("6 orang")
    await chat.tap("Simpan")
    assert "Menu utama. Silakan pilih, Bapak/Ibu Siti Rahmawati:" in chat.text
    [ikm] = rows(app, IkmProfile)
    assert (ikm.owner_name, ikm.workers) == ("Siti Rahmawati", 6)
    [person] = rows(app, Person)
    assert person.name == "Siti Rahmawati"


async def test_edit_ikm_profile_sector_by_tapping(app, chat_as) -> None:
    chat = chat_as(PHONE)
    await register_ikm(chat)
    await chat.tap("Profil usaha")
    await chat.tap("Ubah profil")
    await chat.tap("Bidang usaha")
    await chat.tap("Makanan")
    assert "Bidang usaha: Makanan (10)" in chat.text
    await chat.tap("Simpan")
    assert rows(app, IkmProfile)[0].sector == "10"


async def test_edit_sector_from_the_registration_summary_by_tapping(app, chat_as) -> None:
    chat = chat_as(PHONE)
    await chat.say("halo")
    await chat.tap("Setuju")
    await chat.tap("Saya pelaku IKM")
    await chat.say("Siti Aminah")
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
    await chat.tap("Bidang usaha")
    await chat.tap("Pakaian jadi")
    assert "Bidang usaha: Pakaian jadi (14)" in chat.text


async def test_typed_sector_drops_a_kbli_of_another_division(app, chat_as) -> None:
    chat = chat_as(PHONE)
    await chat.say("halo")
    await chat.tap("Setuju")
    await chat.tap("Saya pelaku IKM")
    await chat.say("Siti Aminah")
    await chat.say("Boneka Berkah")
    await chat.say("32111")
    await chat.tap("Sebelum Des 2025")
    await chat.say("Sukawangi")
    await chat.tap("Lewati")  # desa, NIB and workers: later
    await chat.say("Boneka")
    await chat.tap("pcs")
    await chat.say("40rb")
    await chat.say("200")
    await chat.tap("Lewati")
    await chat.tap("Ubah")
    await chat.tap("Bidang usaha")
    await chat.say("kue")
    assert "Bidang usaha: Makanan (10)" in chat.text
    assert "KBLI: 32111" not in chat.text
    await chat.tap("Simpan")
    [ikm] = rows(app, IkmProfile)
    assert (ikm.sector, ikm.kbli_code) == ("10", None)


# --- Profil perusahaan -------------------------------------------------------------------


async def test_edit_company_profile_address_and_sectors(app, chat_as) -> None:
    chat = chat_as(COMPANY_PHONE)
    await register_company(chat)
    [before] = rows(app, Company)

    await chat.tap("Profil perusahaan")
    assert chat.last[0].title == "Profil perusahaan"
    assert chat.last[0].text == (
        "Perusahaan: PT Sinar Otomotif Indonesia\n"
        "Kawasan: Jababeka\n"
        "Alamat: Jl. Jababeka Raya Blok F No. 12, Cikarang Utara\n"
        "Penanggung jawab: Bambang Wijaya\n"
        "Nomor HP: 0813-0000-0009\n"
        "Bidang yang dibeli: Pakaian jadi (14)\n"
        "Status: menunggu verifikasi Dinas"
    )
    await chat.tap("Ubah profil")
    assert chat.options == [
        "Perusahaan",
        "Kawasan",
        "Alamat",
        "Penanggung jawab",
        "Bidang yang dibeli",
        "Kembali ke ringkasan",
    ]
    await chat.tap("Alamat")
    question = (
        "Alamat lengkap perusahaan?\n(Sekarang: Jl. Jababeka Raya Blok F No. 12, Cikarang Utara)"
    )
    assert chat.text == question
    await chat.say("Jl.")
    assert chat.last[0].text == (
        "Maaf, alamat belum terbaca. Contoh: Jl. Jababeka XII Blok W No. 5, Cikarang Utara."
    )
    await chat.say("Jl. Industri Selatan 5 Blok PP No. 3, Cikarang Selatan")
    assert chat.last[0].title == "Periksa data perusahaan"
    assert "Alamat: Jl. Industri Selatan 5 Blok PP No. 3, Cikarang Selatan" in chat.text

    await chat.tap("Ubah")
    await chat.tap("Bidang yang dibeli")
    assert "✓ Pakaian jadi" in chat.options
    await chat.tap("Makanan")
    assert "✓ Makanan" in chat.options and "✓ Pakaian jadi" in chat.options
    await chat.tap("Selesai")
    assert "Bidang yang dibeli: Pakaian jadi (14), Makanan (10)" in chat.text
    await chat.tap("Simpan")
    assert chat.text == "Profil perusahaan tersimpan.\nMenu utama perusahaan. Silakan pilih:"

    [after] = rows(app, Company)
    assert after.address == "Jl. Industri Selatan 5 Blok PP No. 3, Cikarang Selatan"
    assert after.sectors == ["14", "10"]
    assert (after.id, after.name, after.estate, after.contact_name, after.status) == (
        before.id,
        before.name,
        before.estate,
        before.contact_name,
        "pending",
    )
    assert len(rows(app, Company)) == 1


async def test_edit_company_contact_renames_the_person(app, chat_as) -> None:
    chat = chat_as(COMPANY_PHONE)
    await register_company(chat)
    await chat.tap("Profil perusahaan")
    await chat.tap("Ubah profil")
    await chat.tap("Penanggung jawab")
    await chat.say("Rina Kusuma")
    await chat.tap("Ubah")
    await chat.tap("Kawasan")
    await chat.say("mm2100")
    assert "Kawasan: MM2100" in chat.text
    await chat.tap("Simpan")
    [company] = rows(app, Company)
    assert (company.contact_name, company.estate) == ("Rina Kusuma", "mm2100")
    [person] = rows(app, Person)
    assert person.name == "Rina Kusuma"
