"""An IKM's side of procurement: open calls ("Peluang"), offers, and answers to questions."""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter

from bot.core.flow import Context, Finish, Flow, Goto, Outcome, Retry, Step
from bot.core.messages import Incoming, Option, Reply
from bot.core.pickers import Picker, pick_step
from bot.core.steps import (
    SKIP,
    Form,
    FormField,
    Invalid,
    choice_step,
    edit_field_step,
    field_step,
    go_on,
    remembered,
    remembered_id,
    skip_option,
    too_large,
    typed_text,
)
from bot.core.understanding import Amount, Expect, Kind
from bot.parsing.dates import format_when
from bot.parsing.numbers import (
    MAX_UNIT_PRICE,
    TooLarge,
    format_number,
    format_rupiah,
    parse_amount_within,
    parse_quantity,
    parse_quantity_within,
)
from bot.services import ikm as ikm_service
from bot.services import needs, offers
from handlers.parties import company_name
from handlers.reasons import describe_reasons
from handlers.summary import contacts_hidden_notice, need_lines, private_text_parser
from models import Company, Need, OfferFields, OfferStatus
from models.base import as_utc

SECTION = "offer"
BACK = "back"
MENU = "menu"
SEND = "send"
EDIT = "edit"
DROP = "drop"
ALL = "all"
TITLE_ROOM = 40
DAYS_PER = {"hari": 1, "hr": 1, "minggu": 7, "mgg": 7, "pekan": 7, "bulan": 30, "bln": 30}


def _ikm(ctx: Context):
    return ikm_service.profile_of(ctx.session, ctx.person)


def _need(ctx: Context) -> Need | None:
    return _visible_need(ctx, remembered(ctx) or "")


def _visible_need(ctx: Context, arg: str) -> Need | None:
    ikm = _ikm(ctx)
    if ikm is None or not arg.isdigit():
        return None
    return needs.visible_to_ikm(ctx.session, ikm, int(arg), now=ctx.now)


# --- the list of open calls ---------------------------------------------------------------


def _calls(ctx: Context) -> list[Need]:
    return needs.open_calls_for(ctx.session, _ikm(ctx), now=ctx.now)


def _list_text(ctx: Context, calls: Sequence[Need]) -> str:
    if not calls:
        return ctx.t("call.none")
    lines = [ctx.t("call.intro")]
    for number, need in enumerate(calls, start=1):
        lines.append(
            ctx.t(
                "call.line",
                number=number,
                title=need.title,
                quantity=f"{format_number(need.quantity)} {need.unit}",
                deadline=format_when(as_utc(need.deadline), ctx.t.language),
            )
        )
    return "\n".join(lines)


OPEN_CALLS = Picker("n", records=_calls, label=attrgetter("title"))


def _back_to_menu(ctx: Context) -> list[Option]:
    return [Option(MENU, ctx.t("common.back_to_menu"))]


def _to_menu(ctx: Context, chosen: str) -> Outcome:
    return Finish()


# --- one call -----------------------------------------------------------------------------


def _detail_text(ctx: Context) -> str:
    need = _need(ctx)
    if need is None:
        return ctx.t("call.gone")
    ikm = _ikm(ctx)
    company = ctx.session.get(Company, need.company_id)
    lines = [ctx.t("call.company", company=company_name(ctx, company.name)), *need_lines(ctx, need)]
    match = needs.match_of(ctx.session, need, ikm)
    if match is not None and match.reasons:
        lines.append(ctx.t("call.why", reasons=describe_reasons(ctx, match.reasons, need)))
    offer = needs.offer_of(ctx.session, need, ikm)
    if offer is not None:
        lines.append(_offer_status_line(ctx, offer, need))
    elif not needs.is_open(need, ctx.now):
        lines.append(ctx.t("call.closed"))
    return "\n".join(lines)


