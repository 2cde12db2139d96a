"""Numbers above their limit are refused as too large, saying the limit (issue 11, item 8):
every amount, quantity and count question tells "too large, at most …" from "not readable",
and nothing above a column's bounds reaches the database."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.core.i18n import Catalog
from bot.parsing.numbers import (
    MAX_QUANTITY,
    MAX_TOTAL,
    MAX_UNIT_PRICE,
    TooLarge,
    format_rupiah,
    parse_amount_range_within,
    parse_amount_within,
    parse_count_within,
    parse_quantity_within,
)
from models import Need, Partnership, Product
from tests.chat import Chat, register_company, register_ikm
from tests.procurement_cast import COMPANY, GLOVES_A, OFFICER
from tests.stored import rows
from tests.test_procurement_flow import grant_officer, verify_company

_ID = Catalog.load().translator("id")
ABSURD = "Rp 999999999999999"
BEYOND_READING = "Rp 99999999999999999999999"


def too_large(limit: str) -> str:
    return _ID("numbers.too_large", limit=limit)


def refused_as_too_large(chat: Chat, limit: str) -> None:
    assert chat.text.startswith(too_large(limit)), chat.text


@given(st.integers(min_value=1, max_value=10**30))
def test_every_parser_reads_a_figure_above_its_limit_as_too_large(figure: int) -> None:
    typed = f"{figure:,}".replace(",", ".")
    limit = 1_000
    for read in (parse_amount_within, parse_count_within):
        result = read(typed, limit)
        assert result == (TooLarge(limit) if figure > limit else figure), (read, typed)
    quantity = parse_quantity_within(f"{typed} pcs", limit)
    assert quantity == TooLarge(limit) if figure > limit else quantity.amount == figure
    assert parse_amount_range_within(f"1 - {typed}", limit) == (
        TooLarge(limit) if figure > limit else (1, figure)
    )
    assert parse_amount_within("murah sekali", limit) is None


async def test_product_price_capacity_and_minimum_order_say_their_limits(app, chat_as) -> None:
    chat = chat_as("+6281234567890")
    await chat.say("halo")
    await chat.tap("Setuju")
    await chat.tap("Saya pelaku IKM")
    await chat.say("Siti Aminah")
    await chat.say("Boneka Berkah")
    await chat.tap("Pengolahan lainnya")
    await chat.say("Sukawangi")
    await chat.tap("Lewati")  # desa, NIB and workers: later
    await chat.say("Boneka karakter")
    await chat.tap("pcs")
    for absurd in (ABSURD, BEYOND_READING, "40 ribu - 5000 triliun"):
        await chat.say(absurd)
        refused_as_too_large(chat, format_rupiah(MAX_UNIT_PRICE))
    await chat.say("40-100 ribu")
    for absurd in ("999999999999", "99999999999999999999999 pcs"):
        await chat.say(absurd)
        refused_as_too_large(chat, "100.000.000")
    await chat.say("200")
    await chat.tap("Tambah detail")
    await chat.say("Boneka karakter lucu dari kain flanel, diisi dakron.")
    await chat.say("999999999999")
    refused_as_too_large(chat, "100.000.000")
    assert rows(app, Product) == []


async def test_workers_say_their_limit(app, chat_as) -> None:
    chat = chat_as("+6281234567890")
    await chat.say("halo")
    await chat.tap("Setuju")
    await chat.tap("Saya pelaku IKM")
    await chat.say("Siti Aminah")
    await chat.say("Boneka Berkah")
    await chat.tap("Pengolahan lainnya")
    await chat.say("Sukawangi")
    await chat.tap("Tambah detail")
    await chat.tap("Lewati")
    await chat.tap("Lewati")
    await chat.say("200000")
    refused_as_too_large(chat, "100.000")


async def test_need_quantity_price_and_budget_say_their_limits(app, chat_as) -> None:
    grant_officer(app)
    company = chat_as(COMPANY)
    await register_company(company)
    await verify_company(chat_as(OFFICER))
    await company.say(
        f"/kebutuhan 999999999999 pasang sarung tangan kerja katun, {ABSURD}/pasang, "
        "batas 30/11, kirim ke Jababeka"
    )
    # the sector is read from the product words
    await company.say("999999999999 pasang")
    refused_as_too_large(company, "100.000.000")
    await company.say("5000 pasang")
    await company.say(f"{ABSURD}/pasang")
    refused_as_too_large(company, format_rupiah(MAX_UNIT_PRICE))
    await company.say("anggaran 5000 triliun")
    refused_as_too_large(company, format_rupiah(MAX_TOTAL))
    await company.say("anggaran 3 miliar")
    assert not company.text.startswith("Maaf"), company.text
    assert rows(app, Need) == []  # nothing saved before the company publishes


async def test_an_offer_price_says_its_limit(app, chat_as) -> None:
    grant_officer(app)
    company = chat_as(COMPANY)
    await register_company(company)
    await verify_company(chat_as(OFFICER))
    ikm = chat_as(GLOVES_A.phone)
    await register_ikm(ikm, **GLOVES_A.answers())
    await company.open()
    await company.say(
        "/kebutuhan 5000 pasang sarung tangan kerja katun, Rp 8.000/pasang, batas 30/11, "
        "kirim ke Jababeka"
    )
    # the sector is read from the product words
    await company.say("31/12")
    await company.tap("Terbitkan")
    await ikm.open()
    await ikm.tap("Ajukan penawaran")
    await ikm.say(ABSURD)
    refused_as_too_large(ikm, format_rupiah(MAX_UNIT_PRICE))
    assert MAX_QUANTITY * MAX_UNIT_PRICE < 2**63  # a deal's value fits BIGINT


async def test_a_deal_worth_more_than_an_integer_column_holds_is_recorded(app, chat_as) -> None:
    grant_officer(app)
    company = chat_as(COMPANY)
    await register_company(company)
    await verify_company(chat_as(OFFICER))
    ikm = chat_as(GLOVES_A.phone)
    await register_ikm(ikm, **GLOVES_A.answers())
    await company.open()
    await company.say(
        "/kebutuhan 5000 pasang sarung tangan kerja katun, Rp 8.000/pasang, batas 30/11, "
        "kirim ke Jababeka"
    )
    # the sector is read from the product words
    await company.say("31/12")
    await company.tap("Terbitkan")
    await ikm.open()
    await ikm.tap("Ajukan penawaran")
    await ikm.say("2,5 juta")
    await ikm.say("3000")
    await ikm.say("2 minggu")
    await ikm.tap("Lewati")
    await ikm.tap("Lewati")
    await ikm.tap("Kirim penawaran")
    await company.open()
    await company.tap("Lihat penawaran")
    await company.tap(company.options[0])
    await company.tap("Pilih penawaran ini")
    await company.tap("Semua (3.000)")
    [deal] = rows(app, Partnership)
    assert deal.value == 7_500_000_000 > 2**31  # beyond PostgreSQL's INTEGER
