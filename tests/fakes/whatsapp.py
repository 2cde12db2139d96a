"""A strict fake of the WhatsApp Cloud API (Meta Graph API), on 127.0.0.1 inside the test's loop.

    async with FakeWhatsApp(phone_number_id="1234567890", access_token="TEST-TOKEN",
                            app_secret="app-secret", clock=ManualClock()) as graph:
        await graph.set_webhook(bot_url, verify_token="verify-me")  # GET handshake first
        siti = graph.person(wa_id="6281234567890", name="Siti")
        await siti.send_text("halo")  # a signed messages webhook, answered by the bot
        reply = await siti.next_message()  # what the bot POSTed to /{version}/{id}/messages
        await siti.tap_button("Setuju")  # a button_reply to the latest interactive message

The bot is configured with ``graph.base_url`` and the version and builds
``{base_url}/{version}/{phone_number_id}/messages``. What the fake checks, as Meta does:

- ``Authorization: Bearer <token>`` (or ``?access_token=``): a wrong token answers 401
  ``{"error": {"message": "Invalid OAuth access token - Cannot parse access token",
  "type": "OAuthException", "code": 190, "fbtrace_id": ...}}``; a token listed in
  ``expired_tokens`` answers 401, code 190, ``error_subcode`` 463.
- Every other error has the Cloud API shape ``{"error": {"message": "(#CODE) Title", "type":
  "OAuthException", "code": CODE, "error_data": {"messaging_product": "whatsapp", "details":
  ...}, "fbtrace_id": ...}}`` with the HTTP status of Meta's error table (see ``ERRORS``).
- The payload: ``messaging_product`` must be "whatsapp"; text (body 1-4096), interactive
  ``button`` (1-3 reply buttons, titles 1-20 and unique, ids 1-256 and unique, body 1-1024,
  header text / footer 1-60) and ``list`` (button label 1-20, 1-10 sections, at most 10 rows in
  all, row title 1-24, description up to 72, row id 1-200 and unique, a section title up to 24
  and required when there is more than one section), image/document (``id`` of uploaded media
  or ``link``, caption up to 1024), template (``graph.templates`` = {name: {language: body
  parameter count, or a ``FakeTemplate`` with the approved body text and quick-reply buttons};
  unknown -> 132001, wrong count -> 132000; a body parameter with a newline, a tab or more than
  four spaces in a row, or over 1024 characters -> 100; quick-reply ``button`` components:
  ``sub_type`` "quick_reply", ``index`` of an existing quick-reply button, once each, one
  ``payload`` parameter of 1-256 characters, else 131009), audio/video/sticker/location/
  contacts/reaction, and read receipts (``{"status": "read", "message_id": ...}``).
  A template with a body text reaches the person as that text with the parameters filled in;
  ``person.tap_quick_reply(title)`` answers with a ``button`` message carrying the payload the
  bot gave that button (Meta: the button's text when none was given; an assumption).
- The 24-hour customer service window: a non-template message to someone whose last message
  is 24 h old (or who never wrote) is accepted with a wamid and then fails by a ``failed``
  status webhook with 131047 "Re-engagement message", which is what the Cloud API does.
  ``window_error="response"`` answers it synchronously (HTTP 400) instead.
- Throughput: ``per_second`` (80) for the phone number -> 130429; per recipient
  ``pair_per_second`` (one per 6 s) with a burst of ``pair_burst`` -> 131056 (both HTTP 429).
- ``graph.force_error(code)`` / ``graph.force_5xx()`` make the next sends fail;
  ``graph.fail_every(nth, code)`` makes every nth send fail (once per recipient) from then on;
  ``graph.fail_delivery(wa_id, code=131026)`` makes deliveries to a person fail by webhook.

Every accepted message goes to the person's ``inbox`` and produces ``sent`` and ``delivered``
status webhooks (``read`` too for ``person(reads=True)`` or after ``person.read()``), or one
``failed`` webhook with ``errors: [{code, title, message, error_data: {details}, href}]``.

Webhooks (``graph.set_webhook``) are POSTed to loopback URLs only, one at a time, in order,
signed ``X-Hub-Signature-256: sha256=<HMAC-SHA256 of the raw body with app_secret>`` (and the
older ``X-Hub-Signature: sha1=...``). Bodies are compact JSON with non-ASCII escaped as
``\\uXXXX`` as Meta sends them, so a bot must check the signature on the raw bytes. A non-2xx
answer is retried ``webhook_attempts`` times. ``person.deliver_again(delivery)`` re-posts the
same bytes (Meta redelivers with the same wamid).

Business-scoped user IDs (Meta, "Business-scoped user IDs", 2026): every person has a BSUID
``user_id`` (``CC.digits``), sent as ``contacts[].user_id`` and ``messages[].from_user_id``.
``person(has_phone=False)`` models a username-only user whose phone number is withheld:
``wa_id`` and ``from`` are omitted, and the bot must answer with ``"recipient": user_id``
instead of ``"to"`` (answered with ``contacts: [{"input", "user_id"}]``). Meta says these
fields are subject to change; the exact omission rules (30-day cache, contact book) are not
modelled: ``has_phone`` decides. ``include_user_ids=False`` gives pre-2026 payloads.

Not modelled: groups, flows, calls, catalogs, template headers, footers and URL/phone buttons,
Meta's webhook retry schedule (hours; here a few quick retries), message pricing details.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import email.parser
import email.policy
import hashlib
import hmac
import itertools
import json
import re
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.common import InFlight, ManualClock, TokenBucket
from tests.fakes.telegram import LoopbackServer

__all__ = [
    "ERRORS",
    "FAKE_JPEG",
    "Call",
    "FakePerson",
    "FakeTemplate",
    "FakeWhatsApp",
    "GraphError",
    "ManualClock",
    "SentMessage",
    "WebhookDelivery",
]

# The smallest bytes that pass as a JPEG; a person's photo is these bytes.
FAKE_JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffd9")

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
BUTTON_BODY_LIMIT = 1024
LIST_BODY_LIMIT = 4096
HEADER_TEXT_LIMIT = 60
FOOTER_LIMIT = 60
BUTTON_TITLE_LIMIT = 20
BUTTON_ID_LIMIT = 256
MAX_BUTTONS = 3
LIST_BUTTON_LIMIT = 20
MAX_SECTIONS = 10
MAX_ROWS = 10
SECTION_TITLE_LIMIT = 24
ROW_TITLE_LIMIT = 24
ROW_DESCRIPTION_LIMIT = 72
ROW_ID_LIMIT = 200
WINDOW_SECONDS = 24 * 3600
TEMPLATE_PARAM_LIMIT = 1024  # a body parameter's text when the template has other components
PAYLOAD_LIMIT = 256
PLACEHOLDER = re.compile(r"\{\{(\d+)\}\}")

ERROR_HREF = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

# code: (HTTP status, title, details). Titles and HTTP statuses from Meta's "Cloud API error
# codes" table; 130429/131056 answer 429 there (see the report for what was not confirmed).
ERRORS: dict[int, tuple[int, str, str]] = {
    1: (400, "API Unknown", "Invalid request or possible server error."),
    100: (400, "Invalid parameter", "The request included unsupported or misspelled parameters."),
    130429: (
        429,
        "Rate limit hit",
        "Message failed to send because there were too many messages sent from this phone "
        "number in a short period of time",
    ),
    131000: (500, "Something went wrong", "Message failed to send due to an unknown error."),
    131005: (403, "Access denied", "Permission is either not granted or has been removed."),
    131008: (400, "Required parameter is missing", "A required parameter is missing."),
    131009: (400, "Parameter value is not valid", "One or more parameter values are invalid."),
    131016: (503, "Service unavailable", "A service is temporarily unavailable."),
    131021: (400, "Recipient cannot be sender", "Sender and recipient phone number is the same."),
    131026: (
        400,
        "Message undeliverable",
        "Unable to deliver message. Reasons can include: the recipient phone number is not a "
        "WhatsApp phone number; the recipient has not accepted the Terms of Service; the "
        "recipient uses an old WhatsApp version.",
    ),
    131031: (403, "Account has been locked", "The WhatsApp Business Account is restricted."),
    131047: (
        400,
        "Re-engagement message",
        "Message failed to send because more than 24 hours have passed since the customer last "
        "replied to this number.",
    ),
    131048: (
        429,
        "Spam rate limit hit",
        "Message failed to send because there are restrictions on how many messages can be "
        "sent from this phone number.",
    ),
    131051: (400, "Unsupported message type", "Message type is not currently supported."),
    131053: (400, "Media upload error", "Unable to upload the media used in the message."),
    131056: (
        429,
        "(Business Account, Consumer Account) pair rate limit hit",
        "Message failed to send because there were too many messages sent from this phone "
        "number to the same phone number in a short period of time.",
    ),
    132000: (
        400,
        "Number of parameters does not match the expected number of params",
        "The number of variable parameter values does not match the template.",
    ),
    132001: (
        404,
        "Template name does not exist in the translation",
        "Template does not exist in the specified language or has not been approved.",
    ),
}

MESSAGE_TYPES = frozenset(
    {
        "text",
        "interactive",
        "image",
        "document",
        "template",
        "audio",
        "video",
        "sticker",
        "location",
        "contacts",
        "reaction",
    }
)
TOP_LEVEL_KEYS = MESSAGE_TYPES | {
    "messaging_product",
    "recipient_type",
    "to",
    "recipient",
    "type",
    "context",
    "biz_opaque_callback_data",
    "recipient_identity_key_hash",
    "status",
    "message_id",
    "typing_indicator",
}
INTERACTIVE_TYPES = frozenset(
    {"button", "list", "cta_url", "flow", "location_request_message", "product", "product_list"}
)


# ---------------------------------------------------------------------------------------------
# Errors


class GraphError(Exception):
    """An error answer of the Graph API, in the Cloud API's shape."""

    def __init__(
        self,
        code: int,
        details: str | None = None,
        *,
        status: int | None = None,
        title: str | None = None,
        message: str | None = None,
        error_subcode: int | None = None,
        cloud: bool = True,
    ) -> None:
        known = ERRORS.get(code, (400, f"Error {code}", ""))
        self.code = code
        self.status = status or known[0]
        self.title = title or known[1]
        self.details = details or known[2]
        self.message = message or f"(#{code}) {self.title}"
        self.error_subcode = error_subcode
        self.cloud = cloud  # False: a plain Graph error without error_data (auth, paths)
        super().__init__(self.message)

    def payload(self, fbtrace_id: str) -> dict[str, Any]:
        error: dict[str, Any] = {
            "message": self.message,
            "type": "OAuthException",
            "code": self.code,
        }
        if self.cloud:
            error["error_data"] = {"messaging_product": "whatsapp", "details": self.details}
        if self.error_subcode is not None:
            error["error_subcode"] = self.error_subcode
        error["fbtrace_id"] = fbtrace_id
        return {"error": error}

    def webhook_error(self) -> dict[str, Any]:
        """The entry of ``statuses[].errors`` for a message that failed after acceptance."""
        return {
            "code": self.code,
            "title": self.title,
            "message": self.title,
            "error_data": {"details": self.details},
            "href": ERROR_HREF,
        }


