"""Parse dates and times the way Indonesians type them in chat.

Everything is relative to a caller-supplied ``now`` and lives in Asia/Jakarta (WIB, UTC+7, no
DST). No chat text here: functions return values or ``None`` and never raise on any ``str``.

How the work is split (each point checked against dateparser 1.5 with a scratch script):

* Our own layer does everything dateparser gets wrong or does not know in Indonesian:
  - clock times: dateparser reads ``jam 9`` as "the 9th of this month", silently drops the time
    in ``besok jam 9`` (returns 10:00, the time of ``now``) and knows no ``pagi/siang/sore/malam``;
  - ``lusa``, ``N hari/minggu lagi``, ``minggu depan``, ``Senin depan``, ``hari Jumat``, ``Jum'at``,
    ``tgl``, ``akhir bulan``, ``awal bulan depan``, the abbreviation ``Ags``: all ``None`` in
    dateparser;
  - calendar dates (``30/11``, ``12-3-2027``, ``5 Des 2026``): dateparser parses these, but rolls a
    year-less *today* to next year (``22/11`` on 22 Nov -> 2027), reads ``5 agustus 26`` as the
    year 2126 and ignores a contradicting weekday (``Selasa 30/11``), so these simple shapes are
    parsed by our regexes with our own roll-forward rule.
* dateparser (``languages=["id", "en"]``, ``PREFER_DATES_FROM="future"``, ``RELATIVE_BASE=now`` in
  WIB, fixed ``+0700`` zone, ``DATE_ORDER="DMY"``, ``REQUIRE_PARTS=["day", "month"]``) is the
  fallback for what is left, mostly English phrasing: ``the 30th of November``, ``in 3 days``,
  ``day after tomorrow``, ``2 days ago``, ``next month``. It only ever sees a remainder made of
  whitelisted tokens (numbers, month and day names, a few English words), because on free text it
  is slow and too lenient (``tanggal 5 bulan 12`` -> "5 months from now").

Decisions (documented here so callers know what they get):

* Weeks start on Sunday (Minggu), as on Indonesian wall calendars. ``<hari> depan`` means that
  weekday in the *next* calendar week: on Sunday 22 Nov 2026, ``Senin depan`` is Monday 30 Nov
  (not tomorrow) and ``Jumat depan`` is Friday 4 Dec. A bare weekday (``Jumat``, ``hari Jumat``)
  is the next such day strictly after today (1-7 days ahead; ``Jumat`` on 22 Nov -> 27 Nov).
  ``<hari> ini`` is the next such day counting today (0-6 days ahead). ``Jumat depan`` said early
  in a week is genuinely ambiguous in Indonesian; we always apply the calendar-week rule.
* ``minggu depan`` / ``pekan depan`` = today + 7 days; ``bulan depan`` = same day next month
  (clamped to the month's length); ``hari minggu`` and a lone ``Minggu`` mean Sunday.
* ``jam 12 malam`` (and ``jam 24``/``tengah malam``) is midnight at the *end* of the named day,
  i.e. 00:00 of the next calendar day; likewise ``jam 1-4 malam`` belong to the night after the
  named day (``Senin jam 2 malam`` = Tuesday 02:00). ``jam 12 siang`` = 12:00. ``parse_date``
  still returns the day the user named.
* A date without a year rolls forward to its next occurrence on or after today (``12/3`` on
  22 Nov 2026 -> 12 Mar 2027, ``22/11`` on 22 Nov -> today, ``29/2`` -> 2028). Two-digit years
  are 20xx. Dates with a year are returned as given, even in the past. Likewise ``tanggal 5``,
  ``awal bulan`` (next 1st, or today if it is the 1st), ``awal Desember`` roll forward.
* A clock time without a date is its next occurrence (today if not yet past this minute, else
  tomorrow); ``jam 12 malam`` alone at 10:00 is therefore tonight's midnight, and ``jam 2 malam``
  alone at 01:00 is in an hour. ``parse_date`` of a bare time is ``None`` (no day was named).
  A date without a time is 00:00 WIB of that day with ``has_time=False``.
* Day first, always: ``1/2`` is 1 February. A dotted pair with two-digit minutes (``09.30``,
  ``12.03``) is a time (Indonesian notation); a dotted date needs a year, a one-digit month or
  a day that cannot be an hour (``12.03.2027``, ``12.3``, ``30.11``).
* ``akhir pekan`` is the coming Saturday. Unknown words make the whole input ``None`` so the bot
  can ask again instead of guessing; a weekday that contradicts an explicit date gives ``None``.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import dateparser

__all__ = ["WIB", "ParsedWhen", "format_date", "format_when", "parse_date", "parse_when"]

WIB = ZoneInfo("Asia/Jakarta")

MAX_INPUT_LEN = 100

# --------------------------------------------------------------------------- tables

_DAYS = {
    "id": ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
_MONTHS = {
    "id": (
        "Januari",
        "Februari",
        "Maret",
        "April",
        "Mei",
        "Juni",
        "Juli",
        "Agustus",
        "September",
        "Oktober",
        "November",
        "Desember",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}

_MONTH_WORDS: dict[str, int] = {}
for _names in _MONTHS.values():
    for _i, _name in enumerate(_names, start=1):
        _MONTH_WORDS[_name.lower()] = _i
_MONTH_WORDS.update(
    {
        "jan": 1,
        "feb": 2,
        "peb": 2,
        "pebruari": 2,
        "febuari": 2,
        "mar": 3,
        "mrt": 3,
        "apr": 4,
        "jun": 6,
        "jul": 7,
        "agu": 8,
        "agt": 8,
        "ags": 8,
        "agus": 8,
        "agust": 8,
        "aug": 8,
        "sep": 9,
        "sept": 9,
        "okt": 10,
        "oct": 10,
        "nov": 11,
        "nop": 11,
        "nopember": 11,
        "des": 12,
        "dec": 12,
    }
)

_WEEKDAY_WORDS: dict[str, int] = {}
for _names in _DAYS.values():
    for _i, _name in enumerate(_names):
        _WEEKDAY_WORDS[_name.lower()] = _i
_WEEKDAY_WORDS.update({"ahad": 6, "jumaat": 4})

_NUMBER_WORDS = {
    "satu": 1,
    "dua": 2,
    "tiga": 3,
    "empat": 4,
    "lima": 5,
    "enam": 6,
    "tujuh": 7,
    "delapan": 8,
    "sembilan": 9,
    "sepuluh": 10,
    "sebelas": 11,
    "dua belas": 12,
}

# Words that carry no date information in a chat answer ("besok aja ya pak").
_FILLERS = frozenset(
    {
        "pada",
        "pd",
        "di",
        "ya",
        "yah",
        "yaa",
        "aja",
        "ajah",
        "saja",
        "deh",
        "dong",
        "sih",
        "pak",
        "bu",
        "bapak",
        "ibu",
        "kak",
        "mas",
        "mbak",
        "mba",
        "bang",
        "gan",
        "sekitar",
        "sekitaran",
        "kira-kira",
        "kurleb",
        "tepat",
        "wib",
        "insyaallah",
        "insyallah",
        "insya",
        "insha",
        "inshaallah",
        "allah",
        "on",
    }
)
_NANTI = frozenset({"nanti", "ntar", "entar", "nti"})

# --------------------------------------------------------------------------- regexes


def _alt(words: Iterable[str]) -> str:
    return "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))


_WD = _alt(_WEEKDAY_WORDS)
_NUM = r"[0-9]{1,3}|" + _alt(_NUMBER_WORDS)
_PERIODS = r"dini hari|tengah malam|tengah hari|pagi|siang|sore|petang|malam|subuh"
_ATTACHED = rf"(?:\s*(?P<period>{_PERIODS}|am|pm|a\.m\.?|p\.m\.?)(?![a-z]))?"

_TIME_PATTERNS = (
    # jam 9 / pukul 09.30 / pkl 14:00 / at 09:00 / jam 9an, optionally followed by pagi/malam/pm
    (
        re.compile(
            r"(?<![a-z0-9])(?:jam|jm|pukul|pkl|pk|at|@)\.?\s*(?P<h>[0-9]{1,2})"
            r"(?:\s*[.:]\s*(?P<m>[0-9]{2}))?(?:\s*-?\s*an(?![a-z]))?" + _ATTACHED
        ),
        True,
    ),
    # 09:30 / 9:30:00
    (
        re.compile(
            r"(?<![0-9:])(?P<h>[0-9]{1,2}):(?P<m>[0-9]{2})(?::[0-9]{2})?(?![0-9:])" + _ATTACHED
        ),
        False,
    ),
    # 09.30 (but not a piece of 12.03.2027)
    (
        re.compile(
            r"(?<![0-9.])(?P<h>[0-9]{1,2})\.(?P<m>[0-9]{2})(?![0-9])(?!\.[0-9])" + _ATTACHED
        ),
        False,
    ),
    # 9 pagi / 7 malam / 9 pm
    (
        re.compile(
            r"(?<![0-9./:-])(?P<h>[0-9]{1,2})\s*"
            rf"(?P<period>{_PERIODS}|am|pm|a\.m\.?|p\.m\.?)(?![a-z])"
        ),
        False,
    ),
)
_STANDALONE_PERIOD = re.compile(rf"(?<![a-z])({_PERIODS})(?![a-z])")

_REL_HOURS = re.compile(
    rf"^(?:dalam (?:waktu )?)?(?P<n>{_NUM}|se|setengah) ?(?P<u>jam|menit|mnt)"
    r"(?: (?P<suffix>lagi|ke ?depan|dari sekarang))?$"
)
_REL_UNITS = r"hari|hr|minggu|mgg|pekan|bulan|bln|tahun|thn"
_REL_FORWARD = re.compile(
    rf"^(?P<n>{_NUM}) ?(?P<u>{_REL_UNITS}) "
    r"(?:lagi|ke ?depan|kemudian|mendatang|dari sekarang|dari hari ini)$"
)
_REL_DALAM = re.compile(rf"^dalam (?:waktu )?(?P<n>{_NUM}) ?(?P<u>{_REL_UNITS})(?: lagi)?$")
_REL_SE = re.compile(
    r"^se ?(?P<u>hari|minggu|pekan|bulan|tahun) (?:lagi|ke ?depan|kemudian|mendatang)$"
)
_REL_AGO = re.compile(rf"^(?P<n>{_NUM}) ?(?P<u>{_REL_UNITS}) (?:yang |yg )?(?:lalu|sebelumnya)$")
_NEXT_UNIT = re.compile(
    r"^(?P<u>minggu|mgg|pekan|bulan|bln|tahun|thn) (?:depan|berikutnya|selanjutnya|mendatang)$"
)
_EDGE_OF = re.compile(
    r"^(?P<pos>awal|akhir|pertengahan|tengah) (?P<u>bulan|bln|tahun|thn)(?: (?P<which>ini|depan))?$"
)
_EDGE_OF_MONTH = re.compile(
    r"^(?P<pos>awal|akhir|pertengahan|tengah) (?:bulan |bln )?(?P<mon>[a-z]+)(?: (?P<y>[0-9]{4}))?$"
)
_WEEKEND = re.compile(r"^(?:akhir (?:pekan|minggu)|weekend)(?: (?P<which>ini|depan))?$")
_WEEKDAY = re.compile(
    rf"^(?P<wd>{_WD})(?: (?P<which>ini|depan|minggu depan|pekan depan|berikutnya|selanjutnya"
    r"|mendatang|besok))?$"
)
_WEEKDAY_EN = re.compile(rf"^(?P<which>next|this|coming|this coming) (?P<wd>{_WD})$")
_WD_PREFIX = re.compile(rf"^(?P<wd>{_WD}) (?P<rest>.+)$")
_WD_SUFFIX = re.compile(rf"^(?P<rest>.+) (?P<wd>{_WD})$")

_NUMERIC_DATE = re.compile(
    r"^(?P<d>[0-9]{1,2})\s*(?P<sep>[-/.])\s*(?P<m>[0-9]{1,2})"
    r"(?:\s*(?P=sep)\s*(?P<y>[0-9]{4}|[0-9]{2}))?$"
)
_ISO_DATE = re.compile(
    r"^(?P<y>[0-9]{4})\s*(?P<sep>[-/.])\s*(?P<m>[0-9]{1,2})\s*(?P=sep)\s*(?P<d>[0-9]{1,2})$"
)
_NAMED_DMY = re.compile(
    r"^(?P<d>[0-9]{1,2})(?: of)?\s*[-/.]?\s*(?P<mon>[a-z]+)\.?"
    r"(?:\s*[-/.]?\s*(?P<y>[0-9]{4}|[0-9]{2}))?$"
)
_NAMED_MDY = re.compile(
    r"^(?P<mon>[a-z]+)\.?\s*[-/.]?\s*(?P<d>[0-9]{1,2})(?:\s*[-/.]?\s*(?P<y>[0-9]{4}))?$"
)
_DAY_ONLY = re.compile(r"^(?P<d>[0-9]{1,2})$")

_TODAY_WORDS = {
    "hari ini": 0,
    "hr ini": 0,
    "today": 0,
    "besok": 1,
    "besuk": 1,
    "bsk": 1,
    "bsok": 1,
    "esok": 1,
    "esok hari": 1,
    "tomorrow": 1,
    "lusa": 2,
    "besok lusa": 2,
    "kemarin": -1,
    "kemaren": -1,
    "kmrn": -1,
    "yesterday": -1,
    "kemarin lusa": -2,
}
_NOW_WORDS = frozenset({"sekarang", "skrg", "skrng", "sekarang juga", "now", "right now"})

# Tokens the dateparser fallback may see; anything else means "not a date".
_FALLBACK_WORDS = frozenset(
    {
        "the",
        "of",
        "in",
        "next",
        "this",
        "last",
        "a",
        "an",
        "day",
        "days",
        "week",
        "weeks",
        "month",
        "months",
        "year",
        "years",
        "from",
        "now",
        "after",
        "before",
        "ago",
        "tomorrow",
        "today",
        "yesterday",
    }
)
_FALLBACK_UNITS = frozenset({"day", "days", "week", "weeks", "month", "months", "year", "years"})

_DATEPARSER_LANGUAGES = ["id", "en"]

# --------------------------------------------------------------------------- public API


@dataclass(frozen=True)
class ParsedWhen:
    at: datetime  # aware, in WIB
    has_time: bool  # whether the user gave a time of day


def parse_when(text: str, now: datetime) -> ParsedWhen | None:
    """Parse a date and/or time of day; ``None`` if the text is not (only) a date/time."""
    try:
        result = _parse(text, now)
    except Exception:  # never raise on user input
        return None
    return None if result is None else result[0]


def parse_date(text: str, now: datetime) -> date | None:
    """Parse a calendar date (WIB); any time of day is ignored. A bare time gives ``None``."""
    try:
        result = _parse(text, now)
    except Exception:  # never raise on user input
        return None
    return None if result is None else result[1]


def format_date(d: date, lang: str = "id") -> str:
    """``Senin, 30 November 2026`` / ``Monday, 30 November 2026`` (our tables, not the locale)."""
    key = _lang_key(lang)
    return f"{_DAYS[key][d.weekday()]}, {d.day} {_MONTHS[key][d.month - 1]} {d.year}"


def format_when(dt: datetime, lang: str = "id") -> str:
    """``Senin, 30 November 2026 pukul 09.00 WIB`` / ``Monday, 30 November 2026 at 09:00 WIB``."""
    local = dt.replace(tzinfo=WIB) if dt.tzinfo is None else dt.astimezone(WIB)
    if _lang_key(lang) == "en":
        return f"{format_date(local.date(), 'en')} at {local.hour:02d}:{local.minute:02d} WIB"
    return f"{format_date(local.date(), 'id')} pukul {local.hour:02d}.{local.minute:02d} WIB"


def _lang_key(lang: str) -> str:
    return "en" if str(lang).lower().startswith("en") else "id"


# --------------------------------------------------------------------------- internals


def _parse(text: str, now: datetime) -> tuple[ParsedWhen, date | None] | None:
    """Return (result, the date the user named or None if they named only a time)."""
    if not isinstance(text, str) or len(text) > MAX_INPUT_LEN:
        return None
    now = now.replace(tzinfo=WIB) if now.tzinfo is None else now.astimezone(WIB)
    today = now.date()
    s = _normalize(text)
    if not s or len(s) > 2 * MAX_INPUT_LEN:
        return None

    # "2 jam lagi", "30 menit lagi": an instant relative to now.
    m = _REL_HOURS.match(s)
    if m and (m["suffix"] or s.startswith("dalam")):
        n = {"se": 1, "setengah": 0.5}.get(m["n"]) or _number(m["n"])
        if n is None:
            return None
        minutes = n * 60 if m["u"] == "jam" else n
        at = now.replace(second=0, microsecond=0) + timedelta(minutes=minutes)
        return ParsedWhen(at, True), at.date()

    clock = _extract_time(s)
    if clock is None:
        return None
    hm, shift, rest = clock

    tokens = rest.split()
    had_tanggal = "tanggal" in tokens
    had_nanti = any(t in _NANTI for t in tokens)
    tokens = [t for t in tokens if t not in _FILLERS and t not in _NANTI and t != "tanggal"]
    core = " ".join(tokens)
    had_period = rest != _STANDALONE_PERIOD.sub(" ", rest)
    if had_period:
        core = re.sub(r"\s+", " ", _STANDALONE_PERIOD.sub(" ", core)).strip()

    if core in _NOW_WORDS:
        if hm is None:
            at = now.replace(second=0, microsecond=0)
            return ParsedWhen(at, True), today
        day: date | None = today
    elif core == "" or (had_period and core in {"ini", "tadi"}):
        day = today if had_period and (had_nanti or core) else None
    else:
        day = _parse_day(core, today, now, had_tanggal)
        if day is None:
            return None

    if hm is None:
        if day is None:
            return None
        return ParsedWhen(datetime.combine(day, time(0, 0), WIB), False), day

    hour, minute = hm
    if day is None:
        # a bare clock time is its next occurrence; "jam 2 malam" at 01:00 is in an hour,
        # so the night shift only applies to a named day
        at = datetime.combine(today, time(hour, minute), WIB)
        if at < now.replace(second=0, microsecond=0):  # already past this minute
            at += timedelta(days=1)
        return ParsedWhen(at, True), None
    at = datetime.combine(day, time(hour, minute), WIB) + timedelta(days=shift)
    return ParsedWhen(at, True), day


def _normalize(text: str) -> str:
    s = unicodedata.normalize("NFKC", text).lower()
    s = re.sub(r"[\u2018\u2019\u201b`\u00b4]", "'", s)
    s = re.sub(r"[\u2010-\u2015\u2212]", "-", s)
    s = re.sub(r"jum\s*'\s*at|jum'at", "jumat", s)
    s = s.replace("'", "")
    s = re.sub(r"\bkira2\b", " ", s)
    s = re.sub(r"(?<=[0-9])(?:st|nd|rd|th)\b", "", s)  # 30th -> 30
    s = re.sub(r"(?<=[0-9])(?=[a-z])|(?<=[a-z])(?=[0-9])", " ", s)  # 5des -> 5 des, jam9
    s = re.sub(r"\b(?:tanggal|tgl|tg)\b\.?", " tanggal ", s)
    # "jam setengah 9" is half past eight (half *to* nine)
    s = re.sub(r"\b(jam|jm|pukul|pkl|pk)\.? ?setengah ?([0-9]{1,2})\b", _half_to, s)
    s = re.sub(r"[,;!?()\[\]\"*_~]", " ", s)
    s = re.sub(r"\s+", " ", s).strip()
    s = s.rstrip(".").strip()
    # "hari Minggu" is Sunday, while "minggu depan" is "next week"
    s = re.sub(r"\bhari minggu\b", "ahad", s)
    s = re.sub(rf"(?<!dini )\bhari (?=(?:{_WD})\b)", "", s)
    return s


def _half_to(m: re.Match[str]) -> str:
    hour = int(m[2])
    if not 1 <= hour <= 24:
        return f"{m[1]} 99"  # invalid on purpose
    return f"{m[1]} {12 if hour == 1 else hour - 1}.30"


def _extract_time(s: str) -> tuple[tuple[int, int] | None, int, str] | None:
    """Find at most one time of day. Returns ((hour, minute) | None, day shift, rest of text);
    ``None`` if the time is invalid or given twice."""
    found: tuple[int, int, str | None] | None = None
    rest = s
    for pattern, keyword in _TIME_PATTERNS:
        matches = []
        for m in pattern.finditer(rest):
            groups = m.groupdict()
            hour, minute = int(groups["h"]), int(groups.get("m") or 0)
            # a bare 30.11 is not a time: leave it to the date grammar
            if keyword or (hour <= 24 and minute <= 59):
                matches.append((m, hour, minute, groups.get("period")))
        if not matches:
            continue
        if found is not None or len(matches) > 1:
            return None  # two times of day
        m, hour, minute, period = matches[0]
        found = (hour, minute, period)
        rest = rest[: m.start()] + " " + rest[m.end() :]
    periods = {p for p in _STANDALONE_PERIOD.findall(rest)}
    rest = re.sub(r"\s+", " ", rest).strip()
    if found is None:
        if periods == {"tengah malam"}:
            return (0, 0), 1, rest
        if periods == {"tengah hari"}:
            return (12, 0), 0, rest
        return None, 0, rest
    hour, minute, attached = found
    if len(periods) > 1:
        return None
    if attached and periods and _same_period(attached) != _same_period(*periods):
        return None
    period = attached or (next(iter(periods)) if periods else None)
    applied = _apply_period(hour, minute, period)
    if applied is None:
        return None
    return (applied[0], minute), applied[1], rest


def _same_period(p: str) -> str:
    return {"tengah malam": "malam", "tengah hari": "siang", "petang": "sore"}.get(p, p)


def _apply_period(hour: int, minute: int, period: str | None) -> tuple[int, int] | None:
    """Map an hour plus pagi/siang/sore/malam/am/pm to (hour 0-23, day shift)."""
    if minute > 59 or hour > 24 or (hour == 24 and minute):
        return None
    p = _same_period(period.replace(".", "")) if period else None
    if hour == 24:  # "jam 24.00" = midnight at the end of the day
        return (0, 1) if p in (None, "malam") else None
    if p is None:
        return hour, 0
    if p == "pagi":
        return (hour, 0) if hour <= 11 else None
    if p in ("dini hari", "subuh"):
        return (hour, 0) if hour <= 6 else None
    if p == "siang":
        if 10 <= hour <= 17:
            return hour, 0
        return (hour + 12, 0) if 1 <= hour <= 5 else None
    if p == "sore":
        if 13 <= hour <= 20:
            return hour, 0
        return (hour + 12, 0) if 1 <= hour <= 8 else None
    if p == "malam":
        if hour in (0, 12):
            return 0, 1  # "jam 12 malam": 00:00 of the next day
        if 1 <= hour <= 4:
            return hour, 1  # "jam 2 malam": the small hours after the named day
        if 5 <= hour <= 11:
            return hour + 12, 0
        return (hour, 0) if 17 <= hour <= 23 else None
    if p == "am":
        return (0 if hour == 12 else hour, 0) if 1 <= hour <= 12 else None
    if p == "pm":
        return (12 if hour == 12 else hour + 12, 0) if 1 <= hour <= 12 else None
    return None


def _number(token: str) -> int | None:
    if token.isascii() and token.isdigit():
        return int(token)
    return _NUMBER_WORDS.get(token)


def _add_months(d: date, months: int) -> date:
    index = d.year * 12 + d.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def _add(d: date, n: int, unit: str) -> date:
    if unit in ("hari", "hr"):
        return d + timedelta(days=n)
    if unit in ("minggu", "mgg", "pekan"):
        return d + timedelta(weeks=n)
    if unit in ("bulan", "bln"):
        return _add_months(d, n)
    return _add_months(d, 12 * n)  # tahun


def _week_start(d: date) -> date:
    """The Sunday on or before ``d`` (weeks start on Minggu, as on Indonesian calendars)."""
    return d - timedelta(days=(d.weekday() + 1) % 7)


def _weekday(today: date, wd: int, which: str | None) -> date:
    if which in ("ini", "this"):
        return today + timedelta(days=(wd - today.weekday()) % 7)
    if which in (None, "besok", "mendatang", "coming", "this coming"):
        return today + timedelta(days=(wd - today.weekday() - 1) % 7 + 1)
    # depan / minggu depan / next ...: that weekday in the next Sunday-start week
    return _week_start(today) + timedelta(days=7 + (wd + 1) % 7)


def _roll(today: date, day: int, month: int) -> date | None:
    """Next occurrence of day/month on or after today (29/2 waits for a leap year)."""
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    for year in range(today.year, today.year + 9):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    return None


def _make_date(today: date, day: str, month: int | None, year: str | None) -> date | None:
    if month is None:
        return None
    if year is None:
        return _roll(today, int(day), month)
    y = int(year)
    if len(year) == 2:
        y += 2000
    if not 1900 <= y <= 2200:
        return None
    try:
        return date(y, month, int(day))
    except ValueError:
        return None


def _parse_day(core: str, today: date, now: datetime, had_tanggal: bool) -> date | None:
    if core in _TODAY_WORDS:
        return today + timedelta(days=_TODAY_WORDS[core])
    if core in ("minggu ini", "pekan ini", "bulan ini", "tahun ini"):
        return None  # "this week/month": a period, not a day ("ahad ini" is this Sunday)

    for pattern, sign in ((_REL_FORWARD, 1), (_REL_DALAM, 1), (_REL_AGO, -1)):
        m = pattern.match(core)
        if m:
            n = _number(m["n"])
            return None if n is None else _add(today, sign * n, m["u"])
    m = _REL_SE.match(core)
    if m:
        return _add(today, 1, m["u"])
    m = _NEXT_UNIT.match(core)
    if m:
        return _add(today, 1, m["u"])

    m = _EDGE_OF.match(core)
    if m:
        return _edge_of(today, m["pos"], m["u"], m["which"])
    m = _EDGE_OF_MONTH.match(core)
    if m and m["mon"] in _MONTH_WORDS:
        month = _MONTH_WORDS[m["mon"]]
        year = int(m["y"]) if m["y"] else today.year
        if not 1900 <= year <= 2200:
            return None
        last = calendar.monthrange(year, month)[1]
        day = {"awal": 1, "akhir": last}.get(m["pos"], 15)
        if m["y"]:
            return date(year, month, day)
        if m["pos"] == "akhir":  # last day differs per year (February)
            candidate = date(year, month, day)
            if candidate < today:
                candidate = date(year + 1, month, calendar.monthrange(year + 1, month)[1])
            return candidate
        return _roll(today, day, month)
    m = _WEEKEND.match(core)
    if m:
        saturday = _week_start(today) + timedelta(days=6)
        return saturday + timedelta(days=7) if m["which"] == "depan" else saturday

    m = _WEEKDAY.match(core) or _WEEKDAY_EN.match(core)
    if m:
        return _weekday(today, _WEEKDAY_WORDS[m["wd"]], m["which"])

    # explicit calendar dates, optionally with a weekday that must agree
    wd = None
    m = _WD_PREFIX.match(core) or _WD_SUFFIX.match(core)
    if m:
        wd, core = _WEEKDAY_WORDS[m["wd"]], m["rest"]
    found = _explicit_date(core, today, had_tanggal)
    if found is _NOT_A_DATE:
        found = _dateparser_fallback(core, today, now)
    if not isinstance(found, date) or (wd is not None and found.weekday() != wd):
        return None
    return found


_NOT_A_DATE = object()


def _explicit_date(core: str, today: date, had_tanggal: bool) -> date | object | None:
    m = _NUMERIC_DATE.match(core)
    if m:
        return _make_date(today, m["d"], int(m["m"]), m["y"])
    m = _ISO_DATE.match(core)
    if m:
        return _make_date(today, m["d"], int(m["m"]), m["y"])
    for pattern in (_NAMED_DMY, _NAMED_MDY):
        m = pattern.match(core)
        if m and m["mon"] in _MONTH_WORDS:
            return _make_date(today, m["d"], _MONTH_WORDS[m["mon"]], m["y"])
    m = _DAY_ONLY.match(core)
    if m and had_tanggal:  # "tanggal 5": the next 5th of a month, this month if not past
        day = int(m["d"])
        if not 1 <= day <= 31:
            return None
        first = today.replace(day=1)
        for ahead in range(13):
            month_start = _add_months(first, ahead)
            if day <= calendar.monthrange(month_start.year, month_start.month)[1]:
                candidate = month_start.replace(day=day)
                if candidate >= today:
                    return candidate
        return None
    return _NOT_A_DATE


def _edge_of(today: date, pos: str, unit: str, which: str | None) -> date | None:
    if unit in ("bulan", "bln"):
        base = _add_months(today.replace(day=1), 1 if which == "depan" else 0)
        last = calendar.monthrange(base.year, base.month)[1]
        if pos == "akhir":
            return base.replace(day=last)
        day = 1 if pos == "awal" else 15
        candidate = base.replace(day=day)
        if which is None and candidate < today:  # "awal bulan" on the 22nd: next month's 1st
            candidate = _add_months(candidate, 1)
        return candidate
    # tahun
    year = today.year + (1 if which == "depan" else 0)
    if pos == "akhir":
        return date(year, 12, 31)
    if pos != "awal":
        return None
    candidate = date(year, 1, 1)
    if which is None and candidate < today:
        candidate = date(year + 1, 1, 1)
    return candidate


def _dateparser_fallback(core: str, today: date, now: datetime) -> date | None:
    """Hand a clean, whitelisted remainder (mostly English phrasing) to dateparser."""
    tokens = core.split()
    if not tokens or len(tokens) > 8:
        return None
    has_month = False
    has_unit = False
    has_year = False
    for token in tokens:
        if token in _MONTH_WORDS:
            has_month = True
        elif token in _FALLBACK_UNITS:
            has_unit = True
        elif token.isascii() and token.isdigit() and len(token) <= 4:
            has_year = has_year or len(token) == 4
        elif token not in _FALLBACK_WORDS and token not in _WEEKDAY_WORDS:
            return None
    if any(t.isdigit() for t in tokens) and not (has_month or has_unit):
        return None
    result = dateparser.parse(
        core,
        languages=_DATEPARSER_LANGUAGES,
        settings={
            "PREFER_DATES_FROM": "future",
            "RELATIVE_BASE": now.replace(tzinfo=None),
            "TIMEZONE": "+0700",
            "RETURN_AS_TIMEZONE_AWARE": True,
            "DATE_ORDER": "DMY",
            "REQUIRE_PARTS": ["day", "month"],
        },
    )
    if result is None:
        return None
    found = result.astimezone(WIB).date() if result.tzinfo else result.date()
    if abs(found.year - today.year) > 100:
        return None
    if has_month and not has_year:
        # dateparser rolls a year-less *today* to next year; apply our own rule
        return _roll(today, found.day, found.month)
    return found
