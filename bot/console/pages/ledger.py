"""The kemitraan ledger: the filters (a GET form), the table per company, the XLSX download
(logged like every export) and the print view the Dinas attaches to a letter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.config import Settings
from bot.console import ledger as presenting
from bot.console.context import console_context, in_transaction
from bot.console.guard import officer_page
from bot.console.signin import Officer
from bot.console.views import NavItem, render
from bot.core.i18n import Translator
from bot.services import exports
from bot.services import ledger as ledger_service
from bot.workbook import XLSX_MIME
from models import Person


@dataclass(frozen=True)
class Shown:
    """The ledger and what its page needs to link each figure to the rows it counts."""

    ledger: ledger_service.Ledger
    errors: tuple[str, ...]
    period: str
    estate: str
    filters: str  # the query string of the filters, for the download and print links
    unfiltered_company: str  # the same without the company, for the overall total


def _shown(request: Request, officer: Officer) -> tuple[presenting.Filters, Translator]:
    t = console_context(request).catalog.translator(officer.language)
    return presenting.read_filters(dict(request.query_params)), t


def _read(*, session: Session, filters: presenting.Filters, t: Translator) -> ledger_service.Ledger:
    return ledger_service.ledger(session=session, query=filters.query, labels=presenting.labels(t))


async def _ledger(request: Request, officer: Officer) -> Shown:
    filters, t = _shown(request, officer)
    found = await in_transaction(request, _read, filters=filters, t=t)
    query = filters.query
    without_company = ledger_service.LedgerQuery(query.start, query.end, query.estate)
    return Shown(
        ledger=found,
        errors=filters.errors,
        period=presenting.period_text(query, t),
        estate=presenting.estate_text(query, t),
        filters=presenting.query_string(query),
        unfiltered_company=presenting.query_string(without_company),
    )


def _values(shown: Shown) -> dict[str, object]:
    return {
        "shown": shown,
        "ledger": shown.ledger,
        "query": shown.ledger.query,
        "estates": presenting.estate_choices(),
        "estate_label": presenting.estate_label,
        "company_link": lambda company_id: presenting.query_string(
            shown.ledger.query.for_company(company_id)
        ),
    }


@officer_page
async def ledger_page(request: Request, officer: Officer) -> Response:
    shown = await _ledger(request, officer)
    return render(request, "ledger/index.html", officer=officer, **_values(shown))


@officer_page
async def print_page(request: Request, officer: Officer) -> Response:
    shown = await _ledger(request, officer)
    now = console_context(request).now()
    return render(request, "ledger/print.html", officer=officer, generated_at=now, **_values(shown))


def _workbook(
    *,
    session: Session,
    filters: presenting.Filters,
    t: Translator,
    officer: Officer,
    settings: Settings,
    now: datetime,
) -> bytes:
    found = _read(session=session, filters=filters, t=t)
    content = presenting.ledger_workbook(found, t=t, tz=settings.tz, now=now)
    person = session.get(Person, officer.person_id)
    exports.record_export(
        session=session,
        officer=person,
        what=presenting.EXPORT_WHAT,
        rows=found.totals.partnerships,
        now=now,
    )
    return content


@officer_page
async def ledger_xlsx(request: Request, officer: Officer) -> Response:
    filters, t = _shown(request, officer)
    context = console_context(request)
    content = await in_transaction(
        request,
        _workbook,
        filters=filters,
        t=t,
        officer=officer,
        settings=context.settings,
        now=context.now(),
    )
    name = presenting.workbook_name(filters.query)
    return Response(
        content,
        media_type=XLSX_MIME,
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


ROUTES = [
    Route("/kemitraan", ledger_page, methods=["GET"]),
    Route("/kemitraan/cetak", print_page, methods=["GET"]),
    Route("/kemitraan.xlsx", ledger_xlsx, methods=["GET"]),
]
NAV = [NavItem("/kemitraan", "console.ledger.nav")]
