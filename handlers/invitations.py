"""The officer's "Undang IKM": a preview of the invitation and how many numbers it goes to,
a confirmation, then the batch's progress (as an announcement shows its own)."""

from __future__ import annotations

from bot.core.flow import Again, Context, Finish, Flow, Goto, Outcome
from bot.core.messages import Option, Reply
from bot.core.steps import choice_step
from bot.services import outbox, registry
from handlers import notifications
from models.outbox import OutboxState

# Numbers invited per confirmation from the chat; the CLI takes --batch.
CHAT_BATCH = 200
SEND = "send"
REFRESH = "refresh"
MENU = "menu"
BATCH = "batch"


def _preview(ctx: Context) -> str:
    found = registry.preview(ctx.session, batch=CHAT_BATCH)
    if found.example is None:
        return ctx.t("invite.none")
    params = registry.invitation_params(found.example)
    text = notifications.render(ctx.t, registry.INVITE_KIND, params).text
    return ctx.t("invite.preview", text=text, count=found.count)


def _preview_options(ctx: Context) -> list[Option]:
    back = Option(MENU, ctx.t("common.back_to_menu"))
    if registry.preview(ctx.session, batch=CHAT_BATCH).count == 0:
        return [back]
    return [Option(SEND, ctx.t("invite.send")), back]


def _on_preview(ctx: Context, chosen: str) -> Outcome:
    if chosen != SEND:
        return Finish()
    name, queued = registry.invite(ctx.session, batch=CHAT_BATCH, now=ctx.now)
    ctx.data[BATCH] = name
    return Goto("undang.kemajuan", say=(Reply(ctx.t("invite.queued", count=queued)),))


def _progress(ctx: Context) -> str:
    counts = outbox.batch_counts(ctx.session, str(ctx.data.get(BATCH, "")))
    return ctx.t(
        "invite.progress",
        sent=counts[OutboxState.SENT],
        total=sum(counts.values()),
        waiting=counts[OutboxState.WAITING] + counts[OutboxState.PENDING],
        failed=counts[OutboxState.FAILED],
    )


def _progress_options(ctx: Context) -> list[Option]:
    return [
        Option(REFRESH, ctx.t("invite.refresh")),
        Option(MENU, ctx.t("common.back_to_menu")),
    ]


def _on_progress(ctx: Context, chosen: str) -> Outcome:
    return Again() if chosen == REFRESH else Finish()


INVITATIONS = Flow(
    "undang",
    roles=frozenset({"dinas"}),
    steps=(
        choice_step("pratinjau", ask=_preview, options=_preview_options, choose=_on_preview),
        choice_step("kemajuan", ask=_progress, options=_progress_options, choose=_on_progress),
    ),
)
