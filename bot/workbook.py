"""Export tables written as an XLSX workbook (openpyxl): one sheet each, header row frozen,
column widths set, datetimes shown in local time (Excel has no time zones)."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from bot.services.exports import Table

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MIN_WIDTH = 8
MAX_WIDTH = 50
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"


def workbook_bytes(
    tables: Sequence[Table],
    *,
    sheet_title: Callable[[str], str],
    header: Callable[[str], str],
    tz: ZoneInfo,
) -> bytes:
    """The tables as one workbook; `sheet_title` and `header` translate their keys."""
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
        _set_widths(sheet, headers, table.rows)
        for cells in sheet.iter_rows(min_row=2):
            for cell in cells:
                if isinstance(cell.value, datetime):
                    cell.number_format = DATETIME_FORMAT
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


def _set_widths(sheet, headers: list[str], rows: list[tuple]) -> None:  # noqa: ANN001
    for index, title in enumerate(headers):
        longest = max([len(title), *(len(_shown(row[index])) for row in rows[:500])])
        width = min(max(longest + 2, MIN_WIDTH), MAX_WIDTH)
        sheet.column_dimensions[get_column_letter(index + 1)].width = width


def _shown(value: object) -> str:
    if isinstance(value, datetime):
        return "yyyy-mm-dd hh:mm"
    return "" if value is None else str(value)
