"""A strict fake of the Telegram Bot API, served over HTTP on 127.0.0.1 inside the test's loop.

    async with FakeTelegram(token="123:ABC") as api:
        bot = telegram.Bot("123:ABC", base_url=api.base_url, base_file_url=api.base_file_url)
        siti = api.user(user_id=111, first_name="Siti", phone="+6281234567890")
        await siti.send_text("/start")
        ...  # the bot under test reads getUpdates (or a webhook) and answers
        reply = await siti.next_message()
        assert "Selamat datang" in reply.visible_text
        await siti.press("Setuju")

It is strict where Telegram is strict, so that what passes here does not fail in production:

- HTML is parsed like Telegram's own parser (a port of tdlib's ``parse_html``): the same
  tags, the same error texts with byte offsets (``Unsupported start tag "ibu" at byte
  offset 7``). Lengths are checked after entity parsing and trimming, in UTF-16 code units.
- Keyboards: callback_data 1-64 bytes (``BUTTON_DATA_INVALID``), a button needs a text and
  an action, at most 100 inline buttons.
- A callback query can be answered once, within ``callback_answer_window`` seconds.
- Per-chat and global rate limits answer 429 with ``retry_after`` (sendMessage, sendPhoto and
  sendDocument count; edits and answers do not). The time source is injectable.
- A person who blocked the bot answers 403 "bot was blocked by the user"; a person who never
  wrote to the bot answers 403 "bot can't initiate conversation with a user"; an unknown
  chat answers 400 "chat not found".
- editMessageText / editMessageReplyMarkup without reply_markup take the inline keyboard away,
  as Telegram does; an edit that changes nothing answers "message is not modified".
- getUpdates answers 409 while a webhook is set, and a second concurrent getUpdates ends the
  first one with 409, as Telegram does when two copies of a bot poll.

The test's side: ``api.user(...)`` gives a FakeUser whose ``send_text``, ``press``,
``press_data``, ``tap_reply``, ``share_contact``, ``send_photo``, ``send_document``,
``send_location``, ``send_sticker``, ``send_voice``, ``send_poll``, ``edit_last_message``,
``block`` and ``unblock`` enqueue updates (``api.choose_update_ids_anew(start)`` numbers the
next ones as Telegram does after a quiet week); ``inbox``, ``last_text``, ``last_buttons``,
``reply_keyboard`` and ``next_message()`` show what the bot sent. ``api.calls``,
``api.answered_callbacks``, ``api.commands``, ``api.webhook``, ``api.webhook_deliveries``,
``api.count_429`` and ``api.wait_until(predicate)`` show the rest; ``api.force_429`` and
``api.force_5xx`` make the next calls fail; ``api.force_conflict`` makes getUpdates answer
409 as a second poller of the same token does, and ``api.force_garbage`` an HTML page, until
``api.end_forced()``. Give conversation tests ``clock=ManualClock()`` and ``user_pause=1.0``
so that each action of a person lets a second pass for the rate limits.

Stricter than Telegram, on purpose and said so in the error text: a bare ``&`` that does not
start ``&lt; &gt; &amp; &quot;`` or ``&#...;`` is refused (the Bot API documentation asks for
the escape, the real parser lets it through; pass ``strict_ampersand=False`` to relax it).
Only ``parse_mode`` HTML is implemented; Markdown is refused with a clear message. Webhooks
are delivered only to 127.0.0.1/localhost, over plain http, one update at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.parser
import email.policy
import itertools
import json
import math
import re
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.common import InFlight, ManualClock, TokenBucket

__all__ = [
    "FAKE_JPEG",
    "ApiError",
    "Call",
    "EntityParseError",
    "FakeTelegram",
    "FakeUser",
    "LoopbackServer",
    "ManualClock",
    "SentMessage",
    "Upload",
    "WebhookDelivery",
    "parse_html",
]

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
INLINE_BUTTON_LIMIT = 100
CALLBACK_TEXT_LIMIT = 200
UPDATE_ID_START = 730_000_001

# The smallest bytes that pass as a JPEG (SOI + APP0/JFIF marker); upload these as a photo.
FAKE_JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffd9")

# Telegram's own descriptions (checked against the Bot API server and client libraries).
UNAUTHORIZED = "Unauthorized"
NOT_FOUND = "Not Found"
BLOCKED = "Forbidden: bot was blocked by the user"
NOT_STARTED = "Forbidden: bot can't initiate conversation with a user"
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance "
    "is running"
)
SET_WEBHOOK_CONFLICT = "Conflict: terminated by setWebhook request"
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"

# The calls a forced 429/5xx hits unless told otherwise, and the calls rate limits count.
SEND_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "editMessageText",
        "editMessageCaption",
        "editMessageReplyMarkup",
    }
)
RATE_LIMITED_METHODS = frozenset({"sendMessage", "sendPhoto", "sendDocument"})
DEFAULT_UPDATE_TYPES = frozenset(
    {"message", "edited_message", "callback_query", "my_chat_member", "poll", "poll_answer"}
)
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
INLINE_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)

INT_FIELDS = frozenset(
    {
        "chat_id",
        "message_id",
        "offset",
        "limit",
        "max_connections",
        "cache_time",
        "reply_to_message_id",
        "message_thread_id",
        "user_id",
    }
)
NUMBER_FIELDS = frozenset({"timeout"})
BOOL_FIELDS = frozenset(
    {
        "show_alert",
        "drop_pending_updates",
        "disable_notification",
        "protect_content",
        "disable_web_page_preview",
        "allow_sending_without_reply",
        "has_spoiler",
        "disable_content_type_detection",
        "show_caption_above_media",
    }
)
JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "commands",
        "scope",
        "allowed_updates",
        "link_preview_options",
        "reply_parameters",
        "media",
    }
)


# ---------------------------------------------------------------------------------------------
# Errors


GARBAGE_PAGE = "<html><body>502 from a proxy that answers 200</body></html>"


class _Garbage(Exception):
    """A forced answer that is not the Bot API's JSON."""


