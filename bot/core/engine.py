"""The engine: one incoming message in, replies out, in one database transaction.

It finds the person, drops platform messages it has already handled, loads the
conversation state, runs the current step (or a global word), saves, and returns
the replies. It never sends: the channel does, after the commit. Every database call goes through
one boundary (`bot/core/boundary.py`): a message's whole transaction, steps included,
is one plain call in a worker thread, so the event loop never waits on the database.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TypeVar

import sqlalchemy as sa
from sqlmodel import Session

from bot.config import Settings
from bot.core import understanding
from bot.core.boundary import Boundary
from bot.core.clock import Clock
from bot.core.flow import (
    HOME,
    Again,
    Context,
    Enter,
    Finish,
    Goto,
    Outcome,
    Registry,
    Resume,
    Retry,
    Step,
    UnknownStep,
    as_replies,
)
from bot.core.i18n import Catalog
from bot.core.messages import OPTION_INDEX_PREFIX, Incoming, Option, Reply
from bot.core.state import (
    Conversation,
    load_account_and_state,
    load_state,
    remember_options,
    save_state,
)
from bot.core.steps import SKIP
from bot.core.understanding import Expect, Kind, Sense
from bot.parsing.fuzzy import normalise
from bot.parsing.numbers import format_number, format_rupiah
from bot.services import accounts, inbound, outbox
from models import ChannelAccount, Person
from models.db import transaction

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_HOPS = 8  # a step that redirects more often than this is a bug, not a conversation
# Option ids of this form open a step from anywhere: buttons in proactive messages.
DEEP_LINK_PREFIX = "@"
# Options of the engine's own "did you mean ...?": none of these, or a value to read as typed.
NOT_THIS = "~bukan"
TYPED_PREFIX = "~ketik:"
# How long a proactive message's buttons may be typed instead of tapped.
EARLIER_BUTTONS_FOR = timedelta(days=7)
# A prompt longer than this is not repeated after small talk: its options are enough.
BRIEF_LIMIT = 300


class Engine:
    """Runs conversations; stateless between messages (all state is in the database)."""

    def __init__(
        self,
        *,
        database: sa.Engine,
        registry: Registry,
        catalog: Catalog,
        settings: Settings,
        clock: Clock,
        boundary: Boundary | None = None,
    ) -> None:
        self.database = database
        self.boundary = boundary or Boundary(_threads_for(database, settings))
        self.registry = registry
        self.catalog = catalog
        self.settings = settings
        self.clock = clock
        self._cancel_words = self._words("words.cancel")
        self._help_words = self._words("words.help")

    def _words(self, key: str) -> frozenset[str]:
        variants = self.catalog.all_variants(key)
        return frozenset(normalise(word) for text in variants for word in text.split("|"))

    async def handle(self, incoming: Incoming) -> list[Reply]:
        """Answer one message (its whole transaction in a worker thread). Never raises: a
        failure is logged and politely reported."""
        return await self.boundary.run_sync(self.answer, incoming)

    def answer(self, incoming: Incoming) -> list[Reply]:
        """`handle` on the calling thread: for code already behind the boundary."""
        try:
            return self._handle_reconnecting(incoming)
        except Exception:
            log.exception("could not handle a message on %s", incoming.channel)
            language = self._language_after_error(incoming)
            return [Reply(self.catalog.get(language, "errors.internal"), language=language)]

    def _handle_reconnecting(self, incoming: Incoming) -> list[Reply]:
        """`_handle`, once more on a fresh connection when the pooled one had died (the
        database restarted): pooled connections are not pinged before use, a round trip
        saved on every message. Safe to repeat: the failed transaction was rolled back, and
        a commit that did land had claimed the message id, so the repeat only asks the
        person's current question again (`_asked_again`)."""
        try:
            return self._handle(incoming)
        except sa.exc.DBAPIError as error:
            if not error.connection_invalidated:
                raise
            log.warning("the database connection had dropped; handling the message again")
            return self._handle(incoming)

    def _language_after_error(self, incoming: Incoming) -> str:
        """The person's language if the database still answers, else the default."""
        try:
            with transaction(self.database) as session:
                return self._language_of(session, incoming.channel, incoming.account_id)
        except Exception:
            log.exception("could not read the language after an error")
            return self.settings.app.default_language

    async def current_prompt(self, incoming: Incoming) -> list[Reply]:
        """The question the person is at, asked again (when a console is reopened)."""
        return await self.transact(lambda session: self._current_prompt(session, incoming))

    def _asked_again(self, session: Session, incoming: Incoming) -> list[Reply]:
        """A message handled before, delivered again: the platform did not see our answer, or
        the process that handled it died between its commit and sending the replies. It is
        not handled twice; the person is asked the question they are at (the next one, if
        that message answered the last), so no answer is lost, at worst one is repeated."""
        log.info("redelivered message %s: asking the current question again", incoming.message_id)
        account, person = self._identify(session, incoming)
        accounts.lock_person(session, person.id)  # after the first handling has committed
        return self._current_prompt(session, incoming, (account, person))

    def _current_prompt(
        self, session: Session, incoming: Incoming, known: tuple | None = None
    ) -> list[Reply]:
        account, person = known or self._identify(session, incoming)
        state = load_state(session, person.id)
        if state.step is None:
            return []
        ctx = self._context(session, person, account, state)
        try:
            replies = self._prompt(ctx, state.step)
        except UnknownStep:
            return []
        remember_options(state, replies)
        save_state(session, state, ctx.now)
        return [replace(reply, language=person.language) for reply in replies]

    def _handle(self, incoming: Incoming) -> list[Reply]:
        now = self.clock.now()
        with transaction(self.database) as session:
            if not accounts.claim_and_hold(
                session,
                channel=incoming.channel,
                external_id=incoming.account_id,
                message_id=incoming.message_id,
                now=now,
            ):
                return [] if incoming.answered_here else self._asked_again(session, incoming)
            account, person, state = self._arrival(session, incoming, now)
            outbox.release_waiting(
                session, channel=incoming.channel, account_id=incoming.account_id
            )
            ctx = self._context(session, person, account, state)
            incoming = _resolve_option(incoming, state)
            replies = self._dispatch(ctx, state, incoming)
            if sa.inspect(person).persistent:
                remember_options(state, replies)
                save_state(session, state, now)
            # The language after the step (it may have just been switched).
            return [replace(reply, language=person.language) for reply in replies]

    def _arrival(
        self, session: Session, incoming: Incoming, now: datetime
    ) -> tuple[ChannelAccount, Person, Conversation]:
        """Who wrote, held (`claim_and_hold`), and where their conversation stands: one
        query for a known account."""
        known = load_account_and_state(
            session, channel=incoming.channel, external_id=incoming.account_id
        )
        if known is None:
            account, person = accounts.new_account(
                session,
                channel=incoming.channel,
                external_id=incoming.account_id,
                phone=incoming.phone,
                now=now,
                language=self.settings.app.default_language,
                platform_user_id=incoming.platform_user_id,
            )
            accounts.lock_person(session, person.id)
            return account, person, load_state(session, person.id)
        account, person, state = known
        arrived = accounts.note_arrival(
            session,
            account,
            person,
            phone=incoming.phone,
            now=now,
            platform_user_id=incoming.platform_user_id,
        )
        if arrived is not person:  # the proven number is someone else's: them, held
            accounts.lock_person(session, arrived.id)
            return account, arrived, load_state(session, arrived.id)
        return account, person, state

    async def take_inbox(self, *, channel: str, account_id: str) -> list[Reply]:
        """Outbox messages waiting for this account (the console's inbox), oldest first."""
        waiting = await self.transact(
            lambda session: outbox.take_inbox(
                session, channel=channel, account_id=account_id, now=self.clock.now()
            )
        )
        return [self.render(content, language) for content, language in waiting]

    def render(self, content: dict, language: str) -> Reply:
        """An outbox message's content as a Reply in the person's language."""
        translator = self.catalog.translator(language)
        return self.registry.render(translator, content["template"], content["params"])

    # --- what channels need from the database, each its own short transaction behind the
    # boundary ----------------------------------------------------------------------------

    async def transact(self, work: Callable[[Session], T]) -> T:
        """`work(session)` in one transaction, in a worker thread."""

        def run() -> T:
            with transaction(self.database) as session:
                return work(session)

        return await self.boundary.run_sync(run)

    async def write_inbound(self, batch: inbound.Batch) -> list[int]:
        """Webhook bodies kept (claimed by this process), statuses recorded and bodies done
        with, in one transaction; the ids of the bodies kept."""
        return await self.transact(
            lambda session: inbound.write(session, batch, now=self.clock.now())
        )

    async def claim_inbound(
        self, *, channel: str, after_id: int = 0, lease: timedelta = inbound.LEASE
    ) -> list[inbound.Claimed]:
        """Stored bodies for this process alone: no other process takes them within `lease`."""
        return await self.transact(
            lambda session: inbound.claim(
                session, channel=channel, after_id=after_id, now=self.clock.now(), lease=lease
            )
        )

    async def inbound_failed(self, event_id: int, error: str) -> bool:
        """Count a failed pass over a stored body; True when it is now quarantined."""
        return await self.transact(
            lambda session: inbound.record_failure(
                session,
                event_id=event_id,
                error=error,
                max_attempts=inbound.MAX_ATTEMPTS,
                now=self.clock.now(),
            )
        )

    async def quarantine_inbound(self, *, channel: str, payload: dict, error: str) -> int:
        return await self.transact(
            lambda session: inbound.quarantine(
                session, channel=channel, payload=payload, error=error, now=self.clock.now()
            )
        )

    async def record_statuses(self, reports: list[inbound.StatusReport]) -> list[str | None]:
        """Delivery statuses in one transaction, each in its own savepoint; what failed of
        each, in words (None where it was recorded)."""

        def record(session: Session) -> list[str | None]:
            return [self._record_status(session, report) for report in reports]

        return await self.transact(record)

    def _record_status(self, session: Session, report: inbound.StatusReport) -> str | None:
        try:
            with session.begin_nested():
                inbound.apply_status(session, report, now=self.clock.now())
        except Exception as error:
            log.debug("status %s failed", report.platform_message_id, exc_info=True)
            return repr(error)
        return None

    async def last_inbound(self, *, channel: str, account_id: str) -> datetime | None:
        return await self.transact(
            lambda session: inbound.last_inbound(session, channel=channel, account_id=account_id)
        )

    async def language_of(self, *, channel: str, account_id: str) -> str:
        return await self.transact(lambda session: self._language_of(session, channel, account_id))

    def _language_of(self, session: Session, channel: str, account_id: str) -> str:
        return accounts.language_of(
            session,
            channel=channel,
            external_id=account_id,
            default=self.settings.app.default_language,
        )

    async def shown_options(self, *, channel: str, account_id: str) -> list[Option]:
        """The options the person was last shown (for paging long lists on WhatsApp)."""

        def shown(session: Session) -> list[Option]:
            person_id = accounts.person_id_of(session, channel=channel, external_id=account_id)
            if person_id is None:
                return []
            state = load_state(session, person_id)
            return [Option(option_id, label) for option_id, label in state.options]

        return await self.transact(shown)

    async def set_blocked(self, *, channel: str, account_id: str, blocked: bool) -> None:
        """The person blocked (or unblocked) the bot on this channel."""
        await self.transact(
            lambda session: accounts.set_blocked(
                session, channel=channel, external_id=account_id, blocked=blocked
            )
        )

    def _identify(self, session: Session, incoming: Incoming):
        return accounts.find_or_create(
            session,
            channel=incoming.channel,
            external_id=incoming.account_id,
            phone=incoming.phone,
            now=self.clock.now(),
            language=self.settings.app.default_language,
            platform_user_id=incoming.platform_user_id,
        )

    def _context(self, session, person: Person, account, state: Conversation) -> Context:  # noqa: ANN001
        return Context(
            session=session,
            person=person,
            account=account,
            data=state.data,
            t=self.catalog.translator(person.language),
            settings=self.settings,
            now=self.clock.now(),
            suspended_step=(state.suspended or {}).get("step"),
        )

    def _dispatch(self, ctx: Context, state: Conversation, incoming: Incoming) -> list[Reply]:
        if incoming.unsupported:
            return [Reply(ctx.t("errors.unsupported")), *self._prompt_if_any(ctx, state)]
        if incoming.option_id and incoming.option_id.startswith(DEEP_LINK_PREFIX):
            return self._follow_deep_link(ctx, state, incoming.option_id)
        word = None if incoming.option_id else _command_word(incoming.clean_text)
        action = self.registry.actions.get(word) if word else None
        if word in self._cancel_words and not (action and self._at_rest(ctx, state)):
            return self._cancel(ctx, state)
        if action is not None:
            return self._apply(ctx, state, action(ctx))
        if word in self._help_words:
            return [self.registry.help(ctx), *self._prompt_if_any(ctx, state)]
        target = self.registry.command_target(word, ctx) if word else None
        if target is not None:
            return self._apply(ctx, state, Enter(target))
        with_text = self._text_command(incoming, state)
        if with_text is not None:
            target, rest = with_text
            return self._command_with_text(ctx, state, target, incoming, rest)
        if state.step is None:
            return self._apply(ctx, state, Enter(HOME))
        try:
            _, step = self.registry.resolve(state.step)
        except UnknownStep:
            log.warning("state points at unknown step %r; sending the person home", state.step)
            return self._apply(ctx, state, Enter(HOME))
        understood = self._understand(ctx, state, step, incoming)
        if isinstance(understood, list):
            return understood
        outcome = step.handle(ctx, understood)
        return self._apply(ctx, state, outcome)

    def _understand(
        self, ctx: Context, state: Conversation, step: Step, incoming: Incoming
    ) -> Incoming | list[Reply]:
        """Read typed text against what the step expects: an option, a skip, a value for the
        step, or an answer of the engine's own (small talk, "did you mean ...?")."""
        if incoming.option_id == NOT_THIS:
            return [Reply(ctx.t("understanding.again")), *self._prompt(ctx, state.step)]
        if incoming.option_id and incoming.option_id.startswith(TYPED_PREFIX):
            typed = incoming.option_id.removeprefix(TYPED_PREFIX)
            incoming = replace(incoming, option_id=None, text=typed)
        if incoming.option_id or not incoming.clean_text:
            return incoming
        if step.expect is None:
            if self._skipped_in_words(ctx, state, incoming):
                return replace(incoming, option_id=SKIP)
            return self._earlier_button(ctx, state, incoming) or incoming
        expect = step.expect(ctx)
        reading = understanding.read(incoming.clean_text, expect, now=ctx.now)
        sure = reading.confidence >= understanding.CONFIDENT
        match reading.sense:
            case Sense.OPTION if sure:
                return replace(incoming, option_id=reading.value)
            case Sense.OPTION | Sense.CLARIFY:
                return [self._did_you_mean(ctx, expect, reading.candidates or (reading.value,))]
            case Sense.VALUE if expect.kind is Kind.PLACE and not sure:
                return [self._did_you_mean(ctx, expect, (reading.value,))]
            case Sense.VALUE:
                ctx.reading = reading
            case Sense.SKIP if expect.skippable:
                return replace(incoming, option_id=SKIP)
            case Sense.SMALLTALK:
                said = Reply(ctx.t(f"understanding.{reading.value}"))
                return [said, *_brief(ctx, self._prompt(ctx, state.step))]
            case Sense.TOO_LARGE:
                limit = format_rupiah(reading.value) if expect.kind is Kind.MONEY else None
                limit = limit or format_number(reading.value)
                return self._apply(ctx, state, Retry(ctx.t("numbers.too_large", limit=limit)))
            case Sense.UNCLEAR:
                return self._earlier_button(ctx, state, incoming) or incoming
        return incoming

    def _skipped_in_words(self, ctx: Context, state: Conversation, incoming: Incoming) -> bool:
        """ "ga usah" where a step that reads no text itself (a photo) shows "Lewati"."""
        if not any(option_id == SKIP for option_id, _ in state.options):
            return False
        expect = Expect(Kind.TEXT, skippable=True)
        reading = understanding.read(incoming.clean_text, expect, now=ctx.now)
        return reading.sense is Sense.SKIP

    def _earlier_button(
        self, ctx: Context, state: Conversation, incoming: Incoming
    ) -> list[Reply] | None:
        """The label of a button in a recent message ("Ajukan penawaran" under a call), typed
        while another question is pending, does what the tap does; the step it opens says
        whether that message still holds (a closed call says so)."""
        since = ctx.now - EARLIER_BUTTONS_FOR
        sent = outbox.recently_sent(ctx.session, person_id=ctx.person.id, since=since)
        readings = [
            understanding.read(incoming.clean_text, _link_expect(links), now=ctx.now)
            for links in (self._deep_links_of(content, language) for content, language in sent)
            if links
        ]
        # A label typed exactly wins over a word for it in a more recent message.
        for wanted in (understanding.EXACT, understanding.CONFIDENT):
            for reading in readings:
                if reading.sense is Sense.OPTION and reading.confidence >= wanted:
                    return self._follow_deep_link(ctx, state, reading.value)
        return None

    def _deep_links_of(self, content: dict, language: str) -> tuple[Option, ...]:
        options = self.render(content, language).options
        return tuple(option for option in options if option.id.startswith(DEEP_LINK_PREFIX))

    def _did_you_mean(self, ctx: Context, expect: Expect, candidates: tuple[str, ...]) -> Reply:
        """One tap instead of a refusal: "Maksudnya Cikarang Barat?" Ya / Bukan."""
        labels = {option.id: option.label for option in expect.options}
        if expect.kind is Kind.PLACE:
            choices = [Option(f"{TYPED_PREFIX}{name}", name) for name in candidates]
        else:
            choices = [Option(c, labels[c]) for c in candidates if c in labels]
        not_this = Option(NOT_THIS, ctx.t("understanding.not_this"))
        if len(choices) == 1:
            only = choices[0]
            text = ctx.t("understanding.did_you_mean", label=only.label)
            return Reply(text, options=(Option(only.id, ctx.t("common.yes")), not_this))
        return Reply(ctx.t("understanding.which"), options=(*choices, not_this))

    def _text_command(self, incoming: Incoming, state: Conversation) -> tuple[str, str] | None:
        """A command followed by its answer: "/kebutuhan 5000 pasang ...", always; without
        the slash only outside a form, where the same words might be an answer."""
        if incoming.option_id or not incoming.clean_text:
            return None
        text = incoming.clean_text
        slashed = text.startswith("/")
        if not slashed and state.step is not None and _has_answers(state.data):
            return None
        first, _, rest = text.removeprefix("/").partition(" ")
        target = self.registry.text_commands.get(normalise(first.split("@", 1)[0]))
        if target is None or not rest.strip():
            return None
        return target, rest.strip()

    def _apply(self, ctx: Context, state: Conversation, outcome: Outcome) -> list[Reply]:
        replies: list[Reply] = []
        for _ in range(MAX_HOPS):
            match outcome:
                case Goto(to=to, say=say):
                    state.step = to
                    return [*replies, *say, *self._prompt(ctx, to)]
                case Again(say=say):
                    return [*replies, *say, *self._prompt(ctx, state.step)]
                case Retry(reason=reason):
                    return [*replies, _refusal(reason, self._prompt(ctx, state.step))]
                case Finish(say=say, show_menu=show_menu):
                    replies.extend(say)
                    if not sa.inspect(ctx.person).persistent:
                        return replies  # the person deleted their data: nothing to save
                    # The draft of this flow is done with; one set aside by "menu" stays.
                    self._clear(ctx, state, keep_suspended=True)
                    if not show_menu:
                        state.step = None
                        return replies
                    outcome = Enter(HOME)
                case Enter(to=to, say=say, discard_set_aside=discard):
                    replies.extend(say)
                    if discard:
                        state.suspended = None
                        ctx.suspended_step = None
                    return [*replies, *self._enter(ctx, state, to)]
                case Resume():
                    return [*replies, *self._resume(ctx, state)]
        raise RuntimeError("too many redirects between steps")

    def _follow_deep_link(self, ctx: Context, state: Conversation, option_id: str) -> list[Reply]:
        """A button in a proactive message ("@bimtek:5"): open that step with its argument."""
        name, _, argument = option_id[len(DEEP_LINK_PREFIX) :].partition(":")
        if name in self.registry.actions:
            return self._apply(ctx, state, self.registry.actions[name](ctx))
        target = self.registry.deep_links.get(name)
        if target is None:
            return [Reply(ctx.t("errors.choose_option")), *self._prompt_if_any(ctx, state)]
        if callable(target):
            target = target(ctx, argument)
        return self._enter(ctx, state, target, argument=argument)

    def _enter(
        self, ctx: Context, state: Conversation, target: str, argument: str | None = None
    ) -> list[Reply]:
        refused = self._move_to(ctx, state, target, argument, offer_resume=True)
        return refused if refused is not None else self._prompt(ctx, state.step)

    def _move_to(
        self,
        ctx: Context,
        state: Conversation,
        target: str,
        argument: str | None = None,
        *,
        offer_resume: bool = False,
    ) -> list[Reply] | None:
        """Point the state at `target` (or at the gate's detour); the refusal if not allowed.

        Starting afresh a form whose answers were set aside (by "menu" or "batal") first
        offers to go on with them."""
        if target == HOME:
            target = self.registry.home(ctx)
        flow, _ = self.registry.resolve(target)
        if not flow.allows(ctx.roles):
            where_they_are = self._prompt_if_any(ctx, state) or self._enter(ctx, state, HOME)
            return [self.registry.refusal(ctx, flow), *where_they_are]
        detour = self.registry.gate(ctx, flow)
        if detour is not None and detour != target:
            target, argument = detour, None
            flow, _ = self.registry.resolve(target)
        elif offer_resume and argument is None and self._set_aside_in(state, flow.name):
            target, argument = self.registry.resume_offer, target
        self._suspend_if_started(state)
        self._clear(ctx, state, keep_suspended=True)
        if argument is not None:
            state.data["arg"] = argument
        ctx.suspended_step = (state.suspended or {}).get("step")
        state.step = target
        return None

    def _command_with_text(
        self, ctx: Context, state: Conversation, target: str, incoming: Incoming, rest: str
    ) -> list[Reply]:
        """ "/kebutuhan 5000 pasang ...": enter the command's step and answer it with the rest."""
        refused = self._move_to(ctx, state, target)
        if refused is not None:
            return refused
        if state.step != target:  # sent through the gate first (e.g. a new consent text)
            return self._prompt(ctx, state.step)
        _, step = self.registry.resolve(target)
        outcome = step.handle(ctx, replace(incoming, text=rest))
        return self._apply(ctx, state, outcome)

    def _set_aside_in(self, state: Conversation, flow_name: str) -> bool:
        """A form of `flow_name` was set aside, and the person is not in that flow now."""
        suspended = (state.suspended or {}).get("step") or ""
        here = (state.step or "").partition(".")[0]
        return (
            self.registry.resume_offer is not None
            and suspended.partition(".")[0] == flow_name
            and here != flow_name
        )

    def _suspend_if_started(self, state: Conversation) -> None:
        """Keep a half-answered form aside so "Lanjutkan" in the menu can bring it back."""
        # Only answers typed into a form are worth keeping; an id remembered while browsing
        # ("arg") is not, and must not push aside a form kept earlier.
        if state.step is None or not _has_answers(state.data):
            return
        state.suspended = {"step": state.step, "data": dict(state.data)}

    def _resume(self, ctx: Context, state: Conversation) -> list[Reply]:
        suspended = state.suspended
        if not suspended:
            return self._enter(ctx, state, HOME)
        state.suspended = None
        ctx.suspended_step = None
        try:
            self.registry.resolve(suspended["step"])
        except UnknownStep:  # set aside before a step was renamed: nothing to go on with
            log.warning("set-aside form at unknown step %r; dropped", suspended["step"])
            return self._enter(ctx, state, HOME)
        state.data = dict(suspended["data"])
        ctx.data = state.data
        state.step = suspended["step"]
        return self._prompt(ctx, state.step)

    def _at_rest(self, ctx: Context, state: Conversation) -> bool:
        """Nothing pending that a cancel word would cancel (the registry's judgement)."""
        return self.registry.at_rest(ctx, state.step, state.updated_at)

    def _cancel(self, ctx: Context, state: Conversation) -> list[Reply]:
        """Stop the current step; answers already typed into a form are set aside for
        "Lanjutkan yang tadi", never lost."""
        kept = state.step is not None and _has_answers(state.data)
        key = "common.cancelled_kept" if kept else "common.cancelled"
        if not kept and not state.data:
            key = "common.nothing_to_cancel"
        self._suspend_if_started(state)
        self._clear(ctx, state, keep_suspended=True)
        ctx.suspended_step = (state.suspended or {}).get("step")
        state.step = None
        return [Reply(ctx.t(key)), *self._enter(ctx, state, HOME)]

    def _clear(self, ctx: Context, state: Conversation, keep_suspended: bool = False) -> None:
        state.data = {}
        ctx.data = state.data
        if not keep_suspended:
            state.suspended = None
            ctx.suspended_step = None

    def _prompt(self, ctx: Context, qualified: str) -> list[Reply]:
        _, step = self.registry.resolve(qualified)
        return as_replies(step.prompt(ctx))

    def _prompt_if_any(self, ctx: Context, state: Conversation) -> list[Reply]:
        if state.step is None:
            return []
        try:
            return self._prompt(ctx, state.step)
        except UnknownStep:
            return []


