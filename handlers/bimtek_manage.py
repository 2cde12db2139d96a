"""A Dinas officer manages bimtek sessions: roster, attendance, CSV, reschedule, cancel."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from bot.core.flow import Context, Finish, Flow, Goto, Outcome, Retry, Step
from bot.core.messages import Document, Incoming, Option, Reply
from bot.core.pickers import pick_step
from bot.core.steps import (
    Invalid,
    choice_step,
    field_step,
)
from bot.parsing.dates import format_when
from bot.services import bimtek as bimtek_service
from handlers.bimtek import bimtek_text
from handlers.bimtek_new import SECTION, deadline_options, parse_deadline, parse_start
from handlers.parties import ikm_name
from handlers.summary import OFFICER_SESSIONS
from models import AttendedVia, BimtekSession
from models.base import as_utc

BACK = "back"
MENU = "menu"


def _sessions_text(ctx: Context, sessions: Sequence) -> str:
    if not sessions:
        return ctx.t("dinas.sessions_none")
    lines = [ctx.t("dinas.sessions_intro")]
    for bimtek, counts in sessions:
        lines.append(
            ctx.t(
                "dinas.sessions_line",
                title=bimtek.title,
                when=format_when(as_utc(bimtek.starts_at), ctx.t.language),
                registered=counts.get("registered", 0),
                quota=bimtek.quota,
                waiting=counts.get("waitlisted", 0),
            )
        )
    return "\n".join(lines)


def _back_to_menu(ctx: Context) -> list[Option]:
    return [Option(MENU, ctx.t("common.back_to_menu"))]


def _to_menu(ctx: Context, chosen: str) -> Outcome:
    return Finish()


def _managed(ctx: Context) -> BimtekSession | None:
    bimtek_id = OFFICER_SESSIONS.picked_id(ctx)
    return ctx.session.get(BimtekSession, bimtek_id) if bimtek_id is not None else None


def _roster(ctx: Context, bimtek: BimtekSession) -> list[bimtek_service.RosterLine]:
    """The roster as shown: an IKM that erased its data appears under the anonymised label."""
    return [
        replace(line, business_name=ikm_name(ctx, line.business_name))
        for line in bimtek_service.roster(ctx.session, bimtek=bimtek)
    ]


def _session_text(ctx: Context) -> str:
    bimtek = _managed(ctx)
    if bimtek is None:
        return ctx.t("bimtek.gone")
    lines = [bimtek_text(ctx, bimtek), "", ctx.t("dinas.session_code", code=bimtek.checkin_code)]
    roster = _roster(ctx, bimtek)
    if not roster:
        lines.append(ctx.t("dinas.roster_empty"))
    for number, line in enumerate(roster, start=1):
        status = ctx.t(f"dinas.status.{line.status}")
        mark = _attended_mark(ctx, line)
        lines.append(f"{number}. {line.business_name} ({line.checkin_code}) {status}{mark}")
    if bimtek.status == "cancelled":
        lines.append(ctx.t("dinas.session_cancelled"))
    return "\n".join(lines)


def _attended_mark(ctx: Context, line: bimtek_service.RosterLine) -> str:
    if line.attended_at is None:
        return ""
    if line.attended_via == AttendedVia.SELF:
        return f" ✓ ({ctx.t('dinas.checkin_via.self')})"
    return " ✓"


def _session_options(ctx: Context) -> list[Option]:
    bimtek = _managed(ctx)
    back = Option(BACK, ctx.t("dinas.back_to_sessions"))
    if bimtek is None or bimtek.status == "cancelled":
        return [back]
    return [
        Option("checkin", ctx.t("dinas.checkin")),
        Option("csv", ctx.t("dinas.csv")),
        Option("reschedule", ctx.t("dinas.reschedule")),
        Option("cancel", ctx.t("dinas.cancel_session")),
        back,
    ]


def _on_session(ctx: Context, chosen: str) -> Outcome:
    bimtek = _managed(ctx)
    if chosen == BACK or bimtek is None:
        return Goto("kelola_bimtek.daftar")
    if chosen == "csv":
        return Goto("kelola_bimtek.sesi", say=(_roster_document(ctx, bimtek),))
    return Goto(
        {
            "checkin": "kelola_bimtek.hadir",
            "reschedule": "kelola_bimtek.jadwal",
            "cancel": "kelola_bimtek.batal",
        }[chosen]
    )


def _roster_document(ctx: Context, bimtek: BimtekSession) -> Reply:
    csv_text = bimtek_service.roster_csv(
        _roster(ctx, bimtek),
        ctx.settings.tz,
        header=ctx.t("dinas.csv_header").split(","),
        status_label=lambda status: ctx.t(f"dinas.status.{status}"),
        via_label=lambda via: ctx.t(f"dinas.checkin_via.{via}"),
    )
    document = Document(f"bimtek-{bimtek.id}.csv", csv_text.encode("utf-8"), "text/csv")
    return Reply(ctx.t("dinas.csv_ready"), document=document)


def _checkin_prompt(ctx: Context) -> Reply:
    return Reply(
        ctx.t("dinas.checkin_ask"),
        options=(Option(BACK, ctx.t("dinas.checkin_done")),),
        accepts_text=True,
    )


def _take_checkin_codes(ctx: Context, incoming: Incoming) -> Outcome:
    """Participants' codes, one or several at once; each is answered by name."""
    bimtek = _managed(ctx)
    if incoming.option_id == BACK or bimtek is None:
        return Goto("kelola_bimtek.sesi")
    codes = incoming.clean_text.replace(",", " ").split()
    if not codes:
        return Retry(ctx.t("dinas.checkin_ask"))
    lines = [_check_in(ctx, bimtek, code) for code in codes]
    return Goto("kelola_bimtek.hadir", say=(Reply("\n".join(lines)),))


