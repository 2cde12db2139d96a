"""Read a whole need typed in one message, the way a buyer would write it:

    5000 pasang sarung tangan kerja katun, Rp 8.000/pasang, batas 30/11, kirim ke Jababeka

Parts are separated by commas, semicolons or new lines, in any order. The part without
a label is what is needed (quantity, unit and name, in either order); the others are
recognised by their first words: ``batas``/``deadline``/``paling lambat`` (the last day
for offers), ``kirim ke``/``antar ke``/``lokasi`` (where to deliver), ``kirim``/
``dikirim``/``tanggal kirim`` followed by a date (when to deliver), ``anggaran``/
``budget``/``total`` (a budget), and a rupiah amount (a price per unit). Whatever is not
understood is left out, so the bot asks for it: nothing here ever raises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from bot.parsing.dates import ParsedWhen, parse_when
from bot.parsing.numbers import (
    MAX_QUANTITY,
    MAX_TOTAL,
    MAX_UNIT_PRICE,
    Quantity,
    parse_amount,
    parse_quantity,
)

MAX_INPUT_LENGTH = 600
MAX_QUANTITY_WORDS = 4

_PARTS = re.compile(r"[,;\n]+")
_DEADLINE = re.compile(
    r"^(?:batas(?: waktu)?(?: penawaran)?|deadline|tenggat|paling lambat|penawaran sampai"
    r"|ditutup|tutup)\b[\s:]*",
    re.IGNORECASE,
)
_PLACE = re.compile(
    r"^(?:(?:di)?kirim(?:kan)? (?:ke|di)|(?:di)?antar (?:ke|di)|pengiriman (?:ke|di)|ke"
    r"|lokasi(?: kirim| pengiriman)?|tempat(?: kirim| pengiriman)?|alamat kirim)\b[\s:]*",
    re.IGNORECASE,
)
_DELIVERY = re.compile(
    r"^(?:(?:di)?kirim(?:kan)?|(?:di)?antar|pengiriman|(?:tanggal|tgl) (?:kirim|pengiriman)"
    r"|diterima|delivery)\b[\s:]*(?:tanggal |tgl |paling lambat )?",
    re.IGNORECASE,
)
_BUDGET = re.compile(r"^(?:anggaran|budget|total(?: anggaran)?|dana)\b[\s:]*", re.IGNORECASE)
_PRICE_LABEL = re.compile(r"^(?:harga(?: target)?|target harga|hps)\b[\s:]*", re.IGNORECASE)
# An amount with a multiplier, then "/unit" or "per unit": "7rb/psg", "150rb per pcs".
_PER_UNIT_PRICE = re.compile(r"(?i)\d\s*(?:rb|ribu|k|jt|juta)\b\s*(?:/|per\s)\s*[a-z]+\.?\s*$")
_PER_UNIT_TAIL = re.compile(r"(?i)\s*(?:/|\bper\s)\s*[a-z]+\.?\s*$")
_LEADING_FILLER = re.compile(
    r"^(?:(?:kami |saya )?(?:butuh|perlu|cari|mencari|dibutuhkan|kebutuhan|pesan)\b[\s:]*)+",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class NeedText:
    """What could be read; None for each part that was missing or not understood."""

    title: str | None = None
    quantity: int | None = None
    unit: str | None = None
    price_per_unit: int | None = None
    budget: int | None = None
    deadline: ParsedWhen | None = None
    delivery_date: ParsedWhen | None = None
    delivery_place: str | None = None
    # Parts with no label that were not read ("sebelum jumat", "delta mas"): the caller may
    # know more about them (relative dates, place names).
    unread: tuple[str, ...] = ()


def parse_need_text(text: str, now: datetime) -> NeedText:
    if not isinstance(text, str):
        return NeedText()
    found: dict[str, object] = {}
    unread: list[str] = []
    for part in _PARTS.split(text[:MAX_INPUT_LENGTH]):
        part = " ".join(part.split())
        if part and not _read_part(part, now, found):
            unread.append(part)
    return NeedText(**found, unread=tuple(unread))


def _read_part(part: str, now: datetime, found: dict[str, object]) -> bool:
    """Read one part into `found`; False when nothing in it was understood."""
    if match := _DEADLINE.match(part):
        _keep(found, "deadline", parse_when(part[match.end() :], now))
    elif match := _PLACE.match(part):
        _keep(found, "delivery_place", _place(part[match.end() :]))
    elif (match := _DELIVERY.match(part)) and (when := parse_when(part[match.end() :], now)):
        _keep(found, "delivery_date", when)
    elif match := _BUDGET.match(part):
        _keep(found, "budget", _at_most(parse_amount(part[match.end() :]), MAX_TOTAL))
    elif (price := _at_most(_price(part), MAX_UNIT_PRICE)) is not None:
        _keep(found, "price_per_unit", price)
    elif (when := parse_when(part, now)) is not None and "deadline" not in found:
        found["deadline"] = when  # a date alone is the last day for offers
    elif "title" not in found:
        _read_what(part, found)
    else:
        return False
    return True


def _keep(found: dict[str, object], name: str, value: object) -> None:
    if value is not None and name not in found:
        found[name] = value


def _at_most(value: int | None, limit: int) -> int | None:
    """A figure above its limit is left for its own question, which says the limit."""
    return value if value is not None and value <= limit else None


def _place(text: str) -> str | None:
    text = text.strip(" .:")
    return text[:200] if len(text) >= 2 else None


def _price(part: str) -> int | None:
    """A price per unit: labelled, in rupiah ("Rp 8.000"), or an amount per unit ("7rb/psg",
    "150rb per pcs", "@7.500"); "10 ribu pcs" is a quantity, not a price."""
    labelled = _PRICE_LABEL.match(part)
    body = part[labelled.end() :] if labelled else part
    looks_like_money = (
        labelled
        or re.search(r"(?i)\b(?:rp|idr|rupiah)\b|rp\s*\d", body)
        or _PER_UNIT_PRICE.search(body)
        or body.startswith("@")
    )
    if not looks_like_money:
        return None
    return parse_amount(body.lstrip("@ ")) or parse_amount(
        _PER_UNIT_TAIL.sub("", body.lstrip("@ "))
    )


def _read_what(part: str, found: dict[str, object]) -> None:
    """ "5000 pasang sarung tangan" or "sarung tangan 5.000 pasang": quantity, unit, title."""
    part = _LEADING_FILLER.sub("", part).strip()
    words = part.split()
    quantity, title_words = _quantity_at_start(words)
    if quantity is None:
        quantity, title_words = _quantity_at_end(words)
    if quantity is not None and quantity.amount <= MAX_QUANTITY:
        found["quantity"], found["unit"] = quantity.amount, quantity.unit
    title = " ".join(title_words).strip(" .:-")
    if len(title) >= 3 and any(char.isalpha() for char in title):
        found["title"] = title[:120]


def _quantity_at_start(words: list[str]) -> tuple[Quantity | None, list[str]]:
    best = None
    for length in range(1, min(MAX_QUANTITY_WORDS, len(words)) + 1):
        quantity = parse_quantity(" ".join(words[:length]))
        if quantity is not None and quantity.unit:
            best = (quantity, words[length:])
    return best if best else (None, words)


def _quantity_at_end(words: list[str]) -> tuple[Quantity | None, list[str]]:
    for length in range(min(MAX_QUANTITY_WORDS, len(words)), 0, -1):
        quantity = parse_quantity(" ".join(words[-length:]))
        if quantity is not None and quantity.unit:
            return quantity, words[:-length]
    return None, words
