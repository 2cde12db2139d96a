"""The kemitraan ledger in the console: the filters form, the XLSX download, the print view.

The figures come from bot/services/ledger.py; this module only reads the filters from the
query string and presents the result (translated headers, estate labels, links).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from bot.core.i18n import Translator
from bot.parsing.dates import format_date
from bot.reference import load_reference
from bot.services import erasure
from bot.services.exports import Table
from bot.services.ledger import Ledger, LedgerQuery
from bot.workbook import RUPIAH_FORMAT, workbook_bytes

EXPORT_WHAT = "ledger"  # export_log.what
MONEY_COLUMNS = ("value",)


@dataclass(frozen=True)
class Filters:
    """The ledger's filters as read from a query string, and what could not be read."""

    query: LedgerQuery
    errors: tuple[str, ...]  # catalog keys


def read_filters(params: dict[str, str]) -> Filters:
    """`from`, `to` (YYYY-MM-DD, WIB days), `estate` (a key), `company` (an id); a value
    that cannot be read is left out and named in `errors`."""
    errors: list[str] = []
    start = _day(params.get("from", ""), "console.ledger.error.from", errors)
    end = _day(params.get("to", ""), "console.ledger.error.to", errors)
    if start and end and end < start:
        errors.append("console.ledger.error.order")
        start, end = end, start
    estate = params.get("estate", "").strip()
    if estate and load_reference().estate(estate) is None:
        errors.append("console.ledger.error.estate")
        estate = ""
    company = params.get("company", "").strip()
    company_id = int(company) if company.isdigit() else None
    query = LedgerQuery(start=start, end=end, estate=estate or None, company_id=company_id)
    return Filters(query, tuple(errors))


def _day(text: str, error: str, errors: list[str]) -> date | None:
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        errors.append(error)
        return None


def query_string(query: LedgerQuery) -> str:
    """The filters as a query string again, for links that keep them."""
    params = {
        "from": query.start.isoformat() if query.start else "",
        "to": query.end.isoformat() if query.end else "",
        "estate": query.estate or "",
        "company": str(query.company_id) if query.company_id is not None else "",
    }
    return urlencode({key: value for key, value in params.items() if value})


def estate_label(key: str) -> str:
    estate = load_reference().estate(key)
    return estate.label if estate else key


def estate_choices() -> list[tuple[str, str]]:
    return [(estate.key, estate.label) for estate in load_reference().estates]


def period_text(query: LedgerQuery, t: Translator) -> str:
    """ "1 Desember 2025 – 30 November 2026", open ends named as such."""
    if query.start is None and query.end is None:
        return t("console.ledger.period_all")
    start = (
        _long_date(query.start, t.language)
        if query.start
        else t("console.ledger.period_open_start")
    )
    end = _long_date(query.end, t.language) if query.end else t("console.ledger.period_open_end")
    return f"{start} – {end}"


def _long_date(day: date, language: str) -> str:
    return format_date(day, language).split(", ", 1)[1]  # without the weekday


def estate_text(query: LedgerQuery, t: Translator) -> str:
    return estate_label(query.estate) if query.estate else t("console.ledger.estate_all")


def labels(t: Translator) -> erasure.Labels:
    """What an erased party is shown as: the chat's labels, in the officer's language."""
    return erasure.Labels(ikm=t("erasure.ikm"), company=t("erasure.company"))


def ledger_workbook(ledger: Ledger, *, t: Translator, tz: ZoneInfo, now: datetime) -> bytes:
    """The ledger as XLSX: every partnership, the totals per company, and what was asked."""
    return workbook_bytes(
        [_rows_table(ledger), _totals_table(ledger, t), _about_table(ledger, t, now)],
        sheet_title=lambda name: t(f"console.ledger.sheet.{name}"),
        header=lambda column: t(f"console.ledger.column.{column}"),
        tz=tz,
        number_formats=dict.fromkeys(MONEY_COLUMNS, RUPIAH_FORMAT),
    )


def workbook_name(query: LedgerQuery) -> str:
    parts = ["kemitraan"]
    parts += [day.isoformat() for day in (query.start, query.end) if day]
    parts += [query.estate] if query.estate else []
    return "_".join(parts) + ".xlsx"


def _rows_table(ledger: Ledger) -> Table:
    columns = (
        "company",
        "estate",
        "ikm",
        "need",
        "quantity",
        "unit",
        "value",
        "awarded_at",
        "need_id",
        "partnership_id",
    )
    rows = [
        (
            company.company_name,
            estate_label(company.estate),
            row.ikm_name,
            row.need_title,
            row.quantity,
            row.unit,
            row.value,
            row.awarded_at,
            row.need_id,
            row.partnership_id,
        )
        for company in ledger.companies
        for row in company.rows
    ]
    return Table("partnerships", columns, rows)


def _totals_table(ledger: Ledger, t: Translator) -> Table:
    columns = ("company", "estate", "partnerships", "ikm_count", "value")
    rows = [
        (
            company.company_name,
            estate_label(company.estate),
            company.totals.partnerships,
            company.totals.ikm,
            company.totals.value,
        )
        for company in ledger.companies
    ]
    total = ledger.totals
    rows.append((t("console.ledger.total"), "", total.partnerships, total.ikm, total.value))
    return Table("companies", columns, rows)


def _about_table(ledger: Ledger, t: Translator, now: datetime) -> Table:
    rows = [
        (t("console.ledger.about.office"), t("console.ledger.office")),
        (t("console.ledger.about.period"), period_text(ledger.query, t)),
        (t("console.ledger.about.estate"), estate_text(ledger.query, t)),
    ]
    if ledger.query.company_id is not None and ledger.companies:
        rows.append((t("console.ledger.about.company"), ledger.companies[0].company_name))
    rows.append((t("console.ledger.about.generated"), now))
    return Table("about", ("field", "detail"), rows)
