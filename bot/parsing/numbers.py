"""Parse and format numbers, rupiah amounts, quantities and counts as typed in Indonesia.

Users type on cheap phones, mostly in Bahasa Indonesia, so the parsers accept the local habits:
``.`` groups thousands and ``,`` marks decimals (``1.500.000``, ``1,5 juta``), multipliers
written with or without a space (``40rb``, ``2 jt``, ``1,5 M``), currency noise (``Rp``,
``IDR``, ``rupiah``, a trailing ``,-``) and simple number words (``dua puluh lima``,
``seribu``, ``satu setengah juta``).

Separator rule, applied to every number:

* A ``.`` or ``,`` followed by exactly three digits groups thousands, whichever character it
  is: ``3.000`` and ``3,000`` are both 3000 (people copy English formatting).
* The last separator followed by one, two, or four or more digits is the decimal mark:
  ``1,5`` and ``1.5`` are 1.5, ``1,2345 juta`` is 1 234 500.
* Mixed forms read the same either way: ``1.500,50`` and ``1,500.50`` are both 1500.5.
* Anything inconsistent is rejected: mixed thousands characters (``1.500,000``), the same
  character for thousands and decimals (``1.500.50``), misplaced groups (``15.00.000``) or a
  grouped number starting with zero (``0.500``, which could mean a half).

A consequence is that ``1,500 juta`` is 1.5 miliar, not 1.5 juta.

Multipliers: ``rb``/``ribu``/``k`` (10^3), ``jt``/``juta`` (10^6), ``m``/``miliar``
(10^9, Indonesian "M" is miliar, never million) and ``t``/``triliun`` (10^12). Quantities and
counts do not accept ``m`` and ``t``, because ``m`` is also the metre and a count in the
billions is a typo. Compound forms are read when unambiguous: ``1 juta 500 ribu`` and
``dua ribu lima ratus``; a bare remainder is only accepted after ``ribu`` (``2rb 500`` is
2500), since ``1 juta 500`` could mean either 1 000 500 or 1 500 000.

Amounts may end with a price unit (``/pcs``, ``per pasang``), which is dropped. Quantities are
understood per month: ``/bulan``, ``per bulan``, ``/bln`` and ``sebulan`` are dropped, while
other periods (``per hari``, ``seminggu``) give None rather than a silently wrong figure.

Amounts, quantities and counts must be whole after the multiplier (``1,5 jt`` is fine,
``Rp 1,5`` is not). Every parser returns None instead of raising, for any string.

The ``*_within`` variants also tell "a number, but above the limit" (`TooLarge`) from "not a
number" (None), so a re-ask can state the limit; that includes numbers too large for the plain
parsers to read at all (``Rp 999999999999999999999``). The limits below keep every figure
inside its database column: money in BIGINT columns, quantities and counts in INTEGER ones,
and a deal's value (quantity times unit price) below BIGINT's 9.2 * 10^18.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Context, Decimal

MAX_VALUE = 10**15
MAX_UNIT_PRICE = 10_000_000_000  # rupiah per unit
MAX_TOTAL = 1_000_000_000_000  # rupiah, a whole budget
MAX_QUANTITY = 100_000_000  # units, per order or per month
_MAX_INPUT_LENGTH = 200
_MAX_DIGITS = 20
# Exact arithmetic for every value we accept (at most _MAX_DIGITS significant digits).
_EXACT = Context(prec=60)

_THOUSAND = 10**3
_MILLION = 10**6
_BILLION = 10**9
_TRILLION = 10**12

_MULTIPLIERS: dict[str, int] = {
    "k": _THOUSAND,
    "rb": _THOUSAND,
    "rbu": _THOUSAND,
    "rebu": _THOUSAND,
    "ribu": _THOUSAND,
    "jt": _MILLION,
    "jta": _MILLION,
    "juta": _MILLION,
    "m": _BILLION,
    "miliar": _BILLION,
    "milyar": _BILLION,
    "t": _TRILLION,
    "triliun": _TRILLION,
    "trilyun": _TRILLION,
}
_SMALL_MULTIPLIERS: dict[str, int] = {
    word: value for word, value in _MULTIPLIERS.items() if word not in {"m", "t"}
}

# "seribu" reads as "satu ribu", and so on.
_SE_WORDS: dict[str, tuple[str, str]] = {
    "seribu": ("satu", "ribu"),
    "sejuta": ("satu", "juta"),
    "semiliar": ("satu", "miliar"),
    "semilyar": ("satu", "milyar"),
    "setriliun": ("satu", "triliun"),
}
_DIGIT_WORDS: dict[str, int] = {
    "nol": 0,
    "satu": 1,
    "dua": 2,
    "tiga": 3,
    "empat": 4,
    "lima": 5,
    "enam": 6,
    "tujuh": 7,
    "delapan": 8,
    "sembilan": 9,
}
_HALF = Decimal("0.5")

_UNIT_ALIASES: dict[str, str] = {
    "pcs": "pcs",
    "pc": "pcs",
    "psc": "pcs",
    "piece": "pcs",
    "pieces": "pcs",
    "buah": "buah",
    "bh": "buah",
    "biji": "buah",
    "unit": "unit",
    "pasang": "pasang",
    "psg": "pasang",
    "pair": "pasang",
    "pairs": "pasang",
    "kodi": "kodi",
    "lusin": "lusin",
    "lsn": "lusin",
    "kg": "kg",
    "kgs": "kg",
    "kilo": "kg",
    "kilogram": "kg",
    "gram": "gram",
    "gr": "gram",
    "g": "gram",
    "ton": "ton",
    "meter": "meter",
    "mtr": "meter",
    "m": "meter",
    "m2": "m2",
    "meter persegi": "m2",
    "liter": "liter",
    "ltr": "liter",
    "lt": "liter",
    "l": "liter",
    "roll": "roll",
    "rol": "roll",
    "gulung": "roll",
    "set": "set",
    "lembar": "lembar",
    "lbr": "lembar",
    "helai": "lembar",
    "rim": "rim",
    "karton": "karton",
    "ktn": "karton",
    "dus": "dus",
    "dos": "dus",
    "kardus": "dus",
    "box": "box",
    "boks": "box",
    "pak": "pak",
    "pack": "pak",
    "botol": "botol",
    "btl": "botol",
    "bungkus": "bungkus",
    "bks": "bungkus",
    "toples": "toples",
    "stoples": "toples",
    "porsi": "porsi",
    "sachet": "sachet",
    "saset": "sachet",
    "bal": "bal",
    "karung": "karung",
    "ikat": "ikat",
    "potong": "potong",
    "ptg": "potong",
    "gulungan": "roll",
}
UNITS: tuple[str, ...] = tuple(dict.fromkeys(_UNIT_ALIASES.values()))

_TOKEN = re.compile(r"[0-9]+(?:[.,][0-9]+)*|[a-z]+|\S")
_SEPARATOR = re.compile(r"([.,])")
_NUMERAL = re.compile(r"[0-9]+(?:[.,][0-9]+)*")
_CURRENCY_WORD = re.compile(r"(?<![a-z])(?:rupiah|idr|rp)(?![a-z])\.?")
# ",-" / ".-" closes a price ("Rp 40.000,-"); it is not a minus or a range dash.
_PRICE_DASH = re.compile(r"(?<=[0-9a-z])\s*[.,]-(?![0-9])")
_UNIT_ALTERNATIVES = "|".join(
    re.escape(alias).replace(r"\ ", r"\s+")
    for alias in sorted(_UNIT_ALIASES, key=len, reverse=True)
)
_UNIT_SUFFIX = re.compile(rf"(?<![a-z])(?P<unit>{_UNIT_ALTERNATIVES})\.?$")
_PER = r"(?:/|(?<![a-z])(?:per|tiap|setiap))\s*"
_PER_UNIT_SUFFIX = re.compile(rf"\s*{_PER}(?:{_UNIT_ALTERNATIVES})\.?$")
_MONTH_SUFFIX = re.compile(rf"\s*(?:{_PER}(?:bulan|bln|bl)|(?<![a-z])sebulan)\.?$")
_OTHER_PERIOD = re.compile(
    rf"(?:{_PER}(?:hari|minggu|tahun|thn|jam|pekan)|"
    r"(?<![a-z])(?:sehari|seminggu|setahun|sepekan))(?![a-z])"
)
_APPROXIMATION_PREFIX = re.compile(
    r"^(?:sekitar|sktr|kira-kira|kira kira|kira2|kurang lebih|lebih kurang|kurleb|kl|±|\+/-|\+-)"
    r"\s*"
)
_COUNT_NOUN_SUFFIX = re.compile(
    r"\s*(?<![a-z])(?:orang|org|karyawan|pekerja|pegawai|tenaga kerja|buruh|staf|staff)$"
)
_AN_SUFFIX = re.compile(r"(?<=[0-9])\s*-?\s*an$")
_RANGE_SEPARATOR = re.compile(
    r"\s*(?:[-–—−~]+|(?<![a-z])(?:s/d|s\.d\.?|sampai dengan|sampai|sampe|hingga|sd|smp|to)"
    r"(?![a-z]))\s*"
)
_RANGE_SEPARATOR_AFTER_ANTARA = re.compile(rf"{_RANGE_SEPARATOR.pattern}|\s+dan\s+")
_RANGE_PREFIX = re.compile(r"^(?:antara|dari|kisaran|range)\s+")


@dataclass(frozen=True)
class Quantity:
    """A positive whole quantity with an optional canonical unit from UNITS."""

    amount: int
    unit: str | None


@dataclass(frozen=True)
class _Term:
    """One "value [multiplier]" piece of a number, e.g. ``1,5`` + ``juta``."""

    value: Decimal
    multiplier: int | None


# ---------------------------------------------------------------- public parsers


def parse_number(text: str) -> Decimal | None:
    """Read a non-negative number with an optional multiplier; None if it is not one."""
    cleaned = _clean(text)
    if cleaned is None:
        return None
    return _parse_decimal(cleaned, _MULTIPLIERS)


def parse_amount(text: str) -> int | None:
    """Read a whole rupiah amount such as ``Rp 40.000,-``, ``40rb`` or ``Rp 8.000/pasang``."""
    cleaned = _clean_amount_text(text)
    if cleaned is None:
        return None
    return _parse_amount_side(cleaned)


def parse_amount_range(text: str) -> tuple[int, int] | None:
    """Read a rupiah range such as ``40-100 ribu``; a single amount n gives (n, n)."""
    cleaned = _clean_amount_text(text)
    if cleaned is None:
        return None
    separator = _RANGE_SEPARATOR
    if cleaned.startswith("antara "):
        separator = _RANGE_SEPARATOR_AFTER_ANTARA
    cleaned = _RANGE_PREFIX.sub("", cleaned)
    sides = separator.split(cleaned)
    if len(sides) == 1:
        amount = _parse_amount_side(cleaned)
        return (amount, amount) if amount else None
    if len(sides) != 2:
        return None
    return _parse_two_sided_range(sides[0], sides[1])


def parse_quantity(text: str) -> Quantity | None:
    """Read a positive whole quantity with an optional unit, e.g. ``5.000 pasang/bulan``."""
    cleaned = _clean(text)
    if cleaned is None or _OTHER_PERIOD.search(cleaned):
        return None
    cleaned = _APPROXIMATION_PREFIX.sub("", cleaned)
    cleaned = _MONTH_SUFFIX.sub("", cleaned).strip()
    cleaned, unit = _split_unit_suffix(cleaned)
    amount = _to_whole(_parse_decimal(cleaned, _SMALL_MULTIPLIERS))
    if amount is None or amount <= 0:
        return None
    return Quantity(amount, unit)


def parse_count(text: str) -> int | None:
    """Read a plain whole count such as ``12 karyawan``, ``sekitar 10``, ``10an`` or ``lima``."""
    cleaned = _clean(text)
    if cleaned is None:
        return None
    cleaned = _APPROXIMATION_PREFIX.sub("", cleaned)
    cleaned = _COUNT_NOUN_SUFFIX.sub("", cleaned)
    cleaned = _AN_SUFFIX.sub("", cleaned)
    return _to_whole(_parse_decimal(cleaned, _SMALL_MULTIPLIERS))


@dataclass(frozen=True)
class TooLarge:
    """A number was read, but it is above `limit`."""

    limit: int


def parse_amount_within(text: str, limit: int) -> int | TooLarge | None:
    """`parse_amount`, telling an amount above `limit` from text that is not an amount."""
    amount = parse_amount(text)
    if amount is None:
        return _too_large_or_none(_clean_amount_text(text), limit)
    return TooLarge(limit) if amount > limit else amount


def parse_amount_range_within(text: str, limit: int) -> tuple[int, int] | TooLarge | None:
    """`parse_amount_range`, telling a range reaching above `limit` from text that is none."""
    amounts = parse_amount_range(text)
    if amounts is None:
        return _too_large_or_none(_clean_amount_text(text), limit)
    return TooLarge(limit) if amounts[1] > limit else amounts


def parse_quantity_within(text: str, limit: int) -> Quantity | TooLarge | None:
    """`parse_quantity`, telling a quantity above `limit` from text that is not a quantity."""
    quantity = parse_quantity(text)
    if quantity is None:
        return _too_large_or_none(_clean(text), limit)
    return TooLarge(limit) if quantity.amount > limit else quantity


def parse_count_within(text: str, limit: int) -> int | TooLarge | None:
    """`parse_count`, telling a count above `limit` from text that is not a count."""
    count = parse_count(text)
    if count is None:
        return _too_large_or_none(_clean(text), limit)
    return TooLarge(limit) if count > limit else count


def _too_large_or_none(cleaned: str | None, limit: int) -> TooLarge | None:
    """TooLarge when `cleaned` holds a number above `limit` that the parsers would not read:
    more digits than they accept, or a multiplier taking it past MAX_VALUE."""
    if cleaned is None:
        return None
    numerals = _NUMERAL.findall(cleaned)
    if any(len(_SEPARATOR.sub("", numeral).lstrip("0")) > _MAX_DIGITS for numeral in numerals):
        return TooLarge(limit)
    sides = _RANGE_SEPARATOR.split(_RANGE_PREFIX.sub("", cleaned))
    return TooLarge(limit) if any(_above(side, limit) for side in sides) else None


def _above(text: str, limit: int) -> bool:
    """Whether `text`, read without the parsers' ceiling, is a number above `limit`."""
    text = _APPROXIMATION_PREFIX.sub("", _MONTH_SUFFIX.sub("", _strip_per_unit(text)))
    text = _COUNT_NOUN_SUFFIX.sub("", _split_unit_suffix(text.strip())[0])
    terms = _read_terms(_tokens(text), _MULTIPLIERS)
    value = _combine(terms) if terms else None
    return value is not None and value > limit


