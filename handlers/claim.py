"""A number the Dinas's registry holds writes for the first time: it is offered its record.

"Benar" registers the IKM from the record (a missing required field is asked as the IKM
registration asks it); "Ada yang salah" opens the IKM form pre-filled, at its edit menu;
"Bukan usaha saya" flags the record for the Dinas and goes on to the usual start.
The draft lives in `data["ikm"]` (the IKM form's section); `data["record"]` is the record's id.
"""

from __future__ import annotations

from bot.core.flow import HOME, Again, Context, Enter, Finish, Flow, Goto, Outcome, Step
from bot.core.messages import Incoming, Option, Reply
from bot.core.steps import FormField, choice_step, edit_field_step
from bot.core.understanding import Expect, Kind
from bot.services import registry
from handlers import ikm
from handlers.summary import ikm_summary, sector_name
from models import IkmFields, RegistryRecord

RIGHT = "right"
WRONG = "wrong"
NOT_MINE = "not_mine"
SAVE = "save"
EDIT = "edit"
RECORD = "record"
# Where a field step of the IKM form comes back to after its answer.
AFTER_FIELD = "klaim.lengkapi"


def claim_detour(ctx: Context) -> str | None:
    """The claim question, for a person without a role whose proven number holds a record."""
    if ctx.person.role is not None:
        return None
    record = registry.claimable(ctx.session, ctx.person.phone)
    return "klaim.cek" if record is not None else None


def _record(ctx: Context) -> RegistryRecord | None:
    record_id = ctx.data.get(RECORD)
    if isinstance(record_id, int):
        return registry.record_of(ctx.session, record_id, ctx.person.phone)
    record = registry.claimable(ctx.session, ctx.person.phone)
    if record is not None:
        ctx.data[RECORD] = record.id
    return record


def _details(ctx: Context, record: RegistryRecord) -> str:
    parts = [record.business_name]
    if record.desa:
        parts.append(ctx.t("claim.desa", desa=record.desa))
    if record.kecamatan:
        parts.append(ctx.t("claim.kecamatan", kecamatan=record.kecamatan))
    if record.products:
        parts.append(ctx.t("claim.products", products=record.products))
    elif record.sector:
        parts.append(ctx.t("claim.sector", sector=sector_name(ctx, record.sector)))
    return ", ".join(parts)


def _ask(ctx: Context) -> str:
    record = _record(ctx)
    if record is None:  # claimed or flagged meanwhile
        return ctx.t("claim.gone")
    return ctx.t("claim.ask", source=record.source, details=_details(ctx, record))


def _options(ctx: Context) -> list[Option]:
    return [
        Option(RIGHT, ctx.t("claim.right")),
        Option(WRONG, ctx.t("claim.wrong")),
        Option(NOT_MINE, ctx.t("claim.not_mine")),
    ]


def _on_check(ctx: Context, chosen: str) -> Outcome:
    record = _record(ctx)
    if record is None:
        return Enter(HOME, say=(Reply(ctx.t("claim.gone")),))
    if chosen == NOT_MINE:
        registry.flag_not_mine(ctx.session, record=record, now=ctx.now)
        return Enter(HOME, say=(Reply(ctx.t("claim.flagged")),))
    ctx.data[ikm.SECTION] = registry.draft_of(record)
    if chosen == WRONG:
        return Goto("klaim.ubah")
    if _missing_field(ctx) is None:
        return _save(ctx)
    return Goto(AFTER_FIELD)


# --- a required field the record lacks, asked by the IKM form's own step ------------------


def _missing_field(ctx: Context) -> FormField | None:
    missing = registry.missing_required(ctx.section(ikm.SECTION))
    return next((field for field in ikm.FORM.fields if field.key in missing), None)


def _fill_prompt(ctx: Context) -> Reply | list[Reply]:
    field = _missing_field(ctx)
    if field is None:
        return _summary(ctx)
    return field.step.prompt(ctx)


def _fill_expect(ctx: Context) -> Expect:
    field = _missing_field(ctx)
    if field is not None and field.step.expect is not None:
        return field.step.expect(ctx)
    return Expect(Kind.CHOICE, options=_summary(ctx).options, yes=SAVE)


def _fill(ctx: Context, incoming: Incoming) -> Outcome:
    """The IKM form's step for the first missing field answers; then the next, or save."""
    field = _missing_field(ctx)
    if field is None:
        return _save(ctx) if incoming.option_id == SAVE else Goto("klaim.ubah")
    ctx.data["_return"] = AFTER_FIELD  # the form's step goes on to here, not its own next
    outcome = field.step.handle(ctx, incoming)
    if not (isinstance(outcome, Goto) and outcome.to == AFTER_FIELD):
        return outcome  # a re-ask, or a question of its own (a KBLI version, "maksudnya ...?")
    return _save(ctx) if _missing_field(ctx) is None else Again()


# --- "Ada yang salah": the IKM form's edit menu over the record's values ------------------


def _summary(ctx: Context) -> Reply:
    text = f"{ikm_summary(ctx, ctx.section(ikm.SECTION))}\n\n{ctx.t('common.check_then_save')}"
    options = (Option(SAVE, ctx.t("common.save")), Option(EDIT, ctx.t("common.edit")))
    return Reply(text, title=ctx.t("ikm.summary.title"), options=options)


def _on_summary(ctx: Context, chosen: str) -> Outcome:
    if chosen == EDIT:
        return Goto("klaim.ubah")
    return _save(ctx)


def _save(ctx: Context) -> Outcome:
    record = _record(ctx)
    if record is None:
        return Enter(HOME, say=(Reply(ctx.t("claim.gone")),))
    try:
        fields = IkmFields.model_validate(ctx.section(ikm.SECTION))
    except ValueError:
        return Goto("klaim.ubah", say=(Reply(ctx.t("errors.incomplete")),))
    try:
        registry.claim(ctx.session, record=record, person=ctx.person, fields=fields, now=ctx.now)
    except registry.AlreadyClaimed:
        return Finish(say=(Reply(ctx.t("claim.gone")),))
    return Finish(say=(Reply(ctx.t("claim.registered", business=fields.business_name)),))


CLAIM = Flow(
    "klaim",
    steps=(
        choice_step(
            "cek",
            ask=_ask,
            options=_options,
            choose=_on_check,
            yes=RIGHT,
            aliases="claim",
        ),
        Step("lengkapi", _fill_prompt, _fill, _fill_expect),
        edit_field_step("ubah", fields=ikm.FORM.edit_menu(), summary="klaim.ringkasan"),
        choice_step(
            "ringkasan",
            ask=lambda ctx: _summary(ctx).text,
            options=lambda ctx: _summary(ctx).options,
            choose=_on_summary,
            title="ikm.summary.title",
            yes=SAVE,
            aliases="summary",
        ),
    ),
)
