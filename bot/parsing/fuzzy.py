"""Match free text typed by a user against a set of named choices, tolerating typos.

Generic on purpose (no domain data here): callers pass ``{key: [name, alias, ...]}``, for
example the kecamatan of Kabupaten Bekasi or the labels of a menu.

Scoring. Each name gets the best of four scores, all from 0 to 100:

* ``fuzz.ratio`` on the whole normalised strings, for plain typos (``cikarang utaar``);
* ``fuzz.ratio`` with spaces removed, for spacing slips (``serangbaru``, ``tambun selatan``
  against ``Tambunselatan``);
* ``fuzz.token_sort_ratio``, for words typed in another order (``utara cikarang``);
* a token alignment that understands abbreviations: each query token is paired in order with a
  name token, and a query token that starts like the name token and whose letters all appear
  in it in order (``utr`` for ``utara``, ``ckrg`` for ``cikarang``, ``sel`` for ``selatan``)
  scores almost like an exact word. Extra query words (``kec. setu``) cost a little, name
  words the user left out (``cikarang`` for ``Cikarang Utara``) get partial credit.

``fuzz.WRatio`` was tried and rejected: its partial-token scorers give 100 to any two strings
sharing one word, so ``kecamatan cikarang utara`` scored the same against every Cikarang, and
it knows nothing about abbreviations such as ``ckrg``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz

_MAX_QUERY_LENGTH = 200
_EXACT_TOKEN = 100.0
_ABBREVIATION_BASE = 70.0
_ABBREVIATION_PER_LETTER = 7.0
_ABBREVIATION_CEILING = 95.0
_UNMATCHED_NAME_TOKEN = 40.0
_EXTRA_QUERY_TOKEN_PENALTY = 10.0


@dataclass(frozen=True)
class Match:
    """A choice key and how well the text matched it (0 to 100)."""

    key: str
    score: float


def normalise(text: str) -> str:
    """Casefold, strip accents and punctuation, collapse spaces: ``Kec. Sétu `` -> ``kec setu``."""
    if not isinstance(text, str):
        return ""
    return _remembered(text) if len(text) <= _REMEMBERED_LENGTH else _normalised(text)


# Every typed answer is compared with the same few hundred labels, names and words: each is
# folded once (character by character, the costliest part of reading an answer), not per
# message. Only short texts are kept, so the memory it takes stays small (about 1 MB).
_REMEMBERED_LENGTH = 60


@lru_cache(maxsize=16384)
def _remembered(text: str) -> str:
    return _normalised(text)


def _normalised(text: str) -> str:
    # Casefolding can produce new decomposable characters, so decompose on both sides of it.
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    kept = (
        character if character.isalnum() else " "
        for character in decomposed
        if not unicodedata.combining(character)
    )
    return " ".join("".join(kept).split())


def rank_choices(
    text: str,
    choices: Mapping[str, Sequence[str]],
    limit: int = 3,
    cutoff: float = 60,
) -> list[Match]:
    """Return up to ``limit`` keys scoring at least ``cutoff``, best first, ties in key order."""
    query = _query(text)
    if not query or limit <= 0:
        return []
    scored = [
        (position, Match(key, _score_key(query, names)))
        for position, (key, names) in enumerate(choices.items())
    ]
    kept = [item for item in scored if item[1].score >= cutoff]
    kept.sort(key=lambda item: (-item[1].score, item[0]))
    return [match for _, match in kept[:limit]]


def pick_one(
    text: str,
    choices: Mapping[str, Sequence[str]],
    cutoff: float = 75,
    margin: float = 8,
) -> Match | None:
    """Return the one key the text clearly means, or None when unsure.

    An exact normalised match (spaces ignored) wins outright; otherwise the best key must
    score at least ``cutoff`` and lead the runner-up by at least ``margin``.
    """
    query = _query(text)
    if not query:
        return None
    exact = _exact_match(query, choices)
    if exact is not None:
        return exact
    ranked = rank_choices(text, choices, limit=2, cutoff=0)
    if not ranked or ranked[0].score < cutoff:
        return None
    runner_up = ranked[1].score if len(ranked) > 1 else 0.0
    return ranked[0] if ranked[0].score - runner_up >= margin else None


def _query(text: str) -> str:
    if not isinstance(text, str) or len(text) > _MAX_QUERY_LENGTH:
        return ""
    return normalise(text)


def _names(names: Sequence[str]) -> Sequence[str]:
    # A lone string would otherwise be iterated letter by letter.
    return (names,) if isinstance(names, str) else names


def _exact_match(query: str, choices: Mapping[str, Sequence[str]]) -> Match | None:
    compact_query = query.replace(" ", "")
    for key, names in choices.items():
        for name in _names(names):
            if normalise(name).replace(" ", "") == compact_query:
                return Match(key, 100.0)
    return None


def _score_key(query: str, names: Sequence[str]) -> float:
    scores = (_score_name(query, normalise(name)) for name in _names(names))
    return round(max(scores, default=0.0), 2)


def _score_name(query: str, name: str) -> float:
    if not name:
        return 0.0
    return max(
        fuzz.ratio(query, name),
        fuzz.ratio(query.replace(" ", ""), name.replace(" ", "")),
        fuzz.token_sort_ratio(query, name),
        _token_alignment_score(query.split(), name.split()),
    )


def _token_alignment_score(query_tokens: list[str], name_tokens: list[str]) -> float:
    """Best in-order pairing of query tokens with name tokens, averaged over the name tokens.

    ``best[i][j]`` is the best total for the first ``i`` query tokens against the first ``j``
    name tokens, where each name token earns its similarity (or partial credit when left out)
    and each query token left out costs a penalty scaled to the name length.
    """
    extra_cost = _EXTRA_QUERY_TOKEN_PENALTY * len(name_tokens)
    rows, columns = len(query_tokens) + 1, len(name_tokens) + 1
    best = [[0.0] * columns for _ in range(rows)]
    for j in range(1, columns):
        best[0][j] = best[0][j - 1] + _UNMATCHED_NAME_TOKEN
    for i in range(1, rows):
        best[i][0] = best[i - 1][0] - extra_cost
        for j in range(1, columns):
            best[i][j] = max(
                best[i - 1][j - 1] + _token_similarity(query_tokens[i - 1], name_tokens[j - 1]),
                best[i - 1][j] - extra_cost,
                best[i][j - 1] + _UNMATCHED_NAME_TOKEN,
            )
    return max(0.0, best[-1][-1] / len(name_tokens))


def _token_similarity(query_token: str, name_token: str) -> float:
    if query_token == name_token:
        return _EXACT_TOKEN
    similarity = fuzz.ratio(query_token, name_token)
    if _abbreviates(query_token, name_token):
        abbreviation = _ABBREVIATION_BASE + _ABBREVIATION_PER_LETTER * len(query_token)
        similarity = max(similarity, min(abbreviation, _ABBREVIATION_CEILING))
    return similarity


def _abbreviates(short: str, long: str) -> bool:
    """True when ``short`` starts like ``long`` and its letters appear in ``long`` in order."""
    if len(short) >= len(long) or short[0] != long[0]:
        return False
    remaining = iter(long)
    return all(character in remaining for character in short)
