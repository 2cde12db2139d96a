"""A company posts a need: step by step, or in one message with only the rest asked."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from bot.core import understanding
from bot.core.flow import Context, Finish, Flow, Goto, Outcome, Retry, Step
from bot.core.messages import Incoming, Option, Reply
from bot.core.steps import (
    Form,
    FormField,
    Invalid,
    choice_step,
    edit_field_step,
    field_step,
    multi_choice_step,
    text_parser,
    too_large,
    typed_text,
)
from bot.core.understanding import Expect, Kind, Sense
from bot.parsing.dates import format_when, parse_when
from bot.parsing.need_text import parse_need_text
from bot.parsing.numbers import (
    MAX_QUANTITY,
    MAX_TOTAL,
    MAX_UNIT_PRICE,
    TooLarge,
    format_number,
    format_rupiah,
    parse_amount_within,
    parse_quantity_within,
)
from bot.reference import load_reference, load_vocabulary
from bot.services import companies, needs
from handlers.company import sector_items
from handlers.reasons import group_text
from handlers.summary import need_price, sector_name
from models import CompanyStatus, NeedFields

SECTION = "need"
PUBLISH = "publish"
EDIT = "edit"
DROP = "drop"
MENU = "menu"
COMPANY_PLACE = "company_place"
MAX_SECTORS = 5


def next_question(ctx: Context) -> str:
    """The first field still unanswered: the one-message form asks only for what it could
    not read."""
    return FORM.next_question(ctx, summary="kebutuhan.ringkasan")


def _company(ctx: Context):
    return companies.company_of(ctx.session, ctx.person)


def verified_guard(ctx: Context) -> str | None:
    """Posting is for verified companies: others are told where they stand."""
    company = _company(ctx)
    if company is None or company.status != CompanyStatus.VERIFIED:
        return "kebutuhan.belum"
    return None


def _not_verified_text(ctx: Context) -> str:
    company = _company(ctx)
    status = company.status if company else CompanyStatus.PENDING
    return ctx.t(f"need.not_verified.{status}")


def _not_verified_options(ctx: Context) -> list[Option]:
    menu = Option(MENU, ctx.t("common.back_to_menu"))
    if verified_guard(ctx) is None:  # verified while this message was on screen
        return [Option("post", ctx.t("menu.post_need")), menu]
    return [menu]


# --- parsing the answers ------------------------------------------------------------------


def _when_text(ctx: Context, iso: str) -> str:
    return format_when(datetime.fromisoformat(iso), ctx.t.language)


def deadline_at(ctx: Context, text: str) -> datetime:
    parsed = parse_when(text, ctx.now)
    if parsed is None:
        raise Invalid(ctx.t("need.deadline.invalid"))
    at = parsed.at if parsed.has_time else needs.end_of_day(parsed.at, ctx.settings.tz)
    if at <= ctx.now:
        raise Invalid(ctx.t("need.deadline.past", when=format_when(at, ctx.t.language)))
    return at


def _parse_deadline(ctx: Context, incoming: Incoming) -> str:
    at = deadline_at(ctx, typed_text(ctx, incoming))
    delivery = ctx.section(SECTION).get("delivery_date")
    if delivery and at > datetime.fromisoformat(delivery):
        raise Invalid(ctx.t("need.deadline.after_delivery", when=_when_text(ctx, delivery)))
    return at.isoformat()


def _parse_delivery(ctx: Context, incoming: Incoming) -> str:
    parsed = parse_when(typed_text(ctx, incoming), ctx.now)
    if parsed is None:
        raise Invalid(ctx.t("need.delivery.invalid"))
    deadline = ctx.section(SECTION).get("deadline")
    at = parsed.at
    if deadline and at < datetime.fromisoformat(deadline):
        raise Invalid(ctx.t("need.delivery.before_deadline", when=_when_text(ctx, deadline)))
    if at <= ctx.now:
        raise Invalid(ctx.t("need.delivery.past"))
    return at.isoformat()


def _parse_quantity(ctx: Context, incoming: Incoming) -> dict:
    quantity = parse_quantity_within(typed_text(ctx, incoming), MAX_QUANTITY)
    if isinstance(quantity, TooLarge):
        raise too_large(ctx, format_number(quantity.limit))
    if quantity is None:
        raise Invalid(ctx.t("need.quantity.invalid"))
    return {"amount": quantity.amount, "unit": quantity.unit or "pcs"}


BUDGET_WORDS = ("anggaran", "budget", "total", "dana")


def _parse_price(ctx: Context, incoming: Incoming) -> dict:
    text = typed_text(ctx, incoming)
    kind = "budget" if any(word in text.lower() for word in BUDGET_WORDS) else "per_unit"
    limit = MAX_TOTAL if kind == "budget" else MAX_UNIT_PRICE
    figure = " ".join(w for w in text.split() if w.lower() not in BUDGET_WORDS)
    amount = parse_amount_within(figure, limit)
    if isinstance(amount, TooLarge):
        raise too_large(ctx, format_rupiah(amount.limit))
    if amount is None or amount <= 0:
        raise Invalid(ctx.t("need.price.invalid"))
    return {"kind": kind, "amount": amount}


def typed_need_sectors(text: str) -> list[str] | None:
    """ "pakaian, 22" -> ["14", "22"]; a 5-digit KBLI ("14120") is kept as it is."""
    reference = load_reference()
    codes = []
    for part in text.replace(";", ",").replace(" dan ", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if len(part) == 5 and part.isdigit() and reference.sector(part[:2]):
            codes.append(part)
            continue
        sector = reference.find_sector(part)
        if sector is None:
            return None
        codes.append(sector.code)
    return codes or None


def _place_options(ctx: Context) -> list[Option]:
    company = _company(ctx)
    return [Option(COMPANY_PLACE, ctx.t("need.place.company"))] if company else []


def _parse_place(ctx: Context, incoming: Incoming) -> str:
    if incoming.option_id == COMPANY_PLACE:
        return _company(ctx).address[:200]
    return text_parser("need.place.invalid", max_length=200)(ctx, incoming)


# --- one message: "/kebutuhan 5000 pasang sarung tangan, Rp 8.000/pasang, batas 30/11" ----


def _quick_prompt(ctx: Context) -> Reply:
    return Reply(ctx.t("need.quick.ask"), accepts_text=True)


def _read_unlabelled(ctx: Context, parts: tuple[str, ...], draft: dict) -> None:
    """Parts the need parser left ("sebelum jumat", "delta mas"), read as a date or a place."""
    for part in parts:
        when = understanding.read(part, Expect(Kind.DATE), now=ctx.now)
        if when.sense is Sense.VALUE and "deadline" not in draft:
            deadline = needs.end_of_day(_at_noon(when.value), ctx.settings.tz)
            if deadline > ctx.now:
                draft["deadline"] = deadline.isoformat()
            continue
        estate = load_reference().estate_named(part)
        place = understanding.read(part, Expect(Kind.PLACE), now=ctx.now)
        if "delivery_place" not in draft and (estate or place.sense is Sense.VALUE):
            draft["delivery_place"] = estate.label if estate else place.value


def _at_noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


def _sectors_of(ctx: Context, title: str) -> list[str] | None:
    """The sector a need's words name ("sarung tangan" is apparel), if exactly one."""
    reference = load_reference()
    words = " ".join(load_vocabulary().keywords(title)).replace("_", " ")
    options = tuple(Option(sector.code, sector.label("id")) for sector in reference.sectors)
    expect = Expect(Kind.CHOICE, options=options, aliases=reference.sector_aliases())
    for text in (title, words):
        found = understanding.read(text, expect, now=ctx.now)
        if found.sense is Sense.OPTION and found.confidence >= understanding.CONFIDENT:
            return [found.value]
    return None


