"""Every console page behind a live session, and every form behind the session's CSRF token."""

from __future__ import annotations

import functools
import hmac
from collections.abc import Awaitable, Callable

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.console.context import console_context, in_transaction
from bot.console.signin import SESSION_LIFETIME, Officer, officer_of

COOKIE = "sinergi_dinas"
COOKIE_PATH = "/dinas"
CSRF_FIELD = "csrf"
ASK_FOR_LINK = "/dinas/masuk"

Page = Callable[[Request, Officer], Awaitable[Response]]
Form = Callable[[Request, Officer, FormData], Awaitable[Response]]


async def current_officer(request: Request) -> Officer | None:
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    now = console_context(request).now()
    return await in_transaction(request, officer_of, token=token, now=now)


def officer_page(page: Page) -> Callable[[Request], Awaitable[Response]]:
    """A GET page for a signed-in officer; anyone else is sent to "ask for a link"."""

    @functools.wraps(page)
    async def endpoint(request: Request) -> Response:
        officer = await current_officer(request)
        if officer is None:
            return signed_out_redirect()
        return await page(request, officer)

    return endpoint


def officer_form(form: Form) -> Callable[[Request], Awaitable[Response]]:
    """A POST for a signed-in officer whose form carries this session's CSRF token."""

    @functools.wraps(form)
    async def endpoint(request: Request) -> Response:
        officer = await current_officer(request)
        if officer is None:
            return signed_out_redirect()
        data = await request.form()
        given = str(data.get(CSRF_FIELD, ""))
        if not hmac.compare_digest(given.encode(), officer.csrf_token.encode()):
            return Response("CSRF token missing or wrong", status_code=403)
        return await form(request, officer, data)

    return endpoint


def signed_out_redirect() -> Response:
    response = RedirectResponse(ASK_FOR_LINK, status_code=303)
    response.delete_cookie(COOKIE, path=COOKIE_PATH)
    return response


def set_session_cookie(response: Response, token: str, *, secure: bool) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path=COOKIE_PATH,
        httponly=True,
        secure=secure,
        samesite="lax",
    )
