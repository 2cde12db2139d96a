"""The words of a product or a need that matter for matching, with the trade's synonyms folded.

"Sarung Tangan kerja (gloves) katun" -> ["sarung_tangan", "kerja", "katun"]: lower case,
accents and punctuation gone, filler words dropped, and each synonym group ("sarung
tangan" / "glove") written as its first member, joined by "_" when it has several words.
A phrase is read as one word, so "sarung tangan" never yields the "sarung" of a sarong.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

MAX_KEYWORD_LENGTH = 40
MAX_PHRASE_WORDS = 4

_NON_WORD = re.compile(r"[^0-9a-z]+")


def fold(text: str) -> list[str]:
    """Lower-case words of `text` without accents or punctuation ("T-Shirt" -> ["t", "shirt"])."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return [word for word in _NON_WORD.split(plain) if word]


class Vocabulary:
    """Keyword extraction with a fixed list of synonym groups."""

    def __init__(
        self, synonym_groups: Iterable[Sequence[str]], stopwords: Iterable[str] = ()
    ) -> None:
        self._stopwords = frozenset(stopwords)
        self._phrases: dict[tuple[str, ...], str] = {}
        for group in synonym_groups:
            canonical = "_".join(fold(group[0]))
            for member in group:
                words = tuple(fold(member))
                if words and len(words) <= MAX_PHRASE_WORDS:
                    self._phrases.setdefault(words, canonical)

    def keywords(self, text: str) -> list[str]:
        """The distinct keywords of `text`, in the order they first appear."""
        words = fold(text)
        found: dict[str, None] = {}
        position = 0
        while position < len(words):
            keyword, used = self._phrase_at(words, position)
            position += used
            if self._meaningful(keyword):
                found.setdefault(keyword[:MAX_KEYWORD_LENGTH], None)
        return list(found)

    def _phrase_at(self, words: list[str], position: int) -> tuple[str, int]:
        """The longest synonym phrase starting at `position`, else the word itself."""
        for length in range(min(MAX_PHRASE_WORDS, len(words) - position), 0, -1):
            canonical = self._phrases.get(tuple(words[position : position + length]))
            if canonical is not None:
                return canonical, length
        return words[position], 1

    def _meaningful(self, word: str) -> bool:
        return len(word) >= 2 and not word.isdigit() and word not in self._stopwords
