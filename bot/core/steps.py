"""Builders for the common kinds of step: a typed field, a choice, a confirmation.

Most questions in a registration have one shape: ask, parse what was typed (or
tapped), keep it in the draft, go on. These builders keep each flow a readable
table of steps instead of a page of near-identical functions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.core.flow import Again, Context, Goto, Outcome, Retry, Step
from bot.core.messages import Incoming, Option, Reply
from bot.core.understanding import Expect, Kind, Sense, load_vocabulary, read

SKIP = "skip"


class Invalid(Exception):
    """Raised by a parser: `reason` is the friendly sentence (with an example) to show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def too_large(ctx: Context, limit: str) -> Invalid:
    """The re-ask for a number above its limit, the limit written as people read it."""
    return Invalid(ctx.t("numbers.too_large", limit=limit))


Parser = Callable[[Context, Incoming], Any]
Describe = Callable[[Context, Any], str]
NextStep = str | Callable[[Context], str]
# What a value the understanding layer read becomes in the draft (or Invalid).
ReadAs = Callable[[Context, Any], Any]
# Words for a question's options besides their labels: a vocabulary key ("role" finds
# "role.ikm", "role.company" in bot/data/vocabulary.toml) or a function giving them by id.
Aliases = str | Callable[[Context], dict[str, tuple[str, ...]]]


def go_on(ctx: Context, default: NextStep) -> Goto:
    """Continue to the next step, or back to the summary when a single field was edited."""
    back = ctx.data.pop("_return", None)
    if back:
        return Goto(back)
    return Goto(default(ctx) if callable(default) else default)


# The record the next steps work on: picked from a list, or given by a deep link ("@bimtek:5").
ARGUMENT = "arg"


def option_value(chosen: str) -> str:
    """What a list option carries after its kind: "b:12" -> "12"."""
    return chosen.partition(":")[2]


def remember(ctx: Context, value: object) -> None:
    """Keep `value` (an id) as the record the next steps work on."""
    ctx.data[ARGUMENT] = str(value)


def remembered(ctx: Context) -> str | None:
    """What `remember` or a deep link kept for the next steps, as given."""
    value = ctx.data.get(ARGUMENT)
    return None if value is None else str(value)


def remembered_id(ctx: Context) -> int | None:
    """The id kept by `remember` or a deep link, if it is one."""
    value = remembered(ctx) or ""
    return int(value) if value.isdigit() else None


def once_per_message(ctx: Context, key: str, build: Callable[[], Any]) -> Any:
    """What `build` gives, built once for this message: a question's options are read by the
    engine (to understand typed text) and again by the step's handler, and building them
    may query the database."""
    if key not in ctx.memo:
        ctx.memo[key] = build()
    return ctx.memo[key]


def skip_option(ctx: Context) -> Option:
    return Option(SKIP, ctx.t("common.skip"))


def field_step(
    name: str,
    *,
    section: str,
    field: str,
    ask: str | Callable[[Context], str],
    parse: Parser,
    next_step: NextStep,
    skippable: bool = False,
    describe: Describe | None = None,
    options: Callable[[Context], Sequence[Option]] | None = None,
    kind: Kind = Kind.TEXT,
    read_as: ReadAs | None = None,
    aliases: Aliases | None = None,
    limit: int | None = None,
) -> Step:
    """A question whose answer is typed (or tapped from `options`) and kept as `field`.

    `ask` is the catalog key of the question (or a function writing it). `parse` returns
    the value to keep or raises Invalid. When editing, the current value is shown too.
    `kind` says what the answer is (a count, money, a date, ...): the engine reads typed
    text as that kind first, and `read_as` turns what it read into the value to keep;
    `parse` reads what the layer could not.
    """

    def choices(ctx: Context) -> list[Option]:
        listed = list(options(ctx)) if options else []
        if skippable:
            listed.append(skip_option(ctx))
        return listed

    def prompt(ctx: Context) -> Reply:
        text = ask(ctx) if callable(ask) else ctx.t(ask)
        current = ctx.section(section).get(field)
        if current is not None and ctx.data.get("_return"):
            shown = describe(ctx, current) if describe else str(current)
            text = f"{text}\n{ctx.t('common.current_value', value=shown)}"
        return Reply(text, options=tuple(choices(ctx)), accepts_text=True)

    def expect(ctx: Context) -> Expect:
        shown = tuple(choices(ctx))
        return Expect(
            kind if read_as else Kind.TEXT,
            options=shown,
            skippable=skippable,
            aliases=_aliases(ctx, aliases, shown),
            limit=limit,
        )

    def handle(ctx: Context, incoming: Incoming) -> Outcome:
        if skippable and incoming.option_id == SKIP:
            ctx.section(section)[field] = None
            return go_on(ctx, next_step)
        try:
            if ctx.reading is not None and read_as is not None:
                value = read_as(ctx, ctx.reading.value)
            else:
                value = parse(ctx, incoming)
        except Invalid as invalid:
            return Retry(invalid.reason)
        ctx.section(section)[field] = value
        return go_on(ctx, next_step)

    return Step(name, prompt, handle, expect, fills=field)


