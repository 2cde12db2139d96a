"""Admin tools (admins are named in config.toml): granting the Dinas role."""

from __future__ import annotations

from bot.core.flow import Context, Finish, Flow, Outcome, Retry, Step
from bot.core.messages import Incoming, Reply
from bot.parsing.identity import format_phone, parse_phone
from bot.services import accounts


def _ask_phone(ctx: Context) -> Reply:
    return Reply(ctx.t("admin.phone.ask"), accepts_text=True)


def _grant_dinas(ctx: Context, incoming: Incoming) -> Outcome:
    """The officer's phone number; they get the Dinas role (created if they never wrote)."""
    phone = parse_phone(incoming.clean_text)
    if phone is None:
        return Retry(ctx.t("admin.phone.invalid"))
    try:
        accounts.grant_dinas(ctx.session, phone=phone, now=ctx.now, language=ctx.person.language)
    except accounts.RoleConflict as conflict:
        return Retry(ctx.t("admin.role_conflict", role=ctx.t(f"roles.{conflict.role}")))
    return Finish(say=(Reply(ctx.t("admin.granted", phone=format_phone(phone))),))


ADMIN = Flow("admin", roles=frozenset({"admin"}), steps=(Step("dinas", _ask_phone, _grant_dinas),))
