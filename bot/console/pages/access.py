"""Signing in and out: the page that says to ask for a link in the chat, the link itself
(a button, so that a chat app's link preview does not use it up), and signing out."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.config import Settings
from bot.console.context import console_context, in_transaction
from bot.console.guard import COOKIE, COOKIE_PATH, officer_form, set_session_cookie
from bot.console.signin import Officer, close_session, open_session, redeem_link
from bot.console.views import ROOT, NavItem, render


async def ask_for_link(request: Request) -> Response:
    return render(request, "access/ask.html", officer=None)


async def confirm_link(request: Request) -> Response:
    """Only a button: opening the link signs in nobody yet."""
    return render(request, "access/confirm.html", officer=None)


async def use_link(request: Request) -> Response:
    context = console_context(request)
    token = await in_transaction(
        request,
        _session_from_link,
        token=request.path_params["token"],
        settings=context.settings,
        now=context.now(),
    )
    if token is None:
        return render(request, "access/invalid.html", officer=None, status_code=403)
    response = RedirectResponse(f"{ROOT}/", status_code=303)
    set_session_cookie(response, token, secure=context.settings.console.secure)
    return response


def _session_from_link(
    *, session: Session, token: str, settings: Settings, now: datetime
) -> str | None:
    person = redeem_link(session, token=token, settings=settings, now=now)
    return None if person is None else open_session(session, person=person, now=now)


@officer_form
async def sign_out(request: Request, officer: Officer, form: FormData) -> Response:
    await in_transaction(request, close_session, token=request.cookies.get(COOKIE))
    response = render(request, "access/signed_out.html", officer=None)
    response.delete_cookie(COOKIE, path=COOKIE_PATH)
    return response


ROUTES = [
    Route("/masuk", ask_for_link, methods=["GET"]),
    Route("/masuk/{token}", confirm_link, methods=["GET"]),
    Route("/masuk/{token}", use_link, methods=["POST"]),
    Route("/keluar", sign_out, methods=["POST"]),
]
NAV: list[NavItem] = []
