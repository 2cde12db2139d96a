"""The XLSX export, as a download: the same workbook as the chat's `ekspor`, only for
officers, made on a POST (with the CSRF token) and logged in ExportLog like the chat's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.config import Settings
from bot.console.context import console_context, in_transaction
from bot.console.guard import officer_form, officer_page
from bot.console.signin import Officer
from bot.console.views import NavItem, render
from bot.core.i18n import Translator
from bot.services import exports
from bot.workbook import XLSX_MIME, workbook_bytes
from models import ExportLog, Person

WHAT = "xlsx:all:web"  # the chat logs "xlsx:all"; the log says where it was taken out
RECENT = 20


@dataclass(frozen=True)
class Download:
    filename: str
    content: bytes


def _recent(*, session: Session) -> list[ExportLog]:
    return list(
        session.exec(select(ExportLog).order_by(col(ExportLog.exported_at).desc()).limit(RECENT))
    )


def _export(
    *, session: Session, officer_id: int, t: Translator, settings: Settings, now: datetime
) -> Download:
    tables = exports.export_tables(session=session)
    content = workbook_bytes(
        tables,
        sheet_title=lambda name: t(f"export.sheet.{name}"),
        header=lambda column: t(f"export.column.{column}"),
        tz=settings.tz,
    )
    exports.record_export(
        session=session,
        officer=session.get(Person, officer_id),
        what=WHAT,
        rows=sum(len(table.rows) for table in tables),
        now=now,
    )
    return Download(f"sinergi-ikm-{now.astimezone(settings.tz):%Y-%m-%d}.xlsx", content)


@officer_page
async def export_page(request: Request, officer: Officer) -> Response:
    recent = await in_transaction(request, _recent)
    return render(request, "exports.html", officer=officer, recent=recent)


@officer_form
async def download(request: Request, officer: Officer, form: FormData) -> Response:
    context = console_context(request)
    made = await in_transaction(
        request,
        _export,
        officer_id=officer.person_id,
        t=context.catalog.translator(officer.language),
        settings=context.settings,
        now=context.now(),
    )
    return Response(
        made.content,
        media_type=XLSX_MIME,
        headers={"content-disposition": f'attachment; filename="{made.filename}"'},
    )


ROUTES = [
    Route("/ekspor", export_page, methods=["GET"]),
    Route("/ekspor", download, methods=["POST"]),
]
NAV = [NavItem("/ekspor", "console.nav.exports")]