def _offer_status_line(ctx: Context, offer, need: Need) -> str:  # noqa: ANN001 - an Offer
    return ctx.t(
        f"call.your_offer.{offer.status}",
        price=format_rupiah(offer.price_per_unit),
        unit=need.unit,
        quantity=format_number(offer.quantity),
    )


def _detail_options(ctx: Context) -> list[Option]:
    need = _need(ctx)
    back = Option(BACK, ctx.t("call.back_to_list"))
    if need is None or not needs.is_open(need, ctx.now):
        return [back]
    offer = needs.offer_of(ctx.session, need, _ikm(ctx))
    if offer is not None and offer.status in offers.DECIDED:
        return [back]  # awarded or answered: the offer stays as it was decided
    if offer is None or offer.status == OfferStatus.WITHDRAWN:
        return [
            Option("offer", ctx.t("call.make_offer")),
            Option("decline", ctx.t("call.decline")),
            back,
        ]
    return [
        Option("offer", ctx.t("call.change_offer")),
        Option("withdraw", ctx.t("call.withdraw")),
        back,
    ]


def _on_detail(ctx: Context, chosen: str) -> Outcome:
    if chosen == BACK:
        return Goto("peluang.daftar")
    if chosen == "offer":
        return _start_offer(ctx)
    if chosen == "decline":
        return Goto("peluang.tidak")
    return Goto("peluang.tarik")


def _start_offer(ctx: Context) -> Outcome:
    """The offer form, filled with the current offer when there is one."""
    need = _need(ctx)
    offer = needs.offer_of(ctx.session, need, _ikm(ctx)) if need else None
    if offer is not None and offer.status == OfferStatus.ACTIVE:
        ctx.data[SECTION] = OfferFields.model_validate(offer.model_dump()).model_dump()
        return Goto("tawar.ringkasan")
    return Goto("tawar.harga")


def _yes_back(ctx: Context) -> list[Option]:
    return [Option("yes", ctx.t("common.yes")), Option(BACK, ctx.t("common.back"))]


def _on_decline(ctx: Context, chosen: str) -> Outcome:
    need = _need(ctx)
    if chosen == BACK or need is None:
        return Goto("peluang.detail")
    needs.decline(ctx.session, need=need, ikm=_ikm(ctx), now=ctx.now)
    return Finish(say=(Reply(ctx.t("call.declined")),))


def _on_withdraw(ctx: Context, chosen: str) -> Outcome:
    need = _need(ctx)
    if chosen == BACK or need is None:
        return Goto("peluang.detail")
    offer = needs.offer_of(ctx.session, need, _ikm(ctx))
    try:
        offers.withdraw(ctx.session, offer=offer, need=need, now=ctx.now)
    except needs.NeedClosed:
        return Goto("peluang.detail", say=(Reply(ctx.t("call.closed")),))
    except offers.OfferGone:
        return Goto("peluang.detail", say=(Reply(ctx.t("call.decided")),))
    return Goto("peluang.detail", say=(Reply(ctx.t("call.withdrawn")),))


def entry_for_offer(ctx: Context, argument: str) -> str:
    """ "Ajukan penawaran" on a call message: the empty form, or, when an offer was made
    since, the call with that offer and what can still be done with it."""
    return "peluang.detail" if _has_offer(ctx, argument) else "tawar.harga"


def entry_for_decline(ctx: Context, argument: str) -> str:
    """ "Tidak berminat" on a call the IKM has offered on: the call, where the offer can
    be withdrawn, rather than a decline that leaves the offer standing."""
    return "peluang.detail" if _has_offer(ctx, argument) else "peluang.tidak"


def _has_offer(ctx: Context, argument: str) -> bool:
    need = _visible_need(ctx, argument)
    offer = needs.offer_of(ctx.session, need, _ikm(ctx)) if need is not None else None
    return offer is not None and offer.status != OfferStatus.WITHDRAWN


