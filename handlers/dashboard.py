"""`dasbor`: a Dinas officer gets a one-time link that signs them in to the web console.

dasbor.tautan  the link (valid 10 minutes, usable once)  --Menu-->  main menu
"""

from __future__ import annotations

from bot.console.signin import LINK_LIFETIME, issue_link
from bot.core.flow import Context, Finish, Flow, Outcome
from bot.core.messages import Option
from bot.core.steps import choice_step

MENU = "menu"


def _link_text(ctx: Context) -> str:
    """A fresh link each time the question is shown; none is stored until it is used."""
    url = issue_link(ctx.session, person=ctx.person, settings=ctx.settings, now=ctx.now)
    return ctx.t("dashboard.link", url=url, minutes=int(LINK_LIFETIME.total_seconds() // 60))


def _options(ctx: Context) -> list[Option]:
    return [Option(MENU, ctx.t("common.back_to_menu"))]


def _done(ctx: Context, chosen: str) -> Outcome:
    return Finish()


DASHBOARD = Flow(
    "dasbor",
    steps=(choice_step("tautan", ask=_link_text, options=_options, choose=_done),),
    roles=frozenset({"dinas"}),
)
