"""A registry file read into parsed rows: the heading row found, title, blank and total rows
left out, every data row read with the chat's parsers."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

from bot.registry.cells import ParsedRow, parse_row
from bot.registry.headers import HeaderWords, find_table, is_total_row, load_header_words
from bot.registry.sheets import read_rows

PROGRESS_EVERY = 500


class NoTable(ValueError):
    """No row near the top of the sheet names the registry's columns."""


@dataclass(frozen=True)
class Sheet:
    rows: tuple[ParsedRow, ...]
    columns: Mapping[str, int]  # field -> 0-based column
    headings: tuple[str, ...]  # the heading row as written
    ignored: int  # blank rows and total rows below the heading


def read_registry(
    path: Path,
    *,
    mapping: Mapping[str, str] | None = None,
    words: HeaderWords | None = None,
    progress: Callable[[int], None] | None = None,
) -> Sheet:
    """Every data row of the file at `path`; `mapping` is {folded heading: field} (`--map`)."""
    return read_sheet(read_rows(path), mapping=mapping, words=words, progress=progress)


def read_sheet(
    rows: Iterable[Sequence[object]],
    *,
    mapping: Mapping[str, str] | None = None,
    words: HeaderWords | None = None,
    progress: Callable[[int], None] | None = None,
) -> Sheet:
    """`read_registry` over rows of cells already read."""
    words = words or load_header_words()
    iterator = iter(rows)
    top = [tuple(row) for _, row in zip(range(words.max_header_row), iterator, strict=False)]
    table = find_table(top, words, mapping)
    if table is None:
        raise NoTable
    parsed: list[ParsedRow] = []
    ignored = 0
    below = chain(top[table.header_index + 1 :], iterator)
    for number, cells in enumerate(below, start=table.header_index + 2):
        if _blank(cells, table.columns.values()) or is_total_row(cells, words):
            ignored += 1
            continue
        parsed.append(parse_row(number, cells, table.columns))
        if progress is not None and len(parsed) % PROGRESS_EVERY == 0:
            progress(len(parsed))
    headings = tuple(str(cell or "").strip() for cell in top[table.header_index])
    return Sheet(tuple(parsed), table.columns, headings, ignored)


def _blank(cells: Sequence[object], columns: Iterable[int]) -> bool:
    """Nothing in the registry's columns: a row numbered in advance ("No" only) is blank too."""
    kept = (cells[column] for column in columns if column < len(cells))
    return all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in kept)
