"""How WhatsApp would format a text: the pairs of markers it renders and the lines it turns
into quotes or bullets, so a test can say what a person would see.

The model follows WhatsApp's documented formatting (*bold*, _italic_, ~strike~, ```mono```,
`code`, "> " quotes, "* "/"- " bullets): a marker opens where it starts the text or follows
white space or punctuation and is followed by something visible; it closes where it follows
something visible and ends the text or precedes white space or punctuation. How WhatsApp
counts an invisible format character (a word joiner) is not documented, so `invisible` says:
"space" or "letter"; a text meant literally must show no formatting under either.
"""

from __future__ import annotations

import unicodedata
from typing import Literal

Invisible = Literal["space", "letter"]
INLINE_MARKERS = {"```": "mono", "*": "bold", "_": "italic", "~": "strike", "`": "code"}
LINE_MARKERS = {"> ": "quote", "* ": "bullet", "- ": "bullet"}


def formatting(text: str, *, invisible: Invisible) -> list[tuple[str, str]]:
    """Every (style, text) WhatsApp would render in `text`, inline pairs then line markers."""
    found = []
    for marker, style in INLINE_MARKERS.items():
        found.extend((style, inner) for inner in _pairs(text, marker, invisible))
    for line in text.split("\n"):
        for marker, style in LINE_MARKERS.items():
            if line.startswith(marker):
                found.append((style, line[len(marker) :]))
    return found


def _pairs(text: str, marker: str, invisible: Invisible) -> list[str]:
    found = []
    start = 0
    while (opening := _next(text, marker, start)) is not None:
        start = opening + len(marker)
        if not _opens(text, opening, marker, invisible):
            continue
        closing = _next(text, marker, start + 1)
        while closing is not None and not _closes(text, closing, marker, invisible):
            closing = _next(text, marker, closing + 1)
        if closing is None:
            break
        found.append(text[start:closing])
        start = closing + len(marker)
    return found


def _next(text: str, marker: str, start: int) -> int | None:
    """The next `marker`; a single backtick only where it is not part of three."""
    while (index := text.find(marker, start)) != -1:
        if marker != "`" or not _in_triple_backtick(text, index):
            return index
        start = index + 1
    return None


def _in_triple_backtick(text: str, index: int) -> bool:
    return any(text[i : i + 3] == "```" for i in range(max(0, index - 2), index + 1))


def _opens(text: str, at: int, marker: str, invisible: Invisible) -> bool:
    before = text[at - 1] if at > 0 else None
    after = text[at + len(marker)] if at + len(marker) < len(text) else None
    return (before is None or _boundary(before, invisible)) and (
        after is not None and not _space(after, invisible)
    )


def _closes(text: str, at: int, marker: str, invisible: Invisible) -> bool:
    before = text[at - 1] if at > 0 else None
    after = text[at + len(marker)] if at + len(marker) < len(text) else None
    return (before is not None and not _space(before, invisible)) and (
        after is None or _boundary(after, invisible)
    )


def _space(char: str, invisible: Invisible) -> bool:
    return char.isspace() or (invisible == "space" and unicodedata.category(char) == "Cf")


def _boundary(char: str, invisible: Invisible) -> bool:
    return _space(char, invisible) or unicodedata.category(char)[0] in "PS"