def _aliases(
    ctx: Context, aliases: Aliases | None, options: Sequence[Option]
) -> dict[str, tuple[str, ...]]:
    if aliases is None:
        return {}
    if callable(aliases):
        return aliases(ctx)
    return load_vocabulary().option_aliases(aliases, [option.id for option in options])


def typed_text(ctx: Context, incoming: Incoming) -> str:
    """The trimmed text of a message, or Invalid when a photo or a tap came instead."""
    text = incoming.clean_text
    if not text or incoming.option_id:
        raise Invalid(ctx.t("errors.need_text"))
    return text


def text_parser(
    error_key: str, *, min_length: int = 2, max_length: int = 120, may_say_none: bool = False
) -> Parser:
    """Free text of sensible length that contains at least one letter or digit.

    The value is required: "lewati", "belum ada" or "tidak tahu" (the skip words of
    bot/data/vocabulary.toml) is refused, not saved as a name or a title. A step that can be
    skipped turns those words into its skip before it reads text. `may_say_none` for a
    reply to the other side, where "tidak ada" is an answer."""

    def parse(ctx: Context, incoming: Incoming) -> str:
        text = " ".join(typed_text(ctx, incoming).split())
        if not (min_length <= len(text) <= max_length) or not any(c.isalnum() for c in text):
            raise Invalid(ctx.t(error_key, max=max_length))
        if not may_say_none and _says_none(ctx, text):
            raise Invalid(ctx.t("errors.required"))
        return text

    return parse


def _says_none(ctx: Context, text: str) -> bool:
    reading = read(text, Expect(Kind.TEXT, skippable=True), now=ctx.now)
    return reading.sense is Sense.SKIP


def value_parser(parser: Callable[[str], Any], error_key: str) -> Parser:
    """Wrap a text parser from bot.parsing (returns None when it cannot read the text)."""

    def parse(ctx: Context, incoming: Incoming) -> Any:
        value = parser(typed_text(ctx, incoming))
        if value is None:
            raise Invalid(ctx.t(error_key))
        return value

    return parse


def choice_step(
    name: str,
    *,
    ask: str | Callable[[Context], str],
    options: Callable[[Context], Sequence[Option]],
    choose: Callable[[Context, str], Outcome],
    match_text: Callable[[Context, str], str | None] | None = None,
    error_key: str = "errors.choose_option",
    title: str | None = None,
    yes: str | None = None,
    no: str | None = None,
    aliases: Aliases | None = None,
    fills: str | None = None,
) -> Step:
    """A question answered by tapping one of `options` (or typing something `match_text` knows).

    `ask` is a catalog key, or a function that writes the text (e.g. a summary). A typed
    answer is read against the options' labels and `aliases`; a yes-word ("iya", "siap")
    picks the option `yes`, a no-word ("ga", "tdk") the option `no`.
    """

    def shown_now(ctx: Context) -> tuple[Option, ...]:
        return once_per_message(ctx, f"options of {name}", lambda: tuple(options(ctx)))

    def expect(ctx: Context) -> Expect:
        shown = shown_now(ctx)
        return Expect(
            Kind.CHOICE,
            options=shown,
            skippable=any(option.id == SKIP for option in shown),
            yes=yes,
            no=no,
            aliases=_aliases(ctx, aliases, shown),
        )

    def prompt(ctx: Context) -> Reply:
        text = ask(ctx) if callable(ask) else ctx.t(ask)
        return Reply(
            text,
            title=ctx.t(title) if title else None,
            options=tuple(options(ctx)),
            accepts_text=match_text is not None,
        )

    def handle(ctx: Context, incoming: Incoming) -> Outcome:
        valid = {option.id for option in shown_now(ctx)}
        chosen = incoming.option_id if incoming.option_id in valid else None
        if chosen is None and match_text is not None and incoming.clean_text:
            chosen = match_text(ctx, incoming.clean_text)
        if chosen is None:
            return Retry(ctx.t(error_key))
        return choose(ctx, chosen)

    return Step(name, prompt, handle, expect, fills=fills)


Item = tuple[str, str, str | None]  # value kept in the draft, label, description
DONE = "done"
EVERYTHING = "all"