def _threads_for(database: sa.Engine, settings: Settings) -> int:
    """SQLite lets one writer in at a time (every transaction begins IMMEDIATE): one thread
    queues them fairly, where several would wait in SQLite's busy loop, unfairly and for
    up to its timeout under load."""
    if database.dialect.name == "sqlite":
        return 1
    return settings.concurrency.database_threads


def _command_word(text: str) -> str | None:
    """ "/produk@SinergiBot" -> "produk"; "Hapus  Data" -> "hapus data"; long text -> None."""
    if not text or len(text) > 40:
        return None
    if text.startswith("/"):  # "/start payload": the command is the first word
        word = text[1:].split(maxsplit=1)[0].split("@", 1)[0] if len(text) > 1 else ""
    else:
        word = text
    return normalise(word) or None


def _resolve_option(incoming: Incoming, state: Conversation) -> Incoming:
    """An option by its position ("#3"), or a typed answer equal to an option's label."""
    option_id = incoming.option_id
    if option_id and option_id.startswith(OPTION_INDEX_PREFIX):
        position = option_id[len(OPTION_INDEX_PREFIX) :]
        shown = state.options
        if position.isdigit() and 1 <= int(position) <= len(shown):
            return replace(incoming, option_id=shown[int(position) - 1][0])
        return replace(incoming, option_id=None)
    if option_id or not incoming.text or not state.options:
        return incoming
    typed = normalise(incoming.text)
    for option_id, label in state.options:
        if normalise(label) == typed:
            return replace(incoming, option_id=option_id)
    return incoming