CALLS = Flow(
    "peluang",
    roles=frozenset({"ikm"}),
    steps=(
        pick_step(
            "daftar",
            picker=OPEN_CALLS,
            ask=_list_text,
            then="peluang.detail",
            extras=_back_to_menu,
            on_extra=_to_menu,
            title="call.title",
        ),
        choice_step("detail", ask=_detail_text, options=_detail_options, choose=_on_detail),
        choice_step("tidak", ask="call.decline_ask", options=_yes_back, choose=_on_decline),
        choice_step("tarik", ask="call.withdraw_ask", options=_yes_back, choose=_on_withdraw),
    ),
)


# --- the offer form -----------------------------------------------------------------------


def _closed_reply(ctx: Context) -> Reply:
    return Reply(ctx.t("call.gone"), options=(Option(MENU, ctx.t("common.back_to_menu")),))


def _open_need_or_none(ctx: Context) -> Need | None:
    need = _need(ctx)
    return need if need is not None and needs.is_open(need, ctx.now) else None


def _offer_field(name: str, field: str, ask, parse, next_step: str, **extra) -> Step:  # noqa: ANN001
    """A field of the offer; when the call has closed meanwhile, it says so instead."""
    inner = field_step(
        name, section=SECTION, field=field, ask=ask, parse=parse, next_step=next_step, **extra
    )

    def prompt(ctx: Context) -> Reply:
        need = _open_need_or_none(ctx)
        return _closed_reply(ctx) if need is None else inner.prompt(ctx)

    def handle(ctx: Context, incoming: Incoming) -> Outcome:
        if _open_need_or_none(ctx) is None:
            return Finish(say=(Reply(ctx.t("call.gone")),))
        return inner.handle(ctx, incoming)

    def expect(ctx: Context) -> Expect:
        # The field's own, so typed answers are read as for any field ("-" skips the note).
        return inner.expect(ctx) if _open_need_or_none(ctx) is not None else Expect(Kind.TEXT)

    return Step(name, prompt, handle, expect, fills=field)


def _price_ask(ctx: Context) -> str:
    need = _need(ctx)
    unit = need.unit if need else "pcs"
    target = ""
    if need is not None and need.price_per_unit:
        target = ctx.t("offer.price.target", price=format_rupiah(need.price_per_unit), unit=unit)
    return ctx.t("offer.price.ask", unit=unit, target=target)


def _parse_price(ctx: Context, incoming: Incoming) -> int:
    amount = parse_amount_within(typed_text(ctx, incoming), MAX_UNIT_PRICE)
    if isinstance(amount, TooLarge):
        raise too_large(ctx, format_rupiah(amount.limit))
    if not amount:
        raise Invalid(ctx.t("offer.price.invalid"))
    return amount


def _read_price(ctx: Context, read: tuple[int, int]) -> int:
    low, high = read
    if low != high:  # an offer is one price, not a range
        raise Invalid(ctx.t("offer.price.invalid"))
    return low


def _quantity_ask(ctx: Context) -> str:
    need = _need(ctx)
    return ctx.t("offer.quantity.ask", quantity=f"{format_number(need.quantity)} {need.unit}")


def _quantity_options(ctx: Context) -> list[Option]:
    need = _need(ctx)
    return [Option(ALL, ctx.t("offer.quantity.all", quantity=format_number(need.quantity)))]


def _parse_quantity(ctx: Context, incoming: Incoming) -> int:
    need = _need(ctx)
    if incoming.option_id == ALL:
        return need.quantity
    quantity = parse_quantity_within(typed_text(ctx, incoming), need.quantity)
    if quantity is None:
        raise Invalid(ctx.t("offer.quantity.invalid"))
    if isinstance(quantity, TooLarge):
        raise Invalid(ctx.t("offer.quantity.too_much", quantity=format_number(need.quantity)))
    return _within_need(ctx, quantity.amount)


def _read_quantity(ctx: Context, read: Amount) -> int:
    return _within_need(ctx, read.amount)


