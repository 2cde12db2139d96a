"""The XLSX writer shared by the export, the ledger and the roster: what people typed is
written as text, never as a formula Excel would run when an officer opens the file."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import openpyxl
from hypothesis import given
from hypothesis import strategies as st

from bot.services.exports import Table
from bot.workbook import workbook_bytes

WIB = ZoneInfo("Asia/Jakarta")


def read_back(rows: list[tuple]) -> list[tuple]:
    table = Table("ikm", ("name", "phone", "when"), rows)
    content = workbook_bytes([table], sheet_title=str, header=str, tz=WIB)
    sheet = openpyxl.load_workbook(io.BytesIO(content))["ikm"]
    return [tuple((cell.value, cell.data_type) for cell in row) for row in sheet.iter_rows(2)]


def test_typed_formulas_stay_text() -> None:
    typed = [
        ('=HYPERLINK("http://contoh.invalid","Klik")', "+6281234567890", None),
        ("=1+1", "-", None),
        ("@SUM(A1:A2)", "0812", datetime(2026, 12, 3, 1, 30, tzinfo=UTC)),
    ]
    back = read_back(typed)
    assert [row[0] for row in back] == [(row[0], "s") for row in typed]
    assert [row[1] for row in back] == [(row[1], "s") for row in typed]
    assert back[2][2] == (datetime(2026, 12, 3, 8, 30), "d")  # local time, a date cell


@given(st.text(min_size=1, max_size=40).filter(lambda text: text.strip() == text))
def test_any_typed_text_reads_back_as_the_same_text(text: str) -> None:
    cleaned = "".join(ch for ch in text if ch.isprintable())  # XML forbids control characters
    if not cleaned:
        return
    [(name, _, _)] = read_back([(cleaned, "", None)])
    assert name == (cleaned, "s")
