"""Bimtek sessions: the list with seats and attendance, a session's roster, the officer's
check-in by participants' codes (a form), and the roster as XLSX or CSV (the chat's CSV;
either download is logged)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

import sqlalchemy as sa
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
from bot.services import bimtek as bimtek_service
from bot.services import exports
from bot.workbook import XLSX_MIME, workbook_bytes
from models import BimtekRegistration, BimtekSession, BimtekStatus, Person, RegistrationStatus

EXPORT_WHAT = "bimtek_roster"  # export_log.what
MAX_CODES = 200  # codes in one check-in form at most


@dataclass(frozen=True)
class SessionLine:
    bimtek: BimtekSession
    registered: int
    waitlisted: int
    attended: int


@dataclass(frozen=True)
class SessionPage:
    bimtek: BimtekSession
    roster: list[bimtek_service.RosterLine]

    @property
    def attended(self) -> int:
        return sum(1 for line in self.roster if line.attended_at is not None)

    @property
    def registered(self) -> int:
        return sum(1 for line in self.roster if line.status == RegistrationStatus.REGISTERED)


def list_sessions(*, session: Session, held_only: bool, now: datetime) -> list[SessionLine]:
    """Every session, latest start first; `held_only`: started and not cancelled, as the
    overview counts "bimtek held" (bot/services/stats.py)."""
    query = select(BimtekSession).order_by(
        col(BimtekSession.starts_at).desc(), col(BimtekSession.id).desc()
    )
    if held_only:
        query = query.where(
            BimtekSession.status == BimtekStatus.OPEN, BimtekSession.starts_at <= now
        )
    sessions = list(session.exec(query))
    counts = _counts(session, [bimtek.id for bimtek in sessions])
    return [SessionLine(bimtek, *counts.get(bimtek.id, (0, 0, 0))) for bimtek in sessions]


def _counts(session: Session, ids: list[int]) -> dict[int, tuple[int, int, int]]:
    """Registered, waitlisted and attended per session."""
    if not ids:
        return {}
    is_ = BimtekRegistration.status
    rows = session.exec(
        select(
            BimtekRegistration.session_id,
            sa.func.count(sa.case((is_ == RegistrationStatus.REGISTERED, 1))),
            sa.func.count(sa.case((is_ == RegistrationStatus.WAITLISTED, 1))),
            sa.func.count(BimtekRegistration.attended_at),
        )
        .where(col(BimtekRegistration.session_id).in_(ids))
        .group_by(BimtekRegistration.session_id)
    )
    return {
        session_id: (registered, waiting, came) for session_id, registered, waiting, came in rows
    }


def session_page(*, session: Session, bimtek_id: int, t: Translator) -> SessionPage | None:
    bimtek = session.get(BimtekSession, bimtek_id)
    if bimtek is None:
        return None
    return SessionPage(bimtek, _roster(session, bimtek, t))


def _roster(session: Session, bimtek: BimtekSession, t: Translator) -> list:
    """The chat's roster; an IKM that erased its data appears under the erasure label."""
    return [
        replace(line, business_name=line.business_name or t("erasure.ikm"))
        for line in bimtek_service.roster(session, bimtek=bimtek)
    ]


def check_in_codes(
    *, session: Session, bimtek_id: int, codes: list[str], t: Translator, now: datetime
) -> tuple[SessionPage | None, list[str]]:
    """Each code checked in by the officer, answered as the chat answers it."""
    bimtek = session.get(BimtekSession, bimtek_id)
    if bimtek is None:
        return None, []
    results = [_check_in(session, bimtek, code, t, now) for code in codes[:MAX_CODES]]
    return SessionPage(bimtek, _roster(session, bimtek, t)), results


def _check_in(
    session: Session, bimtek: BimtekSession, code: str, t: Translator, now: datetime
) -> str:
    try:
        registration = bimtek_service.check_in(session, bimtek=bimtek, code=code, now=now)
    except bimtek_service.UnknownCode:
        return t("dinas.checkin_unknown", code=code)
    except bimtek_service.NotRegistered:
        return t("dinas.checkin_not_registered", code=code)
    return t("dinas.checkin_ok", code=registration.checkin_code)