def normalise_unit(text: str) -> str | None:
    """Map a unit as typed (``Pcs``, ``psg``, ``kilo``) to its canonical name in UNITS."""
    if not isinstance(text, str) or len(text) > _MAX_INPUT_LENGTH:
        return None
    key = " ".join(unicodedata.normalize("NFKC", text).casefold().split()).rstrip(".")
    return _UNIT_ALIASES.get(key)


# Units that measure the same thing, in a common base: pieces, grams, millilitres. A pair
# is two pieces, so a capacity in pieces is never read as that many pairs.
_BASE_UNITS: dict[str, tuple[str, int]] = {
    "pcs": ("piece", 1),
    "buah": ("piece", 1),
    "unit": ("piece", 1),
    "lembar": ("piece", 1),
    "pasang": ("piece", 2),
    "lusin": ("piece", 12),
    "kodi": ("piece", 20),
    "gram": ("gram", 1),
    "kg": ("gram", 1_000),
    "ton": ("gram", 1_000_000),
    "liter": ("ml", 1_000),
}


def convert_amount(amount: int, unit: str, target: str) -> int | None:
    """`amount` in `unit` expressed in `target` (rounded down); None when the two measure
    different things (kg and pcs) or a unit is not known. Units as typed or canonical."""
    source, goal = normalise_unit(unit), normalise_unit(target)
    if source is None or goal is None:
        return None
    if source == goal:
        return amount
    if source not in _BASE_UNITS or goal not in _BASE_UNITS:
        return None
    (dimension, size), (goal_dimension, goal_size) = _BASE_UNITS[source], _BASE_UNITS[goal]
    if dimension != goal_dimension:
        return None
    return amount * size // goal_size


