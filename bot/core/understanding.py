"""Understanding what people type: one reading of a text against what a question expects.

A step declares what it expects (`Expect`: a choice among its options, yes/no, a count, money,
a quantity, a date, a place, a NIB or free text, and whether it may be skipped); `read` returns
a `Reading` with a confidence: an option, a value, a skip, small talk, a "did you mean ...?"
between candidates, a number too large, or nothing understood. The words people use live in
bot/data/vocabulary.toml (and the domain's names in bot/data/reference.toml); the parsers of
bot/parsing read numbers, money, quantities and dates. Nothing here writes chat text.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from bot.core.messages import Option
from bot.parsing.dates import parse_date
from bot.parsing.fuzzy import normalise, pick_one, rank_choices
from bot.parsing.identity import parse_nib
from bot.parsing.numbers import (
    MAX_QUANTITY,
    MAX_TOTAL,
    TooLarge,
    normalise_unit,
    parse_amount_range_within,
    parse_count_within,
    parse_quantity_within,
)
from bot.reference import Reference, load_reference

VOCABULARY_FILE = Path(__file__).resolve().parent.parent / "data" / "vocabulary.toml"
MAX_TEXT = 300  # longer than any answer to a question: read as free text only
# Money above this is a typing slip, not a price (the largest need's budget is far below).
# Beyond these no answer is meant (a step holds its own, smaller limits): "too large".
MAX_COUNT = 1_000_000

EXACT = 1.0
CONFIDENT = 0.85  # under this, a reading is offered as "did you mean ...?" before it is taken
WORD = 0.95  # a word of the vocabulary ("iya", "tidak punya")
ALIAS = 0.9  # an option's own alias or its id, or a label with filler around it
CONTAINED = 0.85  # an option's name inside a longer answer ("yg tekstil")
CLARIFY_FLOOR = 70.0  # fuzzy score under which a candidate is not worth asking about
# Two fuzzy candidates closer than this are both offered instead of guessing.
CLARIFY_MARGIN = 8.0
_ONLY_PUNCTUATION = re.compile(r"^[\s\-–—_.,/\\*~]+$")


class Kind(StrEnum):
    CHOICE = "choice"
    YES_NO = "yes_no"
    COUNT = "count"
    MONEY = "money"
    QUANTITY = "quantity"
    DATE = "date"
    PLACE = "place"
    NIB = "nib"
    UNIT = "unit"
    TEXT = "text"


class Sense(StrEnum):
    OPTION = "option"  # value: the option id
    VALUE = "value"  # value: what the kind reads (int, (low, high), Amount, date, kecamatan, ...)
    SKIP = "skip"
    SMALLTALK = "smalltalk"  # value: "greeting" or "thanks"
    CLARIFY = "clarify"  # candidates: option ids or kecamatan names to ask about
    TOO_LARGE = "too_large"  # value: the limit
    UNCLEAR = "unclear"


@dataclass(frozen=True)
class Expect:
    """What a question expects. `yes` / `no` name the options a yes-word or a no-word picks."""

    kind: Kind
    options: tuple[Option, ...] = ()
    skippable: bool = False
    yes: str | None = None
    no: str | None = None
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict, hash=False)
    # The largest number the question takes; above it the reading is "too large, at most".
    limit: int | None = None


@dataclass(frozen=True)
class Reading:
    sense: Sense
    value: Any = None
    confidence: float = 0.0
    candidates: tuple[str, ...] = ()
    detail: str | None = None  # e.g. the desa a kecamatan was inferred from

    @property
    def understood(self) -> bool:
        return self.sense in (Sense.OPTION, Sense.VALUE, Sense.SKIP)


@dataclass(frozen=True)
class Amount:
    """A quantity with the unit and period it was said in ("50 psg seminggu")."""

    amount: int
    unit: str | None
    period: str | None  # "day" / "week" / "month", None when not said


UNCLEAR = Reading(Sense.UNCLEAR)


@dataclass(frozen=True)
class Vocabulary:
    fillers: frozenset[str]
    honorifics: frozenset[str]
    yes: frozenset[str]
    no: frozenset[str]
    skip: tuple[str, ...]
    greetings: frozenset[str]
    thanks: frozenset[str]
    hedges: tuple[str, ...]
    money_words: dict[str, int]
    count_words: dict[str, int]
    count_nouns: tuple[str, ...]
    periods: dict[str, tuple[str, ...]]
    before_date: tuple[str, ...]
    by_date: tuple[str, ...]
    place_prefixes: frozenset[str]
    outside_places: frozenset[str]
    aliases: dict[str, tuple[str, ...]]
    answer_options: dict[str, frozenset[str]] = field(default_factory=dict)

    def option_aliases(
        self, question: str, option_ids: Iterable[str]
    ) -> dict[str, tuple[str, ...]]:
        """The aliases of a question's options, for `Expect.aliases`."""
        return {
            option_id: self.aliases[f"{question}.{option_id}"]
            for option_id in option_ids
            if f"{question}.{option_id}" in self.aliases
        }


