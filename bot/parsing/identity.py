"""Parse and format identifiers users type: phone numbers, NIB and KBLI codes.

Phone numbers go through the ``phonenumbers`` library and come out in E.164 (``+628...``).
The library already reads Indonesian habits such as ``62812...`` without the plus and a bare
mobile number without its trunk zero (``8123456789``); on top of that a short label before
the number is skipped (``WA: 0812...``). Letters
inside the number are rejected rather than read as a vanity number (``0812ABC``).

The NIB (Nomor Induk Berusaha, issued by OSS) is exactly 13 digits. KBLI codes accepted here
are 5-digit codes of section C (manufacturing): divisions 10 to 33, without division 19
(coke and refined petroleum, which is not small industry). Both may be typed with spaces,
dots (and for the NIB dashes) between digits and an optional ``NIB``/``KBLI`` label.

Every parser returns None instead of raising, for any string.
"""

from __future__ import annotations

import re
import unicodedata

import phonenumbers

_MAX_INPUT_LENGTH = 64
_MAX_PHONE_DIGITS = 17

# Everything before the first digit or "+" is a label; after it only phone punctuation.
_PHONE_LABEL = re.compile(r"^[^0-9+]*")
_PHONE_BODY = re.compile(r"\+?[0-9][0-9\s().\-]*")

_NIB = re.compile(r"(?:nib\s*:?\s*)?(?P<digits>[0-9](?:[\s.\-]*[0-9]){12})")
_KBLI = re.compile(r"(?:kbli\s*:?\s*)?(?P<digits>[0-9](?:[\s.]*[0-9]){4})")
_FIRST_MANUFACTURING_DIVISION = 10
_LAST_MANUFACTURING_DIVISION = 33
_EXCLUDED_DIVISIONS = frozenset({19})


def parse_phone(text: str, region: str = "ID") -> str | None:
    """Read a valid phone number and return it in E.164 form, e.g. ``+6281234567890``."""
    body = _phone_body(text)
    if body is None:
        return None
    number = _parse_valid_number(body, region)
    if number is None:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(e164: str) -> str:
    """Format an E.164 number for reading: national form for Indonesia (``0812-3456-7890``),
    international form otherwise. Text that is not a phone number is returned unchanged."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    if phonenumbers.region_code_for_number(number) == "ID":
        style = phonenumbers.PhoneNumberFormat.NATIONAL
    else:
        style = phonenumbers.PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(number, style)


def parse_nib(text: str) -> str | None:
    """Read a 13-digit NIB, ignoring spaces, dots and dashes between digits."""
    digits = _separated_digits(text, _NIB)
    return digits if digits is not None and len(digits) == 13 else None


def parse_kbli_code(text: str) -> str | None:
    """Read a 5-digit manufacturing KBLI code such as ``14111`` or ``14.111``."""
    digits = _separated_digits(text, _KBLI)
    if digits is None:
        return None
    division = int(digits[:2])
    if division in _EXCLUDED_DIVISIONS or not (
        _FIRST_MANUFACTURING_DIVISION <= division <= _LAST_MANUFACTURING_DIVISION
    ):
        return None
    return digits


def _normalised(text: str) -> str | None:
    if not isinstance(text, str) or len(text) > _MAX_INPUT_LENGTH:
        return None
    folded = unicodedata.normalize("NFKC", text).casefold().strip()
    return folded if len(folded) <= _MAX_INPUT_LENGTH else None


def _phone_body(text: str) -> str | None:
    normalised = _normalised(text)
    if normalised is None:
        return None
    body = _PHONE_LABEL.sub("", normalised)
    if not _PHONE_BODY.fullmatch(body):
        return None
    if len(re.sub(r"[^0-9]", "", body)) > _MAX_PHONE_DIGITS:
        return None
    return body


def _parse_valid_number(text: str, region: str) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse(text, region.upper() if isinstance(region, str) else None)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def _separated_digits(text: str, pattern: re.Pattern[str]) -> str | None:
    normalised = _normalised(text)
    if normalised is None:
        return None
    match = pattern.fullmatch(normalised)
    if match is None:
        return None
    return re.sub(r"[^0-9]", "", match.group("digits"))
