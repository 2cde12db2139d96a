"""Text from outside, made safe to store and compare: one function, applied in `Incoming`.

Control characters are dropped because PostgreSQL refuses NUL in text (SQLite keeps it,
so the two databases would disagree) and the others are invisible noise in a name.
Newline and tab stay: both are ordinary white space that every database stores, that the
parsers already fold, and that carry meaning when pasted (the lines of an address, the
columns of a spreadsheet row). A carriage return becomes a newline, so one line break is
one character everywhere. Bidi overrides and isolates are removed so a name cannot show
reversed to someone else; lone surrogates (possible in JSON escapes) cannot be encoded as
UTF-8 at all. NFC last, because removing a character may bring a letter and its accent
together.
"""

from __future__ import annotations

import unicodedata

_KEPT_CONTROLS = frozenset("\n\t")
_BIDI_CONTROLS = frozenset(chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)])
_DROPPED_CATEGORIES = frozenset({"Cc", "Cs"})


def normalise_text(text: str) -> str:
    """`text` without control characters (newline and tab kept), bidi overrides or lone
    surrogates, in NFC. Idempotent."""
    if text.isascii() and text.isprintable():
        return text  # nothing to drop and already NFC: most messages, checked at C speed
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    kept = "".join(char for char in text if _is_kept(char))
    return unicodedata.normalize("NFC", kept)


def _is_kept(char: str) -> bool:
    if char in _KEPT_CONTROLS:
        return True
    return char not in _BIDI_CONTROLS and unicodedata.category(char) not in _DROPPED_CATEGORIES
