"""The Dinas officer's tools: create and manage bimtek sessions, send announcements."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from bot.core.flow import Context, Finish, Flow, Goto, Outcome, Retry, Step
from bot.core.messages import Document, Incoming, MediaRef, Option, Reply
from bot.core.steps import (
    Invalid,
    Item,
    choice_step,
    edit_field_step,
    field_step,
    go_on,
    multi_choice_step,
    skip_option,
    text_parser,
    too_large,
    typed_text,
)
from bot.parsing.dates import format_when, parse_when
from bot.parsing.numbers import TooLarge, format_number, parse_count_within
from bot.reference import load_reference
from bot.services import audience as audience_service
from bot.services import bimtek as bimtek_service
from handlers.bimtek import bimtek_text
from handlers.company import sector_items, typed_sectors
from handlers.parties import ikm_name
from handlers.summary import bimtek_name, sector_name
from models import Announcement, AttendedVia, BimtekFields, BimtekSession
from models.base import as_utc

SECTION = "bimtek"
MAX_QUOTA = 10_000  # the column's own bound (models/bimtek.py)
ANNOUNCEMENT = "announcement"
SAVE = "save"
EDIT = "edit"
BACK = "back"
MENU = "menu"
DAY_BEFORE = "day_before"
ORGANISERS = ("Dinas Perindustrian Kab. Bekasi", "Kemenperin")


# --- creating a session ------------------------------------------------------------------


def _organiser_options(ctx: Context) -> list[Option]:
    return [Option(f"o:{index}", name) for index, name in enumerate(ORGANISERS)]


def _parse_organiser(ctx: Context, incoming: Incoming) -> str:
    if incoming.option_id and incoming.option_id.startswith("o:"):
        index = incoming.option_id[2:]
        if index.isdigit() and int(index) < len(ORGANISERS):
            return ORGANISERS[int(index)]
        raise Invalid(ctx.t("dinas.organiser.invalid"))
    return text_parser("dinas.organiser.invalid")(ctx, incoming)


def _parse_start(ctx: Context, incoming: Incoming) -> str:
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


def _deadline_options(ctx: Context) -> list[Option]:
    return [Option(DAY_BEFORE, ctx.t("dinas.deadline.day_before"))]


def _parse_deadline(ctx: Context, incoming: Incoming) -> str:
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


def _kecamatan_items(ctx: Context) -> list[Item]:
    return [(name, name, None) for name in load_reference().kecamatan]


def _typed_kecamatan(text: str) -> list[str] | None:
    names = []
    for part in text.replace(";", ",").split(","):
        if not part.strip():
            continue
        name, _ = load_reference().find_kecamatan(part)
        if name is None:
            return None
        names.append(name)
    return names or None


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
        return Goto("dinas.ubah")
    try:
        fields = BimtekFields.model_validate(ctx.section(SECTION))
    except ValueError:
        return Goto("dinas.ubah", say=(Reply(ctx.t("errors.incomplete")),))
    try:
        bimtek = bimtek_service.create_session(
            ctx.session, fields=fields, created_by=ctx.person, now=ctx.now
        )
    except bimtek_service.InvalidSchedule:
        return Goto("dinas.waktu", say=(Reply(ctx.t("dinas.when.past")),))
    return Finish(
        say=(
            Reply(
                ctx.t("dinas.created", title=bimtek_name(bimtek.title), code=bimtek.checkin_code)
            ),
        )
    )


EDITABLE = (
    ("dinas.judul", "dinas.field.title"),
    ("dinas.deskripsi", "dinas.field.description"),
    ("dinas.penyelenggara", "dinas.field.organiser"),
    ("dinas.waktu", "dinas.field.when"),
    ("dinas.tempat", "dinas.field.venue"),
    ("dinas.kuota", "dinas.field.quota"),
    ("dinas.sektor", "dinas.field.sectors"),
    ("dinas.kecamatan", "dinas.field.kecamatan"),
    ("dinas.batas", "dinas.field.deadline"),
    ("dinas.bawa", "dinas.field.bring"),
)


# --- managing sessions -------------------------------------------------------------------


def _sessions(ctx: Context) -> list:
    return bimtek_service.sessions_for_dinas(ctx.session, now=ctx.now)


def _sessions_text(ctx: Context) -> str:
    sessions = _sessions(ctx)
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


def _sessions_options(ctx: Context) -> list[Option]:
    options = [Option(f"b:{bimtek.id}", bimtek.title[:40]) for bimtek, _ in _sessions(ctx)]
    return [*options, Option(MENU, ctx.t("common.back_to_menu"))]


def _on_sessions(ctx: Context, chosen: str) -> Outcome:
    if chosen == MENU:
        return Finish()
    ctx.data["arg"] = chosen[2:]
    return Goto("dinas.sesi")


def _managed(ctx: Context) -> BimtekSession | None:
    arg = str(ctx.data.get("arg", ""))
    return ctx.session.get(BimtekSession, int(arg)) if arg.isdigit() else None


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
        return Goto("dinas.bimtek_daftar")
    if chosen == "csv":
        csv_text = bimtek_service.roster_csv(
            _roster(ctx, bimtek),
            ctx.settings.tz,
            header=ctx.t("dinas.csv_header").split(","),
            status_label=lambda status: ctx.t(f"dinas.status.{status}"),
            via_label=lambda via: ctx.t(f"dinas.checkin_via.{via}"),
        )
        document = Document(f"bimtek-{bimtek.id}.csv", csv_text.encode("utf-8"), "text/csv")
        return Goto("dinas.sesi", say=(Reply(ctx.t("dinas.csv_ready"), document=document),))
    return Goto(
        {"checkin": "dinas.hadir", "reschedule": "dinas.jadwal", "cancel": "dinas.batal_sesi"}[
            chosen
        ]
    )


def _checkin_prompt(ctx: Context) -> Reply:
    return Reply(
        ctx.t("dinas.checkin_ask"),
        options=(Option(BACK, ctx.t("dinas.checkin_done")),),
        accepts_text=True,
    )


async def _take_checkin_codes(ctx: Context, incoming: Incoming) -> Outcome:
    """Participants' codes, one or several at once; each is answered by name."""
    bimtek = _managed(ctx)
    if incoming.option_id == BACK or bimtek is None:
        return Goto("dinas.sesi")
    codes = incoming.clean_text.replace(",", " ").split()
    if not codes:
        return Retry(ctx.t("dinas.checkin_ask"))
    lines = []
    for code in codes:
        try:
            registration = bimtek_service.check_in(
                ctx.session, bimtek=bimtek, code=code, now=ctx.now
            )
        except bimtek_service.UnknownCode:
            lines.append(ctx.t("dinas.checkin_unknown", code=code))
        except bimtek_service.NotRegistered:
            lines.append(ctx.t("dinas.checkin_not_registered", code=code))
        else:
            lines.append(ctx.t("dinas.checkin_ok", code=registration.checkin_code))
    return Goto("dinas.hadir", say=(Reply("\n".join(lines)),))