def _invalid(details: str) -> GraphError:
    return GraphError(131009, details)


def _missing(details: str) -> GraphError:
    return GraphError(131008, details)


def _param(details: str) -> GraphError:
    return GraphError(100, details)


# ---------------------------------------------------------------------------------------------
# Records


@dataclass
class Call:
    """One request the bot made to the fake Graph API and the answer it got."""

    method: str
    path: str
    headers: dict[str, str]
    json: Any
    status: int
    response: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def error_code(self) -> int | None:
        if isinstance(self.response, dict) and isinstance(self.response.get("error"), dict):
            return self.response["error"].get("code")
        return None


@dataclass
class WebhookDelivery:
    """One POST of a webhook to the bot: the exact bytes, the headers, the answer."""

    kind: str  # "message" or "status"
    url: str
    body: bytes
    headers: dict[str, str]
    attempt: int
    status: int | None
    error: str | None
    response_text: str = ""

    @property
    def payload(self) -> dict[str, Any]:
        return json.loads(self.body)

    @property
    def value(self) -> dict[str, Any]:
        return self.payload["entry"][0]["changes"][0]["value"]

    @property
    def wamid(self) -> str:
        value = self.value
        if "messages" in value:
            return value["messages"][0]["id"]
        return value["statuses"][0]["id"]

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class SentMessage:
    """A message the bot sent (accepted by the fake), as the person would see it."""

    wamid: str
    type: str
    to: str  # what the bot put in "to" or "recipient"
    payload: dict[str, Any]  # the request body as sent
    accepted_at: float
    text: str | None = None  # text body, interactive body text, or media caption
    header: str | None = None
    footer: str | None = None
    buttons: list[dict[str, str]] = field(default_factory=list)  # [{"id", "title"}]
    list_button: str | None = None
    rows: list[dict[str, str]] = field(default_factory=list)  # [{"id", "title", "description"?}]
    image: dict[str, Any] | None = None
    document: dict[str, Any] | None = None
    template: str | None = None
    template_language: str | None = None
    template_params: list[str] = field(default_factory=list)
    # A template's quick-reply buttons: [{"title", "payload"}], the payload as the bot set it.
    quick_replies: list[dict[str, str]] = field(default_factory=list)
    interactive_type: str | None = None
    context_id: str | None = None
    statuses: list[str] = field(default_factory=list)  # as webhooks were queued
    error: dict[str, Any] | None = None  # the statuses[].errors entry of a failed message

    @property
    def body(self) -> str | None:
        return self.text

    @property
    def button_titles(self) -> list[str]:
        return [button["title"] for button in self.buttons]

    @property
    def row_titles(self) -> list[str]:
        return [row["title"] for row in self.rows]

    @property
    def failed(self) -> bool:
        return self.error is not None


@dataclass
class _PeriodicFault:
    """``graph.fail_every``: every ``nth`` send answers ``error``, once per recipient."""

    nth: int
    error: GraphError
    refused: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class FakeTemplate:
    """An approved template: its body text with {{1}}, {{2}}... and its quick-reply buttons."""

    body: str
    buttons: tuple[str, ...] = ()

    @property
    def body_params(self) -> int:
        return len(set(PLACEHOLDER.findall(self.body)))

    def render(self, params: list[str]) -> str:
        return PLACEHOLDER.sub(lambda match: params[int(match.group(1)) - 1], self.body)


@dataclass
class _Media:
    id: str
    data: bytes
    mime_type: str
    filename: str | None = None

    @property
    def sha256(self) -> str:
        return base64.b64encode(hashlib.sha256(self.data).digest()).decode()


@dataclass(eq=False)  # each webhook is itself (kept in a set while in flight)
class _Pending:
    kind: str
    body: bytes
    signature: str | None  # "valid", "bad", None (no header) or a literal header value
    future: asyncio.Future[WebhookDelivery] | None = None


def _parse_multipart(body: bytes, content_type: str) -> tuple[dict[str, str], dict[str, Any]]:
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not match:
        raise _param("multipart/form-data without a boundary")
    delimiter = b"--" + match.group(1).encode("latin-1")
    fields: dict[str, str] = {}
    files: dict[str, Any] = {}
    parser = email.parser.BytesHeaderParser(policy=email.policy.HTTP)
    for part in body.split(delimiter)[1:]:
        if part.startswith(b"--"):
            break
        head, _, data = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        data = data.removesuffix(b"\r\n")
        headers = parser.parsebytes(head + b"\r\n\r\n")
        name = headers.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        filename = headers.get_filename()
        if filename is not None:
            mime = headers.get_content_type() if "content-type" in headers else ""
            files[name] = (filename, mime, data)
        else:
            fields[name] = data.decode("utf-8", "replace")
    return fields, files


def _text_of(obj: Any, key: str = "text") -> str | None:
    if isinstance(obj, dict) and isinstance(obj.get(key), str):
        return obj[key]
    return None


# ---------------------------------------------------------------------------------------------
# The simulated person