def _within_need(ctx: Context, amount: int) -> int:
    need = _need(ctx)
    if amount > need.quantity:
        raise Invalid(ctx.t("offer.quantity.too_much", quantity=format_number(need.quantity)))
    return amount


def parse_lead_time(text: str) -> int | None:
    """ "14 hari", "2 minggu", "1 bulan", "10" -> days; None if it is not a duration."""
    words = text.lower().replace("-", " ").split()
    if not words or len(words) > 3:
        return None
    # "2 mingguan", "sebulanan": the period said with the "-an" of an approximation.
    unit = DAYS_PER.get(words[-1]) or DAYS_PER.get(words[-1].removesuffix("an"))
    number_words = words[:-1] if unit else words
    unit = unit or 1
    amount = parse_quantity(" ".join(number_words)) if number_words else None
    if amount is None or amount.unit:
        return None
    days = amount.amount * unit
    return days if 0 < days <= 730 else None


def _parse_lead_time(ctx: Context, incoming: Incoming) -> int:
    days = parse_lead_time(typed_text(ctx, incoming))
    if days is None:
        raise Invalid(ctx.t("offer.lead_time.invalid"))
    return days


def _photo_prompt(ctx: Context) -> Reply:
    if _open_need_or_none(ctx) is None:
        return _closed_reply(ctx)
    return Reply(ctx.t("offer.photo.ask"), options=(skip_option(ctx),), accepts_text=True)


def _take_photo(ctx: Context, incoming: Incoming) -> Outcome:
    if _open_need_or_none(ctx) is None:
        return Finish(say=(Reply(ctx.t("call.gone")),))
    if incoming.photo is not None:
        ctx.section(SECTION)["photo_ref"] = incoming.photo.as_stored()
    elif incoming.option_id == SKIP:
        ctx.section(SECTION)["photo_ref"] = None
    else:
        return Retry(ctx.t("offer.photo.invalid"))
    return go_on(ctx, "tawar.ringkasan")


def _summary_text(ctx: Context) -> str:
    need = _open_need_or_none(ctx)
    if need is None:
        return ctx.t("call.gone")
    draft = ctx.section(SECTION)
    total = draft.get("price_per_unit", 0) * draft.get("quantity", 0)
    lines = [
        need.title,
        ctx.t(
            "offer.field.price_value",
            price=format_rupiah(draft.get("price_per_unit", 0)),
            unit=need.unit,
        ),
        ctx.t(
            "offer.field.quantity_value",
            quantity=f"{format_number(draft.get('quantity', 0))} {need.unit}",
        ),
        ctx.t("offer.field.lead_time_value", days=draft.get("lead_time_days", 0)),
        ctx.t("offer.field.note_value", note=draft.get("note") or "-"),
        ctx.t(
            "offer.field.photo_value",
            photo=ctx.t("summary.photo_yes") if draft.get("photo_ref") else "-",
        ),
        ctx.t("offer.field.total_value", total=format_rupiah(total)),
        "",
        ctx.t("offer.check_then_send"),
    ]
    notice = contacts_hidden_notice(ctx, draft.get("note"))
    return "\n".join([*lines, notice] if notice else lines)


def _summary_options(ctx: Context) -> list[Option]:
    if _open_need_or_none(ctx) is None:
        return [Option(MENU, ctx.t("common.back_to_menu"))]
    return [
        Option(SEND, ctx.t("offer.send")),
        Option(EDIT, ctx.t("common.edit")),
        Option(DROP, ctx.t("offer.drop")),
    ]