async def _take_new_deadline(ctx: Context, incoming: Incoming) -> Outcome:
    """The new registration deadline; registrants are told and reminders follow."""
    bimtek = _managed(ctx)
    if bimtek is None:
        return Goto("dinas.bimtek_daftar")
    try:
        deadline = _parse_deadline(ctx, incoming)
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
        return Goto("dinas.jadwal", say=(Reply(ctx.t("dinas.when.past")),))
    return Goto("dinas.sesi", say=(Reply(ctx.t("dinas.rescheduled")),))


def _deadline_prompt(ctx: Context) -> Reply:
    return Reply(
        ctx.t("dinas.deadline.ask"), options=tuple(_deadline_options(ctx)), accepts_text=True
    )


def _cancel_text(ctx: Context) -> str:
    bimtek = _managed(ctx)
    return ctx.t("dinas.cancel_confirm", title=bimtek.title if bimtek else "?")


def _cancel_options(ctx: Context) -> list[Option]:
    return [Option("yes", ctx.t("dinas.cancel_yes")), Option(BACK, ctx.t("common.no"))]


def _on_cancel(ctx: Context, chosen: str) -> Outcome:
    bimtek = _managed(ctx)
    if chosen == BACK or bimtek is None:
        return Goto("dinas.sesi")
    bimtek_service.cancel_session(ctx.session, bimtek=bimtek, now=ctx.now)
    return Goto("dinas.sesi", say=(Reply(ctx.t("dinas.session_cancelled_done")),))


# --- announcements -----------------------------------------------------------------------


def _photo_prompt(ctx: Context) -> Reply:
    return Reply(ctx.t("dinas.announce.photo"), options=(skip_option(ctx),), accepts_text=True)