@cache
def load_vocabulary(path: Path = VOCABULARY_FILE) -> Vocabulary:
    raw = tomllib.loads(path.read_text(encoding="utf-8"))

    def words(values: Iterable[str]) -> tuple[str, ...]:
        # Longest first, so "nanti aja" is tried before "nanti".
        return tuple(sorted({normalise(v) for v in values if normalise(v)}, key=len, reverse=True))

    return Vocabulary(
        fillers=frozenset(words(raw["fillers"])),
        honorifics=frozenset(words(raw["honorifics"])),
        yes=frozenset(words(raw["yes"])),
        no=frozenset(words(raw["no"])),
        skip=words(raw["skip"]),
        greetings=frozenset(words(raw["smalltalk"]["greeting"])),
        thanks=frozenset(words(raw["smalltalk"]["thanks"])),
        hedges=words(raw["hedges"]),
        money_words={normalise(k): v for k, v in raw["money_words"].items()},
        count_words={normalise(k): v for k, v in raw["count_words"].items()},
        count_nouns=words(raw["count_nouns"]),
        periods={period: words(said) for period, said in raw["period"].items()},
        before_date=words(raw["date_words"]["before"]),
        by_date=words(raw["date_words"]["by"]),
        place_prefixes=frozenset(words(raw["place_prefixes"])),
        outside_places=frozenset(words(raw["outside_places"])),
        aliases={key: words(values) for key, values in raw["aliases"].items()},
        answer_options={k: frozenset(v) for k, v in raw.get("answer_options", {}).items()},
    )


def read(
    text: str | None,
    expect: Expect,
    *,
    now: datetime,
    vocabulary: Vocabulary | None = None,
    reference: Reference | None = None,
) -> Reading:
    """What `text` says as an answer to a question expecting `expect`. Never raises."""
    reader = _Reader(vocabulary or load_vocabulary(), reference or load_reference(), now)
    return reader.read(text or "", expect)