# ---------------------------------------------------------------- public formatters


def format_number(n: int | Decimal) -> str:
    """Format like Indonesians write: ``3000`` -> ``3.000``, ``Decimal('1.5')`` -> ``1,5``."""
    value = Decimal(n)
    if not value.is_finite():
        raise ValueError(f"cannot format {n!r}")
    sign = "-" if value < 0 else ""
    value = value.copy_abs()
    whole = value.to_integral_value(rounding=ROUND_DOWN)
    grouped = f"{int(whole):,}".replace(",", ".")
    fraction = _EXACT.subtract(value, whole)
    if fraction == 0:
        return sign + grouped
    digits = format(fraction.normalize(), "f").split(".")[1]
    # Three digits after a separator mean thousands, so pad them to four to stay a fraction.
    if len(digits) == 3:
        digits += "0"
    return f"{sign}{grouped},{digits}"


def format_rupiah(n: int) -> str:
    """Format a rupiah amount: ``40000`` -> ``Rp 40.000``."""
    return f"Rp {format_number(n)}"


def format_amount_range(low: int, high: int) -> str:
    """Format a rupiah range: ``Rp 40.000 – Rp 100.000``, or one amount when both are equal."""
    low, high = sorted((low, high))
    if low == high:
        return format_rupiah(low)
    return f"{format_rupiah(low)} – {format_rupiah(high)}"


