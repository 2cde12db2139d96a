"""The registry's heading finder and cell readers: the Dinas's habits, and any cell at all."""

from __future__ import annotations

from datetime import UTC, date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.understanding import Expect, Kind, Sense, read
from bot.registry import NoTable, read_sheet
from bot.registry.cells import FIELDS, parse_row, read_count, read_phones, read_sector, read_year
from bot.registry.headers import find_table, is_total_row, load_header_words
from tests.conftest import START

WORDS = load_header_words()


@pytest.mark.parametrize(
    ("heading", "field"),
    [
        ("NAMA IKM", "business_name"),
        ("Nama Perusahaan ", "business_name"),
        ("Nama Usaha / Merek", "business_name"),
        ("Nama Pemilik Usaha", "owner_name"),
        ("Alamat Usaha", "address"),
        ("Desa / Kel.", "desa"),
        ("Kec.", "kecamatan"),
        ("No. Telp", "phone"),
        ("No HP/WA Pemilik", "phone"),
        ("Kode KBLI", "kbli"),
        ("Jenis Industri", "sector"),
        ("Komoditi", "products"),
        ("NIB (OSS)", "nib"),
        ("Jml Tenaga Kerja (orang)", "workers"),
        ("Thn Berdiri", "founded_year"),
    ],
)
def test_headings_as_the_dinas_writes_them(heading: str, field: str) -> None:
    assert WORDS.field_of(heading)[0] == field


def test_heading_row_below_a_title_and_merged_group_headings() -> None:
    rows = [
        ("DATA IKM KECAMATAN CIBITUNG",),
        (),
        ("No", "Nama IKM", "Alamat", None, "Kontak"),
        (None, None, "Desa", "Kecamatan", "No. HP"),
        (1, "Boneka Berkah", "Sukatenang", "Sukawangi", 81234567890),
    ]
    table = find_table(rows, WORDS)
    assert table.header_index == 3
    assert table.columns == {"business_name": 1, "desa": 2, "kecamatan": 3, "phone": 4}


@pytest.mark.parametrize(
    ("cell", "phones", "problem"),
    [
        (81234567890, ("+6281234567890",), None),  # a number cell: Excel dropped the 0
        (6281234567890, ("+6281234567890",), None),
        (81234567890.0, ("+6281234567890",), None),
        ("+62 812-3456-7890 ", ("+6281234567890",), None),
        ("0812 3456 7890 / 0857-1111-2222", ("+6281234567890", "+6285711112222"), None),
        ("0812.3456.7890; 0812.3456.7890", ("+6281234567890",), None),
        ("08123456789 atau 085711112222", ("+628123456789", "+6285711112222"), None),
        (None, (), "no_phone"),
        ("-", (), "no_phone"),
        ("belum ada", (), "no_phone"),
        ("0812-345", (), "invalid_phone"),
    ],
)
def test_phone_cells(cell: object, phones: tuple[str, ...], problem: str | None) -> None:
    read_numbers, found = read_phones(cell)
    assert read_numbers == phones
    assert (found.reason if found else None) == problem


@pytest.mark.parametrize(
    ("kecamatan", "desa", "expected"),
    [
        ("Cik. Barat", "Telaga Asih", ("Cikarang Barat", "Telaga Asih")),
        ("TAMSEL ", None, ("Tambun Selatan", None)),
        ("kec. setu", None, ("Setu", None)),
        ("Sukatenang", None, ("Sukawangi", "Sukatenang")),  # a desa in the kecamatan's column
        (None, "Sukatenang", ("Sukawangi", "Sukatenang")),  # no kecamatan: the desa says
        ("Karawang Barat", None, (None, None)),  # next regency, not "Cikarang Barat"
        ("Bekasi Timur", "Sukatenang", (None, "Sukatenang")),  # written wrong: reported
    ],
)
def test_kecamatan_cells(kecamatan: object, desa: object, expected: tuple) -> None:
    row = parse_row(7, ["Usaha", kecamatan, desa], {"business_name": 0, "kecamatan": 1, "desa": 2})
    assert (row.values["kecamatan"], row.values["desa"]) == expected
    unknown = [p for p in row.problems if p.reason == "unknown_kecamatan"]
    assert bool(unknown) == (expected[0] is None)


def test_a_place_in_the_next_regency_is_not_a_kecamatan_in_the_chat_either() -> None:
    reading = read("Karawang Barat", Expect(Kind.PLACE), now=START)
    assert reading.sense is not Sense.VALUE


@pytest.mark.parametrize(
    ("kbli", "bidang", "expected"),
    [
        (14111, None, ("14111", "14")),
        ("10.794", "Makanan", ("10794", "10")),
        (None, "Konveksi", (None, "14")),
        (None, "Makanan Ringan", (None, "10")),
        ("31", None, (None, "31")),
        (None, "Furniture", (None, "31")),
    ],
)
def test_kbli_and_bidang(kbli: object, bidang: object, expected: tuple) -> None:
    assert read_sector(kbli, bidang) == expected


@pytest.mark.parametrize(
    ("cell", "count"), [(12, 12), ("12 orang", 12), ("sekitar 10", 10), (12.0, 12), ("-", None)]
)
def test_counts(cell: object, count: int | None) -> None:
    assert read_count(cell) == count


@pytest.mark.parametrize(
    ("cell", "year"),
    [(2015, 2015), ("Tahun 2015", 2015), (date(2010, 3, 1), 2010), ("lama", None), (15, None)],
)
def test_years(cell: object, year: int | None) -> None:
    assert read_year(cell) == year


def test_total_row_is_not_a_business() -> None:
    assert is_total_row(("JUMLAH", None, None, None, 1234), WORDS)
    assert is_total_row((None, "Total :", None), WORDS)
    assert not is_total_row((12, "Jumlah Rasa Catering", "Setu"), WORDS)


def test_rows_numbered_in_advance_and_left_empty_are_blank() -> None:
    rows = [
        ("No", "Nama Usaha", "No. HP", "Kecamatan"),
        (1, "Boneka Berkah", "081234567890", "Sukawangi"),
        (2, None, None, "  "),
        (3,),
        ("JUMLAH", None, None, None),
    ]
    sheet = read_sheet(rows)
    assert [row.row for row in sheet.rows] == [2]
    assert sheet.ignored == 3


# --- whatever a spreadsheet holds --------------------------------------------------------------

_cells = st.one_of(
    st.none(),
    st.text(max_size=60),
    st.sampled_from(["Nama Usaha", "No. HP", "Kecamatan", "Jumlah", "KBLI", "Desa", " "]),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.datetimes(timezones=st.just(UTC)),
    st.dates(),
)
_rows = st.lists(st.lists(_cells, max_size=14).map(tuple), max_size=12)


@settings(max_examples=300, deadline=None)
@given(_rows)
def test_any_sheet_is_read_or_said_to_have_no_table(rows: list[tuple]) -> None:
    try:
        sheet = read_sheet(rows)
    except NoTable:
        return
    for row in sheet.rows:
        assert set(row.values) == set(FIELDS)


@settings(max_examples=300, deadline=None)
@given(st.lists(_cells, max_size=14))
def test_any_row_is_read_without_raising(cells: list[object]) -> None:
    columns = {name: index for index, name in enumerate(WORDS.fields)}
    row = parse_row(1, cells, columns)
    phone = row.values["phone"]
    assert phone is None or (isinstance(phone, str) and phone.startswith("+"))
    assert row.values["kecamatan"] is None or isinstance(row.values["kecamatan"], str)