async def _take_photo(ctx: Context, incoming: Incoming) -> Outcome:
    """An optional picture for the announcement."""
    if incoming.photo is not None:
        ctx.section(ANNOUNCEMENT)["image_ref"] = incoming.photo.as_stored()
    elif incoming.option_id == "skip":
        ctx.section(ANNOUNCEMENT).pop("image_ref", None)
    else:
        return Retry(ctx.t("dinas.announce.photo_invalid"))
    return go_on(ctx, "dinas.umum_audiens")


AUDIENCES = ("all_ikm", "sector", "kecamatan", "companies", "bimtek")


def _audience_options(ctx: Context) -> list[Option]:
    return [Option(kind, ctx.t(f"dinas.audience.{kind}")) for kind in AUDIENCES]


def _on_audience(ctx: Context, chosen: str) -> Outcome:
    draft = ctx.section(ANNOUNCEMENT)
    if (draft.get("audience") or {}).get("kind") != chosen:
        draft.pop("values", None)  # sectors are not kecamatan: start the choice afresh
    draft["audience"] = {"kind": chosen}
    if chosen == "sector":
        return Goto("dinas.umum_sektor")
    if chosen == "kecamatan":
        return Goto("dinas.umum_kecamatan")
    if chosen == "bimtek":
        return Goto("dinas.umum_bimtek")
    return Goto("dinas.umum_pratinjau")


def _audience_values_step(name: str, ask: str, items, parse_typed) -> Step:  # noqa: ANN001
    return multi_choice_step(
        name,
        section=ANNOUNCEMENT,
        field="values",
        ask=ask,
        items=items,
        parse_typed=parse_typed,
        next_step="dinas.umum_pratinjau",
        done_key="company.sectors.done",
        none_key="company.sectors.none",
        invalid_key="dinas.announce.invalid_choice",
    )


def _bimtek_audience_options(ctx: Context) -> list[Option]:
    return [Option(f"b:{bimtek.id}", bimtek.title[:40]) for bimtek, _ in _sessions(ctx)]


def _on_bimtek_audience(ctx: Context, chosen: str) -> Outcome:
    ctx.section(ANNOUNCEMENT)["values"] = [chosen[2:]]
    return Goto("dinas.umum_pratinjau")


def _audience(ctx: Context) -> dict:
    draft = ctx.section(ANNOUNCEMENT)
    audience = dict(draft.get("audience") or {"kind": "all_ikm"})
    if audience["kind"] in ("sector", "kecamatan", "bimtek"):
        audience["values"] = list(draft.get("values") or [])
    return audience


def _preview_prompt(ctx: Context) -> list[Reply]:
    draft = ctx.section(ANNOUNCEMENT)
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


async def _on_preview(ctx: Context, incoming: Incoming) -> Outcome:
    """Send it to the audience, or go back to the text."""
    if incoming.option_id == "edit":
        return Goto("dinas.umum_teks")
    if incoming.option_id != "send":
        return Retry(ctx.t("errors.choose_option"))
    draft = ctx.section(ANNOUNCEMENT)
    announcement = audience_service.announce(
        ctx.session,
        author=ctx.person,
        text=draft["text"],
        image_ref=draft.get("image_ref"),
        audience=_audience(ctx),
        now=ctx.now,
    )
    ctx.data["arg"] = str(announcement.id)
    return Goto("dinas.umum_progres")


def _progress_text(ctx: Context) -> str:
    announcement = ctx.session.get(Announcement, int(ctx.data.get("arg", 0)))
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
    announcement = ctx.session.get(Announcement, int(ctx.data.get("arg", 0)))
    if chosen == "stop" and announcement is not None:
        audience_service.stop(ctx.session, announcement=announcement)
    return Goto("dinas.umum_progres")


