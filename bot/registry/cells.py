"""Reading one row of the Dinas's list with the parsers the chat uses.

A cell may be anything a spreadsheet holds: text with trailing spaces, a number that was a
phone number before Excel dropped its leading 0, a float, a date, nothing. Every reader here
returns None (or a problem) instead of raising. The same few values recur across thousands
of rows (kecamatan, bidang), so their readings are cached.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache

from bot.core.understanding import Expect, Kind, Sense, read
from bot.parsing.identity import parse_kbli_code, parse_nib, parse_phone
from bot.parsing.numbers import parse_count
from bot.reference import load_reference

# The registry record's fields a row fills, in the order the report and the plan use.
FIELDS = (
    "business_name",
    "owner_name",
    "address",
    "desa",
    "kecamatan",
    "sector",
    "kbli_code",
    "products",
    "nib",
    "phone",
    "phone_alt",
    "workers",
    "founded_year",
)
SHARED_TEXT = ("desa", "products")
_POSITION = {name: position for position, name in enumerate(FIELDS)}
TEXT_LIMITS = {
    "business_name": 120,
    "owner_name": 120,
    "address": 255,
    "desa": 80,
    "products": 500,
}
# Two numbers in one cell: "0812.. / 0813..", "0812..; 0857..", "0812.. atau 0857..".
_PHONE_SEPARATOR = re.compile(r"\s*(?:[/,;&|\n]|\s(?:atau|dan|or)\s)\s*", re.IGNORECASE)
_YEAR = re.compile(r"(?<![0-9])(1[89][0-9]{2}|20[0-9]{2})(?![0-9])")
_FIRST_YEAR = 1900
_MAX_CELL_TEXT = 1000
# Any fixed moment will do: a kecamatan's reading does not depend on the date.
_READING_MOMENT = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a row needs the Dinas's attention: a reason code and what was in the cell."""

    reason: str  # no_phone, invalid_phone, unknown_kecamatan, no_name
    detail: str = ""


class RowValues(Mapping[str, object]):
    """A row's values by field, held as one tuple: a list of 100,000 rows as dicts took
    three times the memory."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, object]) -> None:
        self._values = tuple(values.get(name) for name in FIELDS)

    def __getitem__(self, name: str) -> object:
        return self._values[_POSITION[name]]

    def __iter__(self) -> Iterator[str]:
        return iter(FIELDS)

    def __len__(self) -> int:
        return len(FIELDS)


@dataclass(frozen=True, slots=True)
class ParsedRow:
    row: int  # the row's number in the sheet (1-based, as the spreadsheet shows it)
    values: Mapping[str, object]  # field -> value; None when blank or unreadable
    problems: tuple[Problem, ...]


def parse_row(row: int, cells: Sequence[object], columns: Mapping[str, int]) -> ParsedRow:
    """One data row read into the registry's fields, with what needs attention."""
    raw = {
        field: cells[column] if column < len(cells) else None for field, column in columns.items()
    }
    values: dict[str, object] = {field: None for field in FIELDS}
    problems: list[Problem] = []
    for field, limit in TEXT_LIMITS.items():
        values[field] = clip(cell_text(raw.get(field)), limit)
    for field in SHARED_TEXT:  # the same few desa and product lists, thousands of times
        values[field] = sys.intern(values[field]) if values[field] else None
    if values["business_name"] is None:
        problems.append(Problem("no_name"))
    phones, phone_problem = read_phones(raw.get("phone"))
    values["phone"], values["phone_alt"] = (*phones, None, None)[:2]
    if phone_problem:
        problems.append(phone_problem)
    kecamatan, desa, kecamatan_problem = _place(raw.get("kecamatan"), values["desa"])
    values["kecamatan"], values["desa"] = kecamatan, values["desa"] or desa
    if kecamatan_problem:
        problems.append(kecamatan_problem)
    values["kbli_code"], values["sector"] = read_sector(
        raw.get("kbli"), raw.get("sector"), values["products"]
    )
    values["nib"] = parse_nib(cell_text(raw.get("nib")) or "")
    values["workers"] = read_count(raw.get("workers"))
    values["founded_year"] = read_year(raw.get("founded_year"))
    return ParsedRow(row, RowValues(values), tuple(problems))


