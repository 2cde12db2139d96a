"""The ASGI app (Starlette): platform webhooks and /healthz, served by uvicorn."""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.channels.telegram import TelegramChannel
from bot.channels.whatsapp import WhatsAppChannel

log = logging.getLogger(__name__)

TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WHATSAPP_SIGNATURE_HEADER = "X-Hub-Signature-256"


def build_web_app(
    *,
    telegram: TelegramChannel | None = None,
    telegram_secret: str | None = None,
    whatsapp: WhatsAppChannel | None = None,
    on_whatsapp_event: Callable[[], None] | None = None,
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

    async def whatsapp_handshake(request: Request) -> Response:
        status, body = whatsapp.handshake(dict(request.query_params))
        return PlainTextResponse(body, status_code=status)

    async def whatsapp_webhook(request: Request) -> Response:
        raw = await request.body()
        signature = request.headers.get(WHATSAPP_SIGNATURE_HEADER)
        try:
            payload = json.loads(raw)
        except ValueError:
            payload = None
        if not isinstance(payload, dict) or not whatsapp.accept(raw, signature, payload):
            log.warning("refused a WhatsApp webhook call: bad signature or body")
            return Response(status_code=403)
        if on_whatsapp_event is not None:
            on_whatsapp_event()  # processed after this 200, by the channel's worker
        return Response(status_code=200)

    routes = [Route("/healthz", healthz)]
    if whatsapp is not None:
        routes.append(Route("/webhooks/whatsapp", whatsapp_handshake, methods=["GET"]))
        routes.append(Route("/webhooks/whatsapp", whatsapp_webhook, methods=["POST"]))
    if telegram is not None:
        routes.append(Route("/webhooks/telegram", telegram_webhook, methods=["POST"]))
    return Starlette(routes=routes)
