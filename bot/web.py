"""The ASGI app (Starlette): platform webhooks, /healthz and /metrics, served by uvicorn."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp

from bot.channels.telegram import TelegramChannel
from bot.channels.whatsapp import WhatsAppChannel
from bot.metrics import CONTENT_TYPE, Health

log = logging.getLogger(__name__)

TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WHATSAPP_SIGNATURE_HEADER = "X-Hub-Signature-256"
# Meta's and Telegram's webhook bodies are a few kilobytes: a megabyte is generous.
DEFAULT_MAX_BODY_BYTES = 1_048_576


class BodyTooLarge(Exception):
    """The request body is over the cap; the rest of it is not read."""


async def read_capped(request: Request, limit: int) -> bytes:
    """The request body, read until `limit` bytes at most: a declared length over it is
    refused before reading anything, a streamed body once it passes the limit."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge()
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


def build_web_app(
    *,
    telegram: TelegramChannel | None = None,
    telegram_secret: str | None = None,
    whatsapp: WhatsAppChannel | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    health: Callable[[], Health] | None = None,
    metrics: Callable[[], bytes] | None = None,
    console: ASGIApp | None = None,
) -> Starlette:
    """Routes for the channels that are on; each webhook refuses unsigned requests, and
    bodies over `max_body_bytes` (413) before reading them whole. `console` (the Dinas's web
    console, bot/console) is served under /dinas.

    `health` and `metrics` read the database: they run in a worker thread, so a slow
    database never holds up the webhooks served beside them.
    """

    async def healthz(_: Request) -> Response:
        if health is None:
            return JSONResponse({"status": "ok"})
        state = await asyncio.to_thread(health)
        return JSONResponse(state.as_json(), status_code=200 if state.ok else 503)

    async def metrics_page(_: Request) -> Response:
        body = await asyncio.to_thread(metrics)
        return Response(body, media_type=CONTENT_TYPE)

    async def telegram_webhook(request: Request) -> Response:
        given = request.headers.get(TELEGRAM_SECRET_HEADER, "")
        if not telegram_secret or not hmac.compare_digest(
            given.encode("utf-8"), telegram_secret.encode("utf-8")
        ):
            log.warning("refused a Telegram webhook call without the right secret")
            return Response(status_code=403)
        try:
            data = json.loads(await read_capped(request, max_body_bytes))
        except BodyTooLarge:
            log.warning("refused a Telegram webhook body over %d bytes", max_body_bytes)
            return Response(status_code=413)
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
        try:
            raw = await read_capped(request, max_body_bytes)
        except BodyTooLarge:
            log.warning("refused a WhatsApp webhook body over %d bytes", max_body_bytes)
            return Response(status_code=413)
        signature = request.headers.get(WHATSAPP_SIGNATURE_HEADER)
        try:
            payload = json.loads(raw)
        except ValueError:
            payload = None
        # Kept (or its statuses recorded) before the 200; its messages are answered after it.
        if not isinstance(payload, dict) or not await whatsapp.accept(raw, signature, payload):
            log.warning("refused a WhatsApp webhook call: bad signature or body")
            return Response(status_code=403)
        return Response(status_code=200)

    routes = [Route("/healthz", healthz)]
    if metrics is not None:
        routes.append(Route("/metrics", metrics_page))
    if whatsapp is not None:
        routes.append(Route("/webhooks/whatsapp", whatsapp_handshake, methods=["GET"]))
        routes.append(Route("/webhooks/whatsapp", whatsapp_webhook, methods=["POST"]))
    if telegram is not None:
        routes.append(Route("/webhooks/telegram", telegram_webhook, methods=["POST"]))
    if console is not None:
        routes.append(Mount("/dinas", app=console))
    return Starlette(routes=routes)
