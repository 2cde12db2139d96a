"""The IKM's business profile: asked at registration, shown and edited from "Profil".

The draft lives in `data["ikm"]` (and the first product in `data["product"]`);
`data["mode"]` is "daftar" (registering) or "ubah" (editing a saved profile).
"""

from __future__ import annotations

from bot.core.flow import Context, Finish, Flow, Goto, Outcome, Retry, Step
from bot.core.messages import Incoming, Option, Reply
from bot.core.steps import (
    SKIP,
    Form,
    FormField,
    Invalid,
    choice_step,
    edit_field_step,
    field_step,
    go_on,
    option_value,
    skip_option,
    text_parser,
    too_large,
    typed_text,
    value_parser,
)
from bot.core.understanding import Expect, Kind
from bot.parsing.identity import parse_kbli_code, parse_nib
from bot.parsing.numbers import TooLarge, format_number, parse_count_within
from bot.reference import load_reference
from bot.services import ikm as ikm_service
from handlers import products
from handlers.summary import ikm_summary, product_summary
from models import IkmFields, ProductFields

SECTION = "ikm"
MAX_WORKERS = 100_000  # the owner counts too
SAVE = "save"
EDIT = "edit"
MORE_DETAILS = "more"
KBLI_UNKNOWN = "unknown"


def _registering(ctx: Context) -> bool:
    return ctx.data.get("mode") == "daftar"


# --- sector, with an optional 5-digit KBLI code typed instead ---------------------------


def _sector_options(ctx: Context) -> list[Option]:
    language = ctx.t.language
    return [
        Option(f"s:{s.code}", s.label(language), s.description(language))
        for s in load_reference().sectors
    ]


def _sector_expect(ctx: Context) -> Expect:
    """A sector said by its name or by a product of it ("konveksi", "kue")."""
    by_code = load_reference().sector_aliases()
    options = tuple(_sector_options(ctx))
    return Expect(
        Kind.CHOICE,
        options=options,
        aliases={option.id: by_code[option.id[2:]] for option in options},
    )


def _sector_prompt(ctx: Context) -> Reply:
    return Reply(ctx.t("ikm.sector.ask"), options=tuple(_sector_options(ctx)), accepts_text=True)


def _take_sector(ctx: Context, incoming: Incoming) -> Outcome:
    """A tapped sector, a division number or name, or a 5-digit KBLI code from the NIB."""
    if incoming.option_id and incoming.option_id.startswith("s:"):
        sector = load_reference().sector(option_value(incoming.option_id))
    else:
        kbli = parse_kbli_code(incoming.clean_text)
        if kbli is not None:
            ctx.section(SECTION).update(sector=kbli[:2], kbli_code=kbli)
            return Goto("ikm.kbli_versi")
        sector = load_reference().find_sector(incoming.clean_text) if incoming.clean_text else None
    if sector is None:
        return Retry(ctx.t("ikm.sector.invalid"))
    _set_sector(ctx.section(SECTION), sector.code)
    return go_on(ctx, "ikm.kecamatan")


def _set_sector(draft: dict, code: str) -> None:
    """A KBLI code kept from before only stays if it belongs to the chosen division."""
    if (draft.get("kbli_code") or "")[:2] != code:
        draft.update(kbli_code=None, kbli_version=None)
    draft["sector"] = code


def _kbli_version_options(ctx: Context) -> list[Option]:
    return [
        Option("2020", ctx.t("ikm.kbli.v2020")),
        Option("2025", ctx.t("ikm.kbli.v2025")),
        Option(KBLI_UNKNOWN, ctx.t("ikm.kbli.unknown")),
    ]


def _on_kbli_version(ctx: Context, chosen: str) -> Outcome:
    ctx.section(SECTION)["kbli_version"] = None if chosen == KBLI_UNKNOWN else chosen
    return go_on(ctx, "ikm.kecamatan")


# --- kecamatan: typed fuzzily, or tapped -----------------------------------------------


def _kecamatan_options(ctx: Context) -> list[Option]:
    return [Option(f"k:{i}", name) for i, name in enumerate(load_reference().kecamatan)]


def _kecamatan_prompt(ctx: Context) -> Reply:
    return Reply(
        ctx.t("ikm.kecamatan.ask"), options=tuple(_kecamatan_options(ctx)), accepts_text=True
    )


def _kecamatan_by_option(option_id: str | None) -> str | None:
    if not option_id or not option_id.startswith("k:") or not option_value(option_id).isdigit():
        return None
    names = load_reference().kecamatan
    index = int(option_value(option_id))
    return names[index] if index < len(names) else None


def _kecamatan_expect(ctx: Context) -> Expect:
    return Expect(Kind.PLACE, options=tuple(_kecamatan_options(ctx)))