def format_quantity(q: Quantity) -> str:
    """Format a quantity: ``Quantity(5000, "pasang")`` -> ``5.000 pasang``."""
    number = format_number(q.amount)
    return f"{number} {q.unit}" if q.unit else number


# ---------------------------------------------------------------- cleaning


def _clean(text: str) -> str | None:
    """Fold width, case and trailing full stops; None for non-strings or absurdly long input."""
    if not isinstance(text, str) or len(text) > _MAX_INPUT_LENGTH:
        return None
    folded = unicodedata.normalize("NFKC", text).casefold()
    if len(folded) > 2 * _MAX_INPUT_LENGTH:
        return None
    return " ".join(folded.split()).rstrip(". ")


def _clean_amount_text(text: str) -> str | None:
    cleaned = _clean(text)
    if cleaned is None:
        return None
    cleaned = _CURRENCY_WORD.sub(" ", cleaned)
    cleaned = _PRICE_DASH.sub(" ", cleaned)
    return " ".join(cleaned.split()).rstrip(". ")


def _split_unit_suffix(text: str) -> tuple[str, str | None]:
    """Split ``"5.000 pasang"`` into ``("5.000", "pasang")``; a missing unit gives None."""
    match = _UNIT_SUFFIX.search(text)
    if match is None:
        return text, None
    unit = _UNIT_ALIASES[" ".join(match.group("unit").split())]
    return text[: match.start()].strip(), unit


