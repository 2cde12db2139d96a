"""Finding the registry's table in a sheet: its heading row, what each column holds, its total row.

The words come from bot/data/registry_headers.toml. A heading is folded (case, spacing and
punctuation do not count) and matched against them: an equal phrase first, then a phrase it
starts with, then one it contains as whole words; the longer phrase wins among equals. The
heading row is the row, among the first few, that names the most known columns, a cell left
blank under a merged group heading taking the heading of the row above it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from bot.parsing.fuzzy import normalise

HEADERS_FILE = Path(__file__).resolve().parent.parent / "data" / "registry_headers.toml"

# How well a heading matched a phrase: the higher, the surer.
_EQUAL, _STARTS, _CONTAINS = 3, 2, 1


class UnknownField(ValueError):
    """A `--map` names a field that the registry does not have."""


@dataclass(frozen=True)
class HeaderWords:
    fields: Mapping[str, tuple[str, ...]]  # field -> folded phrases
    total_words: frozenset[str]
    max_header_row: int
    min_fields: int

    def field_of(self, heading: object) -> tuple[str, int] | None:
        """The field a heading names and how surely (3 equal, 2 starts, 1 contains)."""
        folded = fold(heading)
        if not folded:
            return None
        best: tuple[int, int, str] | None = None
        for field, phrases in self.fields.items():
            for phrase in phrases:
                rank = _rank(folded, phrase)
                if rank and (best is None or (rank, len(phrase)) > best[:2]):
                    best = (rank, len(phrase), field)
        return (best[2], best[0]) if best else None


@dataclass(frozen=True)
class Table:
    """Where the registry's rows start (0-based index of the heading row) and which column
    (0-based) holds each field."""

    header_index: int
    columns: Mapping[str, int]


def fold(value: object) -> str:
    """A cell's text folded for comparing headings: ``No. HP / WA `` -> ``no hp wa``."""
    return normalise(value) if isinstance(value, str) else ""


@cache
def load_header_words(path: Path = HEADERS_FILE) -> HeaderWords:
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    return HeaderWords(
        fields={
            field: tuple(dict.fromkeys(fold(phrase) for phrase in phrases))
            for field, phrases in raw["fields"].items()
        },
        total_words=frozenset(fold(word) for word in raw["table"]["total_words"]),
        max_header_row=int(raw["table"]["max_header_row"]),
        min_fields=int(raw["table"]["min_fields"]),
    )


def parse_mapping(items: Sequence[str], words: HeaderWords) -> dict[str, str]:
    """`--map "Kolom Saya=phone"` items as {folded heading: field}."""
    mapping = {}
    for item in items:
        heading, separator, field = item.rpartition("=")
        field = field.strip()
        if not separator or not fold(heading) or field not in words.fields:
            raise UnknownField(item)
        mapping[fold(heading)] = field
    return mapping


def find_table(
    rows: Sequence[Sequence[object]], words: HeaderWords, mapping: Mapping[str, str] | None = None
) -> Table | None:
    """The heading row among `rows` (the sheet's first rows) and its columns; None if no row
    names at least `min_fields` known columns including the business name."""
    best: Table | None = None
    above: Sequence[object] = ()
    for index, row in enumerate(rows[: words.max_header_row]):
        columns = _columns(row, above, words, mapping or {})
        above = row
        if "business_name" not in columns or len(columns) < words.min_fields:
            continue
        if best is None or len(columns) > len(best.columns):
            best = Table(index, columns)
    return best


def is_total_row(cells: Sequence[object], words: HeaderWords) -> bool:
    """A row summing the table up ("Jumlah", "TOTAL :") rather than describing a business."""
    leading = [cell for cell in cells[:4] if not _blank(cell)]
    return any(fold(cell) in words.total_words for cell in leading[:2])


def _rank(folded: str, phrase: str) -> int:
    if folded == phrase:
        return _EQUAL
    if folded.startswith(f"{phrase} "):
        return _STARTS
    if f" {phrase} " in f" {folded} ":
        return _CONTAINS
    return 0


def _columns(
    row: Sequence[object],
    above: Sequence[object],
    words: HeaderWords,
    mapping: Mapping[str, str],
) -> dict[str, int]:
    """Each field's column in `row`; a column keeps the surest heading naming its field."""
    found: dict[str, tuple[int, int]] = {}  # field -> (rank, column)
    # A sheet may end a row at its last filled cell: the row above can be longer.
    for column in range(max(len(row), len(above))):
        cell = row[column] if column < len(row) else None
        named = _field(cell, words, mapping)
        if named is None and _blank(cell) and column < len(above):
            # Under a heading merged across two rows, only the upper cell holds the text.
            named = _field(above[column], words, mapping)
        if named is None:
            continue
        field, rank = named
        if field not in found or rank > found[field][0]:
            found[field] = (rank, column)
    return {field: column for field, (_, column) in found.items()}


def _blank(cell: object) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _field(cell: object, words: HeaderWords, mapping: Mapping[str, str]) -> tuple[str, int] | None:
    mapped = mapping.get(fold(cell))
    if mapped is not None:
        return mapped, _EQUAL + 1  # what the officer said beats any guess
    return words.field_of(cell)