def _check_in(ctx: Context, bimtek: BimtekSession, code: str) -> str:
    try:
        registration = bimtek_service.check_in(ctx.session, bimtek=bimtek, code=code, now=ctx.now)
    except bimtek_service.UnknownCode:
        return ctx.t("dinas.checkin_unknown", code=code)
    except bimtek_service.NotRegistered:
        return ctx.t("dinas.checkin_not_registered", code=code)
    return ctx.t("dinas.checkin_ok", code=registration.checkin_code)


def _take_new_deadline(ctx: Context, incoming: Incoming) -> Outcome:
    """The new registration deadline; registrants are told and reminders follow."""
    bimtek = _managed(ctx)
    if bimtek is None:
        return Goto("kelola_bimtek.daftar")
    try:
        deadline = parse_deadline(ctx, incoming)
    except Invalid as invalid:
        return Retry(invalid.reason)
    try:
        bimtek_service.reschedule(
            ctx.session,
            bimtek=bimtek,
            starts_at=datetime.fromisoformat(ctx.section(SECTION)["starts_at"]),
            registration_deadline=datetime.fromisoformat(deadline),
            now=ctx.now,
        )
    except bimtek_service.InvalidSchedule:
        return Goto("kelola_bimtek.jadwal", say=(Reply(ctx.t("dinas.when.past")),))
    return Goto("kelola_bimtek.sesi", say=(Reply(ctx.t("dinas.rescheduled")),))


def _deadline_prompt(ctx: Context) -> Reply:
    return Reply(
        ctx.t("dinas.deadline.ask"), options=tuple(deadline_options(ctx)), accepts_text=True
    )


def _cancel_text(ctx: Context) -> str:
    bimtek = _managed(ctx)
    return ctx.t("dinas.cancel_confirm", title=bimtek.title if bimtek else "?")


def _cancel_options(ctx: Context) -> list[Option]:
    return [Option("yes", ctx.t("dinas.cancel_yes")), Option(BACK, ctx.t("common.no"))]


def _on_cancel(ctx: Context, chosen: str) -> Outcome:
    bimtek = _managed(ctx)
    if chosen == BACK or bimtek is None:
        return Goto("kelola_bimtek.sesi")
    bimtek_service.cancel_session(ctx.session, bimtek=bimtek, now=ctx.now)
    return Goto("kelola_bimtek.sesi", say=(Reply(ctx.t("dinas.session_cancelled_done")),))


MANAGE_BIMTEK = Flow(
    "kelola_bimtek",
    roles=frozenset({"dinas"}),
    steps=(
        pick_step(
            "daftar",
            picker=OFFICER_SESSIONS,
            ask=_sessions_text,
            then="kelola_bimtek.sesi",
            extras=_back_to_menu,
            on_extra=_to_menu,
            title="dinas.sessions_title",
        ),
        choice_step("sesi", ask=_session_text, options=_session_options, choose=_on_session),
        Step("hadir", _checkin_prompt, _take_checkin_codes),
        field_step(
            "jadwal",
            section=SECTION,
            field="starts_at",
            ask="dinas.when.ask",
            parse=parse_start,
            next_step="kelola_bimtek.jadwal_batas",
        ),
        Step("jadwal_batas", _deadline_prompt, _take_new_deadline),
        choice_step("batal", ask=_cancel_text, options=_cancel_options, choose=_on_cancel),
    ),
)
