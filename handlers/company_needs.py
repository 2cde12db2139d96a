"""A company's needs: the list, the deadline, closing and cancelling, the offers on a need,
questions to an IKM and awards.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from operator import attrgetter

from bot.core.flow import Again, Context, Finish, Flow, Goto, Outcome, Retry, Step
from bot.core.messages import Incoming, MediaRef, Option, Reply
from bot.core.pickers import Picker, pick_step
from bot.core.steps import Invalid, choice_step, option_value, typed_text
from bot.parsing.dates import format_when
from bot.parsing.numbers import format_number, format_rupiah, parse_count
from bot.services import companies, needs, offers
from handlers.need_posting import deadline_at, verified_guard
from handlers.parties import ikm_name
from handlers.reasons import describe_reasons
from handlers.summary import contacts_hidden_notice, need_lines, private_text_parser
from models import Need, NeedStatus, OfferStatus
from models.base import as_utc

BACK = "back"
MENU = "menu"


def _company(ctx: Context):
    return companies.company_of(ctx.session, ctx.person)


def _chosen_need(ctx: Context) -> Need | None:
    need_id = MY_NEEDS.picked_id(ctx)
    company = _company(ctx)
    if company is None or need_id is None:
        return None
    return needs.need_of_company(ctx.session, company, need_id)


def _needs(ctx: Context) -> list:
    return needs.needs_of(ctx.session, _company(ctx))


def _list_text(ctx: Context, listed: Sequence) -> str:
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


MY_NEEDS = Picker(
    "n", records=_needs, label=lambda pair: pair[0].title, ident=lambda pair: pair[0].id
)


def _list_extras(ctx: Context) -> list[Option]:
    return [
        Option("new", ctx.t("menu.post_need")),
        Option(MENU, ctx.t("common.back_to_menu")),
    ]


def _on_list_extra(ctx: Context, chosen: str) -> Outcome:
    if chosen == MENU:
        return Finish()
    return Goto("kebutuhan.judul") if verified_guard(ctx) is None else Goto("kebutuhan.belum")


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


def _take_new_deadline(ctx: Context, incoming: Incoming) -> Outcome:
    need = _chosen_need(ctx)
    if incoming.option_id == BACK or need is None:
        return Goto("kebutuhanku.detail")
    try:
        at = deadline_at(ctx, typed_text(ctx, incoming))
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


def _offers_text(ctx: Context, views: Sequence) -> str:
    need = _chosen_need(ctx)
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


OFFERS = Picker(
    "o",
    records=_offer_views,
    label=attrgetter("business_name"),
    ident=lambda view: view.offer.id,
    numbered=True,
    keep_as="offer",
)


def _offers_extras(ctx: Context) -> list[Option]:
    need = _chosen_need(ctx)
    options = []
    deciding = need is not None and need.status in (NeedStatus.OPEN, NeedStatus.CLOSED)
    if deciding and offers.awarded_quantity(ctx.session, need):
        options.append(Option("finish", ctx.t("need.finish")))
    return [*options, Option(BACK, ctx.t("need.back_to_need"))]


def _on_offers_extra(ctx: Context, chosen: str) -> Outcome:
    if chosen == BACK:
        return Goto("kebutuhanku.detail")
    return Goto("kebutuhanku.selesai")


def _chosen_offer(ctx: Context):
    company = _company(ctx)
    need = _chosen_need(ctx)
    offer_id = OFFERS.picked_id(ctx)
    if company is None or need is None or offer_id is None:
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


def _on_offer(ctx: Context, incoming: Incoming) -> Outcome:
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


def _take_question(ctx: Context, incoming: Incoming) -> Outcome:
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


def _take_award(ctx: Context, incoming: Incoming) -> Outcome:
    need, view = _chosen_offer(ctx)
    if view is None or incoming.option_id == BACK:
        return Goto("kebutuhanku.tawaran")
    if incoming.option_id and incoming.option_id.startswith("q:"):
        quantity = int(option_value(incoming.option_id))
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
        pick_step(
            "daftar",
            picker=MY_NEEDS,
            ask=_list_text,
            then="kebutuhanku.detail",
            extras=_list_extras,
            on_extra=_on_list_extra,
            title="need.mine.title",
        ),
        choice_step("detail", ask=_detail_text, options=_detail_options, choose=_on_detail),
        Step("perpanjang", _deadline_prompt, _take_new_deadline),
        _confirm_step("tutup", "need.close_ask", needs.close_early, "need.closed"),
        _confirm_step("batalkan", "need.cancel_ask", needs.cancel, "need.cancelled"),
        _confirm_step("selesai", "need.finish_ask", _finish, "need.finished"),
        pick_step(
            "penawaran",
            picker=OFFERS,
            ask=_offers_text,
            then="kebutuhanku.tawaran",
            extras=_offers_extras,
            on_extra=_on_offers_extra,
        ),
        Step("tawaran", _offer_prompt, _on_offer),
        Step("tanya", _question_prompt, _take_question),
        Step("pilih", _award_prompt, _take_award),
    ),
)
