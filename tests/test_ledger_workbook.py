"""The ledger as XLSX, read back with openpyxl: every partnership of the period with its
rupiah value as a number formatted as rupiah, the totals per company, what was asked."""

from __future__ import annotations

import io
from datetime import date
from zoneinfo import ZoneInfo

import openpyxl
from sqlmodel import Session

from bot.console.ledger import labels as ledger_labels
from bot.console.ledger import ledger_workbook, read_filters
from bot.core.i18n import Catalog
from bot.services import ledger
from bot.workbook import RUPIAH_FORMAT
from tests.conftest import START
from tests.ledger_history import COMPANIES, IKM, PARTNERSHIPS, seed_ledger

WIB = ZoneInfo("Asia/Jakarta")


def test_the_workbook_holds_the_period_and_estate_asked(app) -> None:
    seed_ledger(app.database)
    t = Catalog.load().translator("id")
    filters = read_filters({"from": "2026-01-01", "to": "2026-12-31", "estate": "jababeka"})
    assert filters.errors == ()
    with Session(app.database) as session:
        found = ledger.ledger(
            session=session,
            query=filters.query,
            labels=ledger_labels(t),
        )
    book = openpyxl.load_workbook(io.BytesIO(ledger_workbook(found, t=t, tz=WIB, now=START)))
    assert book.sheetnames == ["Kemitraan", "Per perusahaan", "Keterangan"]

    rows_sheet = book["Kemitraan"]
    assert rows_sheet.freeze_panes == "A2"
    header = [cell.value for cell in rows_sheet[1]]
    assert header[:8] == [
        "Perusahaan",
        "Kawasan",
        "IKM",
        "Kebutuhan",
        "Jumlah",
        "Satuan",
        "Nilai",
        "Tanggal kemitraan",
    ]
    chosen = [
        award
        for award in PARTNERSHIPS
        if date(2026, 1, 1) <= award.day <= date(2026, 12, 31)
        and COMPANIES[award.company - 1][1] == "jababeka"
    ]
    read = {
        (row[0].value, row[2].value, row[3].value, row[4].value, row[5].value, row[6].value)
        for row in rows_sheet.iter_rows(min_row=2)
    }
    assert read == {
        (COMPANIES[a.company - 1][0], IKM[a.ikm - 1][0], a.title, a.quantity, a.unit, a.value)
        for a in chosen
    }
    value_cells = [row[6] for row in rows_sheet.iter_rows(min_row=2)]
    assert all(cell.number_format == RUPIAH_FORMAT for cell in value_cells)
    assert rows_sheet.column_dimensions["G"].width >= len("Rp 30,000,000")
    # The award of 31 January 17:00 UTC shows its WIB moment: 1 February, 00:00.
    dates = {row[3].value: row[7].value for row in rows_sheet.iter_rows(min_row=2)}
    assert dates["Bracket baja"].date() == date(2026, 2, 1)

    totals = [[cell.value for cell in row] for row in book["Per perusahaan"].iter_rows(min_row=2)]
    per_company = {
        name: sum(a.value for a in chosen if COMPANIES[a.company - 1][0] == name)
        for name in {COMPANIES[a.company - 1][0] for a in chosen}
    }
    assert {row[0]: row[4] for row in totals[:-1]} == per_company
    assert totals[-1] == [
        "Total",
        None,
        len(chosen),
        len({a.ikm for a in chosen}),
        sum(a.value for a in chosen),
    ]

    about = {row[0].value: row[1].value for row in book["Keterangan"].iter_rows(min_row=2)}
    assert about["Periode"] == "1 Januari 2026 – 31 Desember 2026"
    assert about["Kawasan"] == "Jababeka"
    assert about["Instansi"] == "Dinas Perindustrian Kabupaten Bekasi"


def test_filters_that_cannot_be_read_are_named_and_left_out() -> None:
    filters = read_filters({"from": "kemarin", "to": "2026-01-01", "estate": "<b>"})
    assert filters.errors == ("console.ledger.error.from", "console.ledger.error.estate")
    assert filters.query == ledger.LedgerQuery(end=date(2026, 1, 1))
    swapped = read_filters({"from": "2026-03-01", "to": "2026-01-01"})
    assert swapped.errors == ("console.ledger.error.order",)
    assert swapped.query == ledger.LedgerQuery(start=date(2026, 1, 1), end=date(2026, 3, 1))
