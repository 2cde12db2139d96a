"""Export tables written as an XLSX workbook (openpyxl): one sheet each, header row frozen,
column widths set, datetimes shown in local time (Excel has no time zones)."""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from bot.services.exports import Table

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MIN_WIDTH = 8
MAX_WIDTH = 50
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
RUPIAH_FORMAT = '"Rp "#,##0'  # a number still (sums and sorts work), shown as rupiah


def workbook_bytes(
    tables: Sequence[Table],
    *,
    sheet_title: Callable[[str], str],
    header: Callable[[str], str],
    tz: ZoneInfo,
    number_formats: Mapping[str, str] | None = None,
) -> bytes:
    """The tables as one workbook; `sheet_title` and `header` translate their keys;
    `number_formats` gives a column key its Excel format (`RUPIAH_FORMAT` for money)."""
    book = Workbook()
    book.remove(book.active)
    for table in tables:
        sheet = book.create_sheet(sheet_title(table.name)[:31])  # Excel's limit on sheet names
        headers = [header(column) for column in table.columns]
        sheet.append(headers)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append([_cell(value, tz) for value in row])
        sheet.freeze_panes = "A2"
        formats = [(number_formats or {}).get(column) for column in table.columns]
        _set_widths(sheet, headers, table.rows, formats)
        for cells in sheet.iter_rows(min_row=2):
            for cell, number_format in zip(cells, formats, strict=False):
                if cell.data_type == "f":
                    # Text people typed ("=HYPERLINK(...)" as a business name): openpyxl
                    # writes a leading "=" as a formula Excel would run. It stays text.
                    cell.data_type = "s"
                elif isinstance(cell.value, datetime):
                    cell.number_format = DATETIME_FORMAT
                elif number_format and isinstance(cell.value, int | float):
                    cell.number_format = number_format
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _cell(value: object, tz: ZoneInfo) -> object:
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=ZoneInfo("UTC"))
        return aware.astimezone(tz).replace(tzinfo=None)
    if isinstance(value, list | dict):
        return ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    return value


def _set_widths(
    sheet: Worksheet, headers: list[str], rows: list[tuple], formats: list[str | None]
) -> None:
    for index, title in enumerate(headers):
        shown = (_shown(row[index], formats[index]) for row in rows[:500])
        longest = max([len(title), *(len(text) for text in shown)])
        width = min(max(longest + 2, MIN_WIDTH), MAX_WIDTH)
        sheet.column_dimensions[get_column_letter(index + 1)].width = width


def _shown(value: object, number_format: str | None = None) -> str:
    if isinstance(value, datetime):
        return "yyyy-mm-dd hh:mm"
    if number_format and isinstance(value, int):
        return f"Rp {value:,}"  # as wide as the formatted money
    return "" if value is None else str(value)
