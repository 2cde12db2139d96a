"""The ASGI app (Starlette): platform webhooks and /healthz, served by uvicorn."""

from __future__ import annotations

import hmac
import json
import logging

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.channels.telegram import TelegramChannel

log = logging.getLogger(__name__)

TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def build_web_app(
    *, telegram: TelegramChannel | None = None, telegram_secret: str | None = None
) -> Starlette:
    """Routes for the channels that are on; each webhook refuses unsigned requests."""

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def telegram_webhook(request: Request) -> Response:
        given = request.headers.get(TELEGRAM_SECRET_HEADER, "")
        if not telegram_secret or not hmac.compare_digest(
            given.encode("utf-8"), telegram_secret.encode("utf-8")
        ):
            log.warning("refused a Telegram webhook call without the right secret")
            return Response(status_code=403)
        try:
            data = json.loads(await request.body())
        except ValueError:
            return Response(status_code=400)
        if not isinstance(data, dict):
            return Response(status_code=400)
        await telegram.process_json(data)
        return Response(status_code=200)

    routes = [Route("/healthz", healthz)]
    if telegram is not None:
        routes.append(Route("/webhooks/telegram", telegram_webhook, methods=["POST"]))
    return Starlette(routes=routes)
