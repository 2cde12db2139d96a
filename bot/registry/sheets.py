"""The Dinas's spreadsheet as rows of cells: XLSX (openpyxl, read-only for speed) or CSV.

A CSV's delimiter is guessed from its first lines: Excel set to Indonesian writes `;` (the
comma is the decimal mark there). Its encoding is UTF-8 (with or without a byte-order mark),
else Windows-1252.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from pathlib import Path

from openpyxl import load_workbook

CSV_DELIMITERS = ";,\t|"
_SNIFF_BYTES = 64 * 1024
_SNIFF_LINES = 50
_HASH_CHUNK = 1024 * 1024


class UnreadableFile(ValueError):
    """The file is neither a workbook nor a CSV file we can read."""


def file_hash(path: Path) -> str:
    """The file's content hash (SHA-256, hex): the same list under another name is the same."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def read_rows(path: Path) -> Iterator[tuple[object, ...]]:
    """Every row of the file's first sheet, from the top, as a tuple of cell values."""
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        return _workbook_rows(path)
    if path.suffix.lower() in {".csv", ".txt"}:
        return _csv_rows(path)
    raise UnreadableFile(path.name)


def _workbook_rows(path: Path) -> Iterator[tuple[object, ...]]:
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is no workbook
        raise UnreadableFile(path.name) from exc
    try:
        yield from book.worksheets[0].iter_rows(values_only=True)
    finally:
        book.close()


def _csv_rows(path: Path) -> Iterator[tuple[object, ...]]:
    text = _decoded(path.read_bytes())
    delimiter = _delimiter(text[:_SNIFF_BYTES])
    for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
        yield tuple(row)


def _decoded(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _delimiter(sample: str) -> str:
    """The delimiter most lines of the sample have most of. csv.Sniffer is not used: a title
    row and commas inside addresses ("Jl. Raya, RT 02") throw it off."""
    lines = [line for line in sample.splitlines()[:_SNIFF_LINES] if line.strip()]

    def typical(delimiter: str) -> int:
        counts = sorted(line.count(delimiter) for line in lines)
        return counts[len(counts) // 2] if counts else 0

    best = max(CSV_DELIMITERS, key=typical)
    return best if typical(best) else ","
