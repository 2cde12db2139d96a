"""First contact: welcome, the data notice with consent, and the choice of role."""

from __future__ import annotations

from bot.core.flow import HOME, Context, Enter, Finish, Flow, Goto, Outcome, Resume, Retry, Step
from bot.core.messages import Incoming, Option, Reply
from bot.core.steps import choice_step
from bot.parsing.identity import parse_phone
from bot.services import accounts

AGREE = "agree"
DECLINE = "decline"
SWITCH_LANGUAGE = "lang"
AS_IKM = "ikm"
AS_COMPANY = "company"
RESUME = "resume"


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
        other = "en" if ctx.person.language == "id" else "id"
        accounts.set_language(ctx.session, ctx.person, other)
        ctx.t = ctx.t.catalog.translator(other)
        return Goto("mulai.setuju")
    if chosen == DECLINE:
        if accounts.has_profile(ctx.session, ctx.person):
            # A registered person declining a new text keeps their data: deleting it is
            # "hapus data", with its own confirmation.
            return Finish(say=(_reply(ctx, "onboarding.declined_registered"),), show_menu=False)
        accounts.delete_person(ctx.session, ctx.person)
        return Finish(say=(_reply(ctx, "onboarding.declined"),), show_menu=False)
    accounts.record_consent(
        ctx.session,
        person=ctx.person,
        text_version=ctx.settings.app.consent_version,
        language=ctx.person.language,
        now=ctx.now,
    )
    ctx.memo["consented"] = True
    return Enter(HOME, say=(_reply(ctx, "onboarding.thanks"),))


# Channels whose accounts can prove their number by sharing their own contact card;
# elsewhere (a WhatsApp user known only by a username) the number is typed.
CONTACT_CARD_CHANNELS = frozenset({"telegram"})


def _contact_prompt(ctx: Context) -> Reply:
    if ctx.channel not in CONTACT_CARD_CHANNELS:
        return Reply(ctx.t("onboarding.contact.type"), accepts_text=True)
    return Reply(ctx.t("onboarding.contact.ask"), contact_button=ctx.t("onboarding.contact.button"))


def _take_contact(ctx: Context, incoming: Incoming) -> Outcome:
    """The person's phone number: on Telegram their own contact card, shared with the
    button (it proves the number); elsewhere typed."""
    if ctx.channel not in CONTACT_CARD_CHANNELS:
        phone = parse_phone(incoming.clean_text)
        if phone is None:
            return Retry(ctx.t("admin.phone.invalid"))
        # A typed number proves nothing: it stays the person's claim, never opens someone
        # else's data or role, and gives way when the number's owner writes from it.
        if phone in ctx.settings.app.admins or not accounts.claim_phone(
            ctx.session, person=ctx.person, phone=phone
        ):
            return Retry(ctx.t("onboarding.contact.taken"))
        return Enter(HOME, say=(_reply(ctx, "onboarding.contact.thanks"),))
    contact = incoming.contact
    if contact is None:
        return Retry(ctx.t("onboarding.contact.ask"))
    if contact.user_id != ctx.account.external_id:
        return Retry(ctx.t("onboarding.contact.not_yours"))
    phone = parse_phone(contact.phone)
    if phone is None:
        return Retry(ctx.t("onboarding.contact.invalid"))
    return _link(ctx, phone)


def _link(ctx: Context, phone: str) -> Outcome:
    """A proven number: the account joins whoever holds it, or the person gets it."""
    linked = accounts.link_phone(
        ctx.session, account=ctx.account, person=ctx.person, phone=phone, now=ctx.now
    )
    if linked.id != ctx.person.id:
        # Registered before from another channel: this account now leads to that person.
        return Finish(say=(_reply(ctx, "onboarding.contact.linked_existing"),), show_menu=False)
    return Enter(HOME, say=(_reply(ctx, "onboarding.contact.thanks"),))


def _role_options(ctx: Context) -> list[Option]:
    resume = [Option(RESUME, ctx.t("menu.resume"))] if ctx.suspended_step else []
    return [
        *resume,
        Option(AS_IKM, ctx.t("onboarding.as_ikm")),
        Option(AS_COMPANY, ctx.t("onboarding.as_company")),
    ]


def _on_role(ctx: Context, chosen: str) -> Outcome:
    if chosen == RESUME:
        return Resume()
    if chosen == AS_IKM:
        ctx.data["mode"] = "daftar"
        return Goto("ikm.nama")
    return Goto("perusahaan.nama", say=(_reply(ctx, "company.intro"),))


def _reply(ctx: Context, key: str) -> Reply:
    return Reply(ctx.t(key))


ONBOARDING = Flow(
    "mulai",
    steps=(
        choice_step(
            "setuju",
            ask=_consent_text,
            options=_consent_options,
            choose=_on_consent,
            yes=AGREE,
            no=DECLINE,
            aliases="consent",
        ),
        Step("kontak", _contact_prompt, _take_contact),
        choice_step(
            "peran", ask="onboarding.role", options=_role_options, choose=_on_role, aliases="role"
        ),
    ),
)