def _on_summary(ctx: Context, chosen: str) -> Outcome:
    need = _open_need_or_none(ctx)
    if chosen in (MENU, DROP) or need is None:
        key = "offer.dropped" if chosen == DROP else "call.gone"
        return Finish(say=(Reply(ctx.t(key)),))
    if chosen == EDIT:
        return Goto("tawar.ubah")
    try:
        fields = OfferFields.model_validate(ctx.section(SECTION))
    except ValueError:
        return Goto("tawar.ubah", say=(Reply(ctx.t("errors.incomplete")),))
    try:
        _, created = offers.submit(
            ctx.session, need=need, ikm=_ikm(ctx), fields=fields, now=ctx.now
        )
    except needs.NeedClosed:
        return Finish(say=(Reply(ctx.t("call.gone")),))
    except offers.OfferGone:
        return Finish(say=(Reply(ctx.t("call.decided")),))
    except offers.TooMuch:
        return Goto("tawar.jumlah")
    key = "offer.sent" if created else "offer.changed"
    return Finish(say=(Reply(ctx.t(key, title=need.title)),))


# An offer's fields, in the order they are asked: the steps and the "which part to change"
# menu both come from this one list.
FORM = Form(
    "tawar",
    SECTION,
    fields=(
        FormField(
            "offer.field.price",
            _offer_field(
                "harga",
                "price_per_unit",
                _price_ask,
                _parse_price,
                "tawar.jumlah",
                kind=Kind.MONEY,
                read_as=_read_price,
                limit=MAX_UNIT_PRICE,
            ),
        ),
        FormField(
            "offer.field.quantity",
            _offer_field(
                "jumlah",
                "quantity",
                _quantity_ask,
                _parse_quantity,
                "tawar.waktu",
                options=_quantity_options,
                kind=Kind.QUANTITY,
                read_as=_read_quantity,
            ),
        ),
        FormField(
            "offer.field.lead_time",
            _offer_field(
                "waktu", "lead_time_days", "offer.lead_time.ask", _parse_lead_time, "tawar.catatan"
            ),
        ),
        FormField(
            "offer.field.note",
            _offer_field(
                "catatan",
                "note",
                "offer.note.ask",
                private_text_parser("offer.note.invalid", max_length=500),
                "tawar.foto",
                skippable=True,
            ),
        ),
        FormField(
            "offer.field.photo",
            Step("foto", _photo_prompt, _take_photo, fills="photo_ref"),
        ),
    ),
)

OFFER = Flow(
    "tawar",
    roles=frozenset({"ikm"}),
    steps=(
        *FORM.steps,
        choice_step(
            "ringkasan",
            ask=_summary_text,
            options=_summary_options,
            choose=_on_summary,
            title="offer.summary_title",
        ),
        edit_field_step("ubah", fields=FORM.edit_menu(), summary="tawar.ringkasan"),
    ),
)


# --- answering a company's question -------------------------------------------------------


def _question(ctx: Context):
    question_id = remembered_id(ctx)
    ikm = _ikm(ctx)
    if ikm is None or question_id is None:
        return None
    return offers.question_for_ikm(ctx.session, ikm, question_id)


def _answer_prompt(ctx: Context) -> Reply:
    question = _question(ctx)
    if question is None or question.answer is not None:
        return Reply(ctx.t("answer.gone"), options=(Option(MENU, ctx.t("common.back_to_menu")),))
    return Reply(ctx.t("answer.ask", question=question.question), accepts_text=True)


def _take_answer(ctx: Context, incoming: Incoming) -> Outcome:
    question = _question(ctx)
    if question is None or question.answer is not None or incoming.option_id == MENU:
        return Finish()
    try:
        text = private_text_parser("answer.invalid", max_length=500)(ctx, incoming)
    except Invalid as invalid:
        return Retry(invalid.reason)
    offers.answer(ctx.session, question=question, ikm=_ikm(ctx), text=text, now=ctx.now)
    notice = contacts_hidden_notice(ctx, text)
    said = ctx.t("answer.sent") + (f"\n{notice}" if notice else "")
    return Finish(say=(Reply(said),))


ANSWER = Flow(
    "jawab", roles=frozenset({"ikm"}), steps=(Step("teks", _answer_prompt, _take_answer),)
)