def cell_text(cell: object) -> str | None:
    """A cell as text with its spaces collapsed; a whole float loses its ".0"."""
    if cell is None or isinstance(cell, bool):
        return None
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    if isinstance(cell, datetime | date):
        cell = cell.isoformat()
    text = " ".join(str(cell)[:_MAX_CELL_TEXT].split())
    return text or None


def clip(text: str | None, limit: int) -> str | None:
    return text[:limit].rstrip() if text else None


def read_phones(cell: object) -> tuple[tuple[str, ...], Problem | None]:
    """The cell's numbers in E.164 (at most two kept), or why there is none."""
    text = cell_text(cell)
    if text is None or not any(character.isdigit() for character in text):
        return (), Problem("no_phone")  # blank, "-", "belum ada"
    phones = _phones(text)
    if not phones:
        return (), Problem("invalid_phone", text)
    return phones[:2], None


def _phones(text: str) -> tuple[str, ...]:
    read_numbers = (parse_phone(piece) for piece in _PHONE_SEPARATOR.split(text) if piece)
    return tuple(dict.fromkeys(number for number in read_numbers if number))


def _place(cell: object, desa: str | None) -> tuple[str | None, str | None, Problem | None]:
    """(kecamatan, desa it was inferred from, problem): a desa written in the kecamatan's
    column is read as the chat reads it; a blank kecamatan is inferred from the desa. A
    kecamatan written but not recognised is reported, even when the desa would say."""
    text = cell_text(cell)
    if text is not None:
        kecamatan, inferred = read_kecamatan(text)
        if kecamatan is None:
            return None, None, Problem("unknown_kecamatan", text)
        return kecamatan, inferred, None
    if desa is not None:
        kecamatan, inferred = read_kecamatan(desa)
        if kecamatan is not None and inferred is not None:
            return kecamatan, None, None
    return None, None, Problem("unknown_kecamatan", text or "")


@lru_cache(maxsize=4096)
def read_kecamatan(text: str) -> tuple[str | None, str | None]:
    """(kecamatan, desa) as the chat reads a place: names, local abbreviations, a desa."""
    reading = read(text, Expect(Kind.PLACE), now=_READING_MOMENT)
    if reading.sense is not Sense.VALUE:
        return None, None
    return reading.value, reading.detail


def read_sector(
    kbli: object, bidang: object, products: object = None
) -> tuple[str | None, str | None]:
    """(KBLI code, KBLI division) from a KBLI cell (a code, a division or words), else a
    Bidang cell (words such as "Konveksi"), else the products ("boneka")."""
    code = parse_kbli_code(cell_text(kbli) or "")
    if code is not None:
        return code, code[:2]
    for cell in (kbli, bidang, products):
        text = cell_text(cell)
        if text is not None and (sector := sector_of(text)) is not None:
            return None, sector
    return None, None


@lru_cache(maxsize=4096)
def sector_of(text: str) -> str | None:
    """The KBLI division named by a division number or the sector words the chat knows."""
    reference = load_reference()
    found = reference.find_sector(text[:200])
    if found is not None:
        return found.code
    for word in text.split()[:10]:  # "Makanan ringan": one word names it
        found = reference.find_sector(word) if not word.isdigit() else None
        if found is not None:
            return found.code
    return None


def read_count(cell: object) -> int | None:
    """A count such as 12, "12 orang" or "sekitar 10"."""
    if isinstance(cell, int) and not isinstance(cell, bool):
        return cell if 0 <= cell <= 1_000_000 else None
    text = cell_text(cell)
    count = parse_count(text[:64]) if text else None
    return count if count is not None and count <= 1_000_000 else None


def read_year(cell: object) -> int | None:
    """A founding year from 2015, "2015", "Th. 2015" or a date."""
    if isinstance(cell, datetime | date):
        return cell.year
    text = cell_text(cell)
    match = _YEAR.search(text) if text else None
    year = int(match.group(1)) if match else None
    return year if year is not None and year >= _FIRST_YEAR else None