class _Reader:
    def __init__(self, vocabulary: Vocabulary, reference: Reference, now: datetime) -> None:
        self.words = vocabulary
        self.reference = reference
        self.now = now

    def read(self, text: str, expect: Expect) -> Reading:
        if len(text) > MAX_TEXT:
            return Reading(Sense.VALUE, text, EXACT) if expect.kind is Kind.TEXT else UNCLEAR
        folded = normalise(text)
        exact = self._exact_option(folded, expect.options)
        if exact is not None:
            return exact
        if expect.kind is not Kind.TEXT or expect.skippable:
            small = self._smalltalk(folded)
            if small is not None:
                return small
        whole_skip = expect.kind is Kind.TEXT
        if expect.skippable and whole_skip and self._is_skip(text, folded, whole=True):
            return Reading(Sense.SKIP, confidence=WORD)
        reading = self._by_kind(text, folded, expect)
        if reading.understood or reading.sense in (Sense.CLARIFY, Sense.TOO_LARGE):
            return reading
        if expect.skippable and self._is_skip(text, folded, whole=whole_skip):
            return Reading(Sense.SKIP, confidence=WORD)
        return reading

    # --- what every kind shares ----------------------------------------------------------

    def _exact_option(self, folded: str, options: Sequence[Option]) -> Reading | None:
        """A label typed exactly always wins."""
        for option in options:
            if folded and normalise(option.label) == folded:
                return Reading(Sense.OPTION, option.id, EXACT)
        return None

    def _smalltalk(self, folded: str) -> Reading | None:
        tokens = [t for t in folded.split() if t not in self.words.fillers]
        social = self.words.greetings | self.words.thanks
        if not tokens or any(t not in social and t not in self.words.yes for t in tokens):
            return None
        if any(t in self.words.thanks for t in tokens):
            return Reading(Sense.SMALLTALK, "thanks", WORD)
        if any(t in self.words.greetings for t in tokens):
            return Reading(Sense.SMALLTALK, "greeting", WORD)
        return None

    def _is_skip(self, text: str, folded: str, *, whole: bool) -> bool:
        if _ONLY_PUNCTUATION.match(text):
            return True
        if any(c.isdigit() for c in folded):
            return False
        core = " ".join(t for t in folded.split() if t not in self.words.fillers) or folded
        if core in self.words.skip or folded in self.words.skip:
            return True
        padded = f" {folded} "
        return not whole and any(f" {phrase} " in padded for phrase in self.words.skip)

    def _yes_or_no(self, folded: str) -> str | None:
        """ "yes" or "no" when the whole answer is agreement or refusal ("iya bu", "gak usah")."""
        yes, no = self.words.yes, self.words.no
        tokens = [t for t in folded.split() if t in yes or t in no or t not in self.words.fillers]
        if not tokens or any(t not in yes and t not in no for t in tokens):
            return None
        return "no" if any(t in no for t in tokens) else "yes"

    def _strip(self, folded: str, words: Iterable[str]) -> str:
        """`folded` without the given words and phrases (whole tokens only)."""
        padded = f" {folded} "
        for phrase in words:
            padded = padded.replace(f" {phrase} ", " ")
        return " ".join(padded.split())

    # --- by kind ------------------------------------------------------------------------

    def _by_kind(self, text: str, folded: str, expect: Expect) -> Reading:
        match expect.kind:
            case Kind.CHOICE | Kind.YES_NO:
                return self._choice(folded, expect)
            case Kind.COUNT:
                return self._count(text, folded, expect.limit)
            case Kind.MONEY:
                return self._money(text, folded, expect.limit)
            case Kind.QUANTITY:
                return self._quantity(text, folded, expect.limit)
            case Kind.DATE:
                return self._date(text, folded)
            case Kind.PLACE:
                return self._place(folded)
            case Kind.NIB:
                nib = parse_nib(text)
                return Reading(Sense.VALUE, nib, EXACT) if nib else UNCLEAR
            case Kind.UNIT:
                return self._unit(folded)
            case Kind.TEXT:
                stripped = text.strip()
                return Reading(Sense.VALUE, stripped, EXACT) if stripped else UNCLEAR
        return UNCLEAR

    def _choice(self, folded: str, expect: Expect) -> Reading:
        if not folded:
            return UNCLEAR
        answer = self._yes_or_no(folded)
        if answer is not None:
            chosen = expect.yes if answer == "yes" else expect.no
            chosen = chosen or self._answer_option(answer, expect.options)
            if chosen is not None:
                return Reading(Sense.OPTION, chosen, WORD)
        names = _option_names(expect)
        core = self._strip(folded, self.words.fillers) or folded
        for option_id, option_names in names.items():
            if core in option_names or core == normalise(option_id):
                return Reading(Sense.OPTION, option_id, ALIAS)
        if any(c.isdigit() for c in core) and not any(
            c.isdigit() for option_names in names.values() for name in option_names for c in name
        ):
            return UNCLEAR  # "3000 pcs" names no role, however close its letters
        contained = _contained(folded, names)
        if len(contained) == 1:
            return Reading(Sense.OPTION, contained[0], CONTAINED)
        if len(contained) > 1:
            return Reading(Sense.CLARIFY, candidates=tuple(contained), confidence=0.5)
        leading = _led_by(core, names)
        if len(leading) == 1:
            return Reading(Sense.OPTION, leading[0], CONTAINED)
        return _fuzzy(core, names)

    def _answer_option(self, answer: str, options: Sequence[Option]) -> str | None:
        """The one option a yes- or no-word means where the question names none ("gas" at a
        summary is its "Terbitkan"); None when no option, or more than one, could be meant."""
        meant = self.words.answer_options.get(answer, frozenset())
        found = [option.id for option in options if option.id in meant]
        return found[0] if len(found) == 1 else None

    def _unit(self, folded: str) -> Reading:
        core = self._strip(folded, ("per", "satuan", "dalam", *self.words.fillers)) or folded
        core = _LEADING_ONE.sub("", core)
        unit = normalise_unit(core) or normalise_unit(_UNIT_AN.sub("", core))
        return Reading(Sense.VALUE, unit, WORD) if unit else UNCLEAR

    def _count(self, text: str, folded: str, limit: int | None) -> Reading:
        for word, value in self.words.count_words.items():
            if word in folded.split() and not any(c.isdigit() for c in folded):
                return Reading(Sense.VALUE, value, WORD)
        core = self._strip(
            folded, (*self.words.hedges, *self.words.count_nouns, *self.words.fillers)
        )
        if text.strip().startswith("-"):
            return UNCLEAR  # a negative count is no count
        value = parse_count_within(core, limit or MAX_COUNT) if core else None
        if isinstance(value, TooLarge):
            return Reading(Sense.TOO_LARGE, value.limit, WORD)
        if value is None:
            return UNCLEAR
        return Reading(Sense.VALUE, value, WORD) if value > 0 else UNCLEAR

    def _money(self, text: str, folded: str, limit: int | None) -> Reading:
        words = text.casefold().split()
        for word, value in self.words.money_words.items():
            if word in normalise(text).split() and not any(c.isdigit() for c in text):
                return Reading(Sense.VALUE, (value, value), WORD)
        cleaned = _strip_hedges(text.casefold(), (*self.words.hedges, *self.words.fillers))
        cleaned = _AN_AFTER_AMOUNT.sub(r"\1", cleaned)
        cleaned = cleaned.lstrip("@±~ ").strip()
        limit = limit or MAX_TOTAL
        found = parse_amount_range_within(cleaned, limit) if cleaned else None
        if found is None and len(words) > 1:
            found = parse_amount_range_within(_PER_UNIT.sub("", cleaned), limit)
        if isinstance(found, TooLarge):
            return Reading(Sense.TOO_LARGE, found.limit, WORD)
        if found is None:
            return UNCLEAR
        return Reading(Sense.VALUE, found, WORD) if found[0] > 0 else UNCLEAR

    def _quantity(self, text: str, folded: str, limit: int | None) -> Reading:
        cleaned = text.casefold().replace("±", " ")
        period = None
        for name, phrases in self.words.periods.items():
            for phrase in phrases:
                pattern = _phrase_pattern(phrase)
                if pattern.search(cleaned):
                    cleaned, period = pattern.sub(" ", cleaned, count=1), name
                    break
            if period:
                break
        cleaned = _strip_hedges(cleaned, (*self.words.hedges, *self.words.fillers))
        cleaned = _AN_AFTER_AMOUNT.sub(r"\1", cleaned).strip(" /")
        found = parse_quantity_within(cleaned, limit or MAX_QUANTITY) if cleaned else None
        if isinstance(found, TooLarge):
            return Reading(Sense.TOO_LARGE, found.limit, WORD)
        if found is None:
            return UNCLEAR
        return Reading(Sense.VALUE, Amount(found.amount, found.unit, period), WORD)

    def _date(self, text: str, folded: str) -> Reading:
        before = False
        for phrase in self.words.before_date:
            if _starts_with(folded, phrase):
                before, text = True, _drop_start(text, phrase)
                break
        for phrase in self.words.by_date:
            if _starts_with(normalise(text), phrase) and normalise(text) != phrase:
                stripped = _drop_start(text, phrase)
                if parse_date(stripped, self.now) is not None:
                    text = stripped
                break
        text = _WEEKS_AN.sub(r"\1 minggu lagi", text.casefold())
        text = _BARE_SPAN.sub(r"\1 \2 lagi", text)
        found = parse_date(_number_words_to_digits(text), self.now)
        if found is None:
            return UNCLEAR
        if before:
            found = found - timedelta(days=1)
        return Reading(Sense.VALUE, found, WORD)

    def _place(self, folded: str) -> Reading:
        core = " ".join(t for t in folded.split() if t not in self.words.place_prefixes)
        core = self._strip(core, self.words.fillers) or core
        if not core or any(c.isdigit() for c in core):
            return UNCLEAR
        if self._outside(core):
            return UNCLEAR
        reference = self.reference
        named = reference.kecamatan_named(core)
        if named is not None:
            return Reading(Sense.VALUE, named, EXACT)
        partial = reference.kecamatan_starting(core)
        desa = reference.desa_named(core)
        ambiguous = tuple(dict.fromkeys([*partial, *([desa[1]] if desa else [])]))
        if len(ambiguous) > 1:
            return Reading(Sense.CLARIFY, candidates=ambiguous, confidence=0.5)
        if desa is not None:
            return Reading(Sense.VALUE, desa[1], ALIAS, detail=desa[0])
        if len(partial) == 1:
            return Reading(Sense.VALUE, partial[0], ALIAS)
        return self._fuzzy_place(core)

    def _outside(self, core: str) -> bool:
        """A place outside the regency, or in one ("Karawang Barat" is close enough to
        "Cikarang Barat" for the fuzzy match, but lies in Karawang)."""
        return any(
            core == place or core.startswith(f"{place} ") for place in self.words.outside_places
        )

    def _fuzzy_place(self, core: str) -> Reading:
        reference = self.reference
        found = pick_one(core, reference.kecamatan_choices())
        if found is not None:
            return Reading(Sense.VALUE, found.key, found.score / 100)
        desa = pick_one(core, reference.desa_choices(), cutoff=88)
        if desa is not None:
            name, kecamatan = desa.key.split("|", 1)
            return Reading(Sense.VALUE, kecamatan, desa.score / 100, detail=name)
        ranked = rank_choices(core, reference.kecamatan_choices(), limit=3, cutoff=80)
        if ranked:
            return Reading(Sense.CLARIFY, candidates=tuple(m.key for m in ranked), confidence=0.5)
        return UNCLEAR


