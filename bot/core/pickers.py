"""Pick one record from a list: the IKM's products, open calls, a company's needs, offers on
a need, bimtek sessions, the verification queue.

Every such list is the same question: the records as buttons "<kind>:<id>" (after them a
few fixed options such as "Kembali"), and the picked record's id kept for the next steps.
`Picker` says what the records are and how one is labelled; `pick_step` asks the question.
The records are read once per prompt (its text and its buttons come from the same list)
and once per answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, Generic, TypeVar

from bot.core.flow import Context, Goto, Outcome, Retry, Step
from bot.core.messages import Incoming, Option, Reply
from bot.core.steps import ARGUMENT, once_per_message, option_value
from bot.core.understanding import Expect, Kind

R = TypeVar("R")

# Room for a record's label on a button (WhatsApp cuts list rows far shorter; the channel does).
LABEL_ROOM = 40


@dataclass(frozen=True)
class Picker(Generic[R]):
    """Records offered as options "<kind>:<id>", and the id of the one picked.

    `label` writes one record's button; with `numbered` it is preceded by its place in the
    list ("2. CV Maju"), as the list's text numbers them. The pick is kept in the draft
    under `keep_as` (the record the next steps work on, as a deep link gives it).
    """

    kind: str
    records: Callable[[Context], Sequence[R]]
    label: Callable[[R], str]
    ident: Callable[[R], Any] = attrgetter("id")
    numbered: bool = False
    room: int | None = LABEL_ROOM
    keep_as: str = ARGUMENT

    def options(self, records: Sequence[R]) -> list[Option]:
        return [
            Option(f"{self.kind}:{self.ident(record)}", self._label(number, record))
            for number, record in enumerate(records, start=1)
        ]

    def _label(self, number: int, record: R) -> str:
        label = f"{number}. {self.label(record)}" if self.numbered else self.label(record)
        return label if self.room is None else label[: self.room]

    def owns(self, option_id: str) -> bool:
        """Whether `option_id` is one of this picker's records (not a fixed option)."""
        return option_id.startswith(f"{self.kind}:")

    def keep(self, ctx: Context, option_id: str) -> str:
        """Keep the picked record's id for the next steps; returns it."""
        value = option_value(option_id)
        ctx.data[self.keep_as] = value
        return value

    def picked_id(self, ctx: Context) -> int | None:
        """The id kept by `keep` (or a deep link), if it is one."""
        value = str(ctx.data.get(self.keep_as, ""))
        return int(value) if value.isdigit() else None


Then = str | Callable[[Context, str], Outcome]


def pick_step(
    name: str,
    *,
    picker: Picker[Any],
    ask: Callable[[Context, Sequence[Any]], str],
    then: Then,
    extras: Callable[[Context], Sequence[Option]] | None = None,
    on_extra: Callable[[Context, str], Outcome] | None = None,
    title: str | None = None,
) -> Step:
    """ "Which one?": `picker`'s records as buttons, then `extras` (e.g. "Kembali").

    `ask` writes the text from the same records the buttons show. A pick is kept and the
    flow goes to `then` (a step), or `then` decides (given the picked id); a fixed option
    goes to `on_extra`.
    """

    def options_of(ctx: Context, records: Sequence[Any]) -> tuple[Option, ...]:
        fixed = extras(ctx) if extras else ()
        return (*picker.options(records), *fixed)

    def prompt(ctx: Context) -> Reply:
        records = picker.records(ctx)
        return Reply(
            ask(ctx, records),
            title=ctx.t(title) if title else None,
            options=options_of(ctx, records),
        )

    def shown(ctx: Context) -> tuple[Option, ...]:
        key = f"options of {name} ({picker.kind})"
        return once_per_message(ctx, key, lambda: options_of(ctx, picker.records(ctx)))

    def expect(ctx: Context) -> Expect:
        return Expect(Kind.CHOICE, options=shown(ctx))

    def handle(ctx: Context, incoming: Incoming) -> Outcome:
        chosen = incoming.option_id
        if chosen is None or chosen not in {option.id for option in shown(ctx)}:
            return Retry(ctx.t("errors.choose_option"))
        if not picker.owns(chosen):
            if on_extra is None:
                return Retry(ctx.t("errors.choose_option"))
            return on_extra(ctx, chosen)
        if callable(then):
            return then(ctx, option_value(chosen))
        picker.keep(ctx, chosen)
        return Goto(then)

    return Step(name, prompt, handle, expect)
