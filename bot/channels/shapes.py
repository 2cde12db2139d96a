"""Reading platform JSON that may not have the shape the documentation promises.

A signed webhook can still carry a list where an object belongs, a number where a string
belongs, or nothing at all. Each reader takes whatever is there and returns the type asked
for, or an empty/None value, never an exception: the parsers built on them stay total.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

# Longest id kept as it is; a longer one (forged) is replaced by a digest of fixed length,
# so that it still fits the columns it is stored in and still deduplicates.
ID_LIMIT = 128


def as_dict(value: Any) -> dict[str, Any]:
    """An object, or {} for anything else."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """A list; a lone object where a list belongs counts as a list of one."""
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return [value]
    return []


def as_dicts(value: Any) -> list[dict[str, Any]]:
    """The objects of a list (see `as_list`), anything else in it skipped."""
    return [item for item in as_list(value) if isinstance(item, dict)]


def as_text(value: Any) -> str | None:
    """A string; a number written where a string belongs is read as its digits."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def as_int(value: Any) -> int | None:
    """An integer, also one written as a string of digits."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.strip().lstrip("-").isdigit():
        text = value.strip()
        return int(text) if len(text) <= 18 else None
    return None


def as_float(value: Any) -> float | None:
    """A finite number, also one written as a string."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value) if abs(value) < 1e300 else math.inf
    elif isinstance(value, str) and len(value) <= 40:
        try:
            number = float(value)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def as_id(value: Any) -> str | None:
    """A platform id as text that fits our columns; None when there is none."""
    text = as_text(value)
    if not text:
        return None
    if len(text) <= ID_LIMIT:
        return text
    return "digest:" + hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()