class FakePerson:
    """A WhatsApp user writing to the business. Actions POST real-shaped, signed webhooks.

    Each action waits for the bot's answer to its webhook and returns the WebhookDelivery.
    Every inbound message (a reaction too: an assumption) opens the 24-hour window again.
    """

    def __init__(
        self,
        graph: FakeWhatsApp,
        wa_id: str,
        name: str,
        user_id: str,
        *,
        has_phone: bool,
        username: str | None,
        reads: bool,
    ) -> None:
        self.graph = graph
        self.wa_id = wa_id
        self.name = name
        self.user_id = user_id
        self.has_phone = has_phone
        self.username = username
        self.reads = reads
        self.last_inbound: float | None = None  # on graph.clock, for the 24-hour window
        self.sent: list[dict[str, Any]] = []  # the person's own messages, as in the webhooks
        self.inbox: list[SentMessage] = []  # delivered messages from the bot, oldest first
        self.read_marks: list[str] = []  # wamids the bot marked as read
        self.fail_code: int | None = None
        self.fail_times: int | None = None
        self._read = 0
        self._receipts_sent: set[str] = set()

    def __repr__(self) -> str:
        return f"FakePerson({self.wa_id!r}, {self.name!r})"

    # -- what the person does -------------------------------------------------------------------

    async def send_text(
        self,
        text: str,
        *,
        reply_to: SentMessage | str | None = None,
        signature: str | None = "valid",
    ) -> WebhookDelivery:
        assert text, "WhatsApp does not send empty messages"
        assert len(text) <= 65536, "WhatsApp limits a message to 65536 characters"
        content = {"text": {"body": text}}
        return await self.graph._inbound(self, "text", content, reply_to, signature)

    async def tap_button(
        self,
        title: str,
        *,
        message: SentMessage | None = None,
        signature: str | None = "valid",
    ) -> WebhookDelivery:
        """Tap a reply button of the latest interactive message the bot sent (or of
        `message`: WhatsApp keeps older buttons tappable)."""
        message = message or self._latest_interactive()
        assert message.interactive_type == "button", (
            f"the latest interactive message to {self.name} is a {message.interactive_type}, "
            f"not reply buttons; its rows: {message.row_titles}"
        )
        for button in message.buttons:
            if button["title"] == title:
                reply = {"type": "button_reply", "button_reply": dict(button)}
                return await self.graph._inbound(
                    self, "interactive", {"interactive": reply}, message, signature
                )
        raise AssertionError(f"no button {title!r} on {message.button_titles}")

    async def tap_quick_reply(
        self,
        title: str,
        *,
        message: SentMessage | None = None,
        signature: str | None = "valid",
    ) -> WebhookDelivery:
        """Tap a quick-reply button of the latest template message (or of `message`)."""
        if message is None:
            templates = [m for m in self.inbox if m.type == "template" and m.quick_replies]
            assert templates, f"the bot sent {self.name} no template with quick-reply buttons"
            message = templates[-1]
        for button in message.quick_replies:
            if button["title"] == title:
                reply = {"payload": button["payload"], "text": title}
                return await self.graph._inbound(
                    self, "button", {"button": reply}, message, signature
                )
        titles = [button["title"] for button in message.quick_replies]
        raise AssertionError(f"no quick-reply button {title!r} on {titles}")

    async def choose_row(self, title: str, *, signature: str | None = "valid") -> WebhookDelivery:
        """Open the list of the latest interactive message and choose a row by its title."""
        message = self._latest_interactive()
        assert message.interactive_type == "list", (
            f"the latest interactive message to {self.name} is a {message.interactive_type}, "
            f"not a list; its buttons: {message.button_titles}"
        )
        for row in message.rows:
            if row["title"] == title:
                chosen = {k: row[k] for k in ("id", "title", "description") if k in row}
                reply = {"type": "list_reply", "list_reply": chosen}
                return await self.graph._inbound(
                    self, "interactive", {"interactive": reply}, message, signature
                )
        raise AssertionError(f"no row {title!r} in {message.row_titles}")

    async def send_image(
        self,
        media_id: str | None = None,
        caption: str | None = None,
        *,
        data: bytes = FAKE_JPEG,
        mime_type: str = "image/jpeg",
        signature: str | None = "valid",
    ) -> WebhookDelivery:
        """Send a photo; the bot can fetch it with GET /{version}/{media_id} and its url."""
        media = self.graph.add_media(data, mime_type, media_id=media_id)
        image: dict[str, Any] = {}
        if caption:
            image["caption"] = caption
        image.update({"mime_type": media.mime_type, "sha256": media.sha256, "id": media.id})
        return await self.graph._inbound(self, "image", {"image": image}, None, signature)

    async def send_document(
        self,
        filename: str = "dokumen.pdf",
        data: bytes = b"%PDF-1.4\n% fake\n%%EOF\n",
        mime_type: str = "application/pdf",
        caption: str | None = None,
        *,
        signature: str | None = "valid",
    ) -> WebhookDelivery:
        media = self.graph.add_media(data, mime_type, filename=filename)
        document: dict[str, Any] = {}
        if caption:
            document["caption"] = caption
        document.update(
            {
                "filename": filename,
                "mime_type": media.mime_type,
                "sha256": media.sha256,
                "id": media.id,
            }
        )
        return await self.graph._inbound(self, "document", {"document": document}, None, signature)

    async def send_location(
        self,
        latitude: float = -6.2615,
        longitude: float = 107.1528,
        *,
        name: str | None = None,
        address: str | None = None,
        signature: str | None = "valid",
    ) -> WebhookDelivery:
        """Share a location (by default in Cikarang); name/address for a chosen place."""
        location: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
        if name:
            location["name"] = name
        if address:
            location["address"] = address
        return await self.graph._inbound(self, "location", {"location": location}, None, signature)

    async def send_contacts(
        self,
        name: str | None = None,
        phone: str | None = None,
        *,
        wa_id: str | None = None,
        signature: str | None = "valid",
    ) -> WebhookDelivery:
        """Share a contact card: by default one's own (with wa_id, as WhatsApp sends it)."""
        formatted = name or self.name
        first, _, last = formatted.partition(" ")
        card_name: dict[str, str] = {"formatted_name": formatted, "first_name": first}
        if last:
            card_name["last_name"] = last
        if phone is None:
            phone = f"+{self.wa_id}"
            wa_id = wa_id or self.wa_id
        entry: dict[str, str] = {"phone": phone, "type": "CELL"}
        if wa_id:
            entry["wa_id"] = wa_id
        card = {"name": card_name, "phones": [entry]}
        return await self.graph._inbound(self, "contacts", {"contacts": [card]}, None, signature)

    async def send_sticker(
        self, *, animated: bool = False, signature: str | None = "valid"
    ) -> WebhookDelivery:
        media = self.graph.add_media(b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp")
        sticker = {
            "mime_type": "image/webp",
            "sha256": media.sha256,
            "id": media.id,
            "animated": animated,
        }
        return await self.graph._inbound(self, "sticker", {"sticker": sticker}, None, signature)

    async def send_reaction(
        self,
        emoji: str = "👍",
        to: SentMessage | str | None = None,
        *,
        signature: str | None = "valid",
    ) -> WebhookDelivery:
        """React to a bot message (the latest by default); ``emoji=""`` removes a reaction."""
        if to is None:
            assert self.inbox, f"no bot message in {self.name}'s chat to react to"
            to = self.inbox[-1]
        message_id = to.wamid if isinstance(to, SentMessage) else to
        reaction = {"message_id": message_id, "emoji": emoji}
        return await self.graph._inbound(self, "reaction", {"reaction": reaction}, None, signature)

    async def deliver_again(
        self, delivery: WebhookDelivery, *, signature: str | None = None
    ) -> WebhookDelivery:
        """POST the exact same bytes again (a Meta redelivery: the same wamid, same signature)."""
        return await self.graph.redeliver(delivery, signature=signature)

    def read(self, message: SentMessage | None = None) -> None:
        """Open the chat: ``read`` status webhooks for delivered messages not read yet."""
        targets = [message] if message is not None else self.inbox
        for sent in targets:
            if sent.wamid not in self._receipts_sent and "delivered" in sent.statuses:
                self._receipts_sent.add(sent.wamid)
                self.graph._queue_status(self, sent, "read")

    # -- what the person sees -------------------------------------------------------------------

    @property
    def last_message(self) -> SentMessage | None:
        return self.inbox[-1] if self.inbox else None

    @property
    def last_text(self) -> str | None:
        message = self.last_message
        return None if message is None else message.text

    @property
    def last_buttons(self) -> list[str]:
        """The titles of the reply buttons of the latest interactive message ([] for a list)."""
        for message in reversed(self.inbox):
            if message.type == "interactive":
                return message.button_titles
        return []

    @property
    def last_rows(self) -> list[str]:
        for message in reversed(self.inbox):
            if message.type == "interactive":
                return message.row_titles
        return []

    @property
    def in_window(self) -> bool:
        """True while free-form messages to this person are allowed (24 h since they wrote)."""
        if self.last_inbound is None:
            return False
        return self.graph.clock() - self.last_inbound < WINDOW_SECONDS

    async def next_message(self, timeout: float = 5.0) -> SentMessage:
        """The next bot message not yet read by this method, waiting for it if needed."""
        await self.graph.wait_until(
            lambda: len(self.inbox) > self._read, timeout, what=f"a new message to {self.name}"
        )
        message = self.inbox[self._read]
        self._read += 1
        return message

    def _latest_interactive(self) -> SentMessage:
        for message in reversed(self.inbox):
            if message.type == "interactive":
                return message
        raise AssertionError(f"the bot sent {self.name} no interactive message")


# ---------------------------------------------------------------------------------------------
# The fake Graph API


class FakeWhatsApp:
    """The WhatsApp Cloud API for one business phone number, on http://127.0.0.1:<port>."""

    def __init__(
        self,
        phone_number_id: str = "1234567890",
        access_token: str = "TEST-TOKEN",
        app_secret: str = "app-secret",
        api_version: str = "v21.0",
        *,
        clock: Callable[[], float] | None = None,
        wall_clock: Callable[[], float] | None = None,
        waba_id: str = "102290129340398",
        display_phone_number: str = "6282100000000",
        templates: dict[str, dict[str, int | FakeTemplate]] | None = None,
        expired_tokens: Iterable[str] = (),
        per_second: float | None = 80.0,
        pair_per_second: float | None = 1 / 6,
        pair_burst: int = 5,
        window_error: str = "webhook",
        include_user_ids: bool = True,
        user_pause: float = 0.0,
        webhook_attempts: int = 3,
        webhook_retry_delay: float = 0.05,
        webhook_timeout: float = 5.0,
        server_timeout: float = 5.0,
        latency: float = 0.0,
        webhook_connections: int = 1,
    ) -> None:
        # Webhooks posted at once: Meta uses several connections (order is then not kept);
        # the default, one at a time in order, keeps conversation tests simple.
        self.webhook_connections = webhook_connections
        self._delivering: set[_Pending] = set()
        # Calls in progress by endpoint (`in_flight.most`); each answered after `latency` s.
        self.in_flight = InFlight(latency)
        assert window_error in ("webhook", "response"), "window_error: 'webhook' or 'response'"
        self.phone_number_id = str(phone_number_id)
        self.access_token = access_token
        self.app_secret = app_secret
        self.api_version = api_version if api_version.startswith("v") else f"v{api_version}"
        self.clock: Callable[[], float] = clock if clock is not None else time.monotonic
        self._clock_origin = self.clock()
        self._wall_origin = time.time()
        self.wall_clock = wall_clock
        self.waba_id = waba_id
        self.display_phone_number = display_phone_number
        self.templates: dict[str, dict[str, int | FakeTemplate]] = dict(templates or {})
        self.expired_tokens = frozenset(expired_tokens)
        self.per_second = per_second
        self.pair_per_second = pair_per_second
        self.pair_burst = pair_burst
        self.window_error = window_error
        self.include_user_ids = include_user_ids
        self.user_pause = user_pause
        self.webhook_attempts = webhook_attempts
        self.webhook_retry_delay = webhook_retry_delay
        self.webhook_timeout = webhook_timeout

        # What tests read.
        self.calls: list[Call] = []
        self.deliveries: list[WebhookDelivery] = []
        self.sent: list[SentMessage] = []  # every accepted message, delivered or failed
        self.people: dict[str, FakePerson] = {}  # by wa_id
        self.crashes: list[Exception] = []  # bugs inside the fake itself (should stay empty)
        self.webhook: dict[str, str] | None = None

        self._by_user_id: dict[str, FakePerson] = {}
        self._media: dict[str, _Media] = {}
        self._forced: list[tuple[GraphError, list[int]]] = []
        self._periodic: list[_PeriodicFault] = []
        self._send_count = 0
        self._global_bucket = TokenBucket(per_second, per_second) if per_second else None
        self._pair_buckets: dict[str, TokenBucket] = {}
        self._queue: list[_Pending] = []
        self._ids = itertools.count(1)
        self._media_ids = itertools.count(1_037_543_291_543_600)
        self._inbound_wamids: dict[str, FakePerson] = {}
        self._wamid_of: dict[str, SentMessage] = {}
        self._changed = asyncio.Condition()
        self._wakeup = asyncio.Event()
        self._closing = False
        self._http: httpx.AsyncClient | None = None
        # Webhooks go out through aiohttp: httpx's pool cost the fake more CPU per webhook
        # than the bot spent answering it (bench/e2e.py runs both in one process).
        self._webhook_http: aiohttp.ClientSession | None = None
        self._worker: asyncio.Task[None] | None = None

        self.app = Starlette(
            routes=[
                Route("/whatsapp_business/attachments/", self._download, methods=["GET"]),
                Route("/{version}/{node}/messages", self._messages, methods=["POST"]),
                Route("/{version}/{node}/media", self._upload, methods=["POST"]),
                Route("/{version}/{node}", self._node, methods=["GET"]),
                Route("/{path:path}", self._unknown, methods=["GET", "POST", "DELETE"]),
            ],
        )
        self._server = LoopbackServer(self.app, timeout=server_timeout)

    # -- lifecycle ------------------------------------------------------------------------------

    async def __aenter__(self) -> FakeWhatsApp:
        self._http = httpx.AsyncClient(timeout=self.webhook_timeout, trust_env=False)
        self._webhook_http = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.webhook_timeout)
        )
        await self._server.start()
        self._worker = asyncio.create_task(self._webhook_worker(), name="fake-whatsapp-webhook")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._closing = True
        self._wakeup.set()
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(self._worker, self.webhook_timeout)
        for pending in self._queue:
            if pending.future is not None and not pending.future.done():
                pending.future.cancel()
        await self._server.stop()
        if self._http is not None:
            await self._http.aclose()
        if self._webhook_http is not None:
            await self._webhook_http.close()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``: the bot appends ``/{version}/{phone_number_id}/...``."""
        return self._server.url

    @property
    def messages_url(self) -> str:
        return f"{self.base_url}/{self.api_version}/{self.phone_number_id}/messages"

    # -- the test's side ------------------------------------------------------------------------

    def person(
        self,
        wa_id: str = "6281234567890",
        name: str = "Siti",
        user_id: str | None = None,
        *,
        has_phone: bool = True,
        username: str | None = None,
        reads: bool = False,
    ) -> FakePerson:
        """A WhatsApp user (the same object for the same wa_id). ``user_id`` is the BSUID,
        generated from the wa_id when not given; ``has_phone=False`` withholds the number."""
        wa_id = wa_id.lstrip("+")
        existing = self.people.get(wa_id)
        if existing is not None:
            return existing
        if user_id is None:
            country = "ID" if wa_id.startswith("62") else "US"
            digest = hashlib.sha256(f"{self.waba_id}:{wa_id}".encode()).hexdigest()
            user_id = f"{country}.{int(digest[:16], 16)}"
        person = FakePerson(
            self,
            wa_id,
            name,
            user_id,
            has_phone=has_phone,
            username=username,
            reads=reads,
        )
        self.people[wa_id] = person
        self._by_user_id[user_id] = person
        return person

    def add_template(
        self,
        name: str,
        language: str = "id",
        body_params: int = 0,
        *,
        body: str | None = None,
        buttons: Iterable[str] = (),
    ) -> None:
        """Approve a template: by its body parameter count, or by its body text (with
        {{1}}, {{2}}...) and quick-reply button titles."""
        spec: int | FakeTemplate = body_params
        if body is not None:
            spec = FakeTemplate(body, tuple(buttons))
        self.templates.setdefault(name, {})[language] = spec

    def add_media(
        self,
        data: bytes = FAKE_JPEG,
        mime_type: str = "image/jpeg",
        *,
        media_id: str | None = None,
        filename: str | None = None,
    ) -> _Media:
        """Store media the bot may send by id (as if uploaded) or download by its URL."""
        media = _Media(media_id or str(next(self._media_ids)), data, mime_type, filename)
        self._media[media.id] = media
        return media

    def force_error(
        self, code: int, times: int = 1, *, details: str | None = None, status: int | None = None
    ) -> None:
        """The next ``times`` sends answer this error (HTTP status from ``ERRORS``)."""
        self._forced.append((GraphError(code, details, status=status), [times]))

    def force_5xx(self, times: int = 1, status: int = 500) -> None:
        """The next ``times`` sends answer 500 (131000), 503 (131016) or another 5xx (code 1)."""
        code = {500: 131000, 503: 131016}.get(status, 1)
        self._forced.append((GraphError(code, status=status), [times]))

    def fail_every(self, nth: int, code: int, *, status: int | None = None) -> None:
        """From now on every ``nth`` send (counted over all sends, retries included) answers
        this error, except to a recipient this rule refused before: faults spread through a
        whole broadcast however often the bot restarts, and every message still gets through
        within a few tries. ``fail_every(9, 130429)``, ``fail_every(13, 131000, status=500)``."""
        assert nth >= 2, "every send failing would never let a message through"
        self._periodic.append(_PeriodicFault(nth, GraphError(code, status=status)))

    def fail_delivery(
        self, wa_id: str, code: int | None = 131026, times: int | None = None
    ) -> None:
        """Messages accepted for this person fail by a ``failed`` status webhook with ``code``
        (``times`` of them, or all until ``fail_delivery(wa_id, None)``)."""
        person = self.people.get(wa_id.lstrip("+"))
        assert person is not None, f"no person {wa_id}; create it with graph.person() first"
        person.fail_code = code
        person.fail_times = times

    def sign(self, body: bytes) -> str:
        """The ``X-Hub-Signature-256`` value Meta computes for a body."""
        digest = hmac.new(self.app_secret.encode(), body, hashlib.sha256).hexdigest()
        return f"sha256={digest}"

    async def verify(self, url: str, verify_token: str, challenge: str) -> tuple[int, str]:
        """The GET handshake Meta makes when a callback URL is saved: (status, body)."""
        self._check_loopback(url)
        assert self._http is not None, "use FakeWhatsApp as an async context manager"
        params = {
            "hub.mode": "subscribe",
            "hub.challenge": challenge,
            "hub.verify_token": verify_token,
        }
        response = await self._http.get(url, params=params)
        return response.status_code, response.text

    async def set_webhook(self, url: str, verify_token: str = "", *, verify: bool = True) -> None:
        """Subscribe the bot's URL, after the handshake succeeds (as the App Dashboard does)."""
        self._check_loopback(url)
        if verify:
            challenge = str(secrets.randbelow(10**9) + 10**9)
            status, body = await self.verify(url, verify_token, challenge)
            assert status == 200 and body == challenge, (
                f"the callback URL did not pass verification: {status} {body[:200]!r}; Meta "
                "expects 200 with the hub.challenge value as the body"
            )
        self.webhook = {"url": url, "verify_token": verify_token}
        self._wakeup.set()

    async def deliver(
        self, payload: dict[str, Any], *, signature: str | None = "valid"
    ) -> WebhookDelivery:
        """POST any webhook payload (e.g. one built by hand) and wait for the answer."""
        return await self._post(_Pending("custom", _encode(payload), signature))

    async def redeliver(
        self, delivery: WebhookDelivery, *, signature: str | None = None
    ) -> WebhookDelivery:
        """POST the same bytes as an earlier delivery, with its signature header unless told."""
        header = signature
        if header is None:
            header = delivery.headers.get("X-Hub-Signature-256")
        return await self._post(_Pending(delivery.kind, delivery.body, header))

    async def wait_until(
        self, predicate: Callable[[], Any], timeout: float = 5.0, *, what: str | None = None
    ) -> Any:
        """Wait until ``predicate()`` is truthy; re-checked after every call and delivery."""
        async with self._changed:
            try:
                return await asyncio.wait_for(self._changed.wait_for(predicate), timeout)
            except TimeoutError:
                last = [f"{c.method} {c.path} {c.status}" for c in self.calls[-5:]]
                raise AssertionError(
                    f"waited {timeout}s for {what or 'the condition'}; last calls: {last}"
                ) from None

    async def idle(self, timeout: float = 5.0) -> None:
        """Wait until every queued webhook (statuses included) has been delivered."""
        await self.wait_until(
            lambda: self.webhook is not None and not self._queue and not self._delivering,
            timeout,
            what="the webhook queue to empty",
        )

    def deliveries_of(self, kind: str) -> list[WebhookDelivery]:
        return [d for d in self.deliveries if d.kind == kind]

    def statuses(self, wamid: str | None = None) -> list[dict[str, Any]]:
        """The statuses delivered to the bot (first attempts), for one wamid or all."""
        found = []
        for delivery in self.deliveries:
            if delivery.kind != "status" or delivery.attempt != 1:
                continue
            status = delivery.value["statuses"][0]
            if wamid is None or status["id"] == wamid:
                found.append(status)
        return found

    # -- time and ids ---------------------------------------------------------------------------

    def _now(self) -> int:
        if self.wall_clock is not None:
            return int(self.wall_clock())
        return int(self._wall_origin + self.clock() - self._clock_origin)

    def _wamid(self, seed: str) -> str:
        raw = f"{seed}{next(self._ids):020X}{secrets.token_hex(4).upper()}".encode()
        return "wamid." + base64.b64encode(raw).decode()

    def _fbtrace_id(self) -> str:
        return base64.urlsafe_b64encode(secrets.token_bytes(17)).decode().rstrip("=")

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def _check_loopback(self, url: str) -> None:
        parts = urlsplit(url)
        assert parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS, (
            f"the fake delivers webhooks to http://127.0.0.1 or localhost only, not {url!r}"
        )

    # -- HTTP: shared -------------------------------------------------------------------------

    def _authorize(self, request: Request) -> None:
        header = request.headers.get("authorization", "")
        token = request.query_params.get("access_token")
        if header:
            scheme, _, value = header.partition(" ")
            token = value.strip() if scheme.lower() in ("bearer", "oauth") else ""
        if token is None:
            raise GraphError(
                2500,
                message="An active access token must be used to query information about the "
                "current user.",
                status=400,
                cloud=False,
            )
        if token in self.expired_tokens:
            raise GraphError(
                190,
                message="Error validating access token: Session has expired on Friday, "
                "01-Jan-21 00:00:00 PST. The current time is Sunday, 22-Nov-26 03:00:00 PST.",
                status=401,
                error_subcode=463,
                cloud=False,
            )
        if token != self.access_token:
            raise GraphError(
                190,
                message="Invalid OAuth access token - Cannot parse access token",
                status=401,
                cloud=False,
            )

    def _check_version(self, version: str) -> None:
        if version != self.api_version:
            raise GraphError(
                2500,
                message=f"Unknown path components: /{version} (the fake serves "
                f"{self.api_version} only)",
                status=400,
                cloud=False,
            )

    def _check_node(self, node: str) -> None:
        if node != self.phone_number_id:
            raise GraphError(
                100,
                message=f"Unsupported post request. Object with ID '{node}' does not exist, "
                "cannot be loaded due to missing permissions, or does not support this "
                "operation.",
                error_subcode=33,
                cloud=False,
            )

    async def _answer(
        self,
        request: Request,
        handler: Callable[[Any], Any],
        body_json: Any = None,
    ) -> Response:
        async with self.in_flight.call(request.url.path.rstrip("/").rsplit("/", 1)[-1]):
            return await self._answer_now(request, handler, body_json)

    async def _answer_now(
        self, request: Request, handler: Callable[[Any], Any], body_json: Any
    ) -> Response:
        status = 200
        payload: Any
        try:
            result = handler(body_json)
            if asyncio.iscoroutine(result):
                result = await result
            if isinstance(result, Response):
                self._record(request, body_json, result.status_code, "<bytes>")
                await self._notify()
                return result
            payload = result
        except GraphError as error:
            status, payload = error.status, error.payload(self._fbtrace_id())
        except Exception as crash:  # a bug in the fake: answer 500 and keep it for the test
            self.crashes.append(crash)
            status = 500
            payload = GraphError(1, f"the fake crashed: {crash!r}", status=500).payload("fake")
        self._record(request, body_json, status, payload)
        await self._notify()
        headers = {}
        if status >= 400 and isinstance(payload, dict):
            message = payload["error"]["message"]
            headers["WWW-Authenticate"] = f'OAuth "Facebook Platform" "invalid_request" "{message}"'
        return JSONResponse(payload, status_code=status, headers=headers)

    def _record(self, request: Request, body_json: Any, status: int, response: Any) -> None:
        headers = {k.lower(): v for k, v in request.headers.items()}
        self.calls.append(
            Call(request.method, request.url.path, headers, body_json, status, response)
        )

    async def _unknown(self, request: Request) -> Response:
        def fail(_: Any) -> Any:
            self._authorize(request)
            raise GraphError(
                2500,
                message=f"Unknown path components: /{request.path_params['path']}",
                status=400,
                cloud=False,
            )

        return await self._answer(request, fail)

    # -- HTTP: POST /{version}/{phone_number_id}/messages ---------------------------------------

    async def _messages(self, request: Request) -> Response:
        raw = await request.body()
        body: Any = None
        parse_error: GraphError | None = None
        mime = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if mime == "application/json":
            try:
                body = json.loads(raw)
            except ValueError:
                parse_error = _param("The request body is not valid JSON.")
        else:
            parse_error = _param(f"Send the message as application/json, not {mime or 'nothing'}.")

        def handle(data: Any) -> Any:
            self._authorize(request)
            self._check_version(request.path_params["version"])
            self._check_node(request.path_params["node"])
            if parse_error is not None:
                raise parse_error
            return self._send(data)

        return await self._answer(request, handle, body)

    def _send(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise _param("The request body must be a JSON object.")
        product = data.get("messaging_product")
        if product is None:
            raise _param("The parameter messaging_product is required.")
        if product != "whatsapp":
            raise _param(f'Param messaging_product must be one of {{WHATSAPP}} - got "{product}".')
        unknown = sorted(set(data) - TOP_LEVEL_KEYS)
        if unknown:
            raise _param(f'Unexpected key "{unknown[0]}" on param "<root>".')
        if data.get("status") is not None:
            return self._mark_read(data)
        self._take_forced()
        self._take_periodic(data)
        message = self._build_message(data)
        person, contact = self._recipient(data)
        outcome = self._outcome(person, message)
        if outcome is not None and outcome.code == 131047 and self.window_error == "response":
            raise outcome
        self._take_rate(contact.get("wa_id") or contact.get("user_id") or "")
        self._accept(person, message, outcome, data)
        answer: dict[str, Any] = {"messaging_product": "whatsapp", "contacts": [contact]}
        entry: dict[str, str] = {"id": message.wamid}
        if message.type == "template":
            entry["message_status"] = "accepted"
        answer["messages"] = [entry]
        return answer

    def _take_forced(self) -> None:
        for error, remaining in self._forced:
            if remaining[0] > 0:
                remaining[0] -= 1
                raise GraphError(error.code, error.details, status=error.status, title=error.title)

    def _take_periodic(self, data: dict[str, Any]) -> None:
        self._send_count += 1
        recipient = str(data.get("to") or data.get("recipient") or "")
        for fault in self._periodic:
            if self._send_count % fault.nth == 0 and recipient not in fault.refused:
                fault.refused.add(recipient)
                error = fault.error
                raise GraphError(error.code, error.details, status=error.status, title=error.title)

    def _mark_read(self, data: dict[str, Any]) -> dict[str, Any]:
        if data["status"] != "read":
            raise _param(f'Param status must be one of {{READ}} - got "{data["status"]}".')
        message_id = data.get("message_id")
        if not message_id:
            raise _missing("The parameter message_id is required.")
        person = self._inbound_wamids.get(message_id)
        if person is None:
            raise _param(f"Invalid message_id {message_id!r}: no message from a user has it.")
        indicator = data.get("typing_indicator")
        if indicator is not None and indicator != {"type": "text"}:
            raise _param('Param typing_indicator must be {"type": "text"}.')
        person.read_marks.append(message_id)
        return {"success": True}

    def _recipient(self, data: dict[str, Any]) -> tuple[FakePerson | None, dict[str, str]]:
        recipient_type = data.get("recipient_type", "individual")
        if recipient_type != "individual":
            raise _param(
                f'The fake supports recipient_type "individual" only, not {recipient_type!r}.'
            )
        to, bsuid = data.get("to"), data.get("recipient")
        if to is not None and bsuid is not None:
            raise _param("Use either to or recipient, not both.")
        if bsuid is not None:
            if not isinstance(bsuid, str) or not re.fullmatch(
                r"[A-Z]{2}\.(ENT\.)?[A-Za-z0-9]{1,128}", bsuid
            ):
                raise _invalid(f"Param recipient is not a valid business-scoped user ID: {bsuid!r}")
            person = self._by_user_id.get(bsuid)
            return person, {"input": bsuid, "user_id": bsuid}
        if to is None or to == "":
            raise _param("The parameter to is required.")
        digits = re.sub(r"[\s\-()+.]", "", str(to))
        if not digits.isdigit() or not 7 <= len(digits) <= 15:
            raise _invalid(f"Param to is not a valid phone number: {to!r}")
        if digits == self.display_phone_number:
            raise GraphError(131021)
        person = self.people.get(digits)
        return person, {"input": str(to), "wa_id": digits}

    def _outcome(self, person: FakePerson | None, message: SentMessage) -> GraphError | None:
        """The error a delivery will end with (None: delivered)."""
        if message.type != "template" and (person is None or not person.in_window):
            return GraphError(131047)
        if person is None:
            return GraphError(131026)
        if person.fail_code is not None:
            return GraphError(person.fail_code)
        return None

    def _take_rate(self, pair: str) -> None:
        now = self.clock()
        if self._global_bucket is not None and not self._global_bucket.ready(now):
            raise GraphError(130429)
        pair_bucket: TokenBucket | None = None
        if self.pair_per_second:
            pair_bucket = self._pair_buckets.get(pair)
            if pair_bucket is None:
                pair_bucket = TokenBucket(self.pair_per_second, self.pair_burst)
                self._pair_buckets[pair] = pair_bucket
            if not pair_bucket.ready(now):
                raise GraphError(131056)
        if self._global_bucket is not None:
            self._global_bucket.take()
        if pair_bucket is not None:
            pair_bucket.take()

    def _accept(
        self,
        person: FakePerson | None,
        message: SentMessage,
        outcome: GraphError | None,
        data: dict[str, Any],
    ) -> None:
        self.sent.append(message)
        self._wamid_of[message.wamid] = message
        tracker = data.get("biz_opaque_callback_data")
        if outcome is None and person is not None:
            person.inbox.append(message)
            self._queue_status(person, message, "sent", tracker)
            self._queue_status(person, message, "delivered", tracker)
            if person.reads:
                person._receipts_sent.add(message.wamid)
                self._queue_status(person, message, "read", tracker)
            return
        assert outcome is not None
        if (
            person is not None
            and outcome.code == person.fail_code
            and person.fail_times is not None
        ):
            person.fail_times -= 1
            if person.fail_times <= 0:
                person.fail_code = person.fail_times = None
        message.error = outcome.webhook_error()
        self._queue_status(person, message, "failed", tracker)

    # -- validation of the message ----------------------------------------------------------------

    def _build_message(self, data: dict[str, Any]) -> SentMessage:
        kind = data.get("type", "text")
        if kind not in MESSAGE_TYPES:
            raise _param(f"Param type must be one of {sorted(MESSAGE_TYPES)} - got {kind!r}.")
        content = data.get(kind)
        if content is None:
            raise _missing(f"The parameter {kind} is required for a message of type {kind}.")
        if not isinstance(content, dict) and kind != "contacts":
            raise _param(f"Param {kind} must be a JSON object.")
        target = data.get("to") or data.get("recipient") or ""
        message = SentMessage(
            wamid=self._wamid(str(target)),
            type=kind,
            to=str(target),
            payload=data,
            accepted_at=self.clock(),
        )
        context = data.get("context")
        if context is not None:
            if not isinstance(context, dict) or not context.get("message_id"):
                raise _missing("The parameter context.message_id is required.")
            message.context_id = context["message_id"]
        if kind == "text":
            self._check_text(content, message)
        elif kind == "interactive":
            self._check_interactive(content, message)
        elif kind in ("image", "document", "video", "audio", "sticker"):
            self._check_media(kind, content, message)
        elif kind == "template":
            self._check_template(content, message)
        elif kind == "reaction":
            if not content.get("message_id"):
                raise _missing("The parameter reaction.message_id is required.")
        elif kind == "location":
            if "latitude" not in content or "longitude" not in content:
                raise _missing(
                    "The parameters location.latitude and location.longitude are required."
                )
        elif kind == "contacts" and (not isinstance(content, list) or not content):
            raise _missing("The parameter contacts must be a non-empty array.")
        return message

    def _check_text(self, content: dict[str, Any], message: SentMessage) -> None:
        unknown = sorted(set(content) - {"body", "preview_url"})
        if unknown:
            raise _param(f'Unexpected key "{unknown[0]}" on param "text".')
        body = content.get("body")
        if not isinstance(body, str) or not body:
            raise _missing("The parameter text['body'] is required.")
        if len(body) > TEXT_LIMIT:
            raise _param(f"Param text['body'] must be at most {TEXT_LIMIT} characters long.")
        message.text = body

    def _check_interactive(self, content: dict[str, Any], message: SentMessage) -> None:
        kind = content.get("type")
        if kind is None:
            raise _missing("The parameter interactive['type'] is required.")
        if kind not in INTERACTIVE_TYPES:
            raise _param(f"Param interactive['type'] must be one of {sorted(INTERACTIVE_TYPES)}.")
        message.interactive_type = kind
        action = content.get("action")
        if not isinstance(action, dict):
            raise _missing("The parameter interactive['action'] is required.")
        body = _text_of(content.get("body"))
        if kind in ("button", "list") and not body:
            raise _missing("The parameter interactive['body']['text'] is required.")
        body_limit = BUTTON_BODY_LIMIT if kind == "button" else LIST_BODY_LIMIT
        if body and len(body) > body_limit:
            raise _invalid(f"Body text length invalid. Min length: 1, Max length: {body_limit}")
        message.text = body
        footer = content.get("footer")
        if footer is not None:
            text = _text_of(footer)
            if not text or len(text) > FOOTER_LIMIT:
                raise _invalid(
                    f"Footer text length invalid. Min length: 1, Max length: {FOOTER_LIMIT}"
                )
            message.footer = text
        header = content.get("header")
        if header is not None:
            self._check_header(kind, header, message)
        if kind == "button":
            self._check_buttons(action, message)
        elif kind == "list":
            self._check_list(action, message)

    def _check_header(self, kind: str, header: Any, message: SentMessage) -> None:
        if not isinstance(header, dict) or "type" not in header:
            raise _missing("The parameter interactive['header']['type'] is required.")
        allowed = ("text", "image", "video", "document") if kind == "button" else ("text",)
        if header["type"] not in allowed:
            raise _invalid(f"Header type {header['type']!r} is not valid for {kind}: {allowed}")
        if header["type"] == "text":
            text = header.get("text")
            if not isinstance(text, str) or not text or len(text) > HEADER_TEXT_LIMIT:
                raise _invalid(
                    f"Header text length invalid. Min length: 1, Max length: {HEADER_TEXT_LIMIT}"
                )
            message.header = text
        else:
            media = header.get(header["type"])
            if not isinstance(media, dict):
                raise _missing(f"The parameter header['{header['type']}'] is required.")
            self._check_media(header["type"], media, message)

    def _check_buttons(self, action: dict[str, Any], message: SentMessage) -> None:
        buttons = action.get("buttons")
        if not isinstance(buttons, list) or not buttons:
            raise _missing("The parameter interactive['action']['buttons'] is required.")
        if len(buttons) > MAX_BUTTONS:
            raise _invalid(
                f"Invalid buttons count. Min allowed buttons: 1, Max allowed buttons: {MAX_BUTTONS}"
            )
        for button in buttons:
            if not isinstance(button, dict) or button.get("type") != "reply":
                raise _invalid('Each button must have "type": "reply" and a "reply" object.')
            reply = button.get("reply")
            if not isinstance(reply, dict) or "id" not in reply or "title" not in reply:
                raise _missing("The parameters reply['id'] and reply['title'] are required.")
            button_id, title = reply["id"], reply["title"]
            if not isinstance(title, str) or not 1 <= len(title) <= BUTTON_TITLE_LIMIT:
                raise _invalid(
                    f"Button title length invalid. Min length: 1, Max length: {BUTTON_TITLE_LIMIT}"
                )
            if not isinstance(button_id, str) or not 1 <= len(button_id) <= BUTTON_ID_LIMIT:
                raise _invalid(
                    f"Button id length invalid. Min length: 1, Max length: {BUTTON_ID_LIMIT}"
                )
            if button_id != button_id.strip():
                raise _invalid("Button id must not have leading or trailing whitespace")
            message.buttons.append({"id": button_id, "title": title})
        if len({b["title"] for b in message.buttons}) < len(message.buttons):
            raise _invalid("Button titles must be unique")
        if len({b["id"] for b in message.buttons}) < len(message.buttons):
            raise _invalid("Button ids must be unique")

    def _check_list(self, action: dict[str, Any], message: SentMessage) -> None:
        label = action.get("button")
        if not isinstance(label, str) or not label:
            raise _missing("The parameter interactive['action']['button'] is required.")
        if len(label) > LIST_BUTTON_LIMIT:
            raise _invalid(
                f"Button title length invalid. Min length: 1, Max length: {LIST_BUTTON_LIMIT}"
            )
        message.list_button = label
        sections = action.get("sections")
        if not isinstance(sections, list) or not sections:
            raise _missing("The parameter interactive['action']['sections'] is required.")
        if len(sections) > MAX_SECTIONS:
            raise _invalid(f"Too many sections. Max allowed sections: {MAX_SECTIONS}")
        total = sum(len(s.get("rows") or []) for s in sections if isinstance(s, dict))
        if total > MAX_ROWS:
            raise _invalid(f"Total row count exceed max allowed count: {MAX_ROWS}")
        for section in sections:
            if not isinstance(section, dict):
                raise _invalid("Each section must be a JSON object.")
            title = section.get("title")
            if title is None and len(sections) > 1:
                raise _missing("Section title is required when there is more than one section")
            if title is not None and (
                not isinstance(title, str) or not 1 <= len(title) <= SECTION_TITLE_LIMIT
            ):
                raise _invalid(
                    "Section title length invalid. Min length: 1, Max length: "
                    f"{SECTION_TITLE_LIMIT}"
                )
            rows = section.get("rows")
            if not isinstance(rows, list) or not rows:
                raise _missing("The parameter section['rows'] is required.")
            for row in rows:
                message.rows.append(self._check_row(row, title))
        if len({r["id"] for r in message.rows}) < len(message.rows):
            raise _invalid("Row ids must be unique")

    def _check_row(self, row: Any, section: str | None) -> dict[str, str]:
        if not isinstance(row, dict) or "id" not in row or "title" not in row:
            raise _missing("The parameters row['id'] and row['title'] are required.")
        row_id, title = row["id"], row["title"]
        if not isinstance(title, str) or not 1 <= len(title) <= ROW_TITLE_LIMIT:
            raise _invalid(
                f"Row title length invalid. Min length: 1, Max length: {ROW_TITLE_LIMIT}"
            )
        if not isinstance(row_id, str) or not 1 <= len(row_id) <= ROW_ID_LIMIT:
            raise _invalid(f"Row id length invalid. Min length: 1, Max length: {ROW_ID_LIMIT}")
        checked = {"id": row_id, "title": title}
        description = row.get("description")
        if description is not None:
            if not isinstance(description, str) or len(description) > ROW_DESCRIPTION_LIMIT:
                raise _invalid(
                    "Row description length invalid. Min length: 0, Max length: "
                    f"{ROW_DESCRIPTION_LIMIT}"
                )
            if description:
                checked["description"] = description
        if section is not None:
            checked["section"] = section
        return checked

    def _check_media(self, kind: str, content: dict[str, Any], message: SentMessage) -> None:
        media_id, link = content.get("id"), content.get("link")
        if (media_id is None) == (link is None):
            raise _missing(f"Exactly one of {kind}['id'] or {kind}['link'] is required.")
        if media_id is not None and str(media_id) not in self._media:
            raise _param(f"Param {kind}['id'] is not a valid media id: {media_id!r}")
        if link is not None and (
            not isinstance(link, str) or urlsplit(link).scheme not in ("http", "https")
        ):
            raise _param(f"Param {kind}['link'] must be an http(s) URL: {link!r}")
        caption = content.get("caption")
        if caption is not None:
            if kind in ("audio", "sticker"):
                raise _param(f'Unexpected key "caption" on param "{kind}".')
            if not isinstance(caption, str) or len(caption) > CAPTION_LIMIT:
                raise _invalid(f"Caption length invalid. Max length: {CAPTION_LIMIT}")
            if message.type != "interactive":
                message.text = caption
        record = {k: v for k, v in content.items() if k in ("id", "link", "caption", "filename")}
        if kind == "image":
            message.image = record
        elif kind == "document":
            message.document = record

    def _check_template(self, content: dict[str, Any], message: SentMessage) -> None:
        name = content.get("name")
        if not isinstance(name, str) or not name:
            raise _missing("The parameter template['name'] is required.")
        language = content.get("language")
        code = language.get("code") if isinstance(language, dict) else None
        if not isinstance(code, str) or not code:
            raise _missing("The parameter template['language']['code'] is required.")
        spec = self.templates.get(name, {}).get(code)
        if spec is None:
            raise GraphError(132001, f"template name ({name}) does not exist in {code}")
        approved = spec if isinstance(spec, FakeTemplate) else None
        expected = approved.body_params if approved else spec
        params: list[str] = []
        payloads: dict[int, str] = {}
        for component in content.get("components") or []:
            if not isinstance(component, dict) or "type" not in component:
                raise _missing("The parameter component['type'] is required.")
            kind = str(component["type"]).lower()
            if kind == "body":
                params.extend(self._body_params(component))
            elif kind == "button":
                index, payload = self._quick_reply(component, approved)
                if index in payloads:
                    raise _invalid(f"Button at index {index} is given twice.")
                payloads[index] = payload
        if len(params) != expected:
            raise GraphError(
                132000,
                f"body: number of localizable_params ({len(params)}) does not match the "
                f"expected number of params ({expected})",
            )
        message.template = name
        message.template_language = code
        message.template_params = params
        if approved is not None:
            message.text = approved.render(params)
            message.quick_replies = [
                {"title": title, "payload": payloads.get(index, title)}
                for index, title in enumerate(approved.buttons)
            ]

    @staticmethod
    def _body_params(component: dict[str, Any]) -> list[str]:
        params = []
        for parameter in component.get("parameters") or []:
            if not isinstance(parameter, dict) or "type" not in parameter:
                raise _missing("The parameter parameter['type'] is required.")
            if parameter["type"] != "text":
                params.append(json.dumps(parameter.get(parameter["type"]), ensure_ascii=False))
                continue
            text = parameter.get("text")
            if not isinstance(text, str) or not text.strip():
                raise GraphError(
                    132008,
                    "Parameter text must not be empty",
                    title="Template Parameter Format Mismatch",
                )
            if re.search(r"[\n\t]| {5,}", text):
                raise _param(
                    "Param text cannot have new-line/tab characters or more than 4 consecutive "
                    "spaces"
                )
            if len(text) > TEMPLATE_PARAM_LIMIT:
                raise _param(f"Param text must be at most {TEMPLATE_PARAM_LIMIT} characters long.")
            params.append(text)
        return params

    @staticmethod
    def _quick_reply(component: dict[str, Any], approved: FakeTemplate | None) -> tuple[int, str]:
        if component.get("sub_type") != "quick_reply":
            raise _invalid(
                f"The fake knows quick_reply buttons only, not {component.get('sub_type')!r}."
            )
        index = component.get("index")
        if isinstance(index, str) and index.isdigit():
            index = int(index)
        buttons = approved.buttons if approved else ()
        if not isinstance(index, int) or not 0 <= index < len(buttons):
            raise _invalid(f"The template has no quick-reply button at index {index!r}.")
        parameters = component.get("parameters")
        if not isinstance(parameters, list) or len(parameters) != 1:
            raise _invalid("A quick_reply button takes exactly one payload parameter.")
        parameter = parameters[0] if isinstance(parameters[0], dict) else {}
        payload = parameter.get("payload")
        if parameter.get("type") != "payload" or not isinstance(payload, str):
            raise _invalid('A quick_reply button parameter is {"type": "payload", "payload": ...}.')
        if not 1 <= len(payload) <= PAYLOAD_LIMIT:
            raise _invalid(f"A quick_reply payload has 1 to {PAYLOAD_LIMIT} characters.")
        return index, payload

    # -- HTTP: media ------------------------------------------------------------------------------

    async def _upload(self, request: Request) -> Response:
        raw = await request.body()
        content_type = request.headers.get("content-type", "")

        def handle(_: Any) -> Any:
            self._authorize(request)
            self._check_version(request.path_params["version"])
            self._check_node(request.path_params["node"])
            if not content_type.lower().startswith("multipart/form-data"):
                raise _param("Upload media as multipart/form-data.")
            fields, files = _parse_multipart(raw, content_type)
            if fields.get("messaging_product") != "whatsapp":
                raise _param("The parameter messaging_product is required.")
            if "file" not in files:
                raise _missing("The parameter file is required.")
            filename, mime, data = files["file"]
            media = self.add_media(data, fields.get("type") or mime, filename=filename)
            return {"id": media.id}

        return await self._answer(request, handle)

    async def _node(self, request: Request) -> Response:
        def handle(_: Any) -> Any:
            self._authorize(request)
            self._check_version(request.path_params["version"])
            node = request.path_params["node"]
            media = self._media.get(node)
            if media is None:
                raise GraphError(
                    100,
                    message=f"Unsupported get request. Object with ID '{node}' does not exist, "
                    "cannot be loaded due to missing permissions, or does not support this "
                    "operation.",
                    error_subcode=33,
                    cloud=False,
                )
            return {
                "messaging_product": "whatsapp",
                "url": f"{self.base_url}/whatsapp_business/attachments/?mid={media.id}"
                f"&ext={self._now()}&hash={media.sha256[:16]}",
                "mime_type": media.mime_type,
                "sha256": media.sha256,
                "file_size": len(media.data),
                "id": media.id,
            }

        return await self._answer(request, handle)

    async def _download(self, request: Request) -> Response:
        def handle(_: Any) -> Any:
            self._authorize(request)
            media = self._media.get(request.query_params.get("mid", ""))
            if media is None:
                raise GraphError(100, message="Media not found", status=404, cloud=False)
            return Response(media.data, media_type=media.mime_type)

        return await self._answer(request, handle)

    # -- webhooks -------------------------------------------------------------------------------

    def _envelope(self, value: dict[str, Any]) -> dict[str, Any]:
        metadata = {
            "display_phone_number": self.display_phone_number,
            "phone_number_id": self.phone_number_id,
        }
        return {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": self.waba_id,
                    "changes": [
                        {
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": metadata,
                                **value,
                            },
                            "field": "messages",
                        }
                    ],
                }
            ],
        }

    def _contact(self, person: FakePerson) -> dict[str, Any]:
        profile: dict[str, str] = {"name": person.name}
        if person.username:
            profile["username"] = person.username
        contact: dict[str, Any] = {"profile": profile}
        if person.has_phone:
            contact["wa_id"] = person.wa_id
        if self.include_user_ids:
            contact["user_id"] = person.user_id
        return contact

    async def _inbound(
        self,
        person: FakePerson,
        kind: str,
        content: dict[str, Any],
        reply_to: SentMessage | str | None,
        signature: str | None,
    ) -> WebhookDelivery:
        assert self.webhook is not None, "no webhook set: await graph.set_webhook(url) first"
        assert person.has_phone or self.include_user_ids, (
            "a person without a visible phone needs include_user_ids=True"
        )
        advance = getattr(self.clock, "advance", None)
        if self.user_pause and callable(advance):
            advance(self.user_pause)
        message: dict[str, Any] = {}
        if reply_to is not None:
            context_id = reply_to.wamid if isinstance(reply_to, SentMessage) else reply_to
            message["context"] = {"from": self.display_phone_number, "id": context_id}
        if person.has_phone:
            message["from"] = person.wa_id
        if self.include_user_ids:
            message["from_user_id"] = person.user_id
        wamid = self._wamid(person.wa_id)
        message.update({"id": wamid, "timestamp": str(self._now()), "type": kind, **content})
        person.last_inbound = self.clock()
        person.sent.append(message)
        self._inbound_wamids[wamid] = person
        payload = self._envelope({"contacts": [self._contact(person)], "messages": [message]})
        return await self._post(_Pending("message", _encode(payload), signature))

    def _queue_status(
        self,
        person: FakePerson | None,
        message: SentMessage,
        status: str,
        tracker: str | None = None,
    ) -> None:
        entry: dict[str, Any] = {
            "id": message.wamid,
            "status": status,
            "timestamp": str(self._now()),
        }
        by_bsuid = "recipient" in message.payload
        if person is not None:
            if person.has_phone:
                entry["recipient_id"] = person.wa_id
            if self.include_user_ids:
                entry["recipient_user_id"] = person.user_id
        elif by_bsuid:
            entry["recipient_user_id"] = message.to
        else:
            entry["recipient_id"] = re.sub(r"\D", "", message.to)
        if tracker is not None:
            entry["biz_opaque_callback_data"] = tracker
        if status == "failed":
            entry["errors"] = [message.error]
        else:
            template = message.type == "template"
            entry["pricing"] = {
                "billable": template,
                "pricing_model": "PMP",
                "category": "utility" if template else "service",
                "type": "regular" if template else "free_customer_service",
            }
        value: dict[str, Any] = {}
        if self.include_user_ids:
            # pywa 4.5 reads value.contacts of status webhooks (the BSUID-era shape).
            if person is not None:
                contact = self._contact(person)
                contact.pop("profile", None)
            elif by_bsuid:
                contact = {"user_id": message.to}
            else:
                contact = {"wa_id": entry["recipient_id"]}
            value["contacts"] = [contact]
        value["statuses"] = [entry]
        message.statuses.append(status)
        self._queue.append(_Pending("status", _encode(self._envelope(value)), "valid"))
        self._wakeup.set()

    async def _post(self, pending: _Pending) -> WebhookDelivery:
        assert self.webhook is not None, "no webhook set: await graph.set_webhook(url) first"
        pending.future = asyncio.get_running_loop().create_future()
        self._queue.append(pending)
        self._wakeup.set()
        timeout = (self.webhook_timeout + self.webhook_retry_delay) * self.webhook_attempts + 5
        return await asyncio.wait_for(asyncio.shield(pending.future), timeout)

    def _headers(self, pending: _Pending) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "User-Agent": "facebookexternalua"}
        if pending.signature is None:
            return headers
        if pending.signature == "valid":
            headers["X-Hub-Signature-256"] = self.sign(pending.body)
            sha1 = hmac.new(self.app_secret.encode(), pending.body, hashlib.sha1).hexdigest()
            headers["X-Hub-Signature"] = f"sha1={sha1}"
        elif pending.signature == "bad":
            wrong = hmac.new(b"not-the-app-secret", pending.body, hashlib.sha256).hexdigest()
            headers["X-Hub-Signature-256"] = f"sha256={wrong}"
        else:
            headers["X-Hub-Signature-256"] = pending.signature
        return headers

    async def _webhook_worker(self) -> None:
        if self.webhook_connections > 1:
            await self._webhook_workers()
            return
        while not self._closing:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self.webhook is not None and self._queue and not self._closing:
                pending = self._queue[0]
                try:
                    delivery = await self._deliver(pending, self.webhook["url"])
                except Exception as crash:  # keep the worker alive; the test sees the crash
                    self.crashes.append(crash)
                    delivery = None
                if self._queue and self._queue[0] is pending:
                    self._queue.pop(0)
                if pending.future is not None and not pending.future.done():
                    if delivery is None:
                        pending.future.set_exception(RuntimeError("the fake failed to deliver"))
                    else:
                        pending.future.set_result(delivery)
                await self._notify()

    async def _webhook_workers(self) -> None:
        """Up to `webhook_connections` webhooks in flight, taken from the queue in order."""
        slots = asyncio.Semaphore(self.webhook_connections)
        tasks: set[asyncio.Task] = set()

        async def post(pending: _Pending, url: str) -> None:
            try:
                delivery = await self._deliver(pending, url)
            except Exception as crash:  # keep the worker alive; the test sees the crash
                self.crashes.append(crash)
                delivery = None
            finally:
                slots.release()
                self._delivering.discard(pending)
            if pending.future is not None and not pending.future.done():
                if delivery is None:
                    pending.future.set_exception(RuntimeError("the fake failed to deliver"))
                else:
                    pending.future.set_result(delivery)
            await self._notify()

        try:
            while not self._closing:
                await self._wakeup.wait()
                self._wakeup.clear()
                while self.webhook is not None and self._queue and not self._closing:
                    await slots.acquire()
                    pending = self._queue.pop(0)
                    self._delivering.add(pending)
                    task = asyncio.create_task(post(pending, self.webhook["url"]))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
        finally:
            for task in tasks:
                task.cancel()

    async def _deliver(self, pending: _Pending, url: str) -> WebhookDelivery:
        assert self._webhook_http is not None
        headers = self._headers(pending)
        delivery: WebhookDelivery | None = None
        for attempt in range(1, self.webhook_attempts + 1):
            status: int | None = None
            error: str | None = None
            text = ""
            try:
                async with self._webhook_http.post(
                    url, data=pending.body, headers=headers
                ) as response:
                    status, text = response.status, (await response.text())[:500]
                if not 200 <= status < 300:
                    error = f"the webhook answered {status}"
            except (aiohttp.ClientError, TimeoutError) as exc:
                error = f"connection failed: {type(exc).__name__}: {exc}"
            delivery = WebhookDelivery(
                pending.kind, url, pending.body, headers, attempt, status, error, text
            )
            self.deliveries.append(delivery)
            await self._notify()
            if error is None:
                break
            if attempt < self.webhook_attempts:
                await asyncio.sleep(self.webhook_retry_delay)
        assert delivery is not None
        return delivery


def _encode(payload: dict[str, Any]) -> bytes:
    """Compact JSON with non-ASCII escaped, as Meta serializes webhook bodies."""
    return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).encode("ascii")