class ApiError(Exception):
    """An error answer of the Bot API: ``{"ok": false, "error_code", "description"}``."""

    def __init__(
        self, code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


class EntityParseError(ValueError):
    """HTML Telegram would refuse; the message is its text after "can't parse entities: "."""


# ---------------------------------------------------------------------------------------------
# HTML, as Telegram parses it (a port of tdlib's parse_html in td/telegram/MessageEntity.cpp)

_HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
_SIMPLE_ENTITIES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "u": "underline",
    "ins": "underline",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
# tdlib's MessageEntity::get_type_priority: the order of entities sharing a span.
_PRIORITY = {
    "blockquote": 0,
    "expandable_blockquote": 0,
    "pre": 11,
    "code": 20,
    "text_link": 49,
    "bold": 90,
    "italic": 91,
    "underline": 92,
    "strikethrough": 93,
    "spoiler": 94,
    "custom_emoji": 99,
}
_NAMED_ENTITIES = {b"lt": 0x3C, b"gt": 0x3E, b"amp": 0x26, b"quot": 0x22}
_SPACES = frozenset(b" \t\r\n\x0b\x00")  # td::is_space; NUL stands for the end of the text
_HEX = frozenset(b"0123456789abcdefABCDEF")
_DIGITS = frozenset(b"0123456789")
_ALPHA = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_NAME_TOKEN = _ALPHA | _DIGITS | frozenset(b".-")


def _decode_html_entity(raw: bytes, pos: int) -> tuple[int, int]:
    """The code point of the character reference at ``pos`` and the position after it, or 0."""

    def at(k: int) -> int:
        return raw[k] if k < len(raw) else 0

    end = pos + 1
    code = 0
    if at(pos + 1) == ord("#"):
        end += 1
        if at(pos + 2) == ord("x"):
            end += 1
            while at(end) in _HEX and at(end) != 0:
                code = code * 16 + int(chr(at(end)), 16)
                end += 1
        else:
            while at(end) in _DIGITS and at(end) != 0:
                code = code * 10 + at(end) - 0x30
                end += 1
        if code == 0 or code >= 0x10FFFF or end - pos >= 10:
            return 0, pos
    else:
        while at(end) in _ALPHA and at(end) != 0:
            end += 1
        code = _NAMED_ENTITIES.get(raw[pos + 1 : end], 0)
        if code == 0:
            return 0, pos
    if at(end) == ord(";"):
        end += 1
    return code, end


def parse_html(text: str, *, strict_ampersand: bool = True) -> tuple[str, list[dict[str, Any]]]:
    """Telegram's HTML parse mode: the visible text and its entities (UTF-16 offsets).

    Raises EntityParseError with Telegram's description, e.g. ``Unsupported start tag "ibu" at
    byte offset 7``. With ``strict_ampersand`` a bare ``&`` is refused too (Telegram's
    documentation asks for ``&amp;``; its parser would keep the ``&``).
    """
    raw = text.encode("utf-8")
    size = len(raw)

    def at(k: int) -> int:
        return raw[k] if k < size else 0

    out = bytearray()
    utf16 = 0
    entities: list[dict[str, Any]] = []
    stack: list[tuple[str, str, int, int]] = []  # tag, argument, utf-16 offset, output position
    recheck_utf8 = False
    i = 0
    while i < size:
        c = raw[i]
        if c == ord("&"):
            code, after = _decode_html_entity(raw, i)
            if code:
                utf16 += 2 if code > 0xFFFF else 1
                recheck_utf8 |= 0xD800 <= code <= 0xDFFF
                out += chr(code).encode("utf-8", "surrogatepass")
                i = after
                continue
            if strict_ampersand:
                raise EntityParseError(
                    f'Character "&" at byte offset {i} must be escaped as &amp; '
                    "(the fake Telegram is stricter than Telegram here)"
                )
        if c != ord("<"):
            if c & 0xC0 != 0x80:
                utf16 += 2 if c >= 0xF0 else 1
            out.append(c)
            i += 1
            continue

        begin = i
        i += 1
        if at(i) != ord("/"):
            while at(i) not in _SPACES and at(i) != ord(">"):
                i += 1
            if at(i) == 0:
                raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
            tag = raw[begin + 1 : i].lower().decode("utf-8", "replace")
            if tag not in _HTML_TAGS:
                raise EntityParseError(f'Unsupported start tag "{tag}" at byte offset {begin}')
            argument = ""
            while at(i) != ord(">"):
                while at(i) != 0 and at(i) in _SPACES:
                    i += 1
                if at(i) == ord(">"):
                    break
                name_begin = i
                while at(i) not in _SPACES and at(i) not in b"=>/\"'":
                    i += 1
                name = raw[name_begin:i]
                if not name:
                    raise EntityParseError(
                        f'Empty attribute name in the tag "{tag}" at byte offset {begin}'
                    )
                while at(i) != 0 and at(i) in _SPACES:
                    i += 1
                if at(i) != ord("="):
                    if at(i) == 0:
                        raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
                    if tag == "blockquote" and name == b"expandable":
                        argument = "1"
                    continue
                i += 1
                while at(i) != 0 and at(i) in _SPACES:
                    i += 1
                if at(i) == 0:
                    raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
                if at(i) not in (ord("'"), ord('"')):
                    token_begin = i
                    while at(i) in _NAME_TOKEN and at(i) != 0:
                        i += 1
                    value = raw[token_begin:i].lower().decode("utf-8", "replace")
                    if at(i) not in _SPACES and at(i) != ord(">"):
                        raise EntityParseError(
                            f"Unexpected end of name token at byte offset {token_begin}"
                        )
                else:
                    quote = at(i)
                    i += 1
                    buffer = bytearray()
                    while at(i) != quote and at(i) != 0:
                        if at(i) == ord("&"):
                            code, after = _decode_html_entity(raw, i)
                            if code:
                                buffer += chr(code).encode("utf-8", "surrogatepass")
                                i = after
                                continue
                        buffer.append(at(i))
                        i += 1
                    if at(i) == quote:
                        i += 1
                    value = buffer.decode("utf-8", "replace")
                if at(i) == 0:
                    raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
                if tag == "a" and name == b"href":
                    argument = value
                elif tag == "code" and name == b"class" and value.startswith("language-"):
                    argument = value[len("language-") :]
                elif tag == "span" and name == b"class" and value.startswith("tg-"):
                    argument = value[len("tg-") :]
                elif tag == "tg-emoji" and name == b"emoji-id":
                    argument = value
                elif tag == "blockquote" and name == b"expandable":
                    argument = "1"
            if tag == "span" and argument != "spoiler":
                raise EntityParseError(
                    f'Tag "span" must have class "tg-spoiler" at byte offset {begin}'
                )
            stack.append((tag, argument, utf16, len(out)))
            i += 1  # the ">"
            continue

        # An end tag.
        if not stack:
            raise EntityParseError(f"Unexpected end tag at byte offset {begin}")
        while at(i) not in _SPACES and at(i) != ord(">"):
            i += 1
        end_tag = raw[begin + 2 : i].lower().decode("utf-8", "replace")
        while at(i) in _SPACES and at(i) != 0:
            i += 1
        if at(i) != ord(">"):
            raise EntityParseError(f"Unclosed end tag at byte offset {begin}")
        tag, argument, offset, out_begin = stack[-1]
        if end_tag and end_tag != tag:
            raise EntityParseError(
                f'Unmatched end tag at byte offset {begin}, expected "</{tag}>", '
                f'found "</{end_tag}>"'
            )
        if utf16 > offset:
            _close_entity(entities, tag, argument, offset, utf16 - offset, out[out_begin:])
        stack.pop()
        i += 1  # the ">"

    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    for entity in entities:
        entity.pop("_code_language", None)
    try:
        visible = out.decode("utf-8")
    except UnicodeDecodeError:
        if not recheck_utf8:
            raise
        raise EntityParseError(
            "Text contains invalid Unicode characters after decoding HTML entities, check for "
            "unmatched surrogate code units"
        ) from None
    entities.sort(key=lambda e: (e["offset"], -e["length"], _PRIORITY.get(e["type"], 50)))
    return visible, entities


def _close_entity(
    entities: list[dict[str, Any]],
    tag: str,
    argument: str,
    offset: int,
    length: int,
    content: bytes,
) -> None:
    if tag in _SIMPLE_ENTITIES:
        entities.append({"type": _SIMPLE_ENTITIES[tag], "offset": offset, "length": length})
    elif tag == "tg-emoji":
        if not argument.isdigit() or int(argument) == 0:
            raise EntityParseError("Invalid custom emoji identifier specified")
        entities.append(
            {
                "type": "custom_emoji",
                "offset": offset,
                "length": length,
                "custom_emoji_id": argument,
            }
        )
    elif tag == "a":
        url = argument or content.decode("utf-8", "replace")
        if url:
            entities.append({"type": "text_link", "offset": offset, "length": length, "url": url})
    elif tag == "pre":
        last = entities[-1] if entities else None
        if (
            last is not None
            and last["type"] == "code"
            and (last["offset"], last["length"]) == (offset, length)
            and last.get("_code_language")
        ):
            last["type"] = "pre"
            last["language"] = last.pop("_code_language")
        else:
            entities.append({"type": "pre", "offset": offset, "length": length})
    elif tag == "code":
        last = entities[-1] if entities else None
        if (
            last is not None
            and last["type"] == "pre"
            and (last["offset"], last["length"]) == (offset, length)
            and argument
        ):
            last["language"] = argument
        else:
            entity = {"type": "code", "offset": offset, "length": length}
            if argument:
                entity["_code_language"] = argument
            entities.append(entity)
    elif tag == "blockquote":
        kind = "expandable_blockquote" if argument else "blockquote"
        entities.append({"type": kind, "offset": offset, "length": length})


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _trim(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Telegram drops carriage returns and trims spaces and newlines around the text."""
    text = text.replace("\r", "")
    stripped = text.strip(" \n")
    if not stripped:
        return "", []
    lead = len(text) - len(text.lstrip(" \n"))  # spaces and newlines are one UTF-16 unit each
    end = _utf16_len(stripped)
    kept = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        stop = min(entity["offset"] + entity["length"] - lead, end)
        if stop > start:
            kept.append({**entity, "offset": start, "length": stop - start})
    return stripped, kept


# ---------------------------------------------------------------------------------------------
# Records


@dataclass
class Upload:
    """A file the bot uploaded in a multipart request."""

    filename: str
    content_type: str
    data: bytes


@dataclass
class Call:
    """One request the bot made: the canonical method name, its decoded parameters, the answer."""

    method: str
    params: dict[str, Any]
    status: int
    response: dict[str, Any]

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def description(self) -> str | None:
        return self.response.get("description")


@dataclass
class WebhookDelivery:
    """One POST of an update to the webhook: the HTTP status, or the connection error."""

    update_id: int
    attempt: int
    status: int | None
    error: str | None


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    kind: str  # photo | document | voice | sticker
    file_path: str
    data: bytes
    group: list[dict[str, Any]] | None = None  # every size of a photo
    meta: dict[str, Any] | None = None  # the Document/Voice/Sticker object


@dataclass
class SentMessage:
    """A message the bot sent, as the person sees it now (``edits`` keeps earlier versions)."""

    message_id: int
    chat_id: int
    date: int
    method: str
    text: str | None = None  # raw, as the bot sent it
    visible_text: str | None = None  # what the person reads: entities decoded, tags removed
    parse_mode: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    caption: str | None = None
    visible_caption: str | None = None
    caption_entities: list[dict[str, Any]] = field(default_factory=list)
    photo: list[dict[str, Any]] | None = None
    photo_source: str | None = None  # the file_id or URL the bot gave, or "upload"
    document: dict[str, Any] | None = None
    reply_markup: dict[str, Any] | None = None  # as attached now (inline) or as sent (reply kb)
    keyboard_removed: bool = False  # an inline keyboard was taken away by an edit
    edits: list[dict[str, Any]] = field(default_factory=list)
    edit_date: int | None = None
    deleted: bool = False

    @property
    def shown_text(self) -> str:
        """The visible text, or the visible caption of a photo or document."""
        return self.visible_text or self.visible_caption or ""

    @property
    def inline_keyboard(self) -> list[list[dict[str, Any]]] | None:
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            return self.reply_markup["inline_keyboard"]
        return None

    @property
    def buttons(self) -> list[str]:
        """The labels of the inline keyboard still attached, row by row."""
        return [button["text"] for row in self.inline_keyboard or [] for button in row]

    def button(self, label: str) -> dict[str, Any] | None:
        for row in self.inline_keyboard or []:
            for button in row:
                if button.get("text") == label:
                    return button
        return None

    def to_api(self, bot: dict[str, Any], chat: dict[str, Any]) -> dict[str, Any]:
        """The Message object Telegram returns (and puts in a callback query)."""
        message: dict[str, Any] = {
            "message_id": self.message_id,
            "from": bot,
            "chat": chat,
            "date": self.date,
        }
        if self.edit_date is not None:
            message["edit_date"] = self.edit_date
        if self.visible_text is not None:
            message["text"] = self.visible_text
            if self.entities:
                message["entities"] = self.entities
        if self.photo is not None:
            message["photo"] = self.photo
        if self.document is not None:
            message["document"] = self.document
        if self.visible_caption:
            message["caption"] = self.visible_caption
            if self.caption_entities:
                message["caption_entities"] = self.caption_entities
        if self.inline_keyboard is not None:
            message["reply_markup"] = self.reply_markup
        return message


@dataclass
class _Forced:
    kind: str  # "429", "5xx", "409" or "garbage"
    remaining: int
    methods: frozenset[str]
    retry_after: int = 1
    status: int = 502


@dataclass
class _Described:
    result: Any
    description: str


# ---------------------------------------------------------------------------------------------
# Request parameters


def _parse_multipart(body: bytes, content_type: str) -> tuple[dict[str, str], dict[str, Upload]]:
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not match:
        raise _bad("can't parse multipart/form-data: no boundary")
    delimiter = b"--" + match.group(1).encode("latin-1")
    fields: dict[str, str] = {}
    files: dict[str, Upload] = {}
    parser = email.parser.BytesHeaderParser(policy=email.policy.HTTP)
    for part in body.split(delimiter)[1:]:
        if part.startswith(b"--"):
            break
        part = part.removeprefix(b"\r\n")
        head, _, data = part.partition(b"\r\n\r\n")
        data = data.removesuffix(b"\r\n")
        headers = parser.parsebytes(head + b"\r\n\r\n")
        name = headers.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        filename = headers.get_filename()
        if filename is not None:
            content_type_of_part = headers.get_content_type() if "content-type" in headers else ""
            files[name] = Upload(filename, content_type_of_part, data)
        else:
            fields[name] = data.decode("utf-8", "replace")
    return fields, files


def _normalize(name: str, value: Any) -> Any:
    """Form fields arrive as strings; give them the type the Bot API reads them as."""
    if not isinstance(value, str):
        return value
    if name in JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError:
            if name == "reply_markup":
                raise _bad("can't parse reply keyboard markup JSON object") from None
            raise _bad(f"can't parse {name} JSON object") from None
    if name in INT_FIELDS and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    if name in NUMBER_FIELDS:
        try:
            return float(value)
        except ValueError:
            return value
    if name in BOOL_FIELDS:
        return value.strip().lower() in ("true", "1")
    return value


class _Params:
    def __init__(self, values: dict[str, Any], files: dict[str, Upload]) -> None:
        self.values = {name: _normalize(name, value) for name, value in values.items()}
        self.files = files

    def get(self, name: str, default: Any = None) -> Any:
        value = self.values.get(name, default)
        return default if value is None else value

    def text(self, name: str) -> str | None:
        value = self.values.get(name)
        return None if value is None else str(value)

    def integer(self, name: str, default: int | None = None) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _bad(f'field "{name}" must be of type Integer')
        return int(value)

    def number(self, name: str, default: float = 0.0) -> float:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _bad(f'field "{name}" must be of type Number')
        return float(value)

    def flag(self, name: str) -> bool:
        return bool(self.values.get(name))

    def file(self, name: str) -> str | Upload | None:
        if name in self.files:
            return self.files[name]
        value = self.values.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            upload = self.files.get(value.removeprefix("attach://"))
            if upload is None:
                raise _bad("wrong file identifier/HTTP URL specified")
            return upload
        return None if value is None else str(value)

    def record(self) -> dict[str, Any]:
        recorded = dict(self.values)
        for name, upload in self.files.items():
            recorded[name] = {
                "filename": upload.filename,
                "content_type": upload.content_type,
                "size": len(upload.data),
            }
        return recorded


# ---------------------------------------------------------------------------------------------
# Serving an ASGI app on loopback inside the running loop


class LoopbackServer:
    """Serve an ASGI app on 127.0.0.1 with a free port, in the running event loop.

    ``async with LoopbackServer(app) as server: server.url``. It runs uvicorn's server
    without its supervising main loop: startup() binds and serves right away, and stop()
    closes the listener, ends the connections and waits for requests in flight, all bounded
    by ``timeout`` seconds. No signal handlers are installed, and a start/stop pair costs
    milliseconds instead of the main loop's 0.1 s ticks.
    """

    def __init__(self, app: Any, *, timeout: float = 5.0) -> None:
        self.app = app
        self.timeout = timeout
        self.port = 0
        self._server: uvicorn.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that say so, and
        # without it every response waits ~40 ms for a delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            loop="none",
            lifespan="off",
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=1,
        )
        config.load()
        server = uvicorn.Server(config)
        server.lifespan = config.lifespan_class(config)
        try:
            await asyncio.wait_for(server.startup(sockets=[sock]), self.timeout)
        except BaseException:
            sock.close()
            raise
        if not server.started:
            sock.close()
            raise RuntimeError("the loopback server did not start")
        await server.on_tick(0)  # the Date and Server headers
        self._server = server

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.should_exit = True
        for listener in server.servers:
            listener.close()
        state = server.server_state
        for connection in list(state.connections):
            connection.shutdown()  # idle ones close now, busy ones after their response
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        while (state.connections or state.tasks) and loop.time() < deadline:
            await asyncio.sleep(0.005)
        for task in list(state.tasks):
            task.cancel()
        for listener in server.servers:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(listener.wait_closed(), self.timeout)

    async def __aenter__(self) -> LoopbackServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()


# ---------------------------------------------------------------------------------------------
# The simulated person


class FakeUser:
    """A person in a private chat with the bot. Actions enqueue real-shaped updates."""

    def __init__(
        self,
        api: FakeTelegram,
        user_id: int,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "id",
        phone: str | None = None,
        started: bool = False,
    ) -> None:
        self.api = api
        self.id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code
        self.phone = phone
        self.started = started  # has written to the bot at least once
        self.blocked = False
        self.sent: list[dict[str, Any]] = []  # the person's own messages, as Telegram sent them
        self._inbox: list[SentMessage] = []
        self._read = 0
        self._reply_keyboard: dict[str, Any] | None = None
        self.reply_keyboard_collapsed = False

    def __repr__(self) -> str:
        return f"FakeUser({self.id}, {self.first_name!r})"

    # -- shapes ---------------------------------------------------------------------------------

    @property
    def as_dict(self) -> dict[str, Any]:
        """The User object."""
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    @property
    def chat(self) -> dict[str, Any]:
        """The private Chat object (its id is the user's id)."""
        chat: dict[str, Any] = {"id": self.id, "first_name": self.first_name}
        if self.last_name:
            chat["last_name"] = self.last_name
        if self.username:
            chat["username"] = self.username
        chat["type"] = "private"
        return chat

    # -- what the person does -------------------------------------------------------------------

    async def send_text(self, text: str) -> dict[str, Any]:
        """Type and send a text; a leading /command gets a bot_command entity, like Telegram."""
        assert text.strip(), "Telegram clients do not send empty messages"
        assert _utf16_len(text) <= TEXT_LIMIT, "Telegram clients split texts over 4096 characters"
        content: dict[str, Any] = {"text": text}
        command = re.match(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_@/])", text)
        if command:
            content["entities"] = [
                {"offset": 0, "length": _utf16_len(command.group(0)), "type": "bot_command"}
            ]
        return await self.api._user_message(self, content)

    async def press(self, label: str) -> dict[str, Any]:
        """Tap an inline button by its label on the latest bot message that still shows it."""
        message, button = self._find_inline_button(label)
        if "callback_data" not in button:
            kinds = [action for action in INLINE_BUTTON_ACTIONS if action in button]
            raise AssertionError(
                f"button {label!r} is a {kinds} button; tapping it sends the bot nothing"
            )
        return await self.api._callback_query(self, message, button["callback_data"])

    async def press_data(self, callback_data: str, message_id: int | None = None) -> dict[str, Any]:
        """Forge a callback query with any data, from a given (or the latest) bot message."""
        candidates = [m for m in self._inbox if not m.deleted]
        if message_id is not None:
            candidates = [m for m in candidates if m.message_id == message_id]
        assert candidates, f"no bot message {message_id or ''} in {self.first_name}'s chat"
        return await self.api._callback_query(self, candidates[-1], callback_data)

    async def tap_reply(self, label: str) -> dict[str, Any]:
        """Tap a button of the reply keyboard: a request_contact button shares the contact."""
        keyboard = self._reply_keyboard
        assert keyboard is not None, f"{self.first_name} has no reply keyboard"
        for row in keyboard["keyboard"]:
            for button in row:
                text = button if isinstance(button, str) else button.get("text")
                if text != label:
                    continue
                if isinstance(button, dict) and button.get("request_contact"):
                    return await self.share_contact()
                if isinstance(button, dict) and button.get("request_location"):
                    return await self.send_location()
                if isinstance(button, dict) and any(
                    key.startswith("request_") or key == "web_app" for key in button
                ):
                    raise AssertionError(f"the fake cannot tap {button}")
                return await self.send_text(label)
        raise AssertionError(f"no reply button {label!r} in {self.reply_keyboard_labels}")

    async def share_contact(
        self,
        phone: str | None = None,
        user_id: int | None = None,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        with_user_id: bool = True,
    ) -> dict[str, Any]:
        """Share a contact card: by default one's own, with the number as Telegram sends it
        (digits, without "+"). Pass another ``user_id`` to share someone else's card, or
        ``with_user_id=False`` for a card of someone not on Telegram."""
        if phone is None:
            assert self.phone, f"{self.first_name} has no phone; pass phone="
            phone = self.phone.removeprefix("+")
        contact: dict[str, Any] = {
            "phone_number": phone,
            "first_name": first_name or self.first_name,
        }
        last = last_name if first_name is not None else (last_name or self.last_name)
        if last:
            contact["last_name"] = last
        if with_user_id:
            contact["user_id"] = self.id if user_id is None else user_id
        return await self.api._user_message(self, {"contact": contact})

    async def send_photo(self, file_id: str | None = None, caption: str | None = None) -> dict:
        """Send a photo: a ``photo`` array of three PhotoSize, the largest with ``file_id``."""
        sizes = self.api._make_photo(FAKE_JPEG, file_id)
        content: dict[str, Any] = {"photo": sizes}
        if caption:
            content["caption"] = caption
        return await self.api._user_message(self, content)

    async def send_document(
        self,
        file_name: str = "dokumen.pdf",
        data: bytes = b"%PDF-1.4\n% fake\n%%EOF\n",
        mime_type: str = "application/pdf",
        caption: str | None = None,
    ) -> dict[str, Any]:
        document = self.api._make_document(data, file_name, mime_type)
        content: dict[str, Any] = {"document": document}
        if caption:
            content["caption"] = caption
        return await self.api._user_message(self, content)

    async def send_location(
        self, latitude: float = -6.2615, longitude: float = 107.1528
    ) -> dict[str, Any]:
        """Share a location (by default in Cikarang)."""
        location = {"latitude": latitude, "longitude": longitude}
        return await self.api._user_message(self, {"location": location})

    async def send_sticker(self, emoji: str = "👍") -> dict[str, Any]:
        stored = self.api._store_file("sticker", b"RIFF\x00\x00\x00\x00WEBPVP8 ", "webp")
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "set_name": "SinergiTestStickers",
            "file_size": len(stored.data),
        }
        stored.meta = sticker
        return await self.api._user_message(self, {"sticker": sticker})

    async def send_voice(self, duration: int = 3) -> dict[str, Any]:
        stored = self.api._store_file("voice", b"OggS" + bytes(60), "oga")
        voice = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": len(stored.data),
        }
        stored.meta = voice
        return await self.api._user_message(self, {"voice": voice})

    async def send_poll(
        self, question: str = "Kapan rapat?", options: Iterable[str] = ("Senin", "Selasa")
    ) -> dict[str, Any]:
        poll = {
            "id": str(next(self.api._ids)),
            "question": question,
            "options": [
                {"persistent_id": str(n), "text": option, "voter_count": 0}
                for n, option in enumerate(options)
            ],
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": True,
            "type": "regular",
            "allows_multiple_answers": False,
            "allows_revoting": True,
            "members_only": False,
        }
        return await self.api._user_message(self, {"poll": poll})

    async def edit_last_message(self, text: str) -> dict[str, Any]:
        """Edit one's latest text message: an ``edited_message`` update."""
        texts = [m for m in self.sent if "text" in m]
        assert texts, f"{self.first_name} has sent no text to edit"
        return await self.api._edit_user_message(self, texts[-1], text)

    async def block(self) -> dict[str, Any]:
        """Block the bot: sends now answer 403, and a my_chat_member update says "kicked"."""
        self.blocked = True
        return await self.api._member_update(self, "member", "kicked")

    async def unblock(self) -> dict[str, Any]:
        """Unblock (restart) the bot: a my_chat_member update "kicked" -> "member"."""
        self.blocked = False
        self.started = True
        return await self.api._member_update(self, "kicked", "member")

    # -- what the person sees -------------------------------------------------------------------

    @property
    def inbox(self) -> list[SentMessage]:
        """Every message the bot sent to this person, oldest first (deleted ones flagged)."""
        return list(self._inbox)

    @property
    def last_message(self) -> SentMessage | None:
        shown = [m for m in self._inbox if not m.deleted]
        return shown[-1] if shown else None

    @property
    def last_text(self) -> str | None:
        """The visible text (or caption) of the latest bot message."""
        message = self.last_message
        return None if message is None else message.shown_text

    @property
    def last_buttons(self) -> list[str]:
        """The labels of the latest inline keyboard still attached to a message."""
        for message in reversed(self._inbox):
            if not message.deleted and message.inline_keyboard is not None:
                return message.buttons
        return []

    @property
    def reply_keyboard(self) -> dict[str, Any] | None:
        """The reply keyboard the bot set last (None once removed with ReplyKeyboardRemove)."""
        return self._reply_keyboard

    @property
    def reply_keyboard_labels(self) -> list[str]:
        if self._reply_keyboard is None:
            return []
        return [
            button if isinstance(button, str) else button.get("text", "")
            for row in self._reply_keyboard["keyboard"]
            for button in row
        ]

    @property
    def callback_answers(self) -> list[dict[str, Any]]:
        return [a for a in self.api.answered_callbacks if a["user_id"] == self.id]

    async def next_message(self, timeout: float = 5.0) -> SentMessage:
        """The next bot message not read yet by this method, waiting for it if needed."""
        await self.api.wait_until(
            lambda: len(self._inbox) > self._read,
            timeout,
            what=f"a new message to {self.first_name}",
        )
        message = self._inbox[self._read]
        self._read += 1
        return message

    def _find_inline_button(self, label: str) -> tuple[SentMessage, dict[str, Any]]:
        seen: list[str] = []
        for message in reversed(self._inbox):
            if message.deleted:
                continue
            button = message.button(label)
            if button is not None:
                return message, button
            seen.extend(message.buttons)
        raise AssertionError(
            f"no inline button {label!r} on the bot's messages to {self.first_name}; "
            f"attached buttons: {seen}"
        )