def _take_kecamatan(ctx: Context, incoming: Incoming) -> Outcome:
    """Tapped, or typed like `cikarang utr` or as a desa (whose kecamatan is then known);
    a doubtful spelling offers the closest names."""
    name = _kecamatan_by_option(incoming.option_id)
    candidates: list[str] = []
    if name is None and ctx.reading is not None:
        name = ctx.reading.value
        if ctx.reading.detail:  # a desa was typed: it answers the desa question too
            ctx.section(SECTION)["desa"] = ctx.reading.detail
    elif name is None and incoming.clean_text:
        name, candidates = load_reference().find_kecamatan(incoming.clean_text)
    if name is not None:
        ctx.section(SECTION)["kecamatan"] = name
        return go_on(ctx, _after_kecamatan)
    if candidates:
        ctx.data["_candidates"] = candidates
        return Goto("ikm.kecamatan_pilih")
    return Retry(ctx.t("ikm.kecamatan.invalid"))


def _candidate_options(ctx: Context) -> list[Option]:
    names = load_reference().kecamatan
    picks = [Option(f"k:{names.index(n)}", n) for n in ctx.data.get("_candidates", [])]
    return [*picks, Option("retype", ctx.t("ikm.kecamatan.retype"))]


def _on_candidate(ctx: Context, chosen: str) -> Outcome:
    ctx.data.pop("_candidates", None)
    if chosen == "retype":
        return Goto("ikm.kecamatan")
    ctx.section(SECTION)["kecamatan"] = _kecamatan_by_option(chosen)
    return go_on(ctx, _after_kecamatan)


def _after_kecamatan(ctx: Context) -> str:
    return "ikm.lengkapi" if _registering(ctx) else "ikm.desa"


# --- optional details: offered together so a first registration stays short ----------


def _details_options(ctx: Context) -> list[Option]:
    return [Option(MORE_DETAILS, ctx.t("ikm.details.add")), skip_option(ctx)]


def _on_details(ctx: Context, chosen: str) -> Outcome:
    if chosen != MORE_DETAILS:
        return Goto(_after_profile(ctx))
    if ctx.section(SECTION).get("desa"):  # already typed at the kecamatan question
        return Goto("ikm.nib")
    return Goto("ikm.desa")


# --- the rest of the fields -------------------------------------------------------------


def _parse_workers(ctx: Context, incoming: Incoming) -> int:
    count = parse_count_within(typed_text(ctx, incoming), MAX_WORKERS)
    if isinstance(count, TooLarge):
        raise too_large(ctx, format_number(count.limit))
    return _workers(ctx, count)


def _workers(ctx: Context, count: int | None) -> int:
    if count is not None and count > MAX_WORKERS:
        raise too_large(ctx, format_number(MAX_WORKERS))
    if count is None or count < 1:  # the owner counts too
        raise Invalid(ctx.t("ikm.workers.invalid"))
    return count


def _same(ctx: Context, value: object) -> object:
    return value


def _after_profile(ctx: Context) -> str:
    if _registering(ctx):
        ctx.data["after_product"] = "ikm.ringkasan"
        return "produk.nama"
    return "ikm.ringkasan"


# --- summary, edit, save ----------------------------------------------------------------


def _summary_text(ctx: Context) -> str:
    text = ikm_summary(ctx, ctx.section(SECTION))
    if _registering(ctx):
        text += "\n\n" + product_summary(ctx, ctx.section(products.SECTION))
    return f"{text}\n\n{ctx.t('common.check_then_save')}"


def _save_or_edit(ctx: Context) -> list[Option]:
    return [Option(SAVE, ctx.t("common.save")), Option(EDIT, ctx.t("common.edit"))]


def _on_summary(ctx: Context, chosen: str) -> Outcome:
    if chosen == EDIT:
        return Goto("ikm.ubah")
    try:
        fields = IkmFields.model_validate(ctx.section(SECTION))
    except ValueError:
        return Goto("ikm.ubah", say=(Reply(ctx.t("errors.incomplete")),))
    if _registering(ctx):
        return _register(ctx, fields)
    profile = ikm_service.profile_of(ctx.session, ctx.person)
    ikm_service.update_profile(
        ctx.session, ikm=profile, fields=fields, person=ctx.person, now=ctx.now
    )
    return Finish(say=(Reply(ctx.t("ikm.saved")),))


def _register(ctx: Context, fields: IkmFields) -> Outcome:
    try:
        product = ProductFields.model_validate(products.product_values(ctx))
    except ValueError:
        return Goto("ikm.ubah", say=(Reply(ctx.t("errors.incomplete")),))
    try:
        ikm_service.register_ikm(
            ctx.session, person=ctx.person, profile=fields, first_product=product, now=ctx.now
        )
    except ikm_service.AlreadyRegistered:
        return Finish(say=(Reply(ctx.t("ikm.already_registered")),))
    return Finish(say=(Reply(ctx.t("ikm.registered", business=fields.business_name)),))


