"""Tests for bot.parsing.fuzzy, using the 23 kecamatan of Kabupaten Bekasi as real data."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.parsing.fuzzy import Match, normalise, pick_one, rank_choices

KECAMATAN = [
    "Babelan",
    "Bojongmangu",
    "Cabangbungin",
    "Cibarusah",
    "Cibitung",
    "Cikarang Barat",
    "Cikarang Pusat",
    "Cikarang Selatan",
    "Cikarang Timur",
    "Cikarang Utara",
    "Karangbahagia",
    "Kedungwaringin",
    "Muaragembong",
    "Pebayuran",
    "Serang Baru",
    "Setu",
    "Sukakarya",
    "Sukatani",
    "Sukawangi",
    "Tambelang",
    "Tambun Selatan",
    "Tambun Utara",
    "Tarumajaya",
]
CHOICES = {name: [name] for name in KECAMATAN}
CIKARANG = {name for name in KECAMATAN if name.startswith("Cikarang")}
SUKA = ["Sukatani", "Sukakarya", "Sukawangi"]

choice_maps = st.dictionaries(
    st.text(max_size=10), st.lists(st.text(max_size=20), max_size=3), max_size=6
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Kec. Sétu ", "kec setu"),
        ("  CIKARANG   utara!! ", "cikarang utara"),
        ("Tambun-Selatan", "tambun selatan"),
        ("", ""),
        ("...", ""),
    ],
)
def test_normalise(text: str, expected: str) -> None:
    assert normalise(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cikarang utr", "Cikarang Utara"),
        ("ckrg utara", "Cikarang Utara"),
        ("tambun sel", "Tambun Selatan"),
        ("sukawangi", "Sukawangi"),
        ("kec. setu", "Setu"),
        ("Babelan ", "Babelan"),
        ("kecamatan cikarang utara", "Cikarang Utara"),
        ("utara cikarang", "Cikarang Utara"),
        ("cikarang utaar", "Cikarang Utara"),
        ("ckr selatan", "Cikarang Selatan"),
        ("cikarang pst", "Cikarang Pusat"),
        ("serangbaru", "Serang Baru"),
        ("muara gembong", "Muaragembong"),
        ("cibtung", "Cibitung"),
        ("tarumajya", "Tarumajaya"),
        ("sukatni", "Sukatani"),
        ("sukakarja", "Sukakarya"),
    ],
)
def test_pick_one_finds_kecamatan(text: str, expected: str) -> None:
    match = pick_one(text, CHOICES)
    assert match is not None
    assert match.key == expected


@pytest.mark.parametrize("name", KECAMATAN)
def test_pick_one_exact_names_win_with_full_score(name: str) -> None:
    assert pick_one(name, CHOICES) == Match(name, 100.0)
    assert pick_one(f"  {name.upper()} ", CHOICES) == Match(name, 100.0)


@pytest.mark.parametrize("text", ["cikarang", "tambun", "suka", "c", "ba", "", "   ", "jakarta"])
def test_pick_one_refuses_ambiguous_or_unknown_text(text: str) -> None:
    assert pick_one(text, CHOICES) is None


def test_cikarang_alone_ranks_the_five_cikarang_first() -> None:
    ranked = rank_choices("cikarang", CHOICES, limit=5)
    assert {match.key for match in ranked} == CIKARANG


@pytest.mark.parametrize("name", SUKA)
def test_suka_names_are_never_confused(name: str) -> None:
    assert pick_one(name, CHOICES) == Match(name, 100.0)
    ranked = rank_choices(name, CHOICES, limit=3, cutoff=0)
    assert ranked[0].key == name
    assert all(match.score < 90 for match in ranked[1:])


def test_rank_choices_orders_best_first_and_respects_limit_and_cutoff() -> None:
    ranked = rank_choices("cikarang utr", CHOICES)
    assert len(ranked) == 3
    assert ranked[0].key == "Cikarang Utara"
    assert [match.score for match in ranked] == sorted(
        (match.score for match in ranked), reverse=True
    )
    assert rank_choices("cikarang utr", CHOICES, limit=0) == []
    assert rank_choices("zzzz", CHOICES) == []


def test_rank_choices_breaks_ties_by_key_order() -> None:
    choices = {"b": ["Sama"], "a": ["Sama"], "c": ["Lain"]}
    assert [match.key for match in rank_choices("sama", choices)] == ["b", "a"]


def test_aliases_are_matched() -> None:
    choices = {"yes": ["Ya", "Iya", "Betul"], "no": ["Tidak", "Nggak", "Bukan"]}
    assert pick_one("iyaa", choices) == Match("yes", pick_one("iyaa", choices).score)
    assert pick_one("nggak", choices) == Match("no", 100.0)
    assert pick_one("tdk", choices).key == "no"


def test_a_lone_string_is_treated_as_one_name() -> None:
    assert pick_one("setu", {"setu": "Setu"}) == Match("setu", 100.0)


@given(st.text(), choice_maps)
def test_matching_never_raises(text: str, choices: dict[str, list[str]]) -> None:
    normalise(text)
    ranked = rank_choices(text, choices, limit=3)
    assert len(ranked) <= 3
    assert all(60 <= match.score <= 100 for match in ranked)
    match = pick_one(text, choices)
    assert match is None or match.key in choices


@given(st.text())
def test_kecamatan_matching_never_raises(text: str) -> None:
    ranked = rank_choices(text, CHOICES, limit=5)
    assert [match.score for match in ranked] == sorted(
        (match.score for match in ranked), reverse=True
    )
    match = pick_one(text, CHOICES)
    assert match is None or match.key in CHOICES


@given(st.text())
def test_normalise_is_idempotent(text: str) -> None:
    assert normalise(normalise(text)) == normalise(text)