# --- helpers ------------------------------------------------------------------------------

_AN_AFTER_AMOUNT = re.compile(r"([0-9]|rb|ribu|k|jt|juta)\s*-?\s*an(?![a-z])")
_LEADING_ONE = re.compile(r"^(?:1|satu|se)\s+")
_UNIT_AN = re.compile(r"an$")
_PER_UNIT = re.compile(r"\s*(?:/|(?<![a-z])per\s)\s*[a-z]+\.?\s*$")
_WEEKS_AN = re.compile(r"(?<![0-9a-z])([0-9]+|dua|tiga|empat)\s*mingguan(?![a-z])")
_BARE_SPAN = re.compile(
    r"^\s*([0-9]+|dua|tiga|empat|lima|enam|tujuh)\s+(hari|minggu|bulan|pekan)\s*$"
)
_SMALL_NUMBERS = {"dua": "2", "tiga": "3", "empat": "4", "lima": "5", "enam": "6", "tujuh": "7"}


def _number_words_to_digits(text: str) -> str:
    return " ".join(_SMALL_NUMBERS.get(token, token) for token in text.split())


# Phrases come from the vocabulary (a bounded set): each pattern is built once.
@cache
def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    words = r"\s*".join(re.escape(word) for word in phrase.split())
    return re.compile(rf"(?:(?<=[\s/0-9])|^)/?\s*{words}(?![a-z])")


