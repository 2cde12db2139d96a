"""Bimtek for IKM: see the sessions that fit, register with one tap, cancel, check in."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.flow import Context, Finish, Flow, Goto, Outcome, Retry, Step
from bot.core.messages import Incoming, Option, Reply
from bot.core.pickers import Picker, pick_step
from bot.core.steps import choice_step
from bot.parsing.dates import format_when
from bot.services import bimtek as bimtek_service
from bot.services import ikm as ikm_service
from models import BimtekSession, RegistrationStatus
from models.base import as_utc

REGISTER = "register"
WAITLIST = "waitlist"
CANCEL = "cancel"
CONFIRM = "confirm"
MINE = "mine"
BACK = "back"
MENU = "menu"


def _profile(ctx: Context):
    return ikm_service.profile_of(ctx.session, ctx.person)


def _when(ctx: Context, moment) -> str:  # noqa: ANN001 - a datetime
    # SQLite hands back naive datetimes; they were stored in UTC.
    return format_when(as_utc(moment), ctx.t.language)


def bimtek_text(ctx: Context, bimtek: BimtekSession) -> str:
    lines = [
        bimtek.title,
        ctx.t("bimtek.line.organiser", organiser=bimtek.organiser),
        ctx.t("bimtek.line.when", when=_when(ctx, bimtek.starts_at)),
        ctx.t("bimtek.line.venue", venue=bimtek.venue),
    ]
    if bimtek.description:
        lines.append(bimtek.description)
    if bimtek.bring:
        lines.append(ctx.t("bimtek.line.bring", bring=bimtek.bring))
    lines.append(ctx.t("bimtek.line.deadline", deadline=_when(ctx, bimtek.registration_deadline)))
    return "\n".join(lines)


# --- the list of sessions that fit this IKM ----------------------------------------------


def _upcoming(ctx: Context) -> list[tuple[BimtekSession, int]]:
    return bimtek_service.upcoming_for(ctx.session, ikm=_profile(ctx), now=ctx.now)


def _list_text(ctx: Context, upcoming: Sequence[tuple[BimtekSession, int]]) -> str:
    if not upcoming:
        return ctx.t("bimtek.none")
    lines = [ctx.t("bimtek.list_intro")]
    for number, (bimtek, seats) in enumerate(upcoming, start=1):
        lines.append(
            ctx.t(
                "bimtek.list_line",
                number=number,
                title=bimtek.title,
                when=_when(ctx, bimtek.starts_at),
                seats=seats,
            )
        )
    return "\n".join(lines)


UPCOMING = Picker(
    "b", records=_upcoming, label=lambda pair: pair[0].title, ident=lambda pair: pair[0].id
)


def _list_extras(ctx: Context) -> list[Option]:
    return [Option(MINE, ctx.t("bimtek.mine")), Option(MENU, ctx.t("common.back_to_menu"))]


def _on_list_extra(ctx: Context, chosen: str) -> Outcome:
    if chosen == MENU:
        return Finish()
    return Goto("bimtek.saya")


# --- one session: register, join the waitlist, cancel -----------------------------------


def _chosen(ctx: Context) -> BimtekSession | None:
    bimtek_id = UPCOMING.picked_id(ctx)
    bimtek = ctx.session.get(BimtekSession, bimtek_id) if bimtek_id is not None else None
    if bimtek is None:
        return None
    # Someone already registered keeps access (to cancel) even if their profile changed.
    if bimtek_service.eligible(bimtek, _profile(ctx)) or _registration(ctx, bimtek):
        return bimtek
    return None


def _registration(ctx: Context, bimtek: BimtekSession):
    for registration, session in bimtek_service.active_registrations(
        ctx.session, ikm=_profile(ctx), now=ctx.now
    ):
        if session.id == bimtek.id:
            return registration
    return None


def _detail_text(ctx: Context) -> str:
    bimtek = _chosen(ctx)
    if bimtek is None:
        return ctx.t("bimtek.gone")
    text = bimtek_text(ctx, bimtek)
    registration = _registration(ctx, bimtek)
    if registration is not None and registration.status == RegistrationStatus.REGISTERED:
        return f"{text}\n\n{ctx.t('bimtek.you_are_registered', code=registration.checkin_code)}"
    if registration is not None:
        return f"{text}\n\n{ctx.t('bimtek.you_are_waiting')}"
    if not bimtek_service.registration_open(bimtek, ctx.now):
        return f"{text}\n\n{ctx.t('bimtek.closed')}"
    seats = bimtek_service.seats_left(ctx.session, bimtek)
    key = "bimtek.seats_left" if seats > 0 else "bimtek.full"
    return f"{text}\n\n{ctx.t(key, seats=seats)}"


def _detail_options(ctx: Context) -> list[Option]:
    bimtek = _chosen(ctx)
    back = [Option(BACK, ctx.t("bimtek.back_to_list"))]
    if bimtek is None:
        return back
    registration = _registration(ctx, bimtek)
    if registration is not None:
        key = (
            "bimtek.cancel"
            if registration.status == RegistrationStatus.REGISTERED
            else "bimtek.leave_waitlist"
        )
        return [Option(CANCEL, ctx.t(key)), *back]
    if not bimtek_service.registration_open(bimtek, ctx.now):
        return back
    if bimtek_service.seats_left(ctx.session, bimtek) > 0:
        return [Option(REGISTER, ctx.t("bimtek.register")), *back]
    return [Option(WAITLIST, ctx.t("bimtek.join_waitlist")), *back]


def _on_detail(ctx: Context, chosen: str) -> Outcome:
    bimtek = _chosen(ctx)
    if chosen == BACK or bimtek is None:
        return Goto("bimtek.daftar")
    if chosen == CANCEL:
        return Goto("bimtek.batal")
    result = bimtek_service.register(
        ctx.session,
        bimtek=bimtek,
        ikm=_profile(ctx),
        now=ctx.now,
        tz=ctx.settings.tz,
        waitlist_if_full=chosen == WAITLIST,
    )
    match result.outcome:
        case "registered":
            code = result.registration.checkin_code
            return Finish(say=(Reply(ctx.t("bimtek.registered", title=bimtek.title, code=code)),))
        case "waitlisted":
            return Finish(say=(Reply(ctx.t("bimtek.waitlisted", title=bimtek.title)),))
        case "full":
            return Goto("bimtek.detail", say=(Reply(ctx.t("bimtek.just_filled")),))
        case "already":
            return Goto("bimtek.detail")
        case _:
            return Goto("bimtek.detail", say=(Reply(ctx.t("bimtek.closed")),))


def _cancel_text(ctx: Context) -> str:
    bimtek = _chosen(ctx)
    return ctx.t("bimtek.cancel_confirm", title=bimtek.title if bimtek else "?")


def _cancel_options(ctx: Context) -> list[Option]:
    return [Option(CONFIRM, ctx.t("bimtek.cancel_yes")), Option(BACK, ctx.t("common.no"))]


def _on_cancel(ctx: Context, chosen: str) -> Outcome:
    bimtek = _chosen(ctx)
    registration = _registration(ctx, bimtek) if bimtek else None
    if chosen == BACK or registration is None:
        return Goto("bimtek.detail")
    bimtek_service.cancel_registration(
        ctx.session, registration=registration, now=ctx.now, tz=ctx.settings.tz
    )
    return Finish(say=(Reply(ctx.t("bimtek.cancelled", title=bimtek.title)),))


# --- my registrations ----------------------------------------------------------------------


def _mine(ctx: Context) -> list:
    return bimtek_service.active_registrations(ctx.session, ikm=_profile(ctx), now=ctx.now)


def _mine_text(ctx: Context, mine: Sequence) -> str:
    if not mine:
        return ctx.t("bimtek.mine_none")
    lines = [ctx.t("bimtek.mine_intro")]
    for registration, bimtek in mine:
        key = (
            "bimtek.mine_registered"
            if registration.status == RegistrationStatus.REGISTERED
            else "bimtek.mine_waiting"
        )
        lines.append(
            ctx.t(
                key,
                title=bimtek.title,
                when=_when(ctx, bimtek.starts_at),
                code=registration.checkin_code,
            )
        )
    return "\n".join(lines)


MINE_LIST = Picker(
    "b", records=_mine, label=lambda pair: pair[1].title, ident=lambda pair: pair[1].id
)


def _back_to_list(ctx: Context) -> list[Option]:
    return [Option(BACK, ctx.t("bimtek.back_to_list"))]


def _on_mine_extra(ctx: Context, chosen: str) -> Outcome:
    return Goto("bimtek.daftar")


# --- checking in: one's own attendance code, or the venue code --------------------------


def _ask_code(ctx: Context) -> Reply:
    return Reply(ctx.t("bimtek.checkin_ask"), accepts_text=True)


def _take_code(ctx: Context, incoming: Incoming) -> Outcome:
    """The IKM's own attendance code or the venue code: attendance, marked as self check-in."""
    try:
        bimtek, _ = bimtek_service.self_check_in(
            ctx.session,
            ikm=_profile(ctx),
            code=incoming.clean_text,
            now=ctx.now,
            tz=ctx.settings.tz,
        )
    except bimtek_service.UnknownCode:
        return Retry(ctx.t("bimtek.checkin_unknown"))
    except bimtek_service.NotRegistered:
        return Finish(say=(Reply(ctx.t("bimtek.checkin_not_registered")),))
    except bimtek_service.CheckInClosed as closed:
        return Finish(say=(Reply(_closed_text(ctx, closed)),))
    return Finish(say=(Reply(ctx.t("bimtek.checked_in", title=bimtek.title)),))


def _closed_text(ctx: Context, closed: bimtek_service.CheckInClosed) -> str:
    if closed.too_early:
        return ctx.t(
            "bimtek.checkin_too_early",
            title=closed.bimtek.title,
            opens=_when(ctx, closed.opens_at),
        )
    return ctx.t("bimtek.checkin_over", title=closed.bimtek.title)


BIMTEK = Flow(
    "bimtek",
    roles=frozenset({"ikm"}),
    steps=(
        pick_step(
            "daftar",
            picker=UPCOMING,
            ask=_list_text,
            then="bimtek.detail",
            extras=_list_extras,
            on_extra=_on_list_extra,
            title="bimtek.title",
        ),
        choice_step("detail", ask=_detail_text, options=_detail_options, choose=_on_detail),
        choice_step("batal", ask=_cancel_text, options=_cancel_options, choose=_on_cancel),
        pick_step(
            "saya",
            picker=MINE_LIST,
            ask=_mine_text,
            then="bimtek.detail",
            extras=_back_to_list,
            on_extra=_on_mine_extra,
            title="bimtek.mine",
        ),
        Step("hadir", _ask_code, _take_code),
    ),
)