# ---------------------------------------------------------------- amounts and ranges


def _parse_amount_side(text: str) -> int | None:
    return _to_whole(_parse_decimal(_strip_per_unit(text), _MULTIPLIERS))


def _strip_per_unit(text: str) -> str:
    return _PER_UNIT_SUFFIX.sub("", text).strip()


def _parse_two_sided_range(left_text: str, right_text: str) -> tuple[int, int] | None:
    left = _read_terms(_tokens(_strip_per_unit(left_text)), _MULTIPLIERS)
    right = _read_terms(_tokens(_strip_per_unit(right_text)), _MULTIPLIERS)
    if not left or not right:
        return None
    left, right = _share_multiplier(left, right)
    low = _to_whole(_bounded(_combine(left)))
    high = _to_whole(_bounded(_combine(right)))
    if low is None or high is None:
        return None
    low, high = sorted((low, high))
    return (low, high) if high > 0 else None


def _share_multiplier(left: list[_Term], right: list[_Term]) -> tuple[list[_Term], list[_Term]]:
    """Let a multiplier written on one side only cover the other side too: ``40-100 ribu``.

    It is shared only when that brings the two ends closer together, so ``100-40rb`` reads as
    40 000 to 100 000 but ``Rp 40.000 - 100 ribu`` keeps 40 000 rather than 40 juta.
    """
    if len(left) != 1 or len(right) != 1:
        return left, right
    left_term, right_term = left[0], right[0]
    if (left_term.multiplier is None) == (right_term.multiplier is None):
        return left, right
    multiplier = left_term.multiplier or right_term.multiplier
    shared_left = _Term(left_term.value, multiplier)
    shared_right = _Term(right_term.value, multiplier)
    if _spread(shared_left, shared_right) <= _spread(left_term, right_term):
        return [shared_left], [shared_right]
    return left, right


def _spread(first: _Term, second: _Term) -> Decimal:
    """How many times larger the larger end is; infinite when the smaller end is zero."""
    low, high = sorted(
        _EXACT.multiply(term.value, Decimal(term.multiplier or 1)) for term in (first, second)
    )
    return _EXACT.divide(high, low) if low > 0 else Decimal("Infinity")


# ---------------------------------------------------------------- the number grammar


def _parse_decimal(text: str, multipliers: dict[str, int]) -> Decimal | None:
    terms = _read_terms(_tokens(text), multipliers)
    if not terms:
        return None
    return _bounded(_combine(terms))


def _tokens(text: str) -> list[str]:
    """Split into numerals, words and single symbols, expanding ``seribu`` to ``satu ribu``."""
    tokens: list[str] = []
    for token in _TOKEN.findall(text):
        tokens.extend(_SE_WORDS.get(token, (token,)))
    return tokens