@dataclass(frozen=True)
class RosterFile:
    filename: str
    media_type: str
    content: bytes


ROSTER_FORMATS = ("xlsx", "csv")


def roster_file(
    *,
    session: Session,
    bimtek_id: int,
    file_format: str,
    t: Translator,
    officer: Officer,
    settings: Settings,
    now: datetime,
) -> RosterFile | None:
    """The roster as a spreadsheet (XLSX opens right in any Excel; a CSV's separator
    depends on the computer's language). It holds phone numbers, so it is logged."""
    bimtek = session.get(BimtekSession, bimtek_id)
    if bimtek is None or file_format not in ROSTER_FORMATS:
        return None
    lines = _roster(session, bimtek, t)
    exports.record_export(
        session=session,
        officer=session.get(Person, officer.person_id),
        what=EXPORT_WHAT,
        rows=len(lines),
        now=now,
    )
    words = {
        "header": t("dinas.csv_header").split(","),
        "status_label": lambda status: t(f"dinas.status.{status}"),
        "via_label": lambda via: t(f"dinas.checkin_via.{via}"),
    }
    name = f"bimtek-{bimtek_id}.{file_format}"
    if file_format == "csv":
        text = bimtek_service.roster_csv(lines, settings.tz, **words)
        return RosterFile(name, "text/csv; charset=utf-8", text.encode("utf-8"))
    table = bimtek_service.roster_table(lines, **words)
    content = workbook_bytes(
        [table],
        sheet_title=lambda _: t("console.bimtek.roster"),
        header=lambda column: column,
        tz=settings.tz,
    )
    return RosterFile(name, XLSX_MIME, content)


def _translator(request: Request, officer: Officer) -> Translator:
    return console_context(request).catalog.translator(officer.language)


@officer_page
async def sessions_list(request: Request, officer: Officer) -> Response:
    held_only = request.query_params.get("held") == "yes"
    lines = await in_transaction(
        request, list_sessions, held_only=held_only, now=console_context(request).now()
    )
    return render(request, "bimtek/list.html", officer=officer, lines=lines, held_only=held_only)


@officer_page
async def session_detail(request: Request, officer: Officer) -> Response:
    found = await in_transaction(
        request,
        session_page,
        bimtek_id=request.path_params["bimtek_id"],
        t=_translator(request, officer),
    )
    if found is None:
        return render(request, "not_found.html", officer=officer, status_code=404)
    return render(request, "bimtek/detail.html", officer=officer, page=found, results=[])


@officer_form
async def check_in(request: Request, officer: Officer, form: FormData) -> Response:
    codes = str(form.get("codes", "")).replace(",", " ").split()
    found, results = await in_transaction(
        request,
        check_in_codes,
        bimtek_id=request.path_params["bimtek_id"],
        codes=codes,
        t=_translator(request, officer),
        now=console_context(request).now(),
    )
    if found is None:
        return render(request, "not_found.html", officer=officer, status_code=404)
    return render(request, "bimtek/detail.html", officer=officer, page=found, results=results)


@officer_page
async def roster_download(request: Request, officer: Officer) -> Response:
    context = console_context(request)
    made = await in_transaction(
        request,
        roster_file,
        bimtek_id=request.path_params["bimtek_id"],
        file_format=request.path_params["file_format"],
        t=_translator(request, officer),
        officer=officer,
        settings=context.settings,
        now=context.now(),
    )
    if made is None:
        return render(request, "not_found.html", officer=officer, status_code=404)
    return Response(
        made.content,
        media_type=made.media_type,
        headers={"content-disposition": f'attachment; filename="{made.filename}"'},
    )


ROUTES = [
    Route("/bimtek", sessions_list, methods=["GET"]),
    Route("/bimtek/{bimtek_id:int}", session_detail, methods=["GET"]),
    Route("/bimtek/{bimtek_id:int}/hadir", check_in, methods=["POST"]),
    Route("/bimtek/{bimtek_id:int}/peserta.{file_format}", roster_download, methods=["GET"]),
]
NAV = [NavItem("/bimtek", "console.bimtek.nav")]
