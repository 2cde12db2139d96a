"""Proactive messages (outbox rows) written as chat text, in the person's language.

Services enqueue a template name and its parameters; the sender (or the console inbox)
renders them here at delivery time. Besides the text, a renderer gives the message's
facts as display strings in `Reply.fields` ("quantity": "5.000 pasang", "deadline":
"Senin, 30 November 2026 pukul 23.59 WIB"): WhatsApp fills an approved template's
placeholders with them outside its 24-hour window (config.toml names which, in order).
Words and formats live here, never in services or channels.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from bot.core.i18n import Translator
from bot.core.messages import MediaRef, Option, Reply
from bot.parsing.dates import WIB, format_date, format_when
from bot.parsing.identity import format_phone
from bot.parsing.numbers import format_number, format_rupiah
from bot.reference import load_reference
from handlers.reasons import reasons_text

log = logging.getLogger(__name__)

Renderer = Callable[[Translator, dict], Reply]


def deep_link(name: str, argument: object) -> str:
    """An option id that opens the step registered as `name` in DEEP_LINKS, from any step."""
    return f"@{name}:{argument}"


def _when(t: Translator, iso: str) -> str:
    return format_when(datetime.fromisoformat(iso), t.language)


def _day(t: Translator, iso: str) -> str:
    """The date alone (a delivery date is a day, its midnight no time to show)."""
    return format_date(datetime.fromisoformat(iso).astimezone(WIB).date(), t.language)


def _bimtek_lines(t: Translator, params: dict) -> str:
    lines = [
        params["title"],
        t("bimtek.line.organiser", organiser=params["organiser"]),
        t("bimtek.line.when", when=_when(t, params["starts_at"])),
        t("bimtek.line.venue", venue=params["venue"]),
    ]
    if params.get("bring"):
        lines.append(t("bimtek.line.bring", bring=params["bring"]))
    return "\n".join(lines)


def _bimtek_fields(t: Translator, params: dict) -> dict[str, str]:
    return {
        "title": params["title"],
        "organiser": params["organiser"],
        "when": _when(t, params["starts_at"]),
        "venue": params["venue"],
    }


def _announcement(t: Translator, params: dict) -> Reply:
    image = MediaRef.from_stored(params["image_ref"]) if params.get("image_ref") else None
    return Reply(
        params["text"],
        title=t("notify.announcement_title"),
        image=image,
        fields={"text": params["text"]},
    )


def _bimtek_announced(t: Translator, params: dict) -> Reply:
    text = "\n".join(
        [
            _bimtek_lines(t, params),
            t("bimtek.line.quota", quota=params["quota"]),
            t("bimtek.line.deadline", deadline=_when(t, params["registration_deadline"])),
        ]
    )
    options = (Option(deep_link("bimtek", params["id"]), t("notify.see_bimtek")),)
    fields = {
        **_bimtek_fields(t, params),
        "deadline": _when(t, params["registration_deadline"]),
    }
    return Reply(text, title=t("notify.bimtek_new"), options=options, fields=fields)


def _bimtek_reminder(t: Translator, params: dict) -> Reply:
    if params["which"] == "H-2h":
        title = t("notify.reminder_soon")
    elif params.get("same_day"):
        title = t("notify.reminder_today")
    else:
        title = t("notify.reminder_tomorrow")
    text = "\n".join([_bimtek_lines(t, params), t("bimtek.line.code", code=params["checkin_code"])])
    fields = {**_bimtek_fields(t, params), "code": params["checkin_code"]}
    # Someone who cannot come frees the seat for the next on the waiting list, in one tap.
    options = (Option(deep_link("tidak_hadir", params["id"]), t("notify.cannot_come")),)
    return Reply(text, title=title, options=options, fields=fields)


def _with_title(title_key: str, extra_key: str | None = None) -> Renderer:
    def render(t: Translator, params: dict) -> Reply:
        text = _bimtek_lines(t, params)
        if extra_key:
            text = f"{t(extra_key, **params)}\n\n{text}"
        fields = _bimtek_fields(t, params)
        if params.get("checkin_code"):
            fields["code"] = params["checkin_code"]
        if params.get("previous_starts_at"):
            fields["previous"] = _when(t, params["previous_starts_at"])
        return Reply(text, title=t(title_key), fields=fields)

    return render


def _nudge(t: Translator, params: dict) -> Reply:
    options = (Option(deep_link("produk", ""), t("notify.see_products")),)
    return Reply(
        t("notify.nudge", **params),
        title=t("notify.nudge_title"),
        options=options,
        fields={"business_name": params["business_name"]},
    )


def _invitation(t: Translator, params: dict) -> Reply:
    """The Dinas's invitation to a number from its registry: says where the data came from."""
    fields = {"business_name": params["business_name"], "source": params["source"]}
    options = (
        Option(deep_link("gabung", params["record_id"]), t("invite.join")),
        Option(deep_link("berhenti", ""), t("invite.stop")),
    )
    return Reply(
        t("invite.text", **fields), title=t("invite.title"), options=options, fields=fields
    )