# ---------------------------------------------------------------------------------------------
# The fake Bot API


class FakeTelegram:
    """The Telegram Bot API for one bot, on http://127.0.0.1:<free port>.

    ``async with FakeTelegram(token="123:ABC") as api`` starts it; ``api.base_url`` and
    ``api.base_file_url`` go to ``telegram.Bot(token, base_url=..., base_file_url=...)``.
    """

    def __init__(
        self,
        token: str = "123:ABC",
        *,
        username: str = "sinergi_ikm_bot",
        first_name: str = "Sinergi IKM",
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        per_chat_per_second: float | None = 1.0,
        per_chat_burst: int = 3,
        global_per_second: float | None = 30.0,
        global_burst: int | None = None,
        user_pause: float = 0.0,
        callback_answer_window: float = 15.0,
        webhook_attempts: int = 3,
        webhook_retry_delay: float = 0.05,
        webhook_timeout: float = 5.0,
        strict_ampersand: bool = True,
        server_timeout: float = 5.0,
        latency: float = 0.0,
    ) -> None:
        self.token = token
        # Calls in progress by method (`in_flight.most`); each answered after `latency` s.
        self.in_flight = InFlight(latency)
        head = token.split(":", 1)[0]
        self.bot_id = int(head) if head.isdigit() else 123
        self.bot_user: dict[str, Any] = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": first_name,
            "username": username,
        }
        self.clock = clock
        self.wall_clock = wall_clock
        self.per_chat_per_second = per_chat_per_second
        self.per_chat_burst = per_chat_burst
        self.global_per_second = global_per_second
        self.global_burst = global_burst
        self.user_pause = user_pause
        self.callback_answer_window = callback_answer_window
        self.webhook_attempts = webhook_attempts
        self.webhook_retry_delay = webhook_retry_delay
        self.webhook_timeout = webhook_timeout
        self.strict_ampersand = strict_ampersand

        # What tests read.
        self.calls: list[Call] = []
        self.answered_callbacks: list[dict[str, Any]] = []
        self.webhook_deliveries: list[WebhookDelivery] = []
        self.dropped_updates: list[dict[str, Any]] = []  # webhook gave up on them
        self.count_429 = 0
        self.crashes: list[Exception] = []  # exceptions inside the fake itself (should stay empty)
        self.waiting_polls = 0  # getUpdates calls waiting for an update right now
        self.users: dict[int, FakeUser] = {}
        self.messages: list[SentMessage] = []

        self._ids = itertools.count(1)
        self._update_ids = itertools.count(UPDATE_ID_START)
        self._last_update_id: int | None = None
        self._renumbered = False
        self._message_ids: dict[int, int] = {}
        self._by_id: dict[tuple[int, int], SentMessage] = {}
        self._user_messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._pending: list[dict[str, Any]] = []
        self._allowed_updates: frozenset[str] = DEFAULT_UPDATE_TYPES
        self._files: dict[str, _StoredFile] = {}
        self._callbacks: dict[str, dict[str, Any]] = {}
        self._commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self._webhook: dict[str, Any] | None = None
        self._webhook_error: tuple[int, str] | None = None
        self._forced: list[_Forced] = []
        self._chat_buckets: dict[int, TokenBucket] = {}
        self._global_bucket = (
            TokenBucket(global_per_second, global_burst or global_per_second)
            if global_per_second
            else None
        )
        self._poll_generation = 0
        self._closing = False
        self._changed = asyncio.Condition()
        self._webhook_wakeup = asyncio.Event()
        self._http: httpx.AsyncClient | None = None
        self._worker: asyncio.Task[None] | None = None

        self._handlers: dict[str, tuple[str, Callable[[_Params], Any]]] = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._get_me,
                "getUpdates": self._get_updates,
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "sendMessage": self._send_message,
                "sendPhoto": self._send_photo,
                "sendDocument": self._send_document,
                "sendChatAction": self._send_chat_action,
                "editMessageText": self._edit_message_text,
                "editMessageCaption": self._edit_message_caption,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "deleteMessage": self._delete_message,
                "answerCallbackQuery": self._answer_callback_query,
                "getFile": self._get_file,
            }.items()
        }
        self.app = Starlette(
            routes=[
                Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"]),
                Route("/file/bot{token}/{path:path}", self._download, methods=["GET"]),
            ],
            exception_handlers={404: self._not_found, 405: self._not_found},
        )
        self._server = LoopbackServer(self.app, timeout=server_timeout)

    # -- lifecycle ------------------------------------------------------------------------------

    async def __aenter__(self) -> FakeTelegram:
        self._http = httpx.AsyncClient(timeout=self.webhook_timeout, trust_env=False)
        await self._server.start()
        self._worker = asyncio.create_task(self._webhook_worker(), name="fake-telegram-webhook")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._closing = True
        self._webhook_wakeup.set()
        await self._notify()
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(self._worker, self.webhook_timeout)
        await self._server.stop()
        if self._http is not None:
            await self._http.aclose()

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def base_url(self) -> str:
        """For ``telegram.Bot(base_url=...)``: PTB appends the token, then ``/method``."""
        return f"{self._server.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self._server.url}/file/bot"

    # -- the test's side ------------------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str = "Siti",
        *,
        phone: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "id",
        started: bool = False,
    ) -> FakeUser:
        """A person (the same object for the same id). ``started=True`` for someone who wrote
        to the bot before the test began; otherwise the bot cannot message them first."""
        existing = self.users.get(user_id)
        if existing is not None:
            return existing
        person = FakeUser(
            self,
            user_id,
            first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
            phone=phone,
            started=started,
        )
        self.users[user_id] = person
        return person

    @property
    def commands(self) -> list[dict[str, str]]:
        """The commands set by setMyCommands for the default scope and no language."""
        return list(self._commands.get(("default", ""), []))

    @property
    def webhook(self) -> dict[str, Any]:
        """getWebhookInfo's answer plus the secret_token (url is "" while none is set)."""
        info = self._webhook_info()
        info["secret_token"] = self._webhook["secret_token"] if self._webhook else None
        return info

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        return list(self._pending)

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def force_429(
        self, times: int = 1, retry_after: int = 5, methods: Iterable[str] | None = None
    ) -> None:
        """The next ``times`` send/edit calls (or ``methods``) answer 429 retry_after."""
        chosen = frozenset(methods) if methods is not None else SEND_METHODS
        self._forced.append(_Forced("429", times, chosen, retry_after=retry_after))

    def force_5xx(
        self, times: int = 1, methods: Iterable[str] | None = None, status: int = 502
    ) -> None:
        """The next ``times`` send/edit calls (or ``methods``) answer 502 Bad Gateway."""
        chosen = frozenset(methods) if methods is not None else SEND_METHODS
        self._forced.append(_Forced("5xx", times, chosen, status=status))

    def force_conflict(self, times: int = 1) -> None:
        """The next ``times`` getUpdates answer 409, as when another copy of the bot polls."""
        self._forced.append(_Forced("409", times, frozenset({"getUpdates"})))

    def force_garbage(self, times: int = 1, methods: Iterable[str] = ("getUpdates",)) -> None:
        """The next ``times`` calls answer 200 with an HTML page, as a broken proxy would."""
        self._forced.append(_Forced("garbage", times, frozenset(methods)))

    def end_forced(self) -> None:
        """Forced failures still pending are dropped: the API answers normally again."""
        for forced in self._forced:
            forced.remaining = 0

    async def wait_until(
        self, predicate: Callable[[], Any], timeout: float = 5.0, *, what: str | None = None
    ) -> Any:
        """Wait until ``predicate()`` is truthy over the recorded state; returns its value.

        Re-checked whenever a call is recorded or an update moves. Fails the test (an
        AssertionError naming the last calls) after ``timeout`` seconds.
        """
        async with self._changed:
            try:
                return await asyncio.wait_for(self._changed.wait_for(predicate), timeout)
            except TimeoutError:
                last = [f"{c.method} {c.status}" for c in self.calls[-5:]]
                raise AssertionError(
                    f"waited {timeout}s for {what or 'the condition'}; last calls: {last}"
                ) from None

    def choose_update_ids_anew(self, start: int) -> None:
        """Number the next updates from `start`, as Telegram does after a week without
        updates ("the identifier of the next update will be chosen randomly"). An offset
        from before, higher than any new id, then confirms none of them: they keep coming
        back until an offset above them is sent (go-telegram-bot-api#156)."""
        assert not self._pending, "Telegram renumbers only after a week without updates"
        self._update_ids = itertools.count(start)
        self._renumbered = True

    async def enqueue_update(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Queue any update (``{"update_id": ..., kind: payload}``) for getUpdates/webhook."""
        return await self._enqueue(kind, payload)

    # -- HTTP -----------------------------------------------------------------------------------

    async def _endpoint(self, request: Request) -> Response:
        # Read whole before the latency: a client may give up meanwhile (a poll cut short).
        await request.body()
        entry = self._handlers.get(request.path_params["method"].lower())
        async with self.in_flight.call(entry[0] if entry else request.path_params["method"]):
            return await self._answer_call(request)

    async def _answer_call(self, request: Request) -> Response:
        token = request.path_params["token"]
        requested = request.path_params["method"]
        entry = self._handlers.get(requested.lower())
        name = entry[0] if entry else requested
        params: _Params | None = None
        description: str | None = None
        try:
            if token != self.token:
                raise ApiError(401, UNAUTHORIZED)
            if entry is None:
                raise ApiError(404, NOT_FOUND)
            params = await self._read_params(request)
            try:
                self._check_forced(name)
            except _Garbage:
                self.calls.append(Call(name, params.record(), 200, {}))
                await self._notify()
                return Response(GARBAGE_PAGE, media_type="text/html")
            result = entry[1](params)
            if asyncio.iscoroutine(result):
                result = await result
            if isinstance(result, _Described):
                result, description = result.result, result.description
            payload: dict[str, Any] = {"ok": True, "result": result}
            if description:
                payload["description"] = description
            status = 200
        except ApiError as error:
            payload, status = error.payload(), error.code
            if status == 429:
                self.count_429 += 1
        except Exception as crash:  # a bug in the fake: answer 500 and keep it for the test
            self.crashes.append(crash)
            payload = ApiError(500, f"Internal Server Error: the fake crashed: {crash!r}").payload()
            status = 500
        self.calls.append(Call(name, params.record() if params else {}, status, payload))
        await self._notify()
        return JSONResponse(payload, status_code=status)

    async def _not_found(self, request: Request, exc: Exception) -> Response:
        return JSONResponse(ApiError(404, NOT_FOUND).payload(), status_code=404)

    async def _download(self, request: Request) -> Response:
        path = request.path_params["path"]
        if request.path_params["token"] == self.token:
            for stored in self._files.values():
                if stored.file_path == path:
                    return Response(stored.data, media_type="application/octet-stream")
        return JSONResponse(ApiError(404, NOT_FOUND).payload(), status_code=404)

    async def _read_params(self, request: Request) -> _Params:
        values: dict[str, Any] = dict(request.query_params)
        files: dict[str, Upload] = {}
        body = await request.body()
        content_type = request.headers.get("content-type", "")
        mime = content_type.split(";", 1)[0].strip().lower()
        if body:
            if mime == "application/json":
                try:
                    data = json.loads(body)
                except ValueError:
                    raise _bad("can't parse JSON encoded request parameters") from None
                if not isinstance(data, dict):
                    raise _bad("JSON encoded request parameters must be an Object")
                values.update(data)
            elif mime == "application/x-www-form-urlencoded":
                values.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
            elif mime == "multipart/form-data":
                fields, files = _parse_multipart(body, content_type)
                values.update(fields)
            else:
                raise _bad(f"unsupported Content-Type {mime!r}")
        return _Params(values, files)

    def _check_forced(self, method: str) -> None:
        for forced in self._forced:
            if forced.remaining > 0 and method in forced.methods:
                forced.remaining -= 1
                if forced.kind == "429":
                    raise ApiError(
                        429,
                        f"Too Many Requests: retry after {forced.retry_after}",
                        {"retry_after": forced.retry_after},
                    )
                if forced.kind == "409":
                    raise ApiError(409, POLL_CONFLICT)
                if forced.kind == "garbage":
                    raise _Garbage()
                raise ApiError(forced.status, HTTPStatus(forced.status).phrase)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # -- updates --------------------------------------------------------------------------------

    def _now(self) -> int:
        return int(self.wall_clock())

    def _next_message_id(self, chat_id: int) -> int:
        self._message_ids[chat_id] = self._message_ids.get(chat_id, 0) + 1
        return self._message_ids[chat_id]

    async def _enqueue(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": next(self._update_ids), kind: payload}
        self._last_update_id = update["update_id"]
        self._pending.append(update)
        self._webhook_wakeup.set()
        await self._notify()
        return update

    def _act(self, person: FakeUser) -> None:
        assert not person.blocked, f"{person.first_name} blocked the bot; unblock() first"
        person.started = True
        if person._reply_keyboard and person._reply_keyboard.get("one_time_keyboard"):
            person.reply_keyboard_collapsed = True
        advance = getattr(self.clock, "advance", None)
        if self.user_pause and callable(advance):
            advance(self.user_pause)

    async def _user_message(self, person: FakeUser, content: dict[str, Any]) -> dict[str, Any]:
        self._act(person)
        message = {
            "message_id": self._next_message_id(person.id),
            "from": person.as_dict,
            "chat": person.chat,
            "date": self._now(),
            **content,
        }
        person.sent.append(message)
        self._user_messages[(person.id, message["message_id"])] = message
        return await self._enqueue("message", message)

    async def _edit_user_message(
        self, person: FakeUser, original: dict[str, Any], text: str
    ) -> dict[str, Any]:
        self._act(person)
        edited = {**original, "text": text, "edit_date": self._now()}
        edited.pop("entities", None)
        if text.startswith("/"):
            command = re.match(r"/[A-Za-z0-9_]{1,64}", text)
            if command:
                edited["entities"] = [
                    {"offset": 0, "length": len(command.group(0)), "type": "bot_command"}
                ]
        original.clear()
        original.update(edited)
        return await self._enqueue("edited_message", dict(edited))

    async def _callback_query(
        self, person: FakeUser, message: SentMessage, data: str
    ) -> dict[str, Any]:
        self._act(person)
        query_id = str(4_000_000_000_000_000_000 + next(self._ids))
        self._callbacks[query_id] = {
            "user_id": person.id,
            "issued": self.clock(),
            "answered": False,
            "data": data,
            "message_id": message.message_id,
        }
        payload = {
            "id": query_id,
            "from": person.as_dict,
            "message": message.to_api(self.bot_user, person.chat),
            "chat_instance": str(-7_000_000_000_000_000_000 + person.id),
            "data": data,
        }
        return await self._enqueue("callback_query", payload)

    async def _member_update(self, person: FakeUser, old: str, new: str) -> dict[str, Any]:
        def member(status: str) -> dict[str, Any]:
            shape: dict[str, Any] = {"user": self.bot_user, "status": status}
            if status == "kicked":
                shape["until_date"] = 0
            return shape

        payload = {
            "chat": person.chat,
            "from": person.as_dict,
            "date": self._now(),
            "old_chat_member": member(old),
            "new_chat_member": member(new),
        }
        return await self._enqueue("my_chat_member", payload)

    def _kind(self, update: dict[str, Any]) -> str:
        return next(key for key in update if key != "update_id")

    def _deliverable(self) -> list[dict[str, Any]]:
        return [u for u in self._pending if self._kind(u) in self._allowed_updates]

    def _drop_unwanted(self) -> None:
        self._pending = self._deliverable()

    def _confirm(self, offset: int | None) -> None:
        if offset is None or offset == 0:
            return
        stale = self._last_update_id is not None and offset > self._last_update_id + 1
        if self._renumbered and stale:
            return  # from before the ids were chosen anew
        if offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        else:
            self._pending = self._pending[offset:]

    # -- files ----------------------------------------------------------------------------------

    def _store_file(
        self, kind: str, data: bytes, extension: str, file_id: str | None = None
    ) -> _StoredFile:
        number = next(self._ids)
        prefixes = {
            "photo": "AgACAgUAAxkBAAI",
            "document": "BQACAgUAAxkBAAI",
            "voice": "AwACAgUAAxkBAAI",
            "sticker": "CAACAgUAAxkBAAI",
        }
        file_id = file_id or f"{prefixes[kind]}{number:06d}fake"
        folder = {"photo": "photos", "document": "documents", "voice": "voice"}.get(kind, kind)
        stored = _StoredFile(
            file_id=file_id,
            file_unique_id=f"AQAD{number:06d}",
            kind=kind,
            file_path=f"{folder}/file_{number}.{extension}",
            data=data,
        )
        self._files[file_id] = stored
        return stored

    def _make_photo(self, data: bytes, file_id: str | None = None) -> list[dict[str, Any]]:
        """Three sizes of one photo, like Telegram; the largest carries ``file_id``."""
        base = file_id or f"AgACAgUAAxkBAAI{next(self._ids):06d}fake"
        sizes: list[dict[str, Any]] = []
        for suffix, width, height in (("-s", 90, 68), ("-m", 320, 240), ("", 800, 600)):
            stored = self._store_file("photo", data, "jpg", base + suffix)
            sizes.append(
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "width": width,
                    "height": height,
                    "file_size": len(data) * width // 800 + 1,
                }
            )
        for size in sizes:
            self._files[size["file_id"]].group = sizes
        return sizes

    def _make_document(self, data: bytes, file_name: str, mime_type: str) -> dict[str, Any]:
        extension = file_name.rsplit(".", 1)[-1] if "." in file_name else "bin"
        stored = self._store_file("document", data, extension)
        document = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": file_name,
            "mime_type": mime_type or "application/octet-stream",
            "file_size": len(data),
        }
        stored.meta = document
        return document

    # -- checks ---------------------------------------------------------------------------------

    def _chat(self, params: _Params) -> FakeUser:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise _bad("chat_id is empty")
        person = self.users.get(chat_id) if isinstance(chat_id, int) else None
        if person is None:
            raise _bad("chat not found")
        return person

    def _reachable(self, person: FakeUser) -> None:
        if person.blocked:
            raise ApiError(403, BLOCKED)
        if not person.started:
            raise ApiError(403, NOT_STARTED)

    def _take_rate(self, chat_id: int) -> None:
        now = self.clock()
        buckets: list[TokenBucket] = []
        if self.per_chat_per_second:
            bucket = self._chat_buckets.get(chat_id)
            if bucket is None:
                bucket = TokenBucket(self.per_chat_per_second, self.per_chat_burst)
                self._chat_buckets[chat_id] = bucket
            buckets.append(bucket)
        if self._global_bucket is not None:
            buckets.append(self._global_bucket)
        wait = max((bucket.wait(now) for bucket in buckets), default=0.0)
        if wait > 0:
            seconds = max(1, math.ceil(wait - 1e-9))
            raise ApiError(
                429, f"Too Many Requests: retry after {seconds}", {"retry_after": seconds}
            )
        for bucket in buckets:
            bucket.take()

    def _formatted(
        self,
        raw: str | None,
        parse_mode: str | None,
        entities: Any,
        *,
        caption: bool,
    ) -> tuple[str, list[dict[str, Any]]]:
        raw = raw or ""
        mode = (parse_mode or "").strip()
        if mode.lower() == "html":
            try:
                visible, found = parse_html(raw, strict_ampersand=self.strict_ampersand)
            except EntityParseError as error:
                raise _bad(f"can't parse entities: {error}") from None
        elif not mode:
            visible = raw
            found = [dict(e) for e in entities] if isinstance(entities, list) else []
        elif mode.lower() in ("markdown", "markdownv2"):
            raise _bad(f"the fake Telegram implements only parse_mode HTML, not {mode}")
        else:
            raise _bad("unsupported parse_mode")
        visible, found = _trim(visible, found)
        length = _utf16_len(visible)
        if caption:
            if length > CAPTION_LIMIT:
                raise _bad("message caption is too long")
        elif length == 0:
            raise _bad("message text is empty")
        elif length > TEXT_LIMIT:
            raise _bad("message is too long")
        return visible, found

    def _markup(self, markup: Any, *, inline_only: bool) -> dict[str, Any] | None:
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise _bad(
                    'field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of '
                    "Arrays"
                )
            if sum(len(row) for row in rows) > INLINE_BUTTON_LIMIT:
                raise _bad("REPLY_MARKUP_TOO_LONG")
            for row in rows:
                for button in row:
                    self._inline_button(button)
            return markup
        if inline_only:
            raise _bad("inline keyboard expected")
        if "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise _bad(
                    'field "keyboard" of the ReplyKeyboardMarkup should be an Array of Arrays'
                )
            for row in rows:
                for button in row:
                    text = button if isinstance(button, str) else None
                    if isinstance(button, dict):
                        text = button.get("text")
                    if not isinstance(text, str):
                        raise _bad(
                            'can\'t parse keyboard button: Field "text" must be of type String'
                        )
                    if not text.strip():
                        raise _bad("BUTTON_TEXT_INVALID")
            return markup
        if "remove_keyboard" in markup:
            if markup["remove_keyboard"] is not True:
                raise _bad('field "remove_keyboard" of the ReplyKeyboardRemove must be true')
            return markup
        if "force_reply" in markup:
            return markup
        raise _bad("can't parse reply keyboard markup JSON object")

    def _inline_button(self, button: Any) -> None:
        if not isinstance(button, dict):
            raise _bad("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
        text = button.get("text")
        if not isinstance(text, str):
            raise _bad('can\'t parse inline keyboard button: Field "text" must be of type String')
        if not text.strip():
            raise _bad("BUTTON_TEXT_INVALID")
        actions = [action for action in INLINE_BUTTON_ACTIONS if action in button]
        if not actions:
            raise _bad(
                "can't parse inline keyboard button: Text buttons are unallowed in the inline "
                "keyboard"
            )
        if "callback_data" in button:
            data = button["callback_data"]
            if not isinstance(data, str):
                raise _bad(
                    'can\'t parse inline keyboard button: Field "callback_data" must be of type '
                    "String"
                )
            if not 1 <= len(data.encode("utf-8")) <= CALLBACK_DATA_LIMIT:
                raise _bad("BUTTON_DATA_INVALID")
        if "url" in button:
            scheme = urlsplit(str(button["url"])).scheme.lower()
            if scheme not in ("http", "https", "tg"):
                raise _bad("BUTTON_URL_INVALID")

    def _reply_to(self, person: FakeUser, params: _Params) -> None:
        reply = params.get("reply_parameters")
        target = params.integer("reply_to_message_id")
        if isinstance(reply, dict):
            target = reply.get("message_id")
            if reply.get("allow_sending_without_reply"):
                return
        if target is None or params.flag("allow_sending_without_reply"):
            return
        key = (person.id, target)
        if key not in self._user_messages and key not in self._by_id:
            raise _bad("message to be replied not found")

    def _record_sent(self, person: FakeUser, message: SentMessage) -> dict[str, Any]:
        self.messages.append(message)
        self._by_id[(person.id, message.message_id)] = message
        person._inbox.append(message)
        markup = message.reply_markup or {}
        if "keyboard" in markup:
            person._reply_keyboard = markup
            person.reply_keyboard_collapsed = False
        elif "remove_keyboard" in markup:
            person._reply_keyboard = None
            person.reply_keyboard_collapsed = False
        return message.to_api(self.bot_user, person.chat)

    def _message_to_edit(self, person: FakeUser, params: _Params) -> SentMessage:
        if params.get("inline_message_id"):
            raise _bad("the fake Telegram does not implement inline messages")
        message_id = params.integer("message_id")
        if message_id is None:
            raise _bad("message identifier is not specified")
        message = self._by_id.get((person.id, message_id))
        if message is None or message.deleted:
            if (person.id, message_id) in self._user_messages:
                raise _bad("message can't be edited")
            raise _bad("message to edit not found")
        return message

    # -- methods --------------------------------------------------------------------------------

    def _get_me(self, params: _Params) -> dict[str, Any]:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: _Params) -> list[dict[str, Any]]:
        if self._webhook is not None:
            raise ApiError(409, WEBHOOK_CONFLICT)
        offset = params.integer("offset")
        limit = min(max(params.integer("limit", 100) or 100, 1), 100)
        timeout = max(params.number("timeout", 0.0), 0.0)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(allowed) if allowed else DEFAULT_UPDATE_TYPES
        self._confirm(offset)
        self._drop_unwanted()
        self._poll_generation += 1
        generation = self._poll_generation
        await self._notify()  # a poll still waiting is terminated by this one
        if timeout > 0 and not self._pending:
            self.waiting_polls += 1
            try:
                async with self._changed:
                    self._changed.notify_all()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(
                            self._changed.wait_for(
                                lambda: (
                                    self._closing
                                    or generation != self._poll_generation
                                    or self._webhook is not None
                                    or bool(self._deliverable())
                                )
                            ),
                            timeout,
                        )
            finally:
                self.waiting_polls -= 1
        if self._closing:
            return []
        if generation != self._poll_generation:
            raise ApiError(409, POLL_CONFLICT)
        if self._webhook is not None:
            raise ApiError(409, SET_WEBHOOK_CONFLICT)
        return self._deliverable()[:limit]

    def _webhook_info(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self._webhook["url"] if self._webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self._webhook:
            info["max_connections"] = self._webhook["max_connections"]
            info["ip_address"] = "127.0.0.1"
            if self._webhook["allowed_updates"] is not None:
                info["allowed_updates"] = self._webhook["allowed_updates"]
        if self._webhook_error:
            info["last_error_date"], info["last_error_message"] = self._webhook_error
        return info

    async def _set_webhook(self, params: _Params) -> _Described:
        url = params.text("url") or ""
        if not url:
            return await self._delete_webhook(params)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise _bad("bad webhook: Unsupported URL protocol")
        if parts.hostname not in LOOPBACK_HOSTS:
            raise _bad(
                "bad webhook: the fake Telegram delivers only to 127.0.0.1 or localhost, "
                f"not {parts.hostname}"
            )
        secret = params.text("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise _bad("secret token contains unallowed characters")
        max_connections = params.integer("max_connections", 40) or 40
        if not 1 <= max_connections <= 100:
            raise _bad("max_connections must be between 1 and 100")
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(allowed) if allowed else DEFAULT_UPDATE_TYPES
        if params.flag("drop_pending_updates"):
            self._pending.clear()
        hook = {
            "url": url,
            "secret_token": secret,
            "max_connections": max_connections,
            "allowed_updates": allowed if isinstance(allowed, list) else None,
        }
        already = self._webhook is not None and self._webhook == hook
        if not already:
            self._webhook = hook
            self._webhook_error = None
        self._webhook_wakeup.set()
        await self._notify()
        return _Described(True, "Webhook is already set" if already else "Webhook was set")

    async def _delete_webhook(self, params: _Params) -> _Described:
        if params.flag("drop_pending_updates"):
            self._pending.clear()
        existed = self._webhook is not None
        self._webhook = None
        self._webhook_error = None
        await self._notify()
        return _Described(True, "Webhook was deleted" if existed else "Webhook is already deleted")

    def _get_webhook_info(self, params: _Params) -> dict[str, Any]:
        return self._webhook_info()

    def _scope_key(self, params: _Params) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        if not isinstance(scope, dict) or "type" not in scope:
            raise _bad("can't parse BotCommandScope JSON object")
        key = json.dumps(scope, sort_keys=True) if scope["type"] != "default" else "default"
        return key, params.text("language_code") or ""

    def _set_my_commands(self, params: _Params) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad("can't parse commands JSON object")
        if len(commands) > 100:
            raise _bad("BOT_COMMANDS_TOO_MUCH")
        checked: list[dict[str, str]] = []
        for command in commands:
            if not isinstance(command, dict):
                raise _bad("can't parse BotCommand JSON object")
            name, description = command.get("command"), command.get("description")
            if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise _bad("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
            checked.append({"command": name, "description": description})
        self._commands[self._scope_key(params)] = checked
        return True

    def _get_my_commands(self, params: _Params) -> list[dict[str, str]]:
        return list(self._commands.get(self._scope_key(params), []))

    def _delete_my_commands(self, params: _Params) -> bool:
        self._commands.pop(self._scope_key(params), None)
        return True

    def _send_message(self, params: _Params) -> dict[str, Any]:
        person = self._chat(params)
        self._reachable(person)
        text = params.text("text")
        parse_mode = params.text("parse_mode")
        visible, entities = self._formatted(text, parse_mode, params.get("entities"), caption=False)
        markup = self._markup(params.get("reply_markup"), inline_only=False)
        self._reply_to(person, params)
        self._take_rate(person.id)
        message = SentMessage(
            message_id=self._next_message_id(person.id),
            chat_id=person.id,
            date=self._now(),
            method="sendMessage",
            text=text,
            visible_text=visible,
            parse_mode=parse_mode,
            entities=entities,
            reply_markup=markup,
        )
        return self._record_sent(person, message)

    def _caption(self, params: _Params) -> tuple[str | None, list[dict[str, Any]]]:
        caption = params.text("caption")
        if not caption:
            return None, []
        visible, entities = self._formatted(
            caption, params.text("parse_mode"), params.get("caption_entities"), caption=True
        )
        return visible or None, entities

    def _photo_sizes(self, photo: str | Upload | None) -> list[dict[str, Any]]:
        if photo is None or photo == "":
            raise _bad("there is no photo in the request")
        if isinstance(photo, Upload):
            if not photo.data:
                raise _bad("file must be non-empty")
            if not _looks_like_image(photo.data):
                raise _bad("IMAGE_PROCESS_FAILED")
            return self._make_photo(photo.data)
        if re.match(r"https?://", photo):
            return self._make_photo(FAKE_JPEG)
        stored = self._files.get(photo)
        if stored is None:
            raise _bad("wrong file identifier/HTTP URL specified")
        if stored.kind != "photo" or stored.group is None:
            raise _bad("type of file mismatch")
        return stored.group

    def _send_photo(self, params: _Params) -> dict[str, Any]:
        person = self._chat(params)
        self._reachable(person)
        photo = params.file("photo")
        sizes = self._photo_sizes(photo)
        caption, caption_entities = self._caption(params)
        markup = self._markup(params.get("reply_markup"), inline_only=False)
        self._reply_to(person, params)
        self._take_rate(person.id)
        message = SentMessage(
            message_id=self._next_message_id(person.id),
            chat_id=person.id,
            date=self._now(),
            method="sendPhoto",
            parse_mode=params.text("parse_mode"),
            caption=params.text("caption"),
            visible_caption=caption,
            caption_entities=caption_entities,
            photo=sizes,
            photo_source="upload" if isinstance(photo, Upload) else photo,
            reply_markup=markup,
        )
        return self._record_sent(person, message)

    def _send_document(self, params: _Params) -> dict[str, Any]:
        person = self._chat(params)
        self._reachable(person)
        document = params.file("document")
        if document is None or document == "":
            raise _bad("there is no document in the request")
        if isinstance(document, Upload):
            if not document.data:
                raise _bad("file must be non-empty")
            shape = self._make_document(document.data, document.filename, document.content_type)
        elif re.match(r"https?://", document):
            name = urlsplit(document).path.rsplit("/", 1)[-1] or "file"
            shape = self._make_document(b"fetched by the fake", name, "application/octet-stream")
        else:
            stored = self._files.get(document)
            if stored is None:
                raise _bad("wrong file identifier/HTTP URL specified")
            if stored.kind != "document" or stored.meta is None:
                raise _bad("type of file mismatch")
            shape = stored.meta
        caption, caption_entities = self._caption(params)
        markup = self._markup(params.get("reply_markup"), inline_only=False)
        self._reply_to(person, params)
        self._take_rate(person.id)
        message = SentMessage(
            message_id=self._next_message_id(person.id),
            chat_id=person.id,
            date=self._now(),
            method="sendDocument",
            parse_mode=params.text("parse_mode"),
            caption=params.text("caption"),
            visible_caption=caption,
            caption_entities=caption_entities,
            document=shape,
            reply_markup=markup,
        )
        return self._record_sent(person, message)

    def _send_chat_action(self, params: _Params) -> bool:
        person = self._chat(params)
        self._reachable(person)
        if params.text("action") not in CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        return True

    def _snapshot(self, message: SentMessage) -> None:
        message.edits.append(
            {
                "text": message.text,
                "visible_text": message.visible_text,
                "caption": message.caption,
                "visible_caption": message.visible_caption,
                "parse_mode": message.parse_mode,
                "reply_markup": message.reply_markup,
                "edit_date": message.edit_date,
            }
        )

    def _attached(self, message: SentMessage) -> dict[str, Any] | None:
        return message.reply_markup if message.inline_keyboard is not None else None

    def _replace_keyboard(self, message: SentMessage, markup: dict[str, Any] | None) -> None:
        if markup is None and message.inline_keyboard is not None:
            message.keyboard_removed = True
            message.reply_markup = None
        elif markup is not None:
            message.keyboard_removed = False
            message.reply_markup = markup

    def _edit_message_text(self, params: _Params) -> dict[str, Any]:
        person = self._chat(params)
        self._reachable(person)
        message = self._message_to_edit(person, params)
        if message.visible_text is None:
            raise _bad("there is no text in the message to edit")
        text = params.text("text")
        parse_mode = params.text("parse_mode")
        visible, entities = self._formatted(text, parse_mode, params.get("entities"), caption=False)
        markup = self._markup(params.get("reply_markup"), inline_only=True)
        if (visible, entities, markup) == (
            message.visible_text,
            message.entities,
            self._attached(message),
        ):
            raise _bad(NOT_MODIFIED)
        self._snapshot(message)
        message.text, message.visible_text = text, visible
        message.parse_mode, message.entities = parse_mode, entities
        self._replace_keyboard(message, markup)
        message.edit_date = self._now()
        return message.to_api(self.bot_user, person.chat)

    def _edit_message_caption(self, params: _Params) -> dict[str, Any]:
        person = self._chat(params)
        self._reachable(person)
        message = self._message_to_edit(person, params)
        if message.photo is None and message.document is None:
            raise _bad("there is no caption in the message to edit")
        caption, caption_entities = self._caption(params)
        markup = self._markup(params.get("reply_markup"), inline_only=True)
        if (caption, caption_entities, markup) == (
            message.visible_caption,
            message.caption_entities,
            self._attached(message),
        ):
            raise _bad(NOT_MODIFIED)
        self._snapshot(message)
        message.caption, message.visible_caption = params.text("caption"), caption
        message.caption_entities = caption_entities
        message.parse_mode = params.text("parse_mode")
        self._replace_keyboard(message, markup)
        message.edit_date = self._now()
        return message.to_api(self.bot_user, person.chat)

    def _edit_message_reply_markup(self, params: _Params) -> dict[str, Any]:
        person = self._chat(params)
        self._reachable(person)
        message = self._message_to_edit(person, params)
        markup = self._markup(params.get("reply_markup"), inline_only=True)
        if markup == self._attached(message):
            raise _bad(NOT_MODIFIED)
        self._snapshot(message)
        self._replace_keyboard(message, markup)
        message.edit_date = self._now()
        return message.to_api(self.bot_user, person.chat)

    def _delete_message(self, params: _Params) -> bool:
        person = self._chat(params)
        message_id = params.integer("message_id")
        if message_id is None:
            raise _bad("message identifier is not specified")
        message = self._by_id.get((person.id, message_id))
        if message is not None and not message.deleted:
            message.deleted = True
            return True
        if self._user_messages.pop((person.id, message_id), None) is not None:
            return True
        raise _bad("message to delete not found")

    def _answer_callback_query(self, params: _Params) -> bool:
        query_id = params.text("callback_query_id") or ""
        query = self._callbacks.get(query_id)
        if (
            query is None
            or query["answered"]
            or self.clock() - query["issued"] > self.callback_answer_window
        ):
            raise _bad(QUERY_TOO_OLD)
        text = params.text("text")
        if text is not None and _utf16_len(text) > CALLBACK_TEXT_LIMIT:
            raise _bad("MESSAGE_TOO_LONG")
        query["answered"] = True
        self.answered_callbacks.append(
            {
                "callback_query_id": query_id,
                "user_id": query["user_id"],
                "data": query["data"],
                "message_id": query["message_id"],
                "text": text,
                "show_alert": params.flag("show_alert"),
                "url": params.text("url"),
                "cache_time": params.integer("cache_time"),
            }
        )
        return True

    def _get_file(self, params: _Params) -> dict[str, Any]:
        file_id = params.text("file_id")
        if not file_id:
            raise _bad("file_id not specified")
        stored = self._files.get(file_id)
        if stored is None:
            raise _bad("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }

    # -- webhook delivery -----------------------------------------------------------------------

    async def _webhook_worker(self) -> None:
        while not self._closing:
            await self._webhook_wakeup.wait()
            self._webhook_wakeup.clear()
            while self._webhook is not None and not self._closing:
                self._drop_unwanted()
                if not self._pending:
                    break
                update = self._pending[0]
                delivered = await self._deliver(update, self._webhook)
                if delivered is None:  # the webhook changed meanwhile; keep the update
                    break
                if self._pending and self._pending[0] is update:
                    self._pending.pop(0)
                if not delivered:
                    self.dropped_updates.append(update)
                await self._notify()

    async def _deliver(self, update: dict[str, Any], hook: dict[str, Any]) -> bool | None:
        assert self._http is not None
        headers = {"Content-Type": "application/json"}
        if hook["secret_token"]:
            headers["X-Telegram-Bot-Api-Secret-Token"] = hook["secret_token"]
        body = json.dumps(update, ensure_ascii=False).encode("utf-8")
        for attempt in range(1, self.webhook_attempts + 1):
            if self._webhook is not hook or self._closing:
                return None
            status: int | None = None
            error: str | None = None
            try:
                response = await self._http.post(hook["url"], content=body, headers=headers)
                status = response.status_code
                if not 200 <= status < 300:
                    error = f"Wrong response from the webhook: {status} {response.reason_phrase}"
            except httpx.HTTPError as exc:
                error = f"Connection failed: {type(exc).__name__}: {exc}"
            self.webhook_deliveries.append(
                WebhookDelivery(update["update_id"], attempt, status, error)
            )
            if error is None:
                await self._notify()
                return True
            self._webhook_error = (self._now(), error)
            await self._notify()
            if attempt < self.webhook_attempts:
                await asyncio.sleep(self.webhook_retry_delay)
        return False


def _looks_like_image(data: bytes) -> bool:
    return (
        data.startswith(b"\xff\xd8\xff")
        or data.startswith(b"\x89PNG\r\n\x1a\n")
        or data.startswith((b"GIF87a", b"GIF89a"))
        or (data.startswith(b"RIFF") and data[8:12] == b"WEBP")
        or data.startswith(b"BM")
    )
