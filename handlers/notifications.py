"""Proactive messages (outbox rows) written as chat text, in the person's language.

Services enqueue a template name and its parameters; the sender (or the console inbox)
renders them here at delivery time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from bot.core.i18n import Translator
from bot.core.messages import MediaRef, Option, Reply
from bot.parsing.dates import format_when

log = logging.getLogger(__name__)

Renderer = Callable[[Translator, dict], Reply]


def deep_link(name: str, argument: object) -> str:
    """An option id that opens the step registered as `name` in DEEP_LINKS, from any step."""
    return f"@{name}:{argument}"


def _when(t: Translator, iso: str) -> str:
    return format_when(datetime.fromisoformat(iso), t.language)


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


def _announcement(t: Translator, params: dict) -> Reply:
    image = MediaRef.from_stored(params["image_ref"]) if params.get("image_ref") else None
    return Reply(params["text"], title=t("notify.announcement_title"), image=image)


def _bimtek_announced(t: Translator, params: dict) -> Reply:
    text = "\n".join(
        [
            _bimtek_lines(t, params),
            t("bimtek.line.quota", quota=params["quota"]),
            t("bimtek.line.deadline", deadline=_when(t, params["registration_deadline"])),
        ]
    )
    options = (Option(deep_link("bimtek", params["id"]), t("notify.see_bimtek")),)
    return Reply(text, title=t("notify.bimtek_new"), options=options)


def _bimtek_reminder(t: Translator, params: dict) -> Reply:
    if params["which"] == "H-2h":
        title = t("notify.reminder_soon")
    elif params.get("same_day"):
        title = t("notify.reminder_today")
    else:
        title = t("notify.reminder_tomorrow")
    text = "\n".join([_bimtek_lines(t, params), t("bimtek.line.code", code=params["checkin_code"])])
    return Reply(text, title=title)


def _with_title(title_key: str, extra_key: str | None = None) -> Renderer:
    def render(t: Translator, params: dict) -> Reply:
        text = _bimtek_lines(t, params)
        if extra_key:
            text = f"{t(extra_key, **params)}\n\n{text}"
        return Reply(text, title=t(title_key))

    return render


def _nudge(t: Translator, params: dict) -> Reply:
    options = (Option(deep_link("produk", ""), t("notify.see_products")),)
    return Reply(t("notify.nudge", **params), title=t("notify.nudge_title"), options=options)


RENDERERS: dict[str, Renderer] = {
    "ikm.nudge": _nudge,
    "announcement": _announcement,
    "bimtek.announced": _bimtek_announced,
    "bimtek.reminder": _bimtek_reminder,
    "bimtek.promoted": _with_title("notify.bimtek_promoted", "notify.bimtek_promoted_text"),
    "bimtek.rescheduled": _with_title("notify.bimtek_rescheduled"),
    "bimtek.cancelled": _with_title("notify.bimtek_cancelled"),
    "bimtek.closed_waitlist": _with_title("notify.bimtek_closed_waitlist"),
}


def render(t: Translator, template: str, params: dict) -> Reply:
    renderer = RENDERERS.get(template)
    if renderer is None:  # a row written by a newer version, or a removed template
        log.error("no renderer for outbox template %r", template)
        return Reply(t("notify.generic"))
    return renderer(t, params)
