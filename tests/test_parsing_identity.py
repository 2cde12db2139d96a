"""Tests for bot.parsing.identity: phone numbers, NIB and KBLI codes."""

import phonenumbers
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.parsing.identity import format_phone, parse_kbli_code, parse_nib, parse_phone

MOBILE = "+6281234567890"

PHONE_PIECES = ["0", "8", "1", "2", "62", "+", " ", "-", ".", "(", ")", "a", "WA:", "/"]
phone_like = st.lists(st.sampled_from(PHONE_PIECES), max_size=20).map("".join)
digit_text = st.text(alphabet="0123456789", min_size=1, max_size=20)
separator = st.sampled_from(["", "", " ", ".", "-"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0812-3456-7890", MOBILE),
        ("081234567890", MOBILE),
        ("6281234567890", MOBILE),
        ("+6281234567890", MOBILE),
        ("+62 812-3456-7890", MOBILE),
        ("(0812) 3456 7890", MOBILE),
        ("0812.3456.7890", MOBILE),
        ("  0812 3456 7890  ", MOBILE),
        ("WA: 0812-3456-7890", MOBILE),
        ("81234567890", MOBILE),
        ("8123456789", "+628123456789"),
        ("021-8901234", "+62218901234"),
        ("(021) 8901234", "+62218901234"),
        ("+1 650-253-0000", "+16502530000"),
        ("＋６２８１２３４５６７８９０", MOBILE),
    ],
)
def test_parse_phone_examples(text: str, expected: str) -> None:
    assert parse_phone(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "0812",
        "12345",
        "0812abcdefgh",  # not a vanity number
        "0812-3456-7890 / 0813-1111-2222",
        "0812-3456-7890 (WA)",
        "0812345678901234567890",
        "1" * 1000,
        "+62",
        "halo",
    ],
)
def test_parse_phone_rejects(text: str) -> None:
    assert parse_phone(text) is None


def test_parse_phone_uses_region_for_national_numbers() -> None:
    assert parse_phone("(650) 253-0000", region="US") == "+16502530000"
    assert parse_phone("0812-3456-7890", region="id") == MOBILE
    assert parse_phone("0812-3456-7890", region="XX") is None
    assert parse_phone("+62 812-3456-7890", region="US") == MOBILE


@pytest.mark.parametrize(
    ("e164", "expected"),
    [
        (MOBILE, "0812-3456-7890"),
        ("+62218901234", "(021) 8901234"),
        ("+16502530000", "+1 650-253-0000"),
        ("bukan nomor", "bukan nomor"),
    ],
)
def test_format_phone(e164: str, expected: str) -> None:
    assert format_phone(e164) == expected


@given(st.one_of(st.text(), phone_like), st.sampled_from(["ID", "US", "id", "XX", ""]))
def test_parse_phone_never_raises(text: str, region: str) -> None:
    result = parse_phone(text, region)
    assert result is None or phonenumbers.is_valid_number(phonenumbers.parse(result))


@given(
    st.sampled_from(["811", "812", "813", "821", "822", "852", "857", "878", "896", "838"]),
    st.text(alphabet="0123456789", min_size=6, max_size=8),
)
def test_indonesian_mobile_round_trips(prefix: str, rest: str) -> None:
    e164 = f"+62{prefix}{rest}"
    assume(phonenumbers.is_valid_number(phonenumbers.parse(e164)))
    assert parse_phone(format_phone(e164)) == e164
    assert parse_phone(e164) == e164


def _example_numbers() -> list[str]:
    examples = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE):
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None and phonenumbers.is_valid_number(number):
                examples.append(
                    phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
                )
    return sorted(set(examples))


@pytest.mark.parametrize("e164", _example_numbers())
def test_format_phone_round_trips_for_every_region(e164: str) -> None:
    assert parse_phone(format_phone(e164)) == e164


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1234567890123", "1234567890123"),
        ("1234 5678 90123", "1234567890123"),
        ("1234.5678.9012.3", "1234567890123"),
        ("1234-5678-90123", "1234567890123"),
        (" 1234567890123 ", "1234567890123"),
        ("NIB: 1234567890123", "1234567890123"),
        ("0220001234567", "0220001234567"),
    ],
)
def test_parse_nib_examples(text: str, expected: str) -> None:
    assert parse_nib(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "123456789012", "12345678901234", "12345678901a3", "abcdefghijklm", "1234567890123x"],
)
def test_parse_nib_rejects(text: str) -> None:
    assert parse_nib(text) is None


@given(st.lists(st.tuples(st.sampled_from("0123456789"), separator), min_size=1, max_size=16))
def test_parse_nib_reads_separated_digits(pieces: list[tuple[str, str]]) -> None:
    digits = "".join(digit for digit, _ in pieces)
    text = "".join(digit + sep for digit, sep in pieces[:-1]) + pieces[-1][0]
    assert parse_nib(text) == (digits if len(digits) == 13 else None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("14111", "14111"),
        ("14.111", "14111"),
        ("14 111", "14111"),
        ("10110", "10110"),
        ("33121", "33121"),
        ("KBLI 13911", "13911"),
    ],
)
def test_parse_kbli_code_examples(text: str, expected: str) -> None:
    assert parse_kbli_code(text) == expected


@pytest.mark.parametrize(
    "text", ["", "1411", "141111", "09111", "19201", "34111", "47111", "C14111", "14-111", "abcde"]
)
def test_parse_kbli_code_rejects(text: str) -> None:
    assert parse_kbli_code(text) is None


@given(st.integers(min_value=0, max_value=99_999))
def test_parse_kbli_code_accepts_exactly_manufacturing_divisions(code: int) -> None:
    text = f"{code:05d}"
    division = code // 1000
    expected = text if 10 <= division <= 33 and division != 19 else None
    assert parse_kbli_code(text) == expected


@given(st.one_of(st.text(), phone_like, digit_text))
def test_identity_parsers_never_raise(text: str) -> None:
    nib = parse_nib(text)
    assert nib is None or (len(nib) == 13 and nib.isdigit())
    kbli = parse_kbli_code(text)
    assert kbli is None or (len(kbli) == 5 and kbli.isdigit())
