"""The console as a Starlette sub-app, mounted at /dinas by bot/web.py."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.config import Settings
from bot.console.context import ConsoleContext
from bot.console.pages import PAGE_MODULES
from bot.console.views import NavItem, build_environment
from bot.core.clock import Clock
from bot.core.i18n import Catalog

STATIC = Path(__file__).resolve().parent / "static"
# No script or style from elsewhere, no framing, no referrer (a sign-in link must not leak).
# Inline styles only because matplotlib's SVG charts carry style attributes.
SECURITY_HEADERS = (
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        b"script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    ),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
)


def build_console(
    *, database: sa.Engine, settings: Settings, catalog: Catalog, clock: Clock
) -> ASGIApp:
    """Every page module's routes and the shipped CSS, behind the security headers."""
    console = Starlette(routes=_routes())
    console.state.console = ConsoleContext(
        database=database, settings=settings, catalog=catalog, clock=clock
    )
    console.state.templates = build_environment()
    console.state.nav = _nav()
    return SecurityHeaders(console)


def _routes() -> list[BaseRoute]:
    routes: list[BaseRoute] = [route for module in PAGE_MODULES for route in module.ROUTES]
    routes.append(Mount("/static", StaticFiles(directory=STATIC), name="static"))
    return routes


def _nav() -> list[NavItem]:
    return [item for module in PAGE_MODULES for item in module.NAV]


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every console response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers)
