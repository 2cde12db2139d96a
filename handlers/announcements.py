"""A Dinas officer sends an announcement: text, picture, audience, preview, progress, stop."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.core.flow import Context, Finish, Flow, Goto, Outcome, Retry, Step
from bot.core.messages import Incoming, MediaRef, Option, Reply
from bot.core.pickers import pick_step
from bot.core.steps import (
    Item,
    choice_step,
    field_step,
    go_on,
    multi_choice_step,
    remember,
    remembered_id,
    skip_option,
    text_parser,
)
from bot.services import audience as audience_service
from handlers.company import sector_items, typed_sectors
from handlers.summary import OFFICER_SESSIONS, kecamatan_items, typed_kecamatan
from models import Announcement

SECTION = "announcement"
MENU = "menu"
AUDIENCES = ("all_ikm", "sector", "kecamatan", "companies", "bimtek")


def _photo_prompt(ctx: Context) -> Reply:
    return Reply(ctx.t("dinas.announce.photo"), options=(skip_option(ctx),), accepts_text=True)


def _take_photo(ctx: Context, incoming: Incoming) -> Outcome:
    """An optional picture for the announcement."""
    if incoming.photo is not None:
        ctx.section(SECTION)["image_ref"] = incoming.photo.as_stored()
    elif incoming.option_id == "skip":
        ctx.section(SECTION).pop("image_ref", None)
    else:
        return Retry(ctx.t("dinas.announce.photo_invalid"))
    return go_on(ctx, "pengumuman.audiens")


def _audience_options(ctx: Context) -> list[Option]:
    return [Option(kind, ctx.t(f"dinas.audience.{kind}")) for kind in AUDIENCES]


def _on_audience(ctx: Context, chosen: str) -> Outcome:
    draft = ctx.section(SECTION)
    if (draft.get("audience") or {}).get("kind") != chosen:
        draft.pop("values", None)  # sectors are not kecamatan: start the choice afresh
    draft["audience"] = {"kind": chosen}
    if chosen == "sector":
        return Goto("pengumuman.sektor")
    if chosen == "kecamatan":
        return Goto("pengumuman.kecamatan")
    if chosen == "bimtek":
        return Goto("pengumuman.bimtek")
    return Goto("pengumuman.pratinjau")


def _audience_values_step(
    name: str,
    ask: str,
    items: Callable[[Context], list[Item]],
    parse_typed: Callable[[str], list[str] | None],
) -> Step:
    return multi_choice_step(
        name,
        section=SECTION,
        field="values",
        ask=ask,
        items=items,
        parse_typed=parse_typed,
        next_step="pengumuman.pratinjau",
        done_key="company.sectors.done",
        none_key="company.sectors.none",
        invalid_key="dinas.announce.invalid_choice",
    )


def _which_bimtek(ctx: Context, sessions: Sequence) -> str:
    return ctx.t("dinas.announce.which_bimtek")


def _on_bimtek_audience(ctx: Context, bimtek_id: str) -> Outcome:
    ctx.section(SECTION)["values"] = [bimtek_id]
    return Goto("pengumuman.pratinjau")


def _audience(ctx: Context) -> dict:
    draft = ctx.section(SECTION)
    audience = dict(draft.get("audience") or {"kind": "all_ikm"})
    if audience["kind"] in ("sector", "kecamatan", "bimtek"):
        audience["values"] = list(draft.get("values") or [])
    return audience


def _preview_prompt(ctx: Context) -> list[Reply]:
    draft = ctx.section(SECTION)
    count = audience_service.count(ctx.session, _audience(ctx))
    image = MediaRef.from_stored(draft["image_ref"]) if draft.get("image_ref") else None
    return [
        Reply(draft.get("text", ""), title=ctx.t("notify.announcement_title"), image=image),
        Reply(
            ctx.t("dinas.announce.confirm", count=count),
            options=(
                Option("send", ctx.t("dinas.announce.send")),
                Option("edit", ctx.t("dinas.announce.edit")),
            ),
        ),
    ]


def _on_preview(ctx: Context, incoming: Incoming) -> Outcome:
    """Send it to the audience, or go back to the text."""
    if incoming.option_id == "edit":
        return Goto("pengumuman.teks")
    if incoming.option_id != "send":
        return Retry(ctx.t("errors.choose_option"))
    draft = ctx.section(SECTION)
    announcement = audience_service.announce(
        ctx.session,
        author=ctx.person,
        text=draft["text"],
        image_ref=draft.get("image_ref"),
        audience=_audience(ctx),
        now=ctx.now,
    )
    remember(ctx, announcement.id)
    return Goto("pengumuman.progres")


def _sent(ctx: Context) -> Announcement | None:
    announcement_id = remembered_id(ctx)
    return ctx.session.get(Announcement, announcement_id) if announcement_id is not None else None


def _progress_text(ctx: Context) -> str:
    announcement = _sent(ctx)
    if announcement is None:
        return ctx.t("dinas.announce.gone")
    progress = audience_service.progress(ctx.session, announcement=announcement)
    key = (
        "dinas.announce.stopped" if announcement.status == "stopped" else "dinas.announce.progress"
    )
    return ctx.t(
        key,
        sent=progress.sent + progress.waiting,
        total=progress.total,
        blocked=progress.blocked,
        failed=progress.failed,
        cancelled=progress.cancelled,
    )


def _progress_options(ctx: Context) -> list[Option]:
    return [
        Option("refresh", ctx.t("dinas.announce.refresh")),
        Option("stop", ctx.t("dinas.announce.stop")),
        Option(MENU, ctx.t("common.back_to_menu")),
    ]


def _on_progress(ctx: Context, chosen: str) -> Outcome:
    if chosen == MENU:
        return Finish()
    announcement = _sent(ctx)
    if chosen == "stop" and announcement is not None:
        audience_service.stop(ctx.session, announcement=announcement)
    return Goto("pengumuman.progres")


ANNOUNCEMENTS = Flow(
    "pengumuman",
    roles=frozenset({"dinas"}),
    steps=(
        field_step(
            "teks",
            section=SECTION,
            field="text",
            ask="dinas.announce.text",
            parse=text_parser("dinas.announce.text_invalid", min_length=5, max_length=3000),
            next_step="pengumuman.foto",
        ),
        Step("foto", _photo_prompt, _take_photo),
        choice_step(
            "audiens",
            ask="dinas.announce.audience",
            options=_audience_options,
            choose=_on_audience,
        ),
        _audience_values_step("sektor", "dinas.sectors.ask", sector_items, typed_sectors),
        _audience_values_step("kecamatan", "dinas.kecamatan.ask", kecamatan_items, typed_kecamatan),
        pick_step("bimtek", picker=OFFICER_SESSIONS, ask=_which_bimtek, then=_on_bimtek_audience),
        Step("pratinjau", _preview_prompt, _on_preview),
        choice_step(
            "progres",
            ask=_progress_text,
            options=_progress_options,
            choose=_on_progress,
            title="dinas.announce.progress_title",
        ),
    ),
)
