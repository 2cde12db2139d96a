"""A person's own account: language, and seeing, exporting or deleting their data."""

from __future__ import annotations

import json
from typing import Any

from bot.core.flow import Context, Finish, Flow, Goto, Outcome
from bot.core.i18n import LANGUAGES
from bot.core.messages import Document, Option, Reply
from bot.core.steps import choice_step
from bot.parsing.identity import format_phone
from bot.services import accounts
from bot.services import bimtek as bimtek_service
from bot.services import ikm as ikm_service
from handlers.parties import erasure_labels
from handlers.summary import company_summary, ikm_summary, product_summary

DELETE = "delete"
EXPORT = "export"
CONFIRM = "confirm"
KEEP = "keep"


def _language_options(ctx: Context) -> list[Option]:
    return [Option(language, ctx.t(f"account.language.{language}")) for language in LANGUAGES]


def _on_language(ctx: Context, chosen: str) -> Outcome:
    accounts.set_language(ctx.session, ctx.person, chosen)
    ctx.t = ctx.t.catalog.translator(chosen)
    return Finish(say=(Reply(ctx.t("account.language.changed")),))


def _stored_text(ctx: Context) -> str:
    data = accounts.personal_data(ctx.session, ctx.person)
    person = data.person
    parts = [
        ctx.t("account.data.intro"),
        ctx.t(
            "account.data.person",
            phone=format_phone(person.phone) if person.phone else "-",
            name=person.name or "-",
            language=ctx.t(f"account.language.{person.language}"),
            role=ctx.t(f"roles.{person.role}") if person.role else "-",
            channels=", ".join(sorted({account.channel for account in data.accounts})),
        ),
    ]
    parts += [
        ctx.t("account.data.consent", version=c.text_version, at=_local(ctx, c.accepted_at))
        for c in data.consents
    ]
    if data.ikm:
        parts.append(ikm_summary(ctx, data.ikm.model_dump()))
    for product in data.products:
        draft = product.model_dump()
        draft["price"] = [product.price_min, product.price_max]
        parts.append(product_summary(ctx, draft))
    if data.registrations:
        parts.append(ctx.t("account.data.registrations", count=len(data.registrations)))
    if data.company:
        parts.append(company_summary(ctx, data.company.model_dump(), person.phone))
    parts.append(ctx.t("account.data.what_next"))
    return "\n\n".join(parts)


def _local(ctx: Context, moment: Any) -> str:
    from models.base import as_utc

    return as_utc(moment).astimezone(ctx.settings.tz).strftime("%d/%m/%Y %H:%M WIB")


def _data_options(ctx: Context) -> list[Option]:
    return [
        Option(EXPORT, ctx.t("account.data.export")),
        Option(DELETE, ctx.t("account.data.delete")),
        Option(KEEP, ctx.t("common.back_to_menu")),
    ]


def _on_data(ctx: Context, chosen: str) -> Outcome:
    if chosen == DELETE:
        return Goto("akun.hapus_yakin")
    if chosen == EXPORT:
        return Finish(say=(_export(ctx),))
    return Finish()


def _export(ctx: Context) -> Reply:
    data = accounts.personal_data(ctx.session, ctx.person)
    document = {
        "person": data.person.model_dump(mode="json"),
        "channel_accounts": [a.model_dump(mode="json") for a in data.accounts],
        "consents": [c.model_dump(mode="json") for c in data.consents],
        "ikm_profile": data.ikm.model_dump(mode="json") if data.ikm else None,
        "products": [p.model_dump(mode="json") for p in data.products],
        "bimtek_registrations": [r.model_dump(mode="json") for r in data.registrations],
        "company": data.company.model_dump(mode="json") if data.company else None,
        "offers": [o.model_dump(mode="json") for o in data.offers],
        "needs": [n.model_dump(mode="json") for n in data.needs],
    }
    content = json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
    return Reply(
        ctx.t("account.data.exported"),
        document=Document("data-sinergi-ikm.json", content, "application/json"),
    )


def _confirm_text(ctx: Context) -> str:
    return f"{ctx.t('account.delete.ask')}\n\n{ctx.t('erasure.kept_note')}"


def _confirm_options(ctx: Context) -> list[Option]:
    return [Option(CONFIRM, ctx.t("account.delete.yes")), Option(KEEP, ctx.t("common.no"))]


def _on_confirm(ctx: Context, chosen: str) -> Outcome:
    if chosen == KEEP:
        return Finish(say=(Reply(ctx.t("account.delete.kept")),))
    farewell = Reply(ctx.t("account.delete.done"))
    profile = ikm_service.profile_of(ctx.session, ctx.person)
    if profile is not None:  # their seats go to those waiting, who are told
        bimtek_service.release_seats(ctx.session, ikm=profile, now=ctx.now, tz=ctx.settings.tz)
    accounts.delete_person(ctx.session, ctx.person, now=ctx.now, labels=erasure_labels(ctx))
    return Finish(say=(farewell,), show_menu=False)


ACCOUNT = Flow(
    "akun",
    steps=(
        choice_step(
            "bahasa", ask="account.language.ask", options=_language_options, choose=_on_language
        ),
        choice_step(
            "hapus",
            ask=_stored_text,
            options=_data_options,
            choose=_on_data,
            title="account.data.title",
        ),
        choice_step("hapus_yakin", ask=_confirm_text, options=_confirm_options, choose=_on_confirm),
    ),
)