def _take_quick(ctx: Context, incoming: Incoming) -> Outcome:
    read = parse_need_text(incoming.clean_text, ctx.now)
    draft = ctx.section(SECTION)
    if read.title:
        draft["title"] = read.title
        draft["description"] = None  # the one-message form has none; "Ubah" adds it
        sectors = _sectors_of(ctx, read.title)
        if sectors and "sectors" not in draft:
            draft["sectors"] = sectors
    if read.quantity:
        draft["quantity"] = {"amount": read.quantity, "unit": read.unit or "pcs"}
    if read.price_per_unit or read.budget:
        kind = "per_unit" if read.price_per_unit else "budget"
        draft["price"] = {"kind": kind, "amount": read.price_per_unit or read.budget}
    if read.deadline:
        at = read.deadline.at
        at = at if read.deadline.has_time else needs.end_of_day(at, ctx.settings.tz)
        if at > ctx.now:
            draft["deadline"] = at.isoformat()
    if read.delivery_date and read.delivery_date.at > ctx.now:
        draft["delivery_date"] = read.delivery_date.at.isoformat()
    if read.delivery_place:
        estate = load_reference().estate_named(read.delivery_place)
        draft["delivery_place"] = estate.label if estate else read.delivery_place
    _read_unlabelled(ctx, read.unread, draft)
    if not draft:
        return Retry(ctx.t("need.quick.nothing"))
    said = [_ask_delivery_again(ctx)] if _delivery_before_deadline(draft) else []
    target = next_question(ctx)
    if target != "kebutuhan.ringkasan":
        said.insert(0, Reply(ctx.t("need.quick.noted")))
    return Goto(target, say=tuple(said))