# --- procurement -------------------------------------------------------------------------


def _quantity(params: dict, key: str = "quantity") -> str:
    return f"{format_number(params[key])} {params['unit']}"


def _call_lines(t: Translator, params: dict) -> list[str]:
    return [
        params["title"],
        t("call.company", company=params["company"]),
        t("need.line.quantity", quantity=_quantity(params)),
        t("need.line.deadline", when=_when(t, params["deadline"])),
        t("need.line.delivery", when=_when(t, params["delivery_date"]), place=params["place"]),
    ]


def _need_fields(t: Translator, params: dict) -> dict[str, str]:
    """A need's facts as display text, for the templates of the messages about it."""
    return {
        "title": params["title"],
        "company": params["company"],
        "quantity": _quantity(params),
        "deadline": _when(t, params["deadline"]),
        "delivery_date": _day(t, params["delivery_date"]),
        "place": params["place"],
    }


def _need_call(t: Translator, params: dict) -> Reply:
    lines = _call_lines(t, params)
    why = reasons_text(t, params.get("reasons") or [], params["unit"])
    if why:
        lines.append(t("call.why", reasons=why))
    options = (
        Option(deep_link("peluang", params["id"]), t("call.see_detail")),
        Option(deep_link("tawar", params["id"]), t("call.make_offer")),
        Option(deep_link("tidak", params["id"]), t("call.decline")),
    )
    return Reply(
        "\n".join(lines),
        title=t("notify.call_title"),
        options=options,
        fields=_need_fields(t, params),
    )


def _need_digest(t: Translator, params: dict) -> Reply:
    calls = [
        t(
            "call.line",
            number=number,
            title=call["title"],
            quantity=_quantity(call),
            deadline=_when(t, call["deadline"]),
        )
        for number, call in enumerate(params["calls"], start=1)
    ]
    count = len(params["calls"])
    options = (Option(deep_link("daftar_peluang", ""), t("notify.see_calls")),)
    return Reply(
        "\n".join([t("notify.digest_text", count=count), *calls]),
        title=t("notify.digest_title"),
        options=options,
        fields={"count": format_number(count), "calls": "; ".join(calls)},
    )


def _need_changed(title_key: str, with_button: bool) -> Renderer:
    def render(t: Translator, params: dict) -> Reply:
        options = (
            (Option(deep_link("peluang", params["id"]), t("call.see_detail")),)
            if with_button
            else ()
        )
        return Reply(
            "\n".join(_call_lines(t, params)),
            title=t(title_key),
            options=options,
            fields=_need_fields(t, params),
        )

    return render


def _need_summary(t: Translator, params: dict) -> Reply:
    lines = [params["title"], t("notify.summary_offers", count=params["offers"])]
    if params["offers"]:
        lowest = format_rupiah(params["lowest_price"])
        offered = _quantity(params, "offered_quantity")
        lines.append(t("notify.summary_lowest", price=lowest))
        lines.append(t("notify.summary_quantity", quantity=offered))
        result = t("notify.summary_result", count=params["offers"], price=lowest, quantity=offered)
    else:
        result = t("notify.summary_result_none")
    options = (Option(deep_link("penawaran", params["id"]), t("need.see_offers")),)
    return Reply(
        "\n".join(lines),
        title=t("notify.summary_title"),
        options=options,
        fields={**_need_fields(t, params), "result": result},
    )


def _offer_received(t: Translator, params: dict) -> Reply:
    text = t("notify.offer_received_text", ikm=params["ikm"], title=params["title"])
    options = (Option(deep_link("penawaran", params["id"]), t("need.see_offers")),)
    fields = {**_need_fields(t, params), "ikm": params["ikm"]}
    return Reply(text, title=t("notify.offer_received"), options=options, fields=fields)


def _offer_question(t: Translator, params: dict) -> Reply:
    text = t(
        "notify.question_text",
        company=params["company"],
        title=params["title"],
        question=params["question"],
    )
    options = (Option(deep_link("jawab", params["question_id"]), t("notify.answer")),)
    fields = {**_need_fields(t, params), "question": params["question"]}
    return Reply(text, title=t("notify.question_title"), options=options, fields=fields)


