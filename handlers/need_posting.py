"""A company posts a need (step by step, or in one message) and manages its needs:
deadline, closing, cancelling, the offers, questions, awards.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time

from bot.core import understanding
from bot.core.flow import Again, Context, Finish, Flow, Goto, Outcome, Retry, Step
from bot.core.messages import Incoming, MediaRef, Option, Reply
from bot.core.steps import (
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
    parse_count,
    parse_quantity_within,
)
from bot.reference import load_reference, load_vocabulary
from bot.services import companies, needs, offers
from handlers.company import sector_items
from handlers.parties import ikm_name
from handlers.reasons import describe_reasons, group_text
from handlers.summary import contacts_hidden_notice, private_text_parser, sector_name
from models import CompanyStatus, Need, NeedFields, NeedStatus, OfferStatus
from models.base import as_utc

SECTION = "need"
PUBLISH = "publish"
EDIT = "edit"
DROP = "drop"
BACK = "back"
MENU = "menu"
COMPANY_PLACE = "company_place"
MAX_SECTORS = 5
TITLE_ROOM = 40

# Each field of the draft and the step that asks for it, in the order they are asked.
# The next question is always the first one still unanswered: the one-message form
# ("/kebutuhan 5000 pasang ...") asks only for what it could not read.
FIELD_STEPS = (
    ("title", "kebutuhan.judul"),
    ("description", "kebutuhan.deskripsi"),
    ("sectors", "kebutuhan.sektor"),
    ("quantity", "kebutuhan.jumlah"),
    ("price", "kebutuhan.harga"),
    ("deadline", "kebutuhan.batas"),
    ("delivery_date", "kebutuhan.kirim"),
    ("delivery_place", "kebutuhan.tempat"),
)


def next_question(ctx: Context) -> str:
    draft = ctx.section(SECTION)
    for field, step in FIELD_STEPS:
        if field not in draft:
            return step
    return "kebutuhan.ringkasan"


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


def _deadline_at(ctx: Context, text: str) -> datetime:
    parsed = parse_when(text, ctx.now)
    if parsed is None:
        raise Invalid(ctx.t("need.deadline.invalid"))
    at = parsed.at if parsed.has_time else needs.end_of_day(parsed.at, ctx.settings.tz)
    if at <= ctx.now:
        raise Invalid(ctx.t("need.deadline.past", when=format_when(at, ctx.t.language)))
    return at


def _parse_deadline(ctx: Context, incoming: Incoming) -> str:
    at = _deadline_at(ctx, typed_text(ctx, incoming))
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


async def _take_quick(ctx: Context, incoming: Incoming) -> Outcome:
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


def need_price(ctx: Context, price: dict | None, unit: str) -> str | None:
    if not price:
        return None
    if price["kind"] == "budget":
        return ctx.t("need.budget_value", amount=format_rupiah(price["amount"]))
    return ctx.t("summary.per_unit", amount=format_rupiah(price["amount"]), unit=unit)


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


EDITABLE = (
    ("kebutuhan.judul", "need.field.title"),
    ("kebutuhan.deskripsi", "need.field.description"),
    ("kebutuhan.sektor", "need.field.sectors"),
    ("kebutuhan.jumlah", "need.field.quantity"),
    ("kebutuhan.harga", "need.field.price"),
    ("kebutuhan.batas", "need.field.deadline"),
    ("kebutuhan.kirim", "need.field.delivery"),
    ("kebutuhan.tempat", "need.field.place"),
)


def _describe_quantity(ctx: Context, value: dict) -> str:
    return f"{format_number(value['amount'])} {value['unit']}"


def _describe_price(ctx: Context, value: dict) -> str:
    unit = (ctx.section(SECTION).get("quantity") or {}).get("unit", "pcs")
    return need_price(ctx, value, unit) or ""


def _on_not_verified(ctx: Context, chosen: str) -> Outcome:
    if chosen == "post":
        return Goto("kebutuhan.judul")
    return Finish()


POST = Flow(
    "kebutuhan",
    roles=frozenset({"company"}),
    steps=(
        choice_step(
            "belum", ask=_not_verified_text, options=_not_verified_options, choose=_on_not_verified
        ),
        Step("cepat", _quick_prompt, _take_quick),
        field_step(
            "judul",
            section=SECTION,
            field="title",
            ask="need.title.ask",
            parse=text_parser("need.title.invalid", min_length=3, max_length=120),
            next_step=next_question,
        ),
        field_step(
            "deskripsi",
            section=SECTION,
            field="description",
            ask="need.description.ask",
            parse=text_parser("need.description.invalid", max_length=1000),
            next_step=next_question,
            skippable=True,
        ),
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
        field_step(
            "jumlah",
            section=SECTION,
            field="quantity",
            ask="need.quantity.ask",
            parse=_parse_quantity,
            next_step=next_question,
            describe=_describe_quantity,
        ),
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
        field_step(
            "batas",
            section=SECTION,
            field="deadline",
            ask="need.deadline.ask",
            parse=_parse_deadline,
            next_step=next_question,
            describe=_when_text,
        ),
        field_step(
            "kirim",
            section=SECTION,
            field="delivery_date",
            ask="need.delivery.ask",
            parse=_parse_delivery,
            next_step=next_question,
            describe=_when_text,
        ),
        field_step(
            "tempat",
            section=SECTION,
            field="delivery_place",
            ask="need.place.ask",
            parse=_parse_place,
            next_step=next_question,
            options=_place_options,
        ),
        choice_step(
            "ringkasan",
            ask=_draft_summary,
            options=_summary_options,
            choose=_on_summary,
            title="need.summary_title",
        ),
        edit_field_step("ubah", fields=EDITABLE, summary="kebutuhan.ringkasan"),
    ),
)


# --- the company's needs ------------------------------------------------------------------


def _chosen_need(ctx: Context) -> Need | None:
    arg = str(ctx.data.get("arg", ""))
    company = _company(ctx)
    if company is None or not arg.isdigit():
        return None
    return needs.need_of_company(ctx.session, company, int(arg))


def _list_text(ctx: Context) -> str:
    listed = needs.needs_of(ctx.session, _company(ctx))
    if not listed:
        return ctx.t("need.mine.none")
    lines = [ctx.t("need.mine.intro")]
    for number, (need, counts) in enumerate(listed, start=1):
        lines.append(
            ctx.t(
                "need.mine.line",
                number=number,
                title=need.title,
                status=ctx.t(f"need.status.{need.status}"),
                matched=counts.matched,
                offers=counts.offers,
            )
        )
    return "\n".join(lines)


def _list_options(ctx: Context) -> list[Option]:
    listed = needs.needs_of(ctx.session, _company(ctx))
    return [
        *(Option(f"n:{need.id}", need.title[:TITLE_ROOM]) for need, _ in listed),
        Option("new", ctx.t("menu.post_need")),
        Option(MENU, ctx.t("common.back_to_menu")),
    ]


def _on_list(ctx: Context, chosen: str) -> Outcome:
    if chosen == MENU:
        return Finish()
    if chosen == "new":
        return Goto("kebutuhan.judul") if verified_guard(ctx) is None else Goto("kebutuhan.belum")
    ctx.data["arg"] = chosen[2:]
    return Goto("kebutuhanku.detail")


def need_lines(ctx: Context, need: Need) -> list[str]:
    """A need as the company and the IKM see it (never anyone's contact)."""
    quantity = f"{format_number(need.quantity)} {need.unit}"
    lines = [
        need.title,
        ctx.t("need.line.quantity", quantity=quantity),
        ctx.t("need.line.deadline", when=format_when(as_utc(need.deadline), ctx.t.language)),
        ctx.t(
            "need.line.delivery",
            when=format_when(as_utc(need.delivery_date), ctx.t.language),
            place=need.delivery_place,
        ),
    ]
    price = need_price(
        ctx,
        {"kind": "per_unit", "amount": need.price_per_unit}
        if need.price_per_unit
        else ({"kind": "budget", "amount": need.budget} if need.budget else None),
        need.unit,
    )
    if price:
        lines.append(ctx.t("need.line.price", price=price))
    if need.description:
        lines.append(need.description)
    return lines


def _detail_text(ctx: Context) -> str:
    need = _chosen_need(ctx)
    if need is None:
        return ctx.t("need.gone")
    counts = needs.counts_of(ctx.session, need)
    lines = need_lines(ctx, need)
    lines.append(ctx.t("need.line.status", status=ctx.t(f"need.status.{need.status}")))
    lines.append(ctx.t("need.line.counts", matched=counts.matched, offers=counts.offers))
    awarded = offers.awarded_quantity(ctx.session, need)
    if awarded:
        lines.append(ctx.t("need.line.awarded", quantity=f"{format_number(awarded)} {need.unit}"))
    return "\n".join(lines)


def _detail_options(ctx: Context) -> list[Option]:
    need = _chosen_need(ctx)
    back = Option(BACK, ctx.t("need.back_to_list"))
    if need is None:
        return [back]
    options = [Option("offers", ctx.t("need.see_offers"))]
    if need.status == NeedStatus.OPEN:
        options += [
            Option("extend", ctx.t("need.extend")),
            Option("close", ctx.t("need.close")),
        ]
    if need.status in (NeedStatus.OPEN, NeedStatus.CLOSED):
        options.append(Option("cancel", ctx.t("need.cancel")))
    return [*options, back]


def _on_detail(ctx: Context, chosen: str) -> Outcome:
    need = _chosen_need(ctx)
    if chosen == BACK or need is None:
        return Goto("kebutuhanku.daftar")
    targets = {
        "offers": "kebutuhanku.penawaran",
        "extend": "kebutuhanku.perpanjang",
        "close": "kebutuhanku.tutup",
        "cancel": "kebutuhanku.batalkan",
    }
    return Goto(targets[chosen])


def _deadline_prompt(ctx: Context) -> Reply:
    return Reply(
        ctx.t("need.extend_ask"), options=(Option(BACK, ctx.t("common.back")),), accepts_text=True
    )


async def _take_new_deadline(ctx: Context, incoming: Incoming) -> Outcome:
    need = _chosen_need(ctx)
    if incoming.option_id == BACK or need is None:
        return Goto("kebutuhanku.detail")
    try:
        at = _deadline_at(ctx, typed_text(ctx, incoming))
    except Invalid as invalid:
        return Retry(invalid.reason)
    if at > as_utc(need.delivery_date):
        return Retry(
            ctx.t(
                "need.deadline.after_delivery",
                when=format_when(as_utc(need.delivery_date), ctx.t.language),
            )
        )
    try:
        needs.extend(ctx.session, need=need, deadline=at, now=ctx.now)
    except needs.NeedClosed:
        return Goto("kebutuhanku.detail", say=(Reply(ctx.t("need.already_closed")),))
    said = ctx.t("need.extended", when=format_when(at, ctx.t.language))
    return Goto("kebutuhanku.detail", say=(Reply(said),))


def _confirm_step(name: str, question: str, act, done: str) -> Step:  # noqa: ANN001
    """ "Yakin?" with Ya / Kembali, then `act(session, need=..., now=...)`."""

    def options(ctx: Context) -> list[Option]:
        return [Option("yes", ctx.t("common.yes")), Option(BACK, ctx.t("common.back"))]

    def choose(ctx: Context, chosen: str) -> Outcome:
        need = _chosen_need(ctx)
        if chosen == BACK or need is None:
            return Goto("kebutuhanku.detail")
        try:
            act(ctx.session, need=need, now=ctx.now)
        except needs.NeedClosed:
            return Goto("kebutuhanku.detail", say=(Reply(ctx.t("need.already_closed")),))
        return Goto("kebutuhanku.detail", say=(Reply(ctx.t(done)),))

    return choice_step(name, ask=question, options=options, choose=choose)


# --- offers on one need -------------------------------------------------------------------


def _offer_views(ctx: Context) -> list[offers.OfferView]:
    need = _chosen_need(ctx)
    views = offers.offers_for(ctx.session, need) if need else []
    return [replace(view, business_name=ikm_name(ctx, view.business_name)) for view in views]


def offer_line(ctx: Context, view: offers.OfferView, need: Need) -> str:
    offer = view.offer
    distance = (
        ctx.t("need.offer.km", km=format_number(round(view.distance_km)))
        if view.distance_km is not None
        else ""
    )
    mark = {
        OfferStatus.AWARDED: " ✅",
        OfferStatus.NOT_CHOSEN: "",
    }.get(offer.status, " ☆" if offer.shortlisted else "")
    return ctx.t(
        "need.offer.line",
        name=view.business_name + mark,
        price=format_rupiah(offer.price_per_unit),
        unit=need.unit,
        quantity=format_number(offer.quantity),
        days=offer.lead_time_days,
        kecamatan=view.kecamatan,
        distance=distance,
    )


def _offers_text(ctx: Context) -> str:
    need = _chosen_need(ctx)
    views = _offer_views(ctx)
    if need is None:
        return ctx.t("need.gone")
    if not views:
        return ctx.t("need.offer.none")
    lines = [ctx.t("need.offer.intro", title=need.title)]
    for number, view in enumerate(views, start=1):
        lines.append(f"{number}. {offer_line(ctx, view, need)}")
    left = need.quantity - offers.awarded_quantity(ctx.session, need)
    lines.append(ctx.t("need.offer.left", quantity=f"{format_number(left)} {need.unit}"))
    return "\n".join(lines)


def _offers_options(ctx: Context) -> list[Option]:
    need = _chosen_need(ctx)
    options = [
        Option(f"o:{view.offer.id}", f"{n}. {view.business_name}"[:TITLE_ROOM])
        for n, view in enumerate(_offer_views(ctx), start=1)
    ]
    deciding = need is not None and need.status in (NeedStatus.OPEN, NeedStatus.CLOSED)
    if deciding and offers.awarded_quantity(ctx.session, need):
        options.append(Option("finish", ctx.t("need.finish")))
    return [*options, Option(BACK, ctx.t("need.back_to_need"))]


def _on_offers(ctx: Context, chosen: str) -> Outcome:
    if chosen == BACK:
        return Goto("kebutuhanku.detail")
    if chosen == "finish":
        return Goto("kebutuhanku.selesai")
    ctx.data["offer"] = int(chosen[2:])
    return Goto("kebutuhanku.tawaran")


def _chosen_offer(ctx: Context):
    company = _company(ctx)
    need = _chosen_need(ctx)
    offer_id = ctx.data.get("offer")
    if company is None or need is None or not isinstance(offer_id, int):
        return None, None
    offer = offers.offer_for_company(ctx.session, company, offer_id)
    if offer is None or offer.need_id != need.id:
        return None, None
    view = next((v for v in _offer_views(ctx) if v.offer.id == offer.id), None)
    return need, view


def _offer_prompt(ctx: Context) -> Reply:
    need, view = _chosen_offer(ctx)
    if view is None:
        return Reply(ctx.t("need.offer.gone"), options=(Option(BACK, ctx.t("common.back")),))
    offer = view.offer
    lines = [offer_line(ctx, view, need)]
    reasons = describe_reasons(ctx, view.reasons, need)
    if reasons:
        lines.append(ctx.t("need.offer.why", reasons=reasons))
    if offer.note:
        lines.append(ctx.t("need.offer.note", note=offer.note))
    lines.append(
        ctx.t("need.offer.total", total=format_rupiah(offer.price_per_unit * offer.quantity))
    )
    # An IKM that erased its data has no one left to answer.
    options = [Option("ask", ctx.t("need.offer.ask"))] if offer.person_id is not None else []
    if offer.status == OfferStatus.ACTIVE:
        key = "need.offer.unshortlist" if offer.shortlisted else "need.offer.shortlist"
        options.append(Option("shortlist", ctx.t(key)))
        if need.status in (NeedStatus.OPEN, NeedStatus.CLOSED):
            options.append(Option("award", ctx.t("need.offer.award")))
    options.append(Option(BACK, ctx.t("need.offer.back")))
    image = MediaRef.from_stored(offer.photo_ref) if offer.photo_ref else None
    title = ctx.t("need.offer.title", name=view.business_name)
    return Reply("\n".join(lines), title=title, options=tuple(options), image=image)


async def _on_offer(ctx: Context, incoming: Incoming) -> Outcome:
    _need, view = _chosen_offer(ctx)
    chosen = incoming.option_id
    if view is None or chosen == BACK:
        return Goto("kebutuhanku.penawaran")
    if chosen == "ask" and view.offer.person_id is not None:
        return Goto("kebutuhanku.tanya")
    if chosen == "shortlist" and view.offer.status == OfferStatus.ACTIVE:
        offers.toggle_shortlist(ctx.session, offer=view.offer)
        return Again()
    if chosen == "award" and view.offer.status == OfferStatus.ACTIVE:
        return Goto("kebutuhanku.pilih")
    return Retry(ctx.t("errors.choose_option"))


def _question_prompt(ctx: Context) -> Reply:
    return Reply(
        ctx.t("need.question.ask"), options=(Option(BACK, ctx.t("common.back")),), accepts_text=True
    )


async def _take_question(ctx: Context, incoming: Incoming) -> Outcome:
    _, view = _chosen_offer(ctx)
    if view is None or incoming.option_id == BACK:
        return Goto("kebutuhanku.tawaran")
    try:
        question = private_text_parser("need.question.invalid", max_length=500)(ctx, incoming)
    except Invalid as invalid:
        return Retry(invalid.reason)
    offers.ask(ctx.session, offer=view.offer, question=question, now=ctx.now)
    sent = ctx.t("need.question.sent", name=view.business_name)
    notice = contacts_hidden_notice(ctx, question)
    return Goto("kebutuhanku.tawaran", say=(Reply(f"{sent}\n{notice}" if notice else sent),))


def _award_prompt(ctx: Context) -> Reply:
    need, view = _chosen_offer(ctx)
    if view is None:
        return Reply(ctx.t("need.offer.gone"), options=(Option(BACK, ctx.t("common.back")),))
    most = min(view.offer.quantity, need.quantity - offers.awarded_quantity(ctx.session, need))
    text = ctx.t(
        "need.award.ask",
        name=view.business_name,
        quantity=f"{format_number(most)} {need.unit}",
    )
    options = (
        Option(f"q:{most}", ctx.t("need.award.all", quantity=format_number(most))),
        Option(BACK, ctx.t("common.back")),
    )
    return Reply(text, options=options, accepts_text=True)


async def _take_award(ctx: Context, incoming: Incoming) -> Outcome:
    need, view = _chosen_offer(ctx)
    if view is None or incoming.option_id == BACK:
        return Goto("kebutuhanku.tawaran")
    if incoming.option_id and incoming.option_id.startswith("q:"):
        quantity = int(incoming.option_id[2:])
    else:
        quantity = parse_count(incoming.clean_text) if incoming.clean_text else None
    if not quantity:
        return Retry(ctx.t("need.award.invalid"))
    try:
        partnership = offers.award(
            ctx.session, need=need, offer=view.offer, quantity=quantity, now=ctx.now
        )
    except offers.TooMuch as too_much:
        left = f"{format_number(too_much.left)} {need.unit}"
        return Retry(ctx.t("need.award.too_much", quantity=left))
    except (offers.OfferGone, needs.NeedClosed):
        return Goto("kebutuhanku.penawaran", say=(Reply(ctx.t("need.already_closed")),))
    said = ctx.t(
        "need.award.done",
        name=view.business_name,
        quantity=f"{format_number(partnership.quantity)} {need.unit}",
        value=format_rupiah(partnership.value),
    )
    if need.status == NeedStatus.AWARDED:
        return Goto("kebutuhanku.detail", say=(Reply(said), Reply(ctx.t("need.all_awarded"))))
    return Goto("kebutuhanku.penawaran", say=(Reply(said),))


def _finish(session, *, need: Need, now: datetime) -> None:  # noqa: ANN001 - a Session
    offers.finish(session, need=need, now=now)


COMPANY_NEEDS = Flow(
    "kebutuhanku",
    roles=frozenset({"company"}),
    steps=(
        choice_step(
            "daftar",
            ask=_list_text,
            options=_list_options,
            choose=_on_list,
            title="need.mine.title",
        ),
        choice_step("detail", ask=_detail_text, options=_detail_options, choose=_on_detail),
        Step("perpanjang", _deadline_prompt, _take_new_deadline),
        _confirm_step("tutup", "need.close_ask", needs.close_early, "need.closed"),
        _confirm_step("batalkan", "need.cancel_ask", needs.cancel, "need.cancelled"),
        _confirm_step("selesai", "need.finish_ask", _finish, "need.finished"),
        choice_step("penawaran", ask=_offers_text, options=_offers_options, choose=_on_offers),
        Step("tawaran", _offer_prompt, _on_offer),
        Step("tanya", _question_prompt, _take_question),
        Step("pilih", _award_prompt, _take_award),
    ),
)