def _delivery_before_deadline(draft: dict) -> bool:
    deadline, delivery = draft.get("deadline"), draft.get("delivery_date")
    return bool(deadline and delivery) and (
        datetime.fromisoformat(delivery) < datetime.fromisoformat(deadline)
    )


def _ask_delivery_again(ctx: Context) -> Reply:
    """Drop a delivery date before the deadline; the reason, to say before asking again."""
    draft = ctx.section(SECTION)
    draft.pop("delivery_date", None)
    return Reply(ctx.t("need.delivery.before_deadline", when=_when_text(ctx, draft["deadline"])))


# --- the summary and publishing -----------------------------------------------------------


def _sectors_text(ctx: Context, codes: list[str]) -> str:
    return ", ".join(
        sector_name(ctx, code[:2]) + (f" [{code}]" if len(code) == 5 else "") for code in codes
    )


def _draft_summary(ctx: Context) -> str:
    draft = ctx.section(SECTION)
    quantity = draft.get("quantity") or {}
    unit = quantity.get("unit", "pcs")
    pairs = [
        ("need.field.title", draft.get("title")),
        ("need.field.description", draft.get("description")),
        ("need.field.sectors", _sectors_text(ctx, draft.get("sectors") or [])),
        (
            "need.field.quantity",
            f"{format_number(quantity['amount'])} {unit}" if quantity else None,
        ),
        ("need.field.price", need_price(ctx, draft.get("price"), unit)),
        ("need.field.deadline", draft.get("deadline") and _when_text(ctx, draft["deadline"])),
        (
            "need.field.delivery",
            draft.get("delivery_date") and _when_text(ctx, draft["delivery_date"]),
        ),
        ("need.field.place", draft.get("delivery_place")),
    ]
    empty = ctx.t("summary.empty")
    lines = [f"{ctx.t(key)}: {value or empty}" for key, value in pairs]
    return "\n".join([*lines, "", ctx.t("need.check_then_publish")])


def _summary_options(ctx: Context) -> list[Option]:
    return [
        Option(PUBLISH, ctx.t("need.publish")),
        Option(EDIT, ctx.t("common.edit")),
        Option(DROP, ctx.t("need.drop")),
    ]


def _fields(ctx: Context) -> NeedFields:
    draft = ctx.section(SECTION)
    price = draft.get("price") or {}
    return NeedFields.model_validate(
        {
            "title": draft["title"],
            "description": draft.get("description"),
            "sectors": draft["sectors"],
            "quantity": draft["quantity"]["amount"],
            "unit": draft["quantity"]["unit"],
            "price_per_unit": price.get("amount") if price.get("kind") == "per_unit" else None,
            "budget": price.get("amount") if price.get("kind") == "budget" else None,
            "deadline": datetime.fromisoformat(draft["deadline"]),
            "delivery_date": datetime.fromisoformat(draft["delivery_date"]),
            "delivery_place": draft["delivery_place"],
            "delivery_kecamatan": needs.delivery_kecamatan(_company(ctx), draft["delivery_place"]),
        }
    )


def _on_summary(ctx: Context, chosen: str) -> Outcome:
    if chosen == DROP:
        return Finish(say=(Reply(ctx.t("need.dropped")),))
    if chosen == EDIT:
        return Goto("kebutuhan.ubah")
    missing = next_question(ctx)
    if missing != "kebutuhan.ringkasan":
        return Goto(missing)
    try:
        fields = _fields(ctx)
    except (KeyError, ValueError):
        return Goto("kebutuhan.ubah", say=(Reply(ctx.t("errors.incomplete")),))
    try:
        published = needs.publish(
            ctx.session,
            company=_company(ctx),
            fields=fields,
            now=ctx.now,
            settings=ctx.settings.procurement,
            tz=ctx.settings.tz,
        )
    except needs.DeadlineInPast:
        ctx.section(SECTION).pop("deadline", None)
        return Goto("kebutuhan.batas", say=(Reply(ctx.t("need.deadline.passed_meanwhile")),))
    except needs.DeliveryBeforeDeadline:
        return Goto("kebutuhan.kirim", say=(_ask_delivery_again(ctx),))
    except needs.NotAllowed:
        return Finish(say=(Reply(_not_verified_text(ctx)),))
    return Finish(say=(Reply(_published_text(ctx, published), title=ctx.t("need.published")),))


