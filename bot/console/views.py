"""Jinja2 pages: autoescaped, every word from the message catalog, in the officer's language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from bot.console.context import console_context
from bot.console.guard import CSRF_FIELD
from bot.console.signin import Officer
from bot.parsing.numbers import format_number, format_rupiah
from models.base import as_utc

ROOT = "/dinas"
TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class NavItem:
    """An entry of the console's menu: its path under /dinas and its catalog key."""

    path: str
    label: str


def build_environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["rupiah"] = lambda value: format_rupiah(int(value or 0))
    environment.filters["number"] = lambda value: format_number(int(value or 0))
    return environment


def render(
    request: Request,
    template: str,
    *,
    officer: Officer | None,
    status_code: int = 200,
    **values: object,
) -> HTMLResponse:
    """The page `template` with the layout's menu, the officer's language and CSRF token."""
    context = console_context(request)
    language = officer.language if officer else context.settings.app.default_language
    tz = context.settings.tz
    page = request.app.state.templates.get_template(template).render(
        t=context.catalog.translator(language),
        language=language,
        root=ROOT,
        nav=request.app.state.nav,
        path=request.url.path,
        officer=officer,
        csrf_field=CSRF_FIELD,
        csrf_token=officer.csrf_token if officer else "",
        when=lambda value: _shown_time(value, tz),
        day=lambda value: _shown_day(value, tz),
        has_page=lambda link: has_page(request.app.state.nav, link),
        **values,
    )
    return HTMLResponse(page, status_code=status_code)


def has_page(nav: list[NavItem], link: str) -> bool:
    """Whether a page group that serves `link` is registered (its first path segment)."""
    first = "/" + link.lstrip("/").split("?")[0].split("/")[0]
    return any(item.path == first for item in nav)


def _shown_time(value: datetime | None, tz: ZoneInfo) -> str:
    return "" if value is None else f"{as_utc(value).astimezone(tz):%d-%m-%Y %H:%M}"


def _shown_day(value: datetime | None, tz: ZoneInfo) -> str:
    return "" if value is None else f"{as_utc(value).astimezone(tz):%d-%m-%Y}"