def _editable(ctx: Context) -> list[tuple[str, str]]:
    """The profile's fields, and the first product's too while registering."""
    profile = list(FORM.edit_menu())
    return [*profile, *products.FORM.edit_menu()] if _registering(ctx) else profile


# --- viewing the saved profile ----------------------------------------------------------


def _view_text(ctx: Context) -> str:
    profile = ikm_service.profile_of(ctx.session, ctx.person)
    return ikm_summary(ctx, profile.model_dump())


def _view_options(ctx: Context) -> list[Option]:
    return [
        Option(EDIT, ctx.t("ikm.edit_profile")),
        Option("menu", ctx.t("common.back_to_menu")),
    ]


def _on_view(ctx: Context, chosen: str) -> Outcome:
    if chosen == "menu":
        return Finish()
    profile = ikm_service.profile_of(ctx.session, ctx.person)
    ctx.data["mode"] = "ubah"
    ctx.data[SECTION] = IkmFields.model_validate(profile.model_dump()).model_dump()
    return Goto("ikm.ubah")


_name = text_parser("ikm.owner_name.invalid")
_business = text_parser("ikm.business_name.invalid")
_desa = text_parser("ikm.desa.invalid", max_length=80)

# The profile's fields, in the order they are asked (a KBLI code or an unsure kecamatan adds
# a question of its own): the steps and the "which part to change" menu come from this list.
FORM = Form(
    "ikm",
    SECTION,
    fields=(
        FormField(
            "ikm.field.owner_name",
            field_step(
                "nama",
                section=SECTION,
                field="owner_name",
                ask="ikm.owner_name.ask",
                parse=_name,
                next_step="ikm.usaha",
            ),
        ),
        FormField(
            "ikm.field.business_name",
            field_step(
                "usaha",
                section=SECTION,
                field="business_name",
                ask="ikm.business_name.ask",
                parse=_business,
                next_step="ikm.sektor",
            ),
        ),
        FormField(
            "ikm.field.sector",
            Step("sektor", _sector_prompt, _take_sector, _sector_expect, fills="sector"),
        ),
        FormField(
            "ikm.field.kecamatan",
            Step(
                "kecamatan",
                _kecamatan_prompt,
                _take_kecamatan,
                _kecamatan_expect,
                fills="kecamatan",
            ),
        ),
        FormField(
            "ikm.field.desa",
            field_step(
                "desa",
                section=SECTION,
                field="desa",
                ask="ikm.desa.ask",
                parse=_desa,
                next_step="ikm.nib",
                skippable=True,
            ),
        ),
        FormField(
            "ikm.field.nib",
            field_step(
                "nib",
                section=SECTION,
                field="nib",
                ask="ikm.nib.ask",
                parse=value_parser(parse_nib, "ikm.nib.invalid"),
                next_step="ikm.pekerja",
                skippable=True,
                kind=Kind.NIB,
                read_as=_same,
            ),
        ),
        FormField(
            "ikm.field.workers",
            field_step(
                "pekerja",
                section=SECTION,
                field="workers",
                ask="ikm.workers.ask",
                parse=_parse_workers,
                next_step=_after_profile,
                skippable=True,
                kind=Kind.COUNT,
                read_as=_workers,
                limit=MAX_WORKERS,
            ),
        ),
    ),
)

IKM = Flow(
    "ikm",
    roles=frozenset({"ikm"}),  # registration reaches its first step by Goto
    steps=(
        *FORM.steps,
        choice_step(
            "kbli_versi",
            ask="ikm.kbli.ask",
            options=_kbli_version_options,
            choose=_on_kbli_version,
        ),
        choice_step(
            "kecamatan_pilih",
            ask="ikm.kecamatan.did_you_mean",
            options=_candidate_options,
            choose=_on_candidate,
        ),
        choice_step(
            "lengkapi",
            ask="ikm.details.ask",
            options=_details_options,
            choose=_on_details,
            yes=MORE_DETAILS,
            no=SKIP,
        ),
        choice_step(
            "ringkasan",
            ask=_summary_text,
            options=_save_or_edit,
            choose=_on_summary,
            title="ikm.summary.title",
            yes=SAVE,
            aliases="summary",
        ),
        edit_field_step("ubah", fields=_editable, summary="ikm.ringkasan"),
        choice_step(
            "lihat",
            ask=_view_text,
            options=_view_options,
            choose=_on_view,
            title="ikm.profile_title",
        ),
    ),
)
