"""Rendering helpers shared by channels: splitting long texts, shortening labels."""

from __future__ import annotations

import re


def split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most `limit` characters, cut at paragraph, then line, then word breaks."""
    if limit <= 0:
        raise ValueError("limit must be positive")
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        cut = _best_cut(rest, limit)
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest or not pieces:
        pieces.append(rest)
    return pieces


def _best_cut(text: str, limit: int) -> int:
    window = text[: limit + 1]
    for separator in ("\n\n", "\n", " "):
        position = window.rfind(separator, 0, limit)
        if position > limit // 4:  # do not leave a tiny first piece
            return position + len(separator)
    return limit


def shorten(label: str, limit: int) -> str:
    """A label cut to `limit` characters at a word break where possible, with an ellipsis."""
    label = " ".join(label.split())
    if len(label) <= limit:
        return label
    room = label[: limit - 1]
    space = room.rfind(" ")
    if space > limit // 2:
        room = room[:space]
    return room.rstrip(" ,.;:-") + "…"


# WhatsApp formats text between a pair of markers (*bold*, _italic_, ~strike~, ```mono```,
# `code`) and lines that start with "> " (a quote) or "* "/"- " (a bullet). A WORD JOINER
# (invisible, and no line break opportunity) on both sides of a marker keeps it from opening a pair
# whether WhatsApp counts the joiner as a space (then nothing follows the marker) or as a
# letter (then something precedes it), so people's text is shown as typed.
WORD_JOINER = "\u2060"
_INLINE_MARKERS = re.compile(r"[*_~`]")
# Numbered lines ("1. ") are left alone: WhatsApp shows them as typed, only indented.
_LINE_MARKER = re.compile(r"^(?=[ \t]*(?:>|[*-][ \t]))", re.MULTILINE)


def whatsapp_literal(text: str) -> str:
    """`text` as WhatsApp shows it literally: no marker in it can start formatting."""
    text = _INLINE_MARKERS.sub(lambda marker: f"{WORD_JOINER}{marker[0]}{WORD_JOINER}", text)
    return _LINE_MARKER.sub(WORD_JOINER, text)


def whatsapp_label(label: str, limit: int) -> str:
    """A one-line label shortened to `limit` characters once made literal (the joiners
    count too)."""
    room = limit
    while room > 1:
        literal = whatsapp_literal(shorten(label, room))
        if len(literal) <= limit:
            return literal
        # Each marker grows by two joiners: cut a third of the excess, at least one.
        room -= max(1, (len(literal) - limit) // 3)
    return whatsapp_literal(shorten(label, 1))
