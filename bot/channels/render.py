"""Rendering helpers shared by channels: splitting long texts, shortening labels."""

from __future__ import annotations


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