DINAS = Flow(
    "dinas",
    roles=frozenset({"dinas"}),
    steps=(
        field_step(
            "judul",
            section=SECTION,
            field="title",
            ask="dinas.title.ask",
            parse=text_parser("dinas.title.invalid", min_length=3, max_length=160),
            next_step="dinas.deskripsi",
        ),
        field_step(
            "deskripsi",
            section=SECTION,
            field="description",
            ask="dinas.description.ask",
            parse=text_parser("dinas.description.invalid", min_length=3, max_length=1000),
            next_step="dinas.penyelenggara",
            skippable=True,
        ),
        field_step(
            "penyelenggara",
            section=SECTION,
            field="organiser",
            ask="dinas.organiser.ask",
            parse=_parse_organiser,
            next_step="dinas.waktu",
            options=_organiser_options,
        ),
        field_step(
            "waktu",
            section=SECTION,
            field="starts_at",
            ask="dinas.when.ask",
            parse=_parse_start,
            next_step="dinas.tempat",
            describe=_describe_when,
        ),
        field_step(
            "tempat",
            section=SECTION,
            field="venue",
            ask="dinas.venue.ask",
            parse=text_parser("dinas.venue.invalid", min_length=3, max_length=300),
            next_step="dinas.kuota",
        ),
        field_step(
            "kuota",
            section=SECTION,
            field="quota",
            ask="dinas.quota.ask",
            parse=_parse_quota,
            next_step="dinas.sektor",
        ),
        multi_choice_step(
            "sektor",
            section=SECTION,
            field="sectors",
            ask="dinas.sectors.ask",
            items=sector_items,
            parse_typed=typed_sectors,
            next_step="dinas.kecamatan",
            done_key="company.sectors.done",
            none_key="company.sectors.none",
            invalid_key="company.sectors.invalid",
            everything_key="dinas.everyone",
        ),
        multi_choice_step(
            "kecamatan",
            section=SECTION,
            field="kecamatan",
            ask="dinas.kecamatan.ask",
            items=_kecamatan_items,
            parse_typed=_typed_kecamatan,
            next_step="dinas.batas",
            done_key="company.sectors.done",
            none_key="company.sectors.none",
            invalid_key="ikm.kecamatan.invalid",
            everything_key="dinas.everyone",
        ),
        field_step(
            "batas",
            section=SECTION,
            field="registration_deadline",
            ask="dinas.deadline.ask",
            parse=_parse_deadline,
            next_step="dinas.bawa",
            options=_deadline_options,
            describe=_describe_when,
        ),
        field_step(
            "bawa",
            section=SECTION,
            field="bring",
            ask="dinas.bring.ask",
            parse=text_parser("dinas.bring.invalid", min_length=2, max_length=500),
            next_step="dinas.ringkasan",
            skippable=True,
        ),
        choice_step(
            "ringkasan",
            ask=_summary_text,
            options=_summary_options,
            choose=_on_summary,
            title="dinas.summary.title",
        ),
        edit_field_step("ubah", fields=EDITABLE, summary="dinas.ringkasan"),
        choice_step(
            "bimtek_daftar",
            ask=_sessions_text,
            options=_sessions_options,
            choose=_on_sessions,
            title="dinas.sessions_title",
        ),
        choice_step("sesi", ask=_session_text, options=_session_options, choose=_on_session),
        Step("hadir", _checkin_prompt, _take_checkin_codes),
        field_step(
            "jadwal",
            section=SECTION,
            field="starts_at",
            ask="dinas.when.ask",
            parse=_parse_start,
            next_step="dinas.jadwal_batas",
        ),
        Step("jadwal_batas", _deadline_prompt, _take_new_deadline),
        choice_step("batal_sesi", ask=_cancel_text, options=_cancel_options, choose=_on_cancel),
        field_step(
            "umum_teks",
            section=ANNOUNCEMENT,
            field="text",
            ask="dinas.announce.text",
            parse=text_parser("dinas.announce.text_invalid", min_length=5, max_length=3000),
            next_step="dinas.umum_foto",
        ),
        Step("umum_foto", _photo_prompt, _take_photo),
        choice_step(
            "umum_audiens",
            ask="dinas.announce.audience",
            options=_audience_options,
            choose=_on_audience,
        ),
        _audience_values_step("umum_sektor", "dinas.sectors.ask", sector_items, typed_sectors),
        _audience_values_step(
            "umum_kecamatan", "dinas.kecamatan.ask", _kecamatan_items, _typed_kecamatan
        ),
        choice_step(
            "umum_bimtek",
            ask="dinas.announce.which_bimtek",
            options=_bimtek_audience_options,
            choose=_on_bimtek_audience,
        ),
        Step("umum_pratinjau", _preview_prompt, _on_preview),
        choice_step(
            "umum_progres",
            ask=_progress_text,
            options=_progress_options,
            choose=_on_progress,
            title="dinas.announce.progress_title",
        ),
    ),
)
