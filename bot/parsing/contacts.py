"""Contact details inside free text: phone numbers, e-mail addresses and links.

Before an award, an offer's note or a question to a company may not carry a way to reach the
writer (contacts are exchanged only after the award); `mask_contacts` hides them.
"""

from __future__ import annotations

import re

_DIGIT_WORDS = {
    "nol": "0", "kosong": "0", "satu": "1", "dua": "2", "tiga": "3", "empat": "4",
    "lima": "5", "enam": "6", "tujuh": "7", "delapan": "8", "sembilan": "9",
}  # fmt: skip
_EMAIL = re.compile(r"[\w.+-]+\s*(?:@|\(at\)|\[at\])\s*[\w-]+(?:\s*\.\s*[\w-]+)+", re.IGNORECASE)
_LINK = re.compile(
    r"(?:https?://|www\.)\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|id|co\.id|net|org|me|ly|io|shop|store"
    r"|link|site|web\.id|my\.id|biz\.id)(?:/\S*)?",
    re.IGNORECASE,
)
# Nine or more digits with the separators people put between them: 0812-3456-7890, +62 812 ...
_PHONE = re.compile(r"(?<![\w])(?:\+|\(\+?)?[0-9][0-9\s().\-]{7,}[0-9](?![\w])")
_MIN_PHONE_DIGITS = 9


def mask_contacts(text: str, placeholder: str) -> tuple[str, bool]:
    """`text` with every phone number, e-mail and link replaced by `placeholder`; and whether
    anything was replaced. Phone numbers spelled in words ("nol delapan satu dua ...") too."""
    found = False

    def hide(match: re.Match[str]) -> str:
        nonlocal found
        found = True
        return placeholder

    masked = _EMAIL.sub(hide, text)
    masked = _LINK.sub(hide, masked)
    masked = _PHONE.sub(lambda m: hide(m) if _looks_like_phone(m) else m.group(), masked)
    masked = _mask_spelled_phone(masked, hide)
    return masked, found


def _looks_like_phone(match: re.Match[str]) -> bool:
    """Enough digits, starting as Indonesian numbers do (0…, 62…, 8…), and not an amount."""
    digits = "".join(c for c in match.group() if c.isdigit())
    before = match.string[: match.start()].casefold().rstrip()
    if before.endswith(("rp", "rp.", "idr")):
        return False
    return len(digits) >= _MIN_PHONE_DIGITS and digits.startswith(("0", "62", "8"))


def _mask_spelled_phone(text: str, hide) -> str:  # noqa: ANN001 - the replacement callback
    """A run of digit words and digits that adds up to a phone number's length."""
    words = text.split()
    start, digits = None, 0
    runs: list[tuple[int, int]] = []
    for index, word in enumerate([*words, ""]):
        bare = word.casefold().strip(".,:;")
        value = _DIGIT_WORDS.get(bare) or (bare if bare.isdigit() else None)
        if value is not None:
            start = index if start is None else start
            digits += len(value)
            continue
        if start is not None and digits >= _MIN_PHONE_DIGITS:
            runs.append((start, index))
        start, digits = None, 0
    if not runs:
        return text
    for run_start, run_end in reversed(runs):
        words[run_start:run_end] = [hide(None)]
    return " ".join(words)