def _published_text(ctx: Context, published: needs.Publication) -> str:
    need = published.need
    lines = [ctx.t("need.published_text", title=need.title, called=published.called)]
    if published.held:
        lines.append(ctx.t("need.published_held", held=published.held))
    if not published.called and not published.held:
        lines.append(ctx.t("need.no_match"))
    elif published.group:
        lines.append(group_text(ctx, published.group, need))
    elif not published.anyone_suffices:
        lines.append(ctx.t("need.capacity_short"))
    return "\n".join(lines)


def _describe_quantity(ctx: Context, value: dict) -> str:
    return f"{format_number(value['amount'])} {value['unit']}"


def _describe_price(ctx: Context, value: dict) -> str:
    unit = (ctx.section(SECTION).get("quantity") or {}).get("unit", "pcs")
    return need_price(ctx, value, unit) or ""


def _on_not_verified(ctx: Context, chosen: str) -> Outcome:
    if chosen == "post":
        return Goto("kebutuhan.judul")
    return Finish()


# The need's fields, in the order they are asked: the steps, the "which part to change"
# menu and the next question still empty all come from this one list.
FORM = Form(
    "kebutuhan",
    SECTION,
    fields=(
        FormField(
            "need.field.title",
            field_step(
                "judul",
                section=SECTION,
                field="title",
                ask="need.title.ask",
                parse=text_parser("need.title.invalid", min_length=3, max_length=120),
                next_step=next_question,
            ),
        ),
        FormField(
            "need.field.description",
            field_step(
                "deskripsi",
                section=SECTION,
                field="description",
                ask="need.description.ask",
                parse=text_parser("need.description.invalid", max_length=1000),
                next_step=next_question,
                skippable=True,
            ),
        ),
        FormField(
            "need.field.sectors",
            multi_choice_step(
                "sektor",
                section=SECTION,
                field="sectors",
                ask="need.sectors.ask",
                items=sector_items,
                parse_typed=typed_need_sectors,
                next_step=next_question,
                done_key="company.sectors.done",
                none_key="company.sectors.none",
                invalid_key="company.sectors.invalid",
                max_chosen=MAX_SECTORS,
            ),
        ),
        FormField(
            "need.field.quantity",
            field_step(
                "jumlah",
                section=SECTION,
                field="quantity",
                ask="need.quantity.ask",
                parse=_parse_quantity,
                next_step=next_question,
                describe=_describe_quantity,
            ),
        ),
        FormField(
            "need.field.price",
            field_step(
                "harga",
                section=SECTION,
                field="price",
                ask="need.price.ask",
                parse=_parse_price,
                next_step=next_question,
                skippable=True,
                describe=_describe_price,
            ),
        ),
        FormField(
            "need.field.deadline",
            field_step(
                "batas",
                section=SECTION,
                field="deadline",
                ask="need.deadline.ask",
                parse=_parse_deadline,
                next_step=next_question,
                describe=_when_text,
            ),
        ),
        FormField(
            "need.field.delivery",
            field_step(
                "kirim",
                section=SECTION,
                field="delivery_date",
                ask="need.delivery.ask",
                parse=_parse_delivery,
                next_step=next_question,
                describe=_when_text,
            ),
        ),
        FormField(
            "need.field.place",
            field_step(
                "tempat",
                section=SECTION,
                field="delivery_place",
                ask="need.place.ask",
                parse=_parse_place,
                next_step=next_question,
                options=_place_options,
            ),
        ),
    ),
)


POST = Flow(
    "kebutuhan",
    roles=frozenset({"company"}),
    steps=(
        choice_step(
            "belum", ask=_not_verified_text, options=_not_verified_options, choose=_on_not_verified
        ),
        Step("cepat", _quick_prompt, _take_quick),
        *FORM.steps,
        choice_step(
            "ringkasan",
            ask=_draft_summary,
            options=_summary_options,
            choose=_on_summary,
            title="need.summary_title",
        ),
        edit_field_step("ubah", fields=FORM.edit_menu(), summary="kebutuhan.ringkasan"),
    ),
)