def _link_expect(links: tuple[Option, ...]) -> Expect:
    """A proactive message's buttons as a question, with the words people type for them."""
    words = understanding.load_vocabulary().aliases
    return Expect(
        Kind.CHOICE,
        options=links,
        aliases={
            link.id: words.get(f"link.{link.id[len(DEEP_LINK_PREFIX) :].partition(':')[0]}", ())
            for link in links
        },
    )


def _has_answers(data: dict) -> bool:
    """Whether a draft holds answers typed into a form: forms keep them in sections
    (`ctx.section("need")`); ids remembered while browsing ("arg", "offer") do not count."""
    return any(isinstance(value, dict) and value for value in data.values())


def _brief(ctx: Context, prompt: list[Reply]) -> list[Reply]:
    """The question again without a long text (a consent notice) when its options say it."""
    return [
        replace(reply, text=ctx.t("understanding.choose_below"), title=None)
        if len(reply.text) > BRIEF_LIMIT and reply.options
        else reply
        for reply in prompt
    ]


def _refusal(reason: str, prompt: list[Reply]) -> Reply:
    """A short refusal: what was not understood with an example, and the question's options
    again as buttons; the question's own text (a consent notice, a summary) is not resent."""
    if not prompt:
        return Reply(reason)
    question = prompt[-1]
    return Reply(
        reason,
        options=question.options,
        accepts_text=question.accepts_text,
        contact_button=question.contact_button,
    )
