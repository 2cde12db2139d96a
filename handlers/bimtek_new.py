"""A Dinas officer creates a bimtek session: the form, its summary, and publishing it."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.core.flow import Context, Finish, Flow, Goto, Outcome
from bot.core.messages import Incoming, Option, Reply
from bot.core.steps import (
    Form,
    FormField,
    Invalid,
    choice_step,
    edit_field_step,
    field_step,
    multi_choice_step,
    option_value,
    text_parser,
    too_large,
    typed_text,
)
from bot.parsing.dates import format_when, parse_when
from bot.parsing.numbers import TooLarge, format_number, parse_count_within
from bot.services import audience as audience_service
from bot.services import bimtek as bimtek_service
from handlers.company import sector_items, typed_sectors
from handlers.summary import bimtek_name, kecamatan_items, sector_name, typed_kecamatan
from models import BimtekFields

SECTION = "bimtek"
MAX_QUOTA = 10_000  # the column's own bound (models/bimtek.py)
SAVE = "save"
EDIT = "edit"
DAY_BEFORE = "day_before"
ORGANISERS = ("Dinas Perindustrian Kab. Bekasi", "Kemenperin")


def _organiser_options(ctx: Context) -> list[Option]:
    return [Option(f"o:{index}", name) for index, name in enumerate(ORGANISERS)]


def _parse_organiser(ctx: Context, incoming: Incoming) -> str:
    if incoming.option_id and incoming.option_id.startswith("o:"):
        index = option_value(incoming.option_id)
        if index.isdigit() and int(index) < len(ORGANISERS):
            return ORGANISERS[int(index)]
        raise Invalid(ctx.t("dinas.organiser.invalid"))
    return text_parser("dinas.organiser.invalid")(ctx, incoming)


def parse_start(ctx: Context, incoming: Incoming) -> str:
    """When the session starts: a date with a time, in the future."""
    parsed = parse_when(typed_text(ctx, incoming), ctx.now)
    if parsed is None or not parsed.has_time:
        raise Invalid(ctx.t("dinas.when.invalid"))
    if parsed.at <= ctx.now:
        raise Invalid(ctx.t("dinas.when.past"))
    return parsed.at.isoformat()


def _parse_quota(ctx: Context, incoming: Incoming) -> int:
    quota = parse_count_within(typed_text(ctx, incoming), MAX_QUOTA)
    if isinstance(quota, TooLarge):
        raise too_large(ctx, format_number(quota.limit))
    if quota is None or quota < 1:
        raise Invalid(ctx.t("dinas.quota.invalid"))
    return quota


def deadline_options(ctx: Context) -> list[Option]:
    return [Option(DAY_BEFORE, ctx.t("dinas.deadline.day_before"))]


def parse_deadline(ctx: Context, incoming: Incoming) -> str:
    """The registration deadline: between now and the start kept in the draft."""
    starts_at = _start(ctx)
    if incoming.option_id == DAY_BEFORE:
        return (starts_at - timedelta(days=1)).isoformat()
    parsed = parse_when(typed_text(ctx, incoming), ctx.now)
    if parsed is None:
        raise Invalid(ctx.t("dinas.deadline.invalid"))
    at = parsed.at if parsed.has_time else parsed.at.replace(hour=23, minute=59)
    if at <= ctx.now or at > starts_at:
        raise Invalid(ctx.t("dinas.deadline.out_of_range"))
    return at.isoformat()


def _start(ctx: Context) -> datetime:
    return datetime.fromisoformat(ctx.section(SECTION)["starts_at"])


def _describe_when(ctx: Context, iso: str) -> str:
    return format_when(datetime.fromisoformat(iso), ctx.t.language)


def _summary_text(ctx: Context) -> str:
    draft = ctx.section(SECTION)
    everyone = ctx.t("dinas.everyone")
    named = [sector_name(ctx, code) or code for code in draft.get("sectors") or []]
    sectors = ", ".join(named) or everyone  # "Tekstil (13)", never a bare "13"
    kecamatan = ", ".join(draft.get("kecamatan") or []) or everyone
    lines = [
        f"{ctx.t('dinas.field.title')}: {draft.get('title')}",
        f"{ctx.t('dinas.field.organiser')}: {draft.get('organiser')}",
        f"{ctx.t('dinas.field.when')}: {_describe_when(ctx, draft['starts_at'])}",
        f"{ctx.t('dinas.field.venue')}: {draft.get('venue')}",
        f"{ctx.t('dinas.field.quota')}: {draft.get('quota')}",
        f"{ctx.t('dinas.field.sectors')}: {sectors}",
        f"{ctx.t('dinas.field.kecamatan')}: {kecamatan}",
        f"{ctx.t('dinas.field.deadline')}: {_describe_when(ctx, draft['registration_deadline'])}",
        f"{ctx.t('dinas.field.bring')}: {draft.get('bring') or '-'}",
        "",
        ctx.t("dinas.summary.reach", count=_reach(ctx)),
    ]
    return "\n".join(lines)


def _reach(ctx: Context) -> int:
    draft = ctx.section(SECTION)
    return audience_service.count_ikm(
        ctx.session, sectors=draft.get("sectors") or [], kecamatan=draft.get("kecamatan") or []
    )


def _summary_options(ctx: Context) -> list[Option]:
    return [Option(SAVE, ctx.t("dinas.summary.publish")), Option(EDIT, ctx.t("common.edit"))]


def _on_summary(ctx: Context, chosen: str) -> Outcome:
    if chosen == EDIT:
        return Goto("bimtek_baru.ubah")
    try:
        fields = BimtekFields.model_validate(ctx.section(SECTION))
    except ValueError:
        return Goto("bimtek_baru.ubah", say=(Reply(ctx.t("errors.incomplete")),))
    try:
        bimtek = bimtek_service.create_session(
            ctx.session, fields=fields, created_by=ctx.person, now=ctx.now
        )
    except bimtek_service.InvalidSchedule:
        return Goto("bimtek_baru.waktu", say=(Reply(ctx.t("dinas.when.past")),))
    return Finish(
        say=(
            Reply(
                ctx.t("dinas.created", title=bimtek_name(bimtek.title), code=bimtek.checkin_code)
            ),
        )
    )


FORM = Form(
    "bimtek_baru",
    SECTION,
    (
        FormField(
            "dinas.field.title",
            field_step(
                "judul",
                section=SECTION,
                field="title",
                ask="dinas.title.ask",
                parse=text_parser("dinas.title.invalid", min_length=3, max_length=160),
                next_step="bimtek_baru.deskripsi",
            ),
        ),
        FormField(
            "dinas.field.description",
            field_step(
                "deskripsi",
                section=SECTION,
                field="description",
                ask="dinas.description.ask",
                parse=text_parser("dinas.description.invalid", min_length=3, max_length=1000),
                next_step="bimtek_baru.penyelenggara",
                skippable=True,
            ),
        ),
        FormField(
            "dinas.field.organiser",
            field_step(
                "penyelenggara",
                section=SECTION,
                field="organiser",
                ask="dinas.organiser.ask",
                parse=_parse_organiser,
                next_step="bimtek_baru.waktu",
                options=_organiser_options,
            ),
        ),
        FormField(
            "dinas.field.when",
            field_step(
                "waktu",
                section=SECTION,
                field="starts_at",
                ask="dinas.when.ask",
                parse=parse_start,
                next_step="bimtek_baru.tempat",
                describe=_describe_when,
            ),
        ),
        FormField(
            "dinas.field.venue",
            field_step(
                "tempat",
                section=SECTION,
                field="venue",
                ask="dinas.venue.ask",
                parse=text_parser("dinas.venue.invalid", min_length=3, max_length=300),
                next_step="bimtek_baru.kuota",
            ),
        ),
        FormField(
            "dinas.field.quota",
            field_step(
                "kuota",
                section=SECTION,
                field="quota",
                ask="dinas.quota.ask",
                parse=_parse_quota,
                next_step="bimtek_baru.sektor",
            ),
        ),
        FormField(
            "dinas.field.sectors",
            multi_choice_step(
                "sektor",
                section=SECTION,
                field="sectors",
                ask="dinas.sectors.ask",
                items=sector_items,
                parse_typed=typed_sectors,
                next_step="bimtek_baru.kecamatan",
                done_key="company.sectors.done",
                none_key="company.sectors.none",
                invalid_key="company.sectors.invalid",
                everything_key="dinas.everyone",
            ),
        ),
        FormField(
            "dinas.field.kecamatan",
            multi_choice_step(
                "kecamatan",
                section=SECTION,
                field="kecamatan",
                ask="dinas.kecamatan.ask",
                items=kecamatan_items,
                parse_typed=typed_kecamatan,
                next_step="bimtek_baru.batas",
                done_key="company.sectors.done",
                none_key="company.sectors.none",
                invalid_key="ikm.kecamatan.invalid",
                everything_key="dinas.everyone",
            ),
        ),
        FormField(
            "dinas.field.deadline",
            field_step(
                "batas",
                section=SECTION,
                field="registration_deadline",
                ask="dinas.deadline.ask",
                parse=parse_deadline,
                next_step="bimtek_baru.bawa",
                options=deadline_options,
                describe=_describe_when,
            ),
        ),
        FormField(
            "dinas.field.bring",
            field_step(
                "bawa",
                section=SECTION,
                field="bring",
                ask="dinas.bring.ask",
                parse=text_parser("dinas.bring.invalid", min_length=2, max_length=500),
                next_step="bimtek_baru.ringkasan",
                skippable=True,
            ),
        ),
    ),
)


NEW_BIMTEK = Flow(
    "bimtek_baru",
    roles=frozenset({"dinas"}),
    steps=(
        *FORM.steps,
        choice_step(
            "ringkasan",
            ask=_summary_text,
            options=_summary_options,
            choose=_on_summary,
            title="dinas.summary.title",
        ),
        edit_field_step("ubah", fields=FORM.edit_menu(), summary="bimtek_baru.ringkasan"),
    ),
)
