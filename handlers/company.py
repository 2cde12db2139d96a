"""Company registration and profile. A company waits for the Dinas to verify it."""

from __future__ import annotations

from bot.core.flow import Context, Finish, Flow, Goto, Outcome
from bot.core.messages import Option, Reply
from bot.core.steps import (
    Form,
    FormField,
    Item,
    choice_step,
    edit_field_step,
    field_step,
    go_on,
    multi_choice_step,
    option_value,
    text_parser,
)
from bot.reference import load_reference
from bot.services import companies
from bot.services.ikm import AlreadyRegistered
from handlers.summary import company_summary
from models import CompanyFields

SECTION = "company"
SAVE = "save"
EDIT = "edit"
DONE = "done"
MAX_SECTORS = 10


def _registering(ctx: Context) -> bool:
    return ctx.data.get("mode") != "ubah"


def _estate_options(ctx: Context) -> list[Option]:
    return [Option(f"e:{estate.key}", estate.label) for estate in load_reference().estates]


def _estate_aliases(ctx: Context) -> dict[str, tuple[str, ...]]:
    """What people call each estate ("jbbk", "delta mas", "di luar kawasan")."""
    return {f"e:{key}": aliases for key, aliases in load_reference().estate_aliases().items()}


def _match_estate(ctx: Context, text: str) -> str | None:
    typed = text.strip().casefold()
    for estate in load_reference().estates:
        if typed in (estate.key, estate.label.casefold()) or (
            len(typed) >= 3 and estate.label.casefold().startswith(typed)
        ):
            return f"e:{estate.key}"
    return None


def _on_estate(ctx: Context, chosen: str) -> Outcome:
    ctx.section(SECTION)["estate"] = option_value(chosen)
    return go_on(ctx, "perusahaan.alamat")


# --- sectors bought from: several may be chosen --------------------------------------------


def sector_items(ctx: Context) -> list[Item]:
    language = ctx.t.language
    return [(s.code, s.label(language), s.description(language)) for s in load_reference().sectors]


def typed_sectors(text: str) -> list[str] | None:
    """ "makanan, pakaian jadi dan 22" -> ["10", "14", "22"]; None if any part is unknown."""
    parts = [p for p in text.replace(";", ",").replace(" dan ", ",").split(",") if p.strip()]
    found = [load_reference().find_sector(part) for part in parts]
    if not found or any(sector is None for sector in found):
        return None
    return list(dict.fromkeys(sector.code for sector in found))  # "makanan, kue": one sector


# --- summary, save, view -----------------------------------------------------------------


def _summary_text(ctx: Context) -> str:
    text = company_summary(ctx, ctx.section(SECTION), ctx.person.phone)
    return f"{text}\n\n{ctx.t('common.check_then_save')}"


def _save_or_edit(ctx: Context) -> list[Option]:
    return [Option(SAVE, ctx.t("common.save")), Option(EDIT, ctx.t("common.edit"))]


def _on_summary(ctx: Context, chosen: str) -> Outcome:
    if chosen == EDIT:
        return Goto("perusahaan.ubah")
    try:
        fields = CompanyFields.model_validate(ctx.section(SECTION))
    except ValueError:
        return Goto("perusahaan.ubah", say=(Reply(ctx.t("errors.incomplete")),))
    if not fields.sectors:
        return Goto("perusahaan.sektor")
    if _registering(ctx):
        try:
            companies.register_company(ctx.session, person=ctx.person, fields=fields, now=ctx.now)
        except AlreadyRegistered:
            return Finish(say=(Reply(ctx.t("company.already_registered")),))
        return Finish(say=(Reply(ctx.t("company.registered", name=fields.name)),))
    company = companies.company_of(ctx.session, ctx.person)
    companies.update_company(
        ctx.session, company=company, fields=fields, person=ctx.person, now=ctx.now
    )
    return Finish(say=(Reply(ctx.t("company.saved")),))


def _view_text(ctx: Context) -> str:
    company = companies.company_of(ctx.session, ctx.person)
    status = ctx.t(f"company.status.{company.status}")
    summary = company_summary(ctx, company.model_dump(), ctx.person.phone)
    return f"{summary}\n{ctx.t('company.field.status')}: {status}"


def _view_options(ctx: Context) -> list[Option]:
    return [
        Option(EDIT, ctx.t("company.edit_profile")),
        Option("menu", ctx.t("common.back_to_menu")),
    ]


def _on_view(ctx: Context, chosen: str) -> Outcome:
    if chosen == "menu":
        return Finish()
    company = companies.company_of(ctx.session, ctx.person)
    ctx.data["mode"] = "ubah"
    ctx.data[SECTION] = CompanyFields.model_validate(company.model_dump()).model_dump()
    return Goto("perusahaan.ubah")


# A company's fields, in the order they are asked: the steps and the "which part to change"
# menu both come from this one list.
FORM = Form(
    "perusahaan",
    SECTION,
    fields=(
        FormField(
            "company.field.name",
            field_step(
                "nama",
                section=SECTION,
                field="name",
                ask="company.name.ask",
                parse=text_parser("company.name.invalid", max_length=160),
                next_step="perusahaan.kawasan",
            ),
        ),
        FormField(
            "company.field.estate",
            choice_step(
                "kawasan",
                ask="company.estate.ask",
                options=_estate_options,
                choose=_on_estate,
                match_text=_match_estate,
                aliases=_estate_aliases,
                fills="estate",
            ),
        ),
        FormField(
            "company.field.address",
            field_step(
                "alamat",
                section=SECTION,
                field="address",
                ask="company.address.ask",
                parse=text_parser("company.address.invalid", min_length=5, max_length=300),
                next_step="perusahaan.kontak",
            ),
        ),
        FormField(
            "company.field.contact_name",
            field_step(
                "kontak",
                section=SECTION,
                field="contact_name",
                ask="company.contact_name.ask",
                parse=text_parser("company.contact_name.invalid"),
                next_step="perusahaan.sektor",
            ),
        ),
        FormField(
            "company.field.sectors",
            multi_choice_step(
                "sektor",
                section=SECTION,
                field="sectors",
                ask="company.sectors.ask",
                items=sector_items,
                parse_typed=typed_sectors,
                next_step="perusahaan.ringkasan",
                done_key="company.sectors.done",
                none_key="company.sectors.none",
                invalid_key="company.sectors.invalid",
                max_chosen=MAX_SECTORS,
            ),
        ),
    ),
)

COMPANY = Flow(
    "perusahaan",
    roles=frozenset({"company"}),  # registration reaches its first step by Goto
    steps=(
        *FORM.steps,
        choice_step(
            "ringkasan",
            ask=_summary_text,
            options=_save_or_edit,
            choose=_on_summary,
            title="company.summary.title",
        ),
        edit_field_step("ubah", fields=FORM.edit_menu(), summary="perusahaan.ringkasan"),
        choice_step(
            "lihat",
            ask=_view_text,
            options=_view_options,
            choose=_on_view,
            title="company.profile_title",
        ),
    ),
)