def multi_choice_step(
    name: str,
    *,
    section: str,
    field: str,
    ask: str,
    items: Callable[[Context], Sequence[Item]],
    parse_typed: Callable[[str], list[str] | None],
    next_step: NextStep,
    done_key: str,
    none_key: str,
    invalid_key: str,
    everything_key: str | None = None,
    max_chosen: int | None = None,
) -> Step:
    """Several answers from a list: each tap toggles (✓), "Selesai" goes on.

    Several may also be typed at once ("makanan, pakaian jadi"). With `everything_key`,
    an option stands for "all of them", kept as an empty list.
    """

    def chosen(ctx: Context) -> list[str]:
        return list(ctx.section(section).get(field) or [])

    def prompt(ctx: Context) -> Reply:
        picked = set(chosen(ctx))
        options = [
            Option(f"v:{index}", ("✓ " if value in picked else "") + label, description)
            for index, (value, label, description) in enumerate(items(ctx))
        ]
        if everything_key:
            options.append(Option(EVERYTHING, ctx.t(everything_key)))
        options.append(Option(DONE, ctx.t(done_key)))
        return Reply(ctx.t(ask), options=tuple(options), accepts_text=True)

    def handle(ctx: Context, incoming: Incoming) -> Outcome:
        picked = chosen(ctx)
        values = [value for value, _, _ in items(ctx)]
        if incoming.option_id == EVERYTHING and everything_key:
            ctx.section(section)[field] = []
            return go_on(ctx, next_step)
        if incoming.option_id == DONE:
            if not picked:
                return Retry(ctx.t(none_key))
            return go_on(ctx, next_step)
        toggled = _toggled_value(incoming.option_id, values)
        if toggled is not None:
            picked = (
                [v for v in picked if v != toggled] if toggled in picked else [*picked, toggled]
            )
        else:
            typed = parse_typed(incoming.clean_text) if incoming.clean_text else None
            if not typed:
                return Retry(ctx.t(invalid_key))
            picked += [value for value in typed if value not in picked]
        if max_chosen is not None and len(picked) > max_chosen:
            return Retry(ctx.t("errors.too_many", max=max_chosen))
        ctx.section(section)[field] = picked
        return Again()

    return Step(name, prompt, handle, fills=field)


def _toggled_value(option_id: str | None, values: list[str]) -> str | None:
    if not option_id or not option_id.startswith("v:") or not option_id[2:].isdigit():
        return None
    index = int(option_id[2:])
    return values[index] if index < len(values) else None


FieldList = Sequence[tuple[str, str]]  # (step to edit, catalog key of its name)


@dataclass(frozen=True)
class FormField:
    """One field of a form: the catalog key of its name, and the step that fills it."""

    label: str
    step: Step

    def __post_init__(self) -> None:
        if self.step.fills is None:
            raise ValueError(f"step {self.step.name!r} fills no field of the draft")

    @property
    def key(self) -> str:
        return self.step.fills or ""


@dataclass(frozen=True)
class Form:
    """A form's fields written once, in the order they are asked.

    The flow's field steps, the "which part to change" menu and the next question still
    empty are all read from this one list, so a field added here appears in all three.
    """

    flow: str
    section: str
    fields: tuple[FormField, ...]

    @property
    def steps(self) -> tuple[Step, ...]:
        return tuple(field.step for field in self.fields)

    def edit_menu(self) -> FieldList:
        return tuple((f"{self.flow}.{field.step.name}", field.label) for field in self.fields)

    def next_question(self, ctx: Context, *, summary: str) -> str:
        """The first field not yet in the draft, or `summary` when every one is."""
        draft = ctx.section(self.section)
        missing = (field for field in self.fields if field.key not in draft)
        first = next(missing, None)
        return f"{self.flow}.{first.step.name}" if first else summary


def edit_field_step(
    name: str, *, fields: FieldList | Callable[[Context], FieldList], summary: NextStep
) -> Step:
    """ "Which part do you want to change?": one field's step, then back to the summary."""

    def summary_step(ctx: Context) -> str:
        return summary(ctx) if callable(summary) else summary

    def options(ctx: Context) -> list[Option]:
        listed = fields(ctx) if callable(fields) else fields
        back = Option(summary_step(ctx), ctx.t("common.back_to_summary"))
        return [*(Option(step, ctx.t(label)) for step, label in listed), back]

    def choose(ctx: Context, chosen: str) -> Outcome:
        back = summary_step(ctx)
        if chosen != back:
            ctx.data["_return"] = back
        return Goto(chosen)

    return choice_step(name, ask="common.which_field", options=options, choose=choose)
