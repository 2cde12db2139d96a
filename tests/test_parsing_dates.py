"""Tests for bot.parsing.dates: Indonesian date/time parsing relative to a given ``now``."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.parsing import dates
from bot.parsing.dates import WIB, ParsedWhen, format_date, format_when, parse_date, parse_when

# Sunday 22 November 2026, 10:00 WIB
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=WIB)


def at(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=WIB)


# (text, expected `at`, expected has_time)
WHEN_EXAMPLES = [
    # relative days
    ("besok", at(2026, 11, 23), False),
    ("Besok", at(2026, 11, 23), False),
    ("lusa", at(2026, 11, 24), False),
    ("hari ini", at(2026, 11, 22), False),
    ("kemarin", at(2026, 11, 21), False),
    ("besok aja ya pak", at(2026, 11, 23), False),
    ("besok pagi", at(2026, 11, 23), False),
    ("nanti malam", at(2026, 11, 22), False),
    ("malam ini", at(2026, 11, 22), False),
    # relative days with a time of day
    ("besok jam 9", at(2026, 11, 23, 9), True),
    ("besok jam 9 malam", at(2026, 11, 23, 21), True),
    ("besok pagi jam 8", at(2026, 11, 23, 8), True),
    ("jam 2 siang besok", at(2026, 11, 23, 14), True),
    ("besok 7 malam", at(2026, 11, 23, 19), True),
    ("besok jam 12 malam", at(2026, 11, 24, 0), True),
    ("hari ini jam 9", at(2026, 11, 22, 9), True),  # in the past: returned as parsed
    ("nanti malam jam 8", at(2026, 11, 22, 20), True),
    # weekdays (weeks start on Sunday; "X depan" = X in the next calendar week)
    ("Senin", at(2026, 11, 23), False),
    ("Senin depan", at(2026, 11, 30), False),
    ("senin minggu depan", at(2026, 11, 30), False),
    ("Jumat", at(2026, 11, 27), False),
    ("hari Jumat", at(2026, 11, 27), False),
    ("Jum'at", at(2026, 11, 27), False),
    ("jum\u2019at", at(2026, 11, 27), False),
    ("Jumat ini", at(2026, 11, 27), False),
    ("Jumat depan", at(2026, 12, 4), False),
    ("Minggu", at(2026, 11, 29), False),
    ("hari Minggu", at(2026, 11, 29), False),
    ("Ahad", at(2026, 11, 29), False),
    ("Sabtu jam 3 sore", at(2026, 11, 28, 15), True),
    ("Senin depan jam 10", at(2026, 11, 30, 10), True),
    ("next friday", at(2026, 12, 4), False),
    # weeks / months
    ("minggu depan", at(2026, 11, 29), False),
    ("pekan depan", at(2026, 11, 29), False),
    ("bulan depan", at(2026, 12, 22), False),
    ("3 hari lagi", at(2026, 11, 25), False),
    ("2 minggu lagi", at(2026, 12, 6), False),
    ("seminggu lagi", at(2026, 11, 29), False),
    ("dalam 3 hari", at(2026, 11, 25), False),
    ("2 hari yang lalu", at(2026, 11, 20), False),
    ("akhir bulan", at(2026, 11, 30), False),
    ("awal bulan depan", at(2026, 12, 1), False),
    ("awal bulan", at(2026, 12, 1), False),
    ("akhir bulan depan", at(2026, 12, 31), False),
    ("awal Desember", at(2026, 12, 1), False),
    ("akhir pekan", at(2026, 11, 28), False),
    # numeric dates, day first, year-less ones roll forward
    ("30/11", at(2026, 11, 30), False),
    ("12/3", at(2027, 3, 12), False),
    ("1/2", at(2027, 2, 1), False),
    ("22/11", at(2026, 11, 22), False),  # today is not rolled to next year
    ("21/11", at(2027, 11, 21), False),
    ("29/2", at(2028, 2, 29), False),
    ("12-3-2027", at(2027, 3, 12), False),
    ("12/03/27", at(2027, 3, 12), False),
    ("12.03.2027", at(2027, 3, 12), False),
    ("1/1/2020", at(2020, 1, 1), False),  # explicit past year: returned as given
    ("2026-11-30", at(2026, 11, 30), False),
    # month names and abbreviations
    ("30 November 2026", at(2026, 11, 30), False),
    ("30 Nov", at(2026, 11, 30), False),
    ("30 nop", at(2026, 11, 30), False),
    ("5 Peb", at(2027, 2, 5), False),
    ("17 Ags", at(2027, 8, 17), False),
    ("17 agt 2027", at(2027, 8, 17), False),
    ("17 Agu", at(2027, 8, 17), False),
    ("1 sept", at(2027, 9, 1), False),
    ("1 Okt", at(2027, 10, 1), False),
    ("5des", at(2026, 12, 5), False),
    ("tgl 5 des", at(2026, 12, 5), False),
    ("tanggal 5 Desember", at(2026, 12, 5), False),
    ("tgl 5", at(2026, 12, 5), False),
    ("tanggal 30", at(2026, 11, 30), False),
    ("Senin, 30 November 2026", at(2026, 11, 30), False),
    ("December 5, 2026", at(2026, 12, 5), False),
    # dates with times
    ("12 Maret 2027 jam 9", at(2027, 3, 12, 9), True),
    ("12 Maret 2027 pukul 09.30", at(2027, 3, 12, 9, 30), True),
    ("12 maret jam 14:00", at(2027, 3, 12, 14), True),
    ("30/11 jam 7 malam", at(2026, 11, 30, 19), True),
    ("30/11/2026 09.30", at(2026, 11, 30, 9, 30), True),
    ("2026-11-30 14:00", at(2026, 11, 30, 14), True),
    ("Senin, 30 November 2026 pukul 09.00 WIB", at(2026, 11, 30, 9), True),
    ("Monday, 30 November 2026 at 09:00 WIB", at(2026, 11, 30, 9), True),
    ("senin jam 12 malam", at(2026, 11, 24, 0), True),
    # times alone: next occurrence (now is 10:00)
    ("jam 9", at(2026, 11, 23, 9), True),
    ("pukul 9", at(2026, 11, 23, 9), True),
    ("pkl. 11", at(2026, 11, 22, 11), True),
    ("jam 9.30", at(2026, 11, 23, 9, 30), True),
    ("09:30", at(2026, 11, 23, 9, 30), True),
    ("10.00", at(2026, 11, 22, 10), True),  # exactly now: not past
    ("jam 9 pagi", at(2026, 11, 23, 9), True),
    ("jam 1 siang", at(2026, 11, 22, 13), True),
    ("jam 3 sore", at(2026, 11, 22, 15), True),
    ("jam 7 malam", at(2026, 11, 22, 19), True),
    ("jam 12 siang", at(2026, 11, 22, 12), True),
    ("jam 12 malam", at(2026, 11, 23, 0), True),
    ("jam 24.00", at(2026, 11, 23, 0), True),
    ("jam 2 malam", at(2026, 11, 23, 2), True),
    ("jam 9an", at(2026, 11, 23, 9), True),
    ("besok jam setengah 9", at(2026, 11, 23, 8, 30), True),
    ("jam setengah 8 malam", at(2026, 11, 22, 19, 30), True),
    ("jam setengah 1", at(2026, 11, 22, 12, 30), True),
    ("jam 3 dini hari", at(2026, 11, 23, 3), True),
    ("bsk jm 9", at(2026, 11, 23, 9), True),
    ("tengah malam", at(2026, 11, 23, 0), True),
    ("jam 9 pm", at(2026, 11, 22, 21), True),
    ("2 jam lagi", at(2026, 11, 22, 12), True),
    ("30 menit lagi", at(2026, 11, 22, 10, 30), True),
    ("sekarang", at(2026, 11, 22, 10), True),
    # English fallback through dateparser
    ("tomorrow", at(2026, 11, 23), False),
    ("tomorrow 9am", at(2026, 11, 23, 9), True),
    ("the 30th of November", at(2026, 11, 30), False),
    ("in 3 days", at(2026, 11, 25), False),
    ("day after tomorrow", at(2026, 11, 24), False),
]

GARBAGE = [
    "",
    " ",
    "kapan-kapan",
    "kapan2",
    "asdf",
    "99/99",
    "31/2",
    "31 April",
    "0/1",
    "30/13",
    "9",
    "2026",
    "November",
    "bulan Desember",
    "jam",
    "jam 25",
    "jam 9.75",
    "jam 13 pagi",
    "jam 9 siang",
    "jam 12 pagi",
    "jam setengah 30",
    "besok jam 9 jam 10",
    "besok pagi jam 8 malam",
    "Selasa 30/11",  # weekday contradicts the date
    "besok rapat di pabrik",
    "today 5",
    "tanggal 5 bulan 12",
    "minggu ini",
    "12/3/99999",
    "1/1/1800",
    "x" * 101,
    "besok " + "a" * 200,
]


@pytest.mark.parametrize(("text", "expected", "has_time"), WHEN_EXAMPLES)
def test_parse_when_examples(text: str, expected: datetime, has_time: bool) -> None:
    result = parse_when(text, NOW)
    assert result == ParsedWhen(expected, has_time)
    assert result.at.tzinfo == WIB
    assert result.at.weekday() == expected.weekday()


@pytest.mark.parametrize(("text", "expected", "has_time"), WHEN_EXAMPLES)
def test_parse_date_examples(text: str, expected: datetime, has_time: bool) -> None:
    result = parse_date(text, NOW)
    if not has_time or text.startswith(("2 jam", "30 menit", "sekarang")):
        assert result == expected.date()
    elif result is not None:
        # a named day with a time: parse_date keeps the day the user named
        assert result <= expected.date()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("besok jam 12 malam", date(2026, 11, 23)),  # at is 24 Nov 00:00, the day named is 23
        ("12 Maret 2027 pukul 09.30", date(2027, 3, 12)),
        ("jam 9", None),  # a time alone names no date
        ("jam 12 malam", None),
        ("12.03", None),  # dotted pair with two-digit minutes is a time (12:03)
        ("12.3", date(2027, 3, 12)),
        ("30.11", date(2026, 11, 30)),  # 30 is no hour, so this is a date
    ],
)
def test_parse_date_specifics(text: str, expected: date | None) -> None:
    assert parse_date(text, NOW) == expected


@pytest.mark.parametrize("text", GARBAGE)
def test_garbage_is_none(text: str) -> None:
    assert parse_when(text, NOW) is None
    assert parse_date(text, NOW) is None


def test_senin_depan_said_on_other_days() -> None:
    wednesday = datetime(2026, 11, 25, 10, tzinfo=WIB)
    assert parse_date("Senin depan", wednesday) == date(2026, 11, 30)
    assert parse_date("Senin", wednesday) == date(2026, 11, 30)
    assert parse_date("Jumat", wednesday) == date(2026, 11, 27)
    assert parse_date("Jumat depan", wednesday) == date(2026, 12, 4)
    assert parse_date("Rabu", wednesday) == date(2026, 12, 2)  # strictly after today
    assert parse_date("Rabu ini", wednesday) == date(2026, 11, 25)
    saturday = datetime(2026, 11, 28, 10, tzinfo=WIB)
    assert parse_date("Senin depan", saturday) == date(2026, 11, 30)


def test_now_in_other_timezone_or_naive() -> None:
    # 22 Nov 20:00 UTC is 23 Nov 03:00 WIB: "besok" is then 24 Nov
    utc_now = datetime(2026, 11, 22, 20, 0, tzinfo=UTC)
    assert parse_date("besok", utc_now) == date(2026, 11, 24)
    assert parse_date("besok", NOW.replace(tzinfo=None)) == date(2026, 11, 23)


def test_late_evening_time_rolls_to_tomorrow() -> None:
    late = datetime(2026, 11, 22, 23, 30, tzinfo=WIB)
    assert parse_when("jam 9", late) == ParsedWhen(at(2026, 11, 23, 9), True)
    assert parse_when("jam 12 malam", late) == ParsedWhen(at(2026, 11, 23, 0), True)
    small_hours = datetime(2026, 11, 22, 1, 0, tzinfo=WIB)
    assert parse_when("jam 2 malam", small_hours) == ParsedWhen(at(2026, 11, 22, 2), True)
    assert parse_when("jam 12 malam", small_hours) == ParsedWhen(at(2026, 11, 23, 0), True)
    assert parse_when("Senin jam 2 malam", small_hours) == ParsedWhen(at(2026, 11, 24, 2), True)


def test_format_examples() -> None:
    assert format_date(date(2026, 11, 30)) == "Senin, 30 November 2026"
    assert format_date(date(2026, 11, 30), "en") == "Monday, 30 November 2026"
    assert format_date(date(2027, 8, 1), "id") == "Minggu, 1 Agustus 2027"
    assert format_when(at(2026, 11, 30, 9)) == "Senin, 30 November 2026 pukul 09.00 WIB"
    assert format_when(at(2026, 11, 30, 9), "en") == "Monday, 30 November 2026 at 09:00 WIB"
    # converted to WIB first
    utc = datetime(2026, 11, 30, 2, 5, tzinfo=UTC)
    assert format_when(utc) == "Senin, 30 November 2026 pukul 09.05 WIB"
    # unknown language falls back to Indonesian
    assert format_date(date(2026, 11, 30), "xx") == "Senin, 30 November 2026"


def test_long_and_junk_input_is_refused() -> None:
    for text in ["1/" * 60, "jam 9 " * 20, "the of in " * 10, "a" * 10_000, "9" * 100]:
        assert parse_when(text, NOW) is None


# --------------------------------------------------------------------------- properties

dates_2026_2030 = st.dates(min_value=date(2026, 1, 1), max_value=date(2030, 12, 31))
nows = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(WIB)
)
WORDS = [
    "besok",
    "lusa",
    "jam",
    "pukul",
    "malam",
    "pagi",
    "siang",
    "sore",
    "depan",
    "ini",
    "lagi",
    "hari",
    "minggu",
    "bulan",
    "tahun",
    "senin",
    "jumat",
    "tgl",
    "akhir",
    "awal",
    "des",
    "nov",
    "the",
    "of",
    "in",
    "days",
    "next",
    "12",
    "9",
    "30",
    "2027",
    "/",
    ".",
    ":",
    "-",
    "'",
    "00",
]
wordy_text = st.lists(st.sampled_from(WORDS), max_size=8).map(" ".join)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(), nows)
def test_never_raises(text: str, now: datetime) -> None:
    # call the internals too, so a bug is not hidden by the public functions' safety net
    dates._parse(text, now)
    assert parse_when(text, now) is None or parse_when(text, now).at.tzinfo == WIB
    parse_date(text, now)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(wordy_text, nows)
def test_never_raises_on_date_like_words(text: str, now: datetime) -> None:
    result = dates._parse(text, now)
    if result is not None:
        assert result[0].at.tzinfo == WIB


@given(dates_2026_2030, st.sampled_from(["id", "en"]))
def test_format_date_roundtrip(d: date, lang: str) -> None:
    assert parse_date(format_date(d, lang), NOW) == d


@given(dates_2026_2030, st.integers(0, 23), st.integers(0, 59), st.sampled_from(["id", "en"]))
def test_format_when_roundtrip(d: date, hour: int, minute: int, lang: str) -> None:
    dt = datetime(d.year, d.month, d.day, hour, minute, tzinfo=WIB)
    assert parse_when(format_when(dt, lang), NOW) == ParsedWhen(dt, True)


@given(dates_2026_2030, nows)
def test_numeric_with_year(d: date, now: datetime) -> None:
    assert parse_date(f"{d.day}/{d.month}/{d.year}", now) == d
    assert parse_date(f"{d.day:02d}-{d.month:02d}-{d.year}", now) == d


@given(st.integers(1, 31), st.integers(1, 12), nows)
def test_yearless_rolls_to_next_occurrence(day: int, month: int, now: datetime) -> None:
    result = parse_date(f"{day}/{month}", now)
    today = now.date()
    valid_years = []
    for year in range(today.year, today.year + 9):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate >= today:
            valid_years.append(candidate)
    expected = valid_years[0] if valid_years else None
    assert result == expected


@given(nows, st.integers(0, 23), st.integers(0, 59))
def test_bare_time_is_next_occurrence(now: datetime, hour: int, minute: int) -> None:
    result = parse_when(f"jam {hour}.{minute:02d}", now)
    assert result is not None and result.has_time
    assert (result.at.hour, result.at.minute) == (hour, minute)
    this_minute = now.replace(second=0, microsecond=0)
    assert this_minute <= result.at < this_minute + timedelta(days=1)