def _offer_answer(t: Translator, params: dict) -> Reply:
    text = t(
        "notify.answer_text",
        ikm=params["ikm"],
        question=params["question"],
        answer=params["answer"],
    )
    options = (Option(deep_link("penawaran", params["id"]), t("need.see_offers")),)
    fields = {
        **_need_fields(t, params),
        "ikm": params["ikm"],
        "question": params["question"],
        "answer": params["answer"],
    }
    return Reply(
        text,
        title=t("notify.answer_title", title=params["title"]),
        options=options,
        fields=fields,
    )


def _not_chosen(t: Translator, params: dict) -> Reply:
    return Reply(
        t("notify.not_chosen_text", title=params["title"], company=params["company"]),
        title=t("notify.not_chosen"),
        fields=_need_fields(t, params),
    )


def _award(text_key: str, title_key: str) -> Renderer:
    def render(t: Translator, params: dict) -> Reply:
        fields = {
            **_need_fields(t, params),
            "awarded": _quantity(params, "awarded_quantity"),
            "amount": format_rupiah(params["value"]),
            "contact_name": params["contact_name"],
            "phone": format_phone(params["contact_phone"]) if params.get("contact_phone") else "-",
        }
        # The company's address goes to the IKM; the IKM's name and kecamatan to the company.
        for key in ("address", "ikm", "kecamatan"):
            if key in params:
                fields[key] = params[key] or "-"
        return Reply(t(text_key, **fields), title=t(title_key), fields=fields)

    return render


def _company_decision(t: Translator, params: dict, key: str) -> Reply:
    fields = {"name": params["name"], "reason": params.get("reason") or "-"}
    return Reply(t(f"notify.{key}_text", **fields), title=t(f"notify.{key}"), fields=fields)


def _company_waiting(t: Translator, params: dict) -> Reply:
    estate = load_reference().estate(params["estate"])
    key = "notify.company_waiting_again_text" if params["again"] else "notify.company_waiting_text"
    fields = {"name": params["name"], "estate": estate.label if estate else params["estate"]}
    options = (Option(deep_link("verifikasi", params["id"]), t("notify.verify_now")),)
    return Reply(
        t(key, **fields), title=t("notify.company_waiting"), options=options, fields=fields
    )


def _claim_dropped(t: Translator, params: dict) -> Reply:
    """A number the person typed was proven by its owner (the claimant typed it: theirs to see)."""
    fields = {"phone": format_phone(params["phone"])}
    return Reply(
        t("identity.claim_dropped_text", **fields), title=t("identity.claim_dropped"), fields=fields
    )


RENDERERS: dict[str, Renderer] = {
    "company.waiting": _company_waiting,
    "company.verified": lambda t, p: _company_decision(t, p, "company_verified"),
    "company.rejected": lambda t, p: _company_decision(t, p, "company_rejected"),
    "need.call": _need_call,
    "need.digest": _need_digest,
    "need.extended": _need_changed("notify.need_extended", with_button=True),
    "need.closed": _need_changed("notify.need_closed", with_button=False),
    "need.cancelled": _need_changed("notify.need_cancelled", with_button=False),
    "need.summary": _need_summary,
    "offer.received": _offer_received,
    "offer.question": _offer_question,
    "offer.answer": _offer_answer,
    "offer.not_chosen": _not_chosen,
    "offer.withdrawn_erased": lambda t, p: Reply(
        t("erasure.offer_withdrawn_text", title=p["title"]),
        title=t("erasure.offer_withdrawn"),
        fields=_need_fields(t, p),
    ),
    "award.won": _award("notify.award_won_text", "notify.award_won"),
    "award.partner": _award("notify.award_partner_text", "notify.award_partner"),
    "ikm.nudge": _nudge,
    "registry.invite": _invitation,
    "announcement": _announcement,
    "bimtek.announced": _bimtek_announced,
    "bimtek.reminder": _bimtek_reminder,
    "bimtek.promoted": _with_title("notify.bimtek_promoted", "notify.bimtek_promoted_text"),
    "bimtek.rescheduled": _with_title("notify.bimtek_rescheduled"),
    "bimtek.cancelled": _with_title("notify.bimtek_cancelled"),
    "bimtek.closed_waitlist": _with_title("notify.bimtek_closed_waitlist"),
    "identity.claim_dropped": _claim_dropped,
}


def render(t: Translator, template: str, params: dict) -> Reply:
    renderer = RENDERERS.get(template)
    if renderer is None:  # a row written by a newer version, or a removed template
        log.error("no renderer for outbox template %r", template)
        return Reply(t("notify.generic"))
    return renderer(t, params)
