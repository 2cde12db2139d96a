"""The understanding layer against the corpus of what people really type (tests/data).

The corpus was written before the layer. Held: at least 95 % of the clear answers read as
the corpus says, at most 3 % of them refused, and at least 95 % of the answers that must not
be accepted refused (so the layer cannot pass by saying yes to everything).
"""

from __future__ import annotations

import tomllib
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.messages import Option
from bot.core.understanding import Amount, Expect, Kind, Reading, Sense, load_vocabulary, read
from bot.parsing.contacts import mask_contacts
from bot.parsing.fuzzy import normalise
from bot.reference import load_reference

CORPUS = Path(__file__).parent / "data" / "understanding_corpus.toml"
NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)  # Sunday 22 November 2026, 10:00 WIB
KINDS = {
    "choice": Kind.CHOICE,
    "yes_no": Kind.YES_NO,
    "count": Kind.COUNT,
    "money": Kind.MONEY,
    "quantity": Kind.QUANTITY,
    "date": Kind.DATE,
    "place": Kind.PLACE,
    "nib": Kind.NIB,
    "unit": Kind.UNIT,
    "free_text": Kind.TEXT,
}


def load_corpus() -> dict:
    return tomllib.loads(CORPUS.read_text(encoding="utf-8"))


def expect_for(question: dict) -> Expect:
    options = tuple(Option(key, label) for key, label in question.get("options", {}).items())
    reference = load_reference()
    aliases = {
        "sector": reference.sector_aliases(),
        "smalltalk_at_sector": reference.sector_aliases(),
        "estate": reference.estate_aliases(),
    }.get(question["name"]) or load_vocabulary().option_aliases(
        question["name"], [o.id for o in options]
    )
    return Expect(
        KINDS[question["kind"]],
        options=options,
        skippable=question.get("skippable", False),
        yes=question.get("yes"),
        no=question.get("no"),
        aliases=aliases,
    )


def as_corpus(reading: Reading, text: str, kind: Kind) -> object:
    """A reading written the way the corpus writes what it expects."""
    match reading.sense:
        case Sense.OPTION:
            return reading.value
        case Sense.SKIP:
            return "skip"
        case Sense.SMALLTALK:
            return "smalltalk"
        case Sense.CLARIFY:
            return "?" + "|".join(reading.candidates)
        case Sense.TOO_LARGE:
            return "!too_large"
        case Sense.UNCLEAR:
            return "!"
    value = reading.value
    if isinstance(value, Amount):
        return [value.amount, value.unit or "", value.period or ""]
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, date):
        return value.isoformat()
    if kind is Kind.TEXT:
        return "masked" if mask_contacts(text, "…")[1] else "text"
    return value


def cases() -> list[tuple[str, str, object]]:
    return [
        (question["name"], say, expected)
        for question in load_corpus()["question"]
        for say, expected in question["cases"]
    ]


def reading_of(name: str, say: str) -> object:
    question = next(q for q in load_corpus()["question"] if q["name"] == name)
    expect = expect_for(question)
    return as_corpus(read(say, expect, now=NOW), say, expect.kind)


def same(expected: object, got: object) -> bool:
    if isinstance(expected, str) and expected.startswith("?") and isinstance(got, str):
        return got.startswith("?") and set(expected[1:].split("|")) == set(got[1:].split("|"))
    return expected == got


def test_the_corpus_is_large_and_has_answers_to_refuse() -> None:
    all_cases = cases()
    assert len(all_cases) >= 400
    assert sum(1 for *_, e in all_cases if isinstance(e, str) and e.startswith("!")) >= 40


def test_share_understood_and_refused() -> None:
    tally: Counter[str] = Counter()
    misses = []
    for name, say, expected in cases():
        got = reading_of(name, say)
        must_refuse = isinstance(expected, str) and expected.startswith("!")
        if must_refuse:
            tally["refuse"] += 1
            tally["refused_right"] += isinstance(got, str) and got.startswith("!")
        else:
            tally["clear"] += 1
            tally["understood"] += same(expected, got)
            tally["refused_clear"] += got == "!"
        if not same(expected, got) and not (must_refuse and str(got).startswith("!")):
            misses.append(f"{name}: {say!r} -> {got!r}, expected {expected!r}")
    understood = tally["understood"] / tally["clear"]
    refused = tally["refused_clear"] / tally["clear"]
    refused_right = tally["refused_right"] / tally["refuse"]
    print(
        f"\nunderstood {understood:.1%} of {tally['clear']} clear answers, refused {refused:.1%};"
        f" refused {refused_right:.1%} of {tally['refuse']} that must be refused"
    )
    print("\n".join(misses))
    assert understood >= 0.95, "\n".join(misses)
    assert refused <= 0.03, "\n".join(misses)
    assert refused_right >= 0.95, "\n".join(misses)


@pytest.mark.parametrize(
    ("name", "say", "expected"),
    [
        ("consent", "Setuju", "agree"),
        ("yes_no", "tidak mau", "no"),
        ("nib", "tidak punya", "skip"),
        ("kecamatan", "sukatenang", "Sukawangi"),
        ("price", "Rp 999999999999999", "!too_large"),
        ("deadline", "sebelum jumat", "2026-11-26"),
        ("capacity", "50 psg seminggu", [50, "pasang", "week"]),
    ],
)
def test_one_of_each_class(name: str, say: str, expected: object) -> None:
    assert same(expected, reading_of(name, say))


# --- properties: whatever is typed ------------------------------------------------------------


_labels = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=30
).filter(lambda label: any(c.isalnum() for c in label))
_typed = st.one_of(
    st.text(max_size=80),
    st.sampled_from([q for _, q, _ in cases()]),
    st.from_regex(r"[0-9 .,rbkjt±~/-]{0,20}", fullmatch=True),
)
_kinds = st.sampled_from(list(Kind))


@st.composite
def _expects(draw: st.DrawFn) -> Expect:
    labels = draw(st.lists(_labels, min_size=0, max_size=6, unique_by=lambda s: s.casefold()))
    options = tuple(Option(f"o{i}", label) for i, label in enumerate(labels))
    ids = [o.id for o in options]
    return Expect(
        draw(_kinds),
        options=options,
        skippable=draw(st.booleans()),
        yes=draw(st.sampled_from([None, *ids])),
        no=draw(st.sampled_from([None, *ids])),
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_typed, expect=_expects())
def test_never_raises_and_never_picks_an_option_not_offered(text: str, expect: Expect) -> None:
    reading = read(text, expect, now=NOW)
    offered = {option.id for option in expect.options}
    if reading.sense is Sense.OPTION:
        assert reading.value in offered
    if reading.sense is Sense.CLARIFY and expect.kind in (Kind.CHOICE, Kind.YES_NO):
        assert set(reading.candidates) <= offered
    assert 0.0 <= reading.confidence <= 1.0


@settings(max_examples=200, deadline=None)
@given(expect=_expects(), data=st.data())
def test_a_label_typed_exactly_always_wins(expect: Expect, data: st.DataObject) -> None:
    if not expect.options:
        return
    option = data.draw(st.sampled_from(expect.options))
    reading = read(option.label, expect, now=NOW)
    winners = {o.id for o in expect.options if normalise(o.label) == normalise(option.label)}
    assert reading.sense is Sense.OPTION and reading.value in winners