@cache
def _hedge_pattern(phrase: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![a-z0-9]){re.escape(phrase)}(?![a-z0-9])")


def _strip_hedges(text: str, phrases: Iterable[str]) -> str:
    padded = f" {text} "
    for phrase in phrases:
        padded = _hedge_pattern(phrase).sub(" ", padded)
    return " ".join(padded.split())


def _starts_with(folded: str, phrase: str) -> bool:
    return folded == phrase or folded.startswith(f"{phrase} ")


def _drop_start(text: str, phrase: str) -> str:
    """`text` without the words `phrase` normalises to, from its start."""
    words = text.split()
    for count in range(1, len(words) + 1):
        if normalise(" ".join(words[:count])) == phrase:
            return " ".join(words[count:])
    return text


def _option_names(expect: Expect) -> dict[str, tuple[str, ...]]:
    return {
        option.id: tuple(
            dict.fromkeys(
                n for n in (normalise(option.label), *expect.aliases.get(option.id, ())) if n
            )
        )
        for option in expect.options
    }


def _contained(folded: str, names: dict[str, tuple[str, ...]]) -> list[str]:
    """Options one of whose names stands as whole words in the answer; the longest name wins
    when several options are named ("pengecoran logam" is casting, not metal goods)."""
    padded = f" {folded} "
    found: dict[str, int] = {}
    for option_id, option_names in names.items():
        lengths = [len(name) for name in option_names if f" {name} " in padded]
        if lengths:
            found[option_id] = max(lengths)
    if len(found) <= 1:
        return list(found)
    longest = max(found.values())
    leaders = [option_id for option_id, length in found.items() if length == longest]
    return leaders if len(leaders) == 1 or longest > 3 else list(found)


def _led_by(core: str, names: dict[str, tuple[str, ...]]) -> list[str]:
    """Options whose label begins with the answer's words: "kirim" for "Kirim penawaran", as
    the summary itself says "Tekan Kirim"."""
    return [
        option_id
        for option_id, option_names in names.items()
        if any(name.startswith(f"{core} ") for name in option_names)
    ]


def _fuzzy(core: str, names: dict[str, tuple[str, ...]]) -> Reading:
    choices = {option_id: list(option_names) for option_id, option_names in names.items()}
    found = pick_one(core, choices)
    if found is not None:
        return Reading(Sense.OPTION, found.key, found.score / 100)
    ranked = rank_choices(core, choices, limit=2, cutoff=80)
    if len(ranked) == 2 and ranked[0].score - ranked[1].score < CLARIFY_MARGIN:
        return Reading(Sense.CLARIFY, candidates=(ranked[0].key, ranked[1].key), confidence=0.5)
    if len(ranked) == 1:
        return Reading(Sense.CLARIFY, candidates=(ranked[0].key,), confidence=0.5)
    return UNCLEAR