def _read_terms(tokens: Sequence[str], multipliers: dict[str, int]) -> list[_Term] | None:
    terms: list[_Term] = []
    position = 0
    while position < len(tokens):
        read = _read_value(tokens, position)
        if read is None:
            return None
        value, position = read
        multiplier = None
        if position < len(tokens) and tokens[position] in multipliers:
            multiplier = multipliers[tokens[position]]
            position += 1
        terms.append(_Term(value, multiplier))
    return terms


def _read_value(tokens: Sequence[str], position: int) -> tuple[Decimal, int] | None:
    token = tokens[position]
    if token[0] in "0123456789":
        value = _read_numeral(token)
        return None if value is None else (value, position + 1)
    return _read_number_words(tokens, position)


def _read_numeral(token: str) -> Decimal | None:
    """Interpret one run of digits and separators following the module's separator rule."""
    pieces = _SEPARATOR.split(token)
    groups, separators = pieces[0::2], pieces[1::2]
    fraction = ""
    decimal_mark = None
    if separators and len(groups[-1]) != 3:
        fraction, decimal_mark = groups.pop(), separators.pop()
    if separators and not _valid_thousands(groups, separators, decimal_mark):
        return None
    whole = "".join(groups)
    if len(whole) + len(fraction) > _MAX_DIGITS:
        return None
    return Decimal(f"{whole}.{fraction}" if fraction else whole)


def _valid_thousands(groups: list[str], separators: list[str], decimal_mark: str | None) -> bool:
    mark = separators[0]
    return (
        all(separator == mark for separator in separators)
        and mark != decimal_mark
        and 1 <= len(groups[0]) <= 3
        and not groups[0].startswith("0")
        and all(len(group) == 3 for group in groups[1:])
    )


def _read_number_words(tokens: Sequence[str], position: int) -> tuple[Decimal, int] | None:
    """Read an Indonesian number phrase below 1000, e.g. ``seratus dua puluh lima``."""

    def word(offset: int) -> str | None:
        index = position + offset
        return tokens[index] if index < len(tokens) else None

    start = position
    total = 0
    digit = _DIGIT_WORDS.get(word(0) or "")
    if word(0) == "seratus":
        total, position = 100, position + 1
    elif digit and word(1) == "ratus":
        total, position = 100 * digit, position + 2

    digit = _DIGIT_WORDS.get(word(0) or "")
    if word(0) == "sepuluh":
        total, position = total + 10, position + 1
    elif word(0) == "sebelas":
        total, position = total + 11, position + 1
    elif digit and word(1) == "belas":
        total, position = total + 10 + digit, position + 2
    elif digit and word(1) == "puluh":
        total, position = total + 10 * digit, position + 2
        unit = _DIGIT_WORDS.get(word(0) or "")
        if unit:
            total, position = total + unit, position + 1
    elif digit is not None:
        total, position = total + digit, position + 1

    value = Decimal(total)
    if word(0) == "setengah":
        value, position = value + _HALF, position + 1
    return None if position == start else (value, position)


def _combine(terms: Sequence[_Term]) -> Decimal | None:
    """Add up the terms of ``1 juta 500 ribu``; None when the combination is ambiguous."""
    if len(terms) == 1:
        return _EXACT.multiply(terms[0].value, Decimal(terms[0].multiplier or 1))
    total = Decimal(0)
    previous: int | None = None
    for index, term in enumerate(terms):
        if term.value != term.value.to_integral_value():
            return None
        if index > 0 and term.value >= _THOUSAND:
            return None
        multiplier = term.multiplier
        if multiplier is None:
            if index != len(terms) - 1 or previous != _THOUSAND:
                return None
            multiplier = 1
        elif previous is not None and multiplier >= previous:
            return None
        total = _EXACT.add(total, _EXACT.multiply(term.value, Decimal(multiplier)))
        previous = multiplier
    return total


def _bounded(value: Decimal | None) -> Decimal | None:
    """Keep values in [0, MAX_VALUE] and drop trailing zeros from whole numbers."""
    if value is None or value < 0 or value > MAX_VALUE:
        return None
    if value == value.to_integral_value():
        return Decimal(int(value))
    return value.normalize()


def _to_whole(value: Decimal | None) -> int | None:
    if value is None or value != value.to_integral_value():
        return None
    return int(value)
