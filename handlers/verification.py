"""The Dinas verifies companies: waiting list, one tap to approve, a reason to reject."""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter

from bot.core.flow import Context, Finish, Flow, Goto, Outcome, Retry, Step
from bot.core.messages import Incoming, Option, Reply
from bot.core.pickers import Picker, pick_step
from bot.core.steps import Invalid, choice_step, text_parser
from bot.parsing.dates import format_when
from bot.parsing.identity import format_phone
from bot.reference import load_reference
from bot.services import companies
from handlers.summary import sector_name
from models import Company, CompanyStatus
from models.base import as_utc

APPROVE = "approve"
REJECT = "reject"
BACK = "back"
MENU = "menu"
REASON_KEYS = ("verify.reason.incomplete", "verify.reason.outside", "verify.reason.unreachable")


def _waiting(ctx: Context) -> list[Company]:
    return companies.pending_companies(ctx.session)


def _list_text(ctx: Context, waiting: Sequence[Company]) -> str:
    if not waiting:
        return ctx.t("verify.none")
    return ctx.t("verify.intro", count=len(waiting))


WAITING = Picker("c", records=_waiting, label=attrgetter("name"))


def _back_to_menu(ctx: Context) -> list[Option]:
    return [Option(MENU, ctx.t("common.back_to_menu"))]


def _to_menu(ctx: Context, chosen: str) -> Outcome:
    return Finish()


def _company(ctx: Context) -> Company | None:
    company_id = WAITING.picked_id(ctx)
    company = ctx.session.get(Company, company_id) if company_id is not None else None
    return company if company is not None and company.status == CompanyStatus.PENDING else None


def _detail_text(ctx: Context) -> str:
    company = _company(ctx)
    if company is None:
        return ctx.t("verify.gone")
    estate = load_reference().estate(company.estate)
    phone = companies.contact_phone(ctx.session, company)
    lines = [
        company.name,
        ctx.t("verify.line.estate", estate=estate.label if estate else company.estate),
        ctx.t("verify.line.address", address=company.address),
        ctx.t(
            "verify.line.contact",
            name=company.contact_name,
            phone=format_phone(phone) if phone else "-",
        ),
        ctx.t(
            "verify.line.sectors",
            sectors=", ".join(sector_name(ctx, code) for code in company.sectors),
        ),
        ctx.t(
            "verify.line.registered",
            when=format_when(as_utc(company.created_at), ctx.t.language),
        ),
    ]
    return "\n".join(lines)


def _detail_options(ctx: Context) -> list[Option]:
    back = Option(BACK, ctx.t("verify.back"))
    if _company(ctx) is None:
        return [back]
    return [Option(APPROVE, ctx.t("verify.approve")), Option(REJECT, ctx.t("verify.reject")), back]


def _on_detail(ctx: Context, chosen: str) -> Outcome:
    company = _company(ctx)
    if chosen == BACK or company is None:
        return Goto("verifikasi.daftar")
    if chosen == REJECT:
        return Goto("verifikasi.alasan")
    return _decide(ctx, company, approve=True, reason=None)


def _decide(ctx: Context, company: Company, *, approve: bool, reason: str | None) -> Outcome:
    try:
        companies.decide(
            ctx.session,
            company=company,
            officer=ctx.person,
            approve=approve,
            reason=reason,
            now=ctx.now,
        )
    except companies.AlreadyDecided:
        return Goto("verifikasi.daftar", say=(Reply(ctx.t("verify.gone")),))
    key = "verify.approved" if approve else "verify.rejected"
    return Goto("verifikasi.daftar", say=(Reply(ctx.t(key, name=company.name)),))


def _reason_prompt(ctx: Context) -> Reply:
    options = tuple(Option(f"r:{i}", ctx.t(key)) for i, key in enumerate(REASON_KEYS))
    return Reply(
        ctx.t("verify.reason.ask"),
        options=(*options, Option(BACK, ctx.t("common.back"))),
        accepts_text=True,
    )


def _take_reason(ctx: Context, incoming: Incoming) -> Outcome:
    company = _company(ctx)
    if incoming.option_id == BACK or company is None:
        return Goto("verifikasi.detail")
    option = incoming.option_id or ""
    if option.startswith("r:") and option[2:].isdigit() and int(option[2:]) < len(REASON_KEYS):
        reason = ctx.t(REASON_KEYS[int(option[2:])])
    else:
        try:
            reason = text_parser("verify.reason.invalid", min_length=3, max_length=300)(
                ctx, incoming
            )
        except Invalid as invalid:
            return Retry(invalid.reason)
    return _decide(ctx, company, approve=False, reason=reason)


VERIFICATION = Flow(
    "verifikasi",
    roles=frozenset({"dinas"}),
    steps=(
        pick_step(
            "daftar",
            picker=WAITING,
            ask=_list_text,
            then="verifikasi.detail",
            extras=_back_to_menu,
            on_extra=_to_menu,
            title="verify.title",
        ),
        choice_step("detail", ask=_detail_text, options=_detail_options, choose=_on_detail),
        Step("alasan", _reason_prompt, _take_reason),
    ),
)
