"""First contact: welcome, the data notice with consent, and the choice of role."""

from __future__ import annotations

from bot.core.flow import HOME, Context, Enter, Finish, Flow, Goto, Outcome
from bot.core.messages import Option, Reply
from bot.core.steps import choice_step
from bot.services import accounts

AGREE = "agree"
DECLINE = "decline"
SWITCH_LANGUAGE = "lang"
AS_IKM = "ikm"
AS_COMPANY = "company"


def _consent_text(ctx: Context) -> str:
    return f"{ctx.t('onboarding.welcome')}\n\n{ctx.t('onboarding.consent')}"


def _consent_options(ctx: Context) -> list[Option]:
    return [
        Option(AGREE, ctx.t("onboarding.agree")),
        Option(DECLINE, ctx.t("onboarding.decline")),
        Option(SWITCH_LANGUAGE, ctx.t("onboarding.other_language")),
    ]


def _on_consent(ctx: Context, chosen: str) -> Outcome:
    if chosen == SWITCH_LANGUAGE:
        ctx.person.language = "en" if ctx.person.language == "id" else "id"
        ctx.t = ctx.t.catalog.translator(ctx.person.language)
        return Goto("mulai.setuju")
    if chosen == DECLINE:
        accounts.delete_person(ctx.session, ctx.person)
        return Finish(say=(_reply(ctx, "onboarding.declined"),), show_menu=False)
    accounts.record_consent(
        ctx.session,
        person=ctx.person,
        text_version=ctx.settings.app.consent_version,
        language=ctx.person.language,
        now=ctx.now,
    )
    return Enter(HOME, say=(_reply(ctx, "onboarding.thanks"),))


def _role_options(ctx: Context) -> list[Option]:
    return [
        Option(AS_IKM, ctx.t("onboarding.as_ikm")),
        Option(AS_COMPANY, ctx.t("onboarding.as_company")),
    ]


def _on_role(ctx: Context, chosen: str) -> Outcome:
    if chosen == AS_IKM:
        ctx.data["mode"] = "daftar"
        return Goto("ikm.nama")
    return Goto("perusahaan.nama", say=(_reply(ctx, "company.intro"),))


def _reply(ctx: Context, key: str) -> Reply:
    return Reply(ctx.t(key))


ONBOARDING = Flow(
    "mulai",
    steps=(
        choice_step("setuju", ask=_consent_text, options=_consent_options, choose=_on_consent),
        choice_step("peran", ask="onboarding.role", options=_role_options, choose=_on_role),
    ),
)
