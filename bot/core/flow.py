"""Flows: named steps, each a prompt plus a handler that returns what happens next.

A step never sends anything: its handler returns an outcome (`Goto`, `Retry`,
`Finish`) and the engine shows the next prompt after the transaction commits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.core.i18n import Translator
from bot.core.messages import Incoming, Reply
from bot.services.accounts import roles_of

if TYPE_CHECKING:
    from sqlmodel import Session

    from bot.config import Settings
    from bot.core.understanding import Expect, Reading
    from models import ChannelAccount, Person


@dataclass
class Context:
    """What a step may use: the session (no commits), the person, the draft, the catalog."""

    session: Session
    person: Person
    account: ChannelAccount
    data: dict[str, Any]
    t: Translator
    settings: Settings
    now: datetime
    suspended_step: str | None = None
    # Answers looked up once per message (e.g. whether the consent is current).
    memo: dict[str, Any] = field(default_factory=dict)
    # What the understanding layer read in the person's text, when it read a value.
    reading: Reading | None = None

    @property
    def channel(self) -> str:
        return self.account.channel

    @property
    def roles(self) -> frozenset[str]:
        """Computed each time: a step may have just registered the person."""
        return roles_of(self.person, self.settings.app.admins)

    def section(self, name: str) -> dict[str, Any]:
        """A named part of the draft (e.g. "ikm", "product"), created on first use."""
        return self.data.setdefault(name, {})


@dataclass(frozen=True)
class Goto:
    """Go to step `to` ("flow.step") and show its prompt, after saying `say`."""

    to: str
    say: tuple[Reply, ...] = ()


@dataclass(frozen=True)
class Retry:
    """The answer was not usable: say why (with an example) and ask the same again."""

    reason: str


@dataclass(frozen=True)
class Finish:
    """The flow is over: say `say`, clear the draft, and offer the main menu."""

    say: tuple[Reply, ...] = ()
    show_menu: bool = True


@dataclass(frozen=True)
class Enter:
    """Start the flow of step `to` afresh: roles are checked and the draft starts empty.
    `discard_set_aside` drops the form "menu" or "batal" set aside (the person said so)."""

    to: str
    say: tuple[Reply, ...] = ()
    discard_set_aside: bool = False


@dataclass(frozen=True)
class Again:
    """Ask the current step's question again (e.g. after a toggle in a multiple choice)."""

    say: tuple[Reply, ...] = ()


@dataclass(frozen=True)
class Resume:
    """Go back to the flow that "menu" or a command interrupted, with its answers."""


Outcome = Goto | Retry | Finish | Enter | Resume | Again
Prompt = Callable[[Context], Reply | Sequence[Reply]]
Handler = Callable[[Context, Incoming], Outcome]


@dataclass(frozen=True)
class Step:
    name: str
    prompt: Prompt
    handle: Handler
    # What the question expects, so the engine can read typed answers before `handle`.
    expect: Callable[[Context], Expect] | None = None
    # The draft field this step fills, when it asks for one field of a form.
    fills: str | None = None


@dataclass(frozen=True)
class Flow:
    """A named table of steps; `roles` None means anyone may enter."""

    name: str
    steps: tuple[Step, ...]
    roles: frozenset[str] | None = None
    _by_name: dict[str, Step] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_name = {step.name: step for step in self.steps}
        if len(by_name) != len(self.steps):
            raise ValueError(f"flow {self.name!r} has two steps with the same name")
        object.__setattr__(self, "_by_name", by_name)

    def step(self, name: str) -> Step:
        return self._by_name[name]

    def qualified(self, step_name: str) -> str:
        return f"{self.name}.{step_name}"

    def allows(self, roles: frozenset[str]) -> bool:
        return self.roles is None or bool(self.roles & roles)


class UnknownStep(LookupError):
    pass


# A command target meaning "wherever this person's home is" (welcome, role choice, menu).
HOME = "@home"


class Registry:
    """Every flow and command, listed explicitly in `handlers/__init__.py`.

    `home` names the step a person lands on (welcome, role choice or main menu);
    `help` answers "bantuan" for that person; `refusal` explains a flow they may not enter;
    `render` writes an outbox message (template and parameters) as a Reply.
    """

    def __init__(
        self,
        flows: Iterable[Flow],
        commands: Mapping[str, str | Callable[[Context], str]],
        *,
        home: Callable[[Context], str],
        help: Callable[[Context], Reply],
        refusal: Callable[[Context, Flow], Reply],
        render: Callable[[Translator, str, dict], Reply],
        deep_links: Mapping[str, str | Callable[[Context, str], str]] | None = None,
        gate: Callable[[Context, Flow], str | None] | None = None,
        text_commands: Mapping[str, str] | None = None,
        resume_offer: str | None = None,
        actions: Mapping[str, Callable[[Context], Outcome]] | None = None,
        at_rest: Callable[[Context, str | None, datetime | None], bool] | None = None,
    ) -> None:
        self.flows = {flow.name: flow for flow in flows}
        self.commands = dict(commands)
        self.home = home
        self.help = help
        self.refusal = refusal
        self.render = render
        # Where a person must go before entering a flow (e.g. a new consent text), if anywhere.
        self.gate = gate or (lambda ctx, flow: None)
        # Buttons in proactive messages may open only these steps ("@bimtek:5").
        self.deep_links = dict(deep_links or {})
        # Commands that take the rest of the message as the step's answer ("/kebutuhan ...").
        self.text_commands = dict(text_commands or {})
        # The step that offers a form set aside earlier when its flow is started again.
        self.resume_offer = resume_offer
        # Words that act at once wherever the person is ("berhenti" opts out), also as deep
        # links ("@berhenti"); one that is a cancel word too acts only where `at_rest` says
        # nothing is pending to cancel.
        self.actions = dict(actions or {})
        self.at_rest = at_rest or (lambda ctx, step, last_answer_at: True)
        if resume_offer is not None:
            self.resolve(resume_offer)
        for target in (*self.deep_links.values(), *self.text_commands.values()):
            if isinstance(target, str):
                self.resolve(target)
        for word, target in self.commands.items():
            if isinstance(target, str) and target != HOME:
                self.resolve(target)  # fail at start-up, not in a chat
            if word != word.lower():
                raise ValueError(f"command {word!r} must be lower case")

    def resolve(self, qualified: str) -> tuple[Flow, Step]:
        flow_name, _, step_name = qualified.partition(".")
        try:
            flow = self.flows[flow_name]
            return flow, flow.step(step_name)
        except KeyError:
            raise UnknownStep(qualified) from None

    def command_target(self, word: str, ctx: Context) -> str | None:
        """The step a command word leads to for this person (some depend on the role)."""
        target = self.commands.get(word.lower())
        return target(ctx) if callable(target) else target


def as_replies(value: Reply | Sequence[Reply]) -> list[Reply]:
    return [value] if isinstance(value, Reply) else list(value)
