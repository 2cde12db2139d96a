"""Opting out of being contacted ("berhenti", "stop", or the invitation's Berhenti button), and
back in ("mulai").

"berhenti" and "stop" also cancel: inside a flow with a question pending they still do; they
opt out where there is nothing to cancel (no step, or the person's home: the welcome, the
role choice, the main menu) or when the person answers an invitation, announcement or nudge
sent since their last message.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.core.flow import HOME, Context, Enter, Finish, Outcome
from bot.core.messages import Reply
from bot.services import outbox, registry
from handlers.common import home
from models.base import as_utc

# Proactive messages a "berhenti" in reply to opts out of.
BROADCASTS = frozenset({registry.INVITE_KIND, "announcement", "ikm.nudge"})
# A broadcast older than this is not what a "berhenti" answers.
ANSWERS_WITHIN = timedelta(days=7)


def _number(ctx: Context) -> str | None:
    return ctx.person.phone or ctx.person.claimed_phone


def stop(ctx: Context) -> Outcome:
    """Record the opt-out (only the number's hash) and say so."""
    recorded = registry.opt_out(ctx.session, phone=_number(ctx) or "", now=ctx.now)
    key = "optout.done" if recorded else "optout.already"
    return Finish(say=(Reply(ctx.t(key)),), show_menu=False)


def start_again(ctx: Context) -> Outcome:
    """ "mulai": undo an opt-out if there is one, then home as "mulai" always went."""
    number = _number(ctx)
    if number and registry.opt_in(ctx.session, phone=number):
        return Enter(HOME, say=(Reply(ctx.t("optout.undone")),))
    return Enter(HOME)


# Words (and deep links, "@berhenti") that act at once, wherever the person is.
ACTIONS = {"berhenti": stop, "stop": stop, "mulai": start_again, "start": start_again}


def at_rest(ctx: Context, step: str | None, last_answer_at: datetime | None) -> bool:
    """Whether "berhenti" opts out here rather than cancels (see the module's docstring)."""
    if _number(ctx) is None:
        return False
    if step is None or step == home(ctx):
        return True
    since = max(as_utc(last_answer_at) or ctx.now, ctx.now - ANSWERS_WITHIN)
    sent = outbox.recently_sent(ctx.session, person_id=ctx.person.id, since=since, limit=1)
    return bool(sent) and sent[0][0].get("template") in BROADCASTS
