"""Tests for bot.parsing.numbers: examples of Indonesian typing habits and round-trip properties."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.parsing.numbers import (
    MAX_VALUE,
    UNITS,
    Quantity,
    convert_amount,
    format_amount_range,
    format_number,
    format_quantity,
    format_rupiah,
    normalise_unit,
    parse_amount,
    parse_amount_range,
    parse_count,
    parse_number,
    parse_quantity,
)

NOISY_PIECES = [
    "0",
    "1",
    "5",
    "9",
    "00",
    "000",
    ".",
    ",",
    " ",
    "rb",
    "ribu",
    "juta",
    "jt",
    "k",
    "m",
    "t",
    "M",
    "Rp",
    "Rp.",
    "IDR",
    "-",
    "–",
    ",-",
    "/",
    "s/d",
    "sampai",
    "antara",
    "dan",
    "pcs",
    "per",
    "bulan",
    "dua",
    "puluh",
    "seribu",
    "setengah",
    "±",
    "an",
    "orang",
]
noisy_text = st.lists(st.sampled_from(NOISY_PIECES), max_size=12).map("".join)
any_text = st.one_of(st.text(), noisy_text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,5 juta", Decimal(1_500_000)),
        ("3.000", Decimal(3000)),
        ("3,000", Decimal(3000)),
        ("1.500.000", Decimal(1_500_000)),
        ("1,500,000", Decimal(1_500_000)),
        ("1,5", Decimal("1.5")),
        ("1.5", Decimal("1.5")),
        ("2,75", Decimal("2.75")),
        ("1.500,50", Decimal("1500.5")),
        ("1,500.50", Decimal("1500.5")),
        ("40rb", Decimal(40_000)),
        ("40 rb", Decimal(40_000)),
        ("40 ribu", Decimal(40_000)),
        ("40rbu", Decimal(40_000)),
        ("40k", Decimal(40_000)),
        ("2jt", Decimal(2_000_000)),
        ("1,5 jt", Decimal(1_500_000)),
        ("2 jta", Decimal(2_000_000)),
        ("1,2345 juta", Decimal(1_234_500)),
        ("1,5 M", Decimal(1_500_000_000)),
        ("2 miliar", Decimal(2_000_000_000)),
        ("2 milyar", Decimal(2_000_000_000)),
        ("1 T", Decimal(10**12)),
        ("1 triliun", Decimal(10**12)),
        ("0", Decimal(0)),
        ("  12  ", Decimal(12)),
        ("1 juta 500 ribu", Decimal(1_500_000)),
        ("2rb 500", Decimal(2500)),
        ("dua puluh lima ribu", Decimal(25_000)),
        ("seratus ribu", Decimal(100_000)),
        ("sejuta", Decimal(1_000_000)),
        ("satu setengah juta", Decimal(1_500_000)),
        ("setengah juta", Decimal(500_000)),
        ("1.000.000.000.000.000", Decimal(MAX_VALUE)),
    ],
)
def test_parse_number_examples(text: str, expected: Decimal) -> None:
    assert parse_number(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "-5",
        "abc",
        "1.000.000.000.000.001",
        "2.000 T",
        "1.500,000",  # mixed thousands characters
        "1.500.50",  # same character for thousands and decimals
        "15.00.000",  # misplaced groups
        "1500.000",  # first group too long
        "0.500",  # grouped number starting with zero
        "1,5,5",
        "1 500",
        "1 juta 500",  # 1 000 500 or 1 500 000?
        "40 ribu juta",
        "1 , 5",
        "Rp 40.000",  # currency belongs to parse_amount
    ],
)
def test_parse_number_rejects(text: str) -> None:
    assert parse_number(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Rp 40.000,-", 40_000),
        ("Rp 40.000.-", 40_000),
        ("Rp. 40.000", 40_000),
        ("Rp40.000", 40_000),
        ("IDR 40,000", 40_000),
        ("40.000 rupiah", 40_000),
        ("Rp 40.000,00", 40_000),
        ("40rb", 40_000),
        ("Rp 40 rb", 40_000),
        ("2jt", 2_000_000),
        ("1,5 juta", 1_500_000),
        ("1,2345 juta", 1_234_500),
        ("Rp 8.000/pasang", 8000),
        ("Rp 8.000 / pcs", 8000),
        ("8000 per pcs", 8000),
        ("8rb per unit", 8000),
        ("Rp 8.000,-/lusin", 8000),
        ("Rp 0", 0),
    ],
)
def test_parse_amount_examples(text: str, expected: int) -> None:
    assert parse_amount(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "Rp", "Rp 1,5", "Rp 40.000,50", "1,2345678 juta", "-40rb", "40-100rb", "40rb/hari", "x"],
)
def test_parse_amount_rejects(text: str) -> None:
    assert parse_amount(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("40-100 ribu", (40_000, 100_000)),
        ("40rb - 100rb", (40_000, 100_000)),
        ("Rp 40.000 - Rp 100.000", (40_000, 100_000)),
        ("40 sampai 100 ribu", (40_000, 100_000)),
        ("40 s/d 100rb", (40_000, 100_000)),
        ("40 sd 100 rb", (40_000, 100_000)),
        ("40 hingga 100 ribu", (40_000, 100_000)),
        ("40–100rb", (40_000, 100_000)),
        ("antara 40 dan 100 ribu", (40_000, 100_000)),
        ("Rp 40.000,- - Rp 100.000,-", (40_000, 100_000)),
        ("Rp 40.000 – Rp 100.000", (40_000, 100_000)),
        ("100-40rb", (40_000, 100_000)),
        ("100rb - 40rb", (40_000, 100_000)),
        ("40rb - 100", (40_000, 100_000)),
        ("Rp 40.000 - 100 ribu", (40_000, 100_000)),
        ("1,5-2 juta", (1_500_000, 2_000_000)),
        ("0 - 5rb", (0, 5000)),
        ("40rb", (40_000, 40_000)),
        ("Rp 8.000/pasang", (8000, 8000)),
        ("dari 40 sampai 100 ribu", (40_000, 100_000)),
    ],
)
def test_parse_amount_range_examples(text: str, expected: tuple[int, int]) -> None:
    assert parse_amount_range(text) == expected


@pytest.mark.parametrize(
    "text", ["", "0", "0-0", "Rp 0 - Rp 0", "-5 - 10", "1-2-3", "40 -", "- 40", "40 dan 100"]
)
def test_parse_amount_range_rejects(text: str) -> None:
    assert parse_amount_range(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5.000 pasang", Quantity(5000, "pasang")),
        ("200 ribu pcs", Quantity(200_000, "pcs")),
        ("3 ribu", Quantity(3000, None)),
        ("3.000/bulan", Quantity(3000, None)),
        ("3000 per bulan", Quantity(3000, None)),
        ("3 rb pcs per bulan", Quantity(3000, "pcs")),
        ("3000 sebulan", Quantity(3000, None)),
        ("3000 pcs/bln", Quantity(3000, "pcs")),
        ("2 kodi", Quantity(2, "kodi")),
        ("10 Lusin", Quantity(10, "lusin")),
        ("500pcs", Quantity(500, "pcs")),
        ("1,5 rb kg", Quantity(1500, "kg")),
        ("100 PC", Quantity(100, "pcs")),
        ("5 m", Quantity(5, "meter")),
        ("5 m2", Quantity(5, "m2")),
        ("5 m²", Quantity(5, "m2")),
        ("5 meter persegi", Quantity(5, "m2")),
        ("sekitar 500 buah", Quantity(500, "buah")),
    ],
)
def test_parse_quantity_examples(text: str, expected: Quantity) -> None:
    assert parse_quantity(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "pcs",
        "0 pcs",
        "1,5 ton",
        "-5 pcs",
        "5 m pcs",
        "300 pcs/hari",
        "5 pcs per minggu",
        "5 xyz",
    ],
)
def test_parse_quantity_rejects(text: str) -> None:
    assert parse_quantity(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5", 5),
        ("0", 0),
        ("5 orang", 5),
        ("12 karyawan", 12),
        ("sekitar 10", 10),
        ("±10", 10),
        ("+/- 10 orang", 10),
        ("kurang lebih 7 pekerja", 7),
        ("10an", 10),
        ("10-an orang", 10),
        ("3.000", 3000),
        ("satu", 1),
        ("lima orang", 5),
        ("delapan", 8),
        ("sembilan", 9),
        ("sepuluh", 10),
        ("sebelas", 11),
        ("dua belas", 12),
        ("dua puluh", 20),
        ("dua puluh lima", 25),
        ("seratus", 100),
        ("seratus dua puluh lima", 125),
        ("tiga ratus", 300),
        ("seribu", 1000),
        ("dua ribu lima ratus", 2500),
    ],
)
def test_parse_count_examples(text: str, expected: int) -> None:
    assert parse_count(text) == expected


@pytest.mark.parametrize(
    "text", ["", "5-10", "5 sampai 10", "1,5", "-3", "banyak", "puluhan", "lima lima", "2 m"]
)
def test_parse_count_rejects(text: str) -> None:
    assert parse_count(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pcs", "pcs"),
        ("Pc", "pcs"),
        ("pieces", "pcs"),
        ("psg", "pasang"),
        ("Kilo", "kg"),
        ("gr.", "gram"),
        ("Meter  Persegi", "m2"),
        ("unit", "unit"),
        ("biji", "buah"),
        ("kardus", "dus"),
        ("ribu", None),
        ("", None),
    ],
)
def test_normalise_unit(text: str, expected: str | None) -> None:
    assert normalise_unit(text) == expected


def test_units_are_canonical_with_pcs_first() -> None:
    assert UNITS[0] == "pcs"
    assert len(set(UNITS)) == len(UNITS)
    assert all(normalise_unit(unit) == unit for unit in UNITS)


@pytest.mark.parametrize(
    ("amount", "unit", "target", "expected"),
    [
        (3000, "pcs", "pasang", 1500),  # a pair is two pieces
        (1500, "pasang", "pcs", 3000),
        (5, "lusin", "pcs", 60),
        (3, "kodi", "lusin", 5),
        (2, "ton", "kg", 2000),
        (1500, "gram", "kg", 1),  # rounded down: never more than was declared
        (40, "Psg", "pasang", 40),
        (7, "botol", "botol", 7),
        (100, "kg", "pcs", None),  # different things
        (100, "botol", "pcs", None),
        (100, "pcs", "furlong", None),
    ],
)
def test_convert_amount(amount: int, unit: str, target: str, expected: int | None) -> None:
    assert convert_amount(amount, unit, target) == expected


@given(st.integers(0, 10**9), st.sampled_from(UNITS), st.sampled_from(UNITS))
def test_a_conversion_there_and_back_never_gains(amount: int, unit: str, target: str) -> None:
    there = convert_amount(amount, unit, target)
    if there is None:
        assert convert_amount(amount, target, unit) is None
        return
    back = convert_amount(there, target, unit)
    assert back is not None and 0 <= back <= amount


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "0"),
        (3000, "3.000"),
        (1_500_000, "1.500.000"),
        (Decimal("1.5"), "1,5"),
        (Decimal("1.50"), "1,5"),
        (Decimal("1500.25"), "1.500,25"),
        (Decimal("1.234"), "1,2340"),  # "1,234" would read as 1234
        (Decimal("2E+3"), "2.000"),
    ],
)
def test_format_number(value: int | Decimal, expected: str) -> None:
    assert format_number(value) == expected


def test_formatters() -> None:
    assert format_rupiah(40_000) == "Rp 40.000"
    assert format_amount_range(40_000, 100_000) == "Rp 40.000 – Rp 100.000"
    assert format_amount_range(100_000, 40_000) == "Rp 40.000 – Rp 100.000"
    assert format_amount_range(40_000, 40_000) == "Rp 40.000"
    assert format_quantity(Quantity(5000, "pasang")) == "5.000 pasang"
    assert format_quantity(Quantity(3000, None)) == "3.000"


# ---------------------------------------------------------------- properties


@given(any_text)
def test_parsers_never_raise(text: str) -> None:
    number = parse_number(text)
    assert number is None or (isinstance(number, Decimal) and 0 <= number <= MAX_VALUE)
    amount = parse_amount(text)
    assert amount is None or (isinstance(amount, int) and 0 <= amount <= MAX_VALUE)
    amount_range = parse_amount_range(text)
    assert amount_range is None or 0 <= amount_range[0] <= amount_range[1] <= MAX_VALUE
    quantity = parse_quantity(text)
    assert quantity is None or (quantity.amount > 0 and quantity.unit in (*UNITS, None))
    count = parse_count(text)
    assert count is None or (isinstance(count, int) and count >= 0)
    unit = normalise_unit(text)
    assert unit is None or unit in UNITS


@given(st.integers(min_value=0, max_value=10**12))
def test_format_number_round_trips_integers(n: int) -> None:
    assert parse_number(format_number(n)) == n


@given(st.decimals(min_value=0, max_value=10**12, places=4, allow_nan=False, allow_infinity=False))
def test_format_number_round_trips_decimals(n: Decimal) -> None:
    assert parse_number(format_number(n)) == n


@given(st.integers(min_value=0, max_value=MAX_VALUE))
def test_format_rupiah_round_trips(n: int) -> None:
    assert parse_amount(format_rupiah(n)) == n


@given(st.integers(min_value=0, max_value=MAX_VALUE), st.integers(min_value=0, max_value=MAX_VALUE))
def test_format_amount_range_round_trips(a: int, b: int) -> None:
    expected = (min(a, b), max(a, b))
    parsed = parse_amount_range(format_amount_range(a, b))
    assert parsed == (None if expected == (0, 0) else expected)


@given(
    st.builds(
        Quantity,
        amount=st.integers(min_value=1, max_value=MAX_VALUE),
        unit=st.one_of(st.none(), st.sampled_from(UNITS)),
    )
)
def test_format_quantity_round_trips(q: Quantity) -> None:
    assert parse_quantity(format_quantity(q)) == q


@given(st.integers(min_value=0, max_value=MAX_VALUE))
def test_parse_count_reads_plain_integers(n: int) -> None:
    assert parse_count(str(n)) == n
