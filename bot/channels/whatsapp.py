"""The WhatsApp channel on the Cloud API (Graph API): signed webhooks in, messages out.

Inbound bodies are checked (X-Hub-Signature-256), stored, answered 200, and processed
afterwards, so a process that stops in between loses nothing. Replies are rendered
within WhatsApp's limits: at most 3 reply buttons (titles <= 20 characters), lists of
at most 10 rows (titles <= 24) with a "Lainnya" row paging through longer ones,
*bold* for titles. Proactive messages outside the person's 24-hour window go as an
approved template when one is configured for their kind (its placeholders filled with
the display fields the notification renderer wrote, its quick-reply buttons carrying
the message's option ids), and otherwise wait until the person writes again.

Outbound calls use aiohttp's client: the payloads are small and stable, and pywa's async
client would have to be talked out of its hard-coded host and template model. Not httpx:
measured on this machine (a loopback server in another process, 16 calls at once), httpx
took 2.4 ms of CPU a call against aiohttp's 0.2-0.25 ms, and a reply is one to three calls.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from bot.channels.lanes import Lanes
from bot.channels.render import shorten, split_text, whatsapp_label, whatsapp_literal
from bot.channels.shapes import as_dict, as_dicts, as_float, as_id, as_int, as_list, as_text
from bot.config import WhatsAppSettings, WhatsAppTemplate
from bot.core.engine import Engine
from bot.core.i18n import Catalog
from bot.core.messages import (
    Document,
    Incoming,
    Location,
    MediaRef,
    Option,
    Picture,
    Reply,
    SharedContact,
)
from bot.sending import Delivery, Outgoing
from bot.services.inbound import Batch, StatusReport

log = logging.getLogger(__name__)

CHANNEL = "whatsapp"
TEXT_LIMIT = 4096
INTERACTIVE_BODY_LIMIT = 1024
BUTTON_TITLE_LIMIT = 20
MAX_BUTTONS = 3
ROW_TITLE_LIMIT = 24
ROW_DESCRIPTION_LIMIT = 72
MAX_ROWS = 10
WINDOW = timedelta(hours=24)
TEMPLATE_PARAM_LIMIT = 1024
PAYLOAD_LIMIT = 256  # a template quick-reply button's payload
MORE_PREFIX = "~more:"
RETRYABLE_CODES = {130429, 131056, 131000, 2, 1}  # rate, pair rate, generic/temporary
UNDELIVERABLE_CODES = {131026}
KNOWN_STATUSES = frozenset({"sent", "delivered", "read", "failed"})
OUTSIDE_WINDOW_CODES = {131047}
# The template is not usable as configured: not (yet) approved in that language, paused or
# disabled by Meta, or its parameters out of step with config.toml. The message waits for
# the person's next word as it would without a template, and the log says why.
TEMPLATE_REFUSED_CODES = {132000, 132001, 132012, 132015, 132016}
PHONE_DIGITS = 15  # E.164
ACCOUNT_ID_LIMIT = 64  # ChannelAccount.external_id
PAGE_OFFSET_DIGITS = 4  # a "Lainnya" row's offset: any real list is far shorter
UNSUPPORTED_TYPES = ("sticker", "audio", "video", "document", "reaction", "unsupported")


def signature_valid(app_secret: str, raw_body: bytes, header: str | None) -> bool:
    """X-Hub-Signature-256 is "sha256=" + HMAC-SHA256(raw body, app secret), compared in
    constant time."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode("utf-8"), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256="))


# --- webhook bodies in ---------------------------------------------------------------------


def incoming_messages(payload: Any) -> list[Incoming]:
    """Every person's message in a webhook body, as Incoming (statuses are separate).

    Total over any JSON: a message that cannot be read whole becomes an "unsupported"
    Incoming when its sender is known (so they are told), and is skipped otherwise."""
    found = []
    for value in _values(payload):
        contacts = _contacts(value)
        for message in as_list(value.get("messages")):
            incoming = _guarded_incoming(message, contacts)
            if incoming is not None:
                found.append(incoming)
    return found


def statuses(payload: Any) -> list[dict[str, Any]]:
    return [status for value in _values(payload) for status in as_dicts(value.get("statuses"))]


def _values(payload: Any) -> list[dict[str, Any]]:
    body = as_dict(payload)
    if body.get("object") != "whatsapp_business_account":
        return []
    return [
        as_dict(change.get("value"))
        for entry in as_dicts(body.get("entry"))
        for change in as_dicts(entry.get("changes"))
        if change.get("field") == "messages"
    ]


def _contacts(value: dict[str, Any]) -> dict[str, dict[str, Any]]:
    contacts: dict[str, dict[str, Any]] = {}
    for contact in as_dicts(value.get("contacts")):
        for key in (as_text(contact.get("wa_id")), as_text(contact.get("user_id"))):
            if key:
                contacts.setdefault(key, contact)
    return contacts


def _guarded_incoming(message: Any, contacts: dict[str, dict[str, Any]]) -> Incoming | None:
    try:
        return _to_incoming(as_dict(message), contacts)
    except Exception:  # a shape no reader foresaw: still tell the sender, if there is one
        log.warning("could not read a WhatsApp message; answering it as unsupported")
        log.debug("the message: %r", message, exc_info=True)
        try:
            base = _sender(as_dict(message), contacts)
        except Exception:
            return None
        return Incoming(**base, unsupported="malformed") if base else None


def _sender(message: dict[str, Any], contacts: dict[str, dict[str, Any]]) -> dict | None:
    """Who wrote and which message it is, as Incoming's fields; None when unknown."""
    wa_id = as_text(message.get("from"))
    if wa_id and not (wa_id.isascii() and wa_id.isdigit() and len(wa_id) <= PHONE_DIGITS):
        wa_id = None  # not a number WhatsApp would send: it cannot be answered as one
    user_id = as_text(message.get("from_user_id")) or as_text(
        contacts.get(wa_id or "", {}).get("user_id")
    )
    if user_id and len(user_id) > ACCOUNT_ID_LIMIT:
        user_id = None
    account_id = wa_id or user_id
    message_id = as_id(message.get("id"))
    if not account_id or not message_id:
        return None
    contact = contacts.get(wa_id or "") or contacts.get(user_id or "") or {}
    return {
        "channel": CHANNEL,
        "account_id": account_id,
        "phone": f"+{wa_id}" if wa_id else None,
        "message_id": message_id,
        "display_name": as_text(as_dict(contact.get("profile")).get("name")),
        "platform_user_id": user_id,
    }


def _to_incoming(message: dict[str, Any], contacts: dict[str, dict[str, Any]]) -> Incoming | None:
    base = _sender(message, contacts)
    if base is None:
        return None
    kind = as_text(message.get("type")) or "other"
    read = _READERS.get(kind)
    content = read(message) if read is not None else None
    if content is None:
        return Incoming(**base, unsupported=kind[:40])
    return Incoming(**base, **content)


def _text(message: dict[str, Any]) -> dict | None:
    body = as_text(as_dict(message.get("text")).get("body"))
    return {"text": body} if body is not None else None


def _interactive(message: dict[str, Any]) -> dict | None:
    interactive = as_dict(message.get("interactive"))
    reply = as_dict(interactive.get("button_reply")) or as_dict(interactive.get("list_reply"))
    option_id, title = as_text(reply.get("id")), as_text(reply.get("title"))
    if not option_id and not title:
        return None
    return {"option_id": option_id or None, "text": title}


def _button(message: dict[str, Any]) -> dict | None:
    """A quick-reply button of a template."""
    button = as_dict(message.get("button"))
    text, payload = as_text(button.get("text")), as_text(button.get("payload"))
    if not text and not payload:
        return None
    # We send each button's option id as its payload; without one, the payload is the
    # button's text, read like typed text (matched against options and commands).
    option_id = payload if payload and payload != text else None
    return {"option_id": option_id, "text": text or payload}


def _image(message: dict[str, Any]) -> dict | None:
    image = as_dict(message.get("image"))
    media_id = as_id(image.get("id"))
    if not media_id:
        return None
    return {"photo": MediaRef(CHANNEL, media_id), "text": as_text(image.get("caption"))}


def _location(message: dict[str, Any]) -> dict | None:
    place = as_dict(message.get("location"))
    latitude, longitude = as_float(place.get("latitude")), as_float(place.get("longitude"))
    if latitude is None or longitude is None:
        return None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    return {"location": Location(latitude, longitude)}


def _shared_contact(message: dict[str, Any]) -> dict | None:
    cards = as_dicts(message.get("contacts"))
    card = cards[0] if cards else {}
    phones = as_dicts(card.get("phones"))
    first = phones[0] if phones else {}
    phone = as_text(first.get("phone"))
    if not phone:
        return None
    name = as_text(as_dict(card.get("name")).get("formatted_name"))
    shared = SharedContact(phone=phone, user_id=as_text(first.get("wa_id")), name=name)
    return {"contact": shared}


_READERS = {
    "text": _text,
    "interactive": _interactive,
    "button": _button,
    "image": _image,
    "location": _location,
    "contacts": _shared_contact,
}


def page_offset(option_id: str, option_count: int) -> int:
    """Where the page a "Lainnya" row asks for starts; 0 (the first page) for one that is
    not ours: junk after the prefix, or a page past the end of the list."""
    digits = option_id.removeprefix(MORE_PREFIX)
    if not (digits.isascii() and digits.isdigit() and len(digits) <= PAGE_OFFSET_DIGITS):
        return 0
    offset = int(digits)
    return offset if 0 < offset < option_count else 0


# --- replies out ---------------------------------------------------------------------------


def render_payloads(reply: Reply, *, choose: str, more: str, offset: int = 0) -> list[dict]:
    """A reply as Graph API message bodies (without "to" and "messaging_product")."""
    # Only the bot's own title is formatted; everything else, people's text included, is
    # shown literally (as Telegram escapes HTML).
    text = whatsapp_literal(reply.text)
    if reply.title:
        text = f"*{whatsapp_literal(reply.title)}*\n{text}"
    pieces = split_text(text, TEXT_LIMIT)
    options = reply.options
    if not options:
        bodies = [{"type": "text", "text": {"body": piece}} for piece in pieces]
        if reply.image is not None and reply.image.channel == CHANNEL:
            caption = pieces[0] if len(pieces) == 1 and len(pieces[0]) <= 1024 else None
            image = {"type": "image", "image": {"id": reply.image.file_id}}
            if caption:
                image["image"]["caption"] = caption
                return [image]
            return [image, *bodies]
        return bodies
    last = pieces.pop()
    # Buttons cannot ride on an image: the image goes first, the question under it.
    media = (
        [_image(reply.image)] if reply.image is not None and reply.image.channel == CHANNEL else []
    )
    if len(last) > INTERACTIVE_BODY_LIMIT:
        tail = split_text(last, INTERACTIVE_BODY_LIMIT)
        last = tail.pop()
        pieces.extend(tail)
    bodies = [*media, *({"type": "text", "text": {"body": piece}} for piece in pieces)]
    bodies.append(_interactive(options, last, choose=choose, more=more, offset=offset))
    return bodies


def _image(image: MediaRef) -> dict:
    return {"type": "image", "image": {"id": image.file_id}}


def _interactive(
    options: tuple[Option, ...], body: str, *, choose: str, more: str, offset: int
) -> dict:
    if len(options) <= MAX_BUTTONS and offset == 0:
        titles = _unique([o.label for o in options], BUTTON_TITLE_LIMIT)
        buttons = [
            {"type": "reply", "reply": {"id": o.id, "title": title}}
            for o, title in zip(options, titles, strict=True)
        ]
        return {
            "type": "interactive",
            "interactive": {
                "type": "button",
                "body": {"text": body},
                "action": {"buttons": buttons},
            },
        }
    page = list(options[offset:])
    rows_room = MAX_ROWS if len(page) <= MAX_ROWS else MAX_ROWS - 1
    shown = page[:rows_room]
    titles = _unique([o.label for o in shown], ROW_TITLE_LIMIT)
    rows = []
    for option, title in zip(shown, titles, strict=True):
        row = {"id": option.id, "title": title}
        shortened = title != whatsapp_literal(option.label)
        description = option.description or (option.label if shortened else None)
        if description:
            row["description"] = whatsapp_label(description, ROW_DESCRIPTION_LIMIT)
        rows.append(row)
    if len(page) > rows_room:
        rows.append(
            {
                "id": f"{MORE_PREFIX}{offset + rows_room}",
                "title": whatsapp_label(more, ROW_TITLE_LIMIT),
            }
        )
    return {
        "type": "interactive",
        "interactive": {
            "type": "list",
            "body": {"text": body},
            "action": {
                "button": whatsapp_label(choose, BUTTON_TITLE_LIMIT),
                "sections": [{"title": whatsapp_label(choose, ROW_TITLE_LIMIT), "rows": rows}],
            },
        },
    }


def _unique(labels: list[str], limit: int) -> list[str]:
    """The labels as literal titles of at most `limit` characters; WhatsApp refuses two
    buttons or rows with the same title, so the repeats are numbered (the label cut and made
    literal first: a cut label and its number must not read as a bullet)."""
    used: set[str] = set()
    unique = []
    for label in labels:
        title, number = whatsapp_label(label, limit), 1
        while title in used:
            number += 1
            suffix = f" {number}"
            title = _numbered(label, suffix, limit)
        used.add(title)
        unique.append(title)
    return unique


def _numbered(label: str, suffix: str, limit: int) -> str:
    """`label` cut so that it and its number fit `limit` once made literal as one title
    (the number is never cut, and "-" with " 2" must not read as a bullet)."""
    room = limit - len(suffix)
    while room > 1:
        title = whatsapp_literal(f"{shorten(label, room)}{suffix}")
        if len(title) <= limit:
            return title
        room -= 1
    return whatsapp_literal(f"{shorten(label, 1)}{suffix}")


def template_body(template: WhatsAppTemplate, reply: Reply) -> dict | None:
    """A template message for `reply`: its display fields fill the body's placeholders,
    its options' ids become the quick-reply buttons' payloads (in order). None when the
    reply lacks a field the template names (a renderer and config.toml out of step)."""
    if any(name not in reply.fields for name in template.params):
        return None
    parameters = [
        {"type": "text", "text": template_text(reply.fields[name])} for name in template.params
    ]
    components: list[dict] = [{"type": "body", "parameters": parameters}] if parameters else []
    for index, option in enumerate(reply.options[: len(template.buttons)]):
        if len(option.id) > PAYLOAD_LIMIT:
            log.warning("option id %r is too long for a quick-reply payload", option.id)
            continue
        components.append(
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": str(index),
                "parameters": [{"type": "payload", "payload": option.id}],
            }
        )
    return {
        "type": "template",
        "template": {
            "name": template.name,
            "language": {"code": template.language},
            "components": components,
        },
    }


def template_text(value: str) -> str:
    """A placeholder's text as Meta takes it: one line (no newline, tab or run of more than
    four spaces), not empty, at most 1,024 characters, shown literally."""
    return whatsapp_label(value, TEMPLATE_PARAM_LIMIT) or "-"  # shorten folds white space


def status_report(status: dict[str, Any]) -> StatusReport | None:
    """A webhook's status as a report to record; None for one without an id or a known state."""
    platform_message_id = as_id(status.get("id"))
    state = as_text(status.get("status"))
    if not platform_message_id or state not in KNOWN_STATUSES:
        log.info("ignoring a WhatsApp status without an id or a known state")
        return None
    errors = as_dicts(status.get("errors"))
    error = errors[0] if errors else {}
    code = as_int(error.get("code"))
    title = as_text(error.get("title"))
    recipient = as_text(status.get("recipient_id")) or ""
    unreachable = recipient or as_text(status.get("recipient_user_id")) or ""
    failed = state == "failed"
    return StatusReport(
        channel=CHANNEL,
        platform_message_id=platform_message_id,
        recipient=recipient[:ACCOUNT_ID_LIMIT],
        status=state,
        error_code=code,
        error_title=title[:200] if title else None,
        block_account=unreachable if failed and code in UNDELIVERABLE_CODES else None,
        # Accepted, then refused by webhook: the message waits for the person's next word.
        requeue=failed and code in OUTSIDE_WINDOW_CODES,
    )


class _Journal:
    """What the webhooks and the worker write, gathered into one transaction: bodies that
    arrive while one is being written go in the next, with the statuses to record and the
    bodies done with. A webhook is answered 200 only once its part is committed (a group
    commit); should the statuses fail, the group is written again with their bodies kept
    instead, for the guarded path to record one by one. Bodies kept go to `take` in the
    order they came, whatever becomes of the requests that brought them."""

    def __init__(
        self,
        channel: str,
        write: Callable[[Batch], Awaitable[list[int]]],
        take: Callable[[list[tuple[int, dict]]], None],
    ) -> None:
        self._channel = channel
        self._write = write
        self._take = take
        self._arrivals: list[_Arrival] = []
        self._processed: list[int] = []
        self._marked: list[asyncio.Future] = []
        self._writing: asyncio.Task | None = None

    async def keep(self, payload: dict, reports: list[StatusReport] | None) -> None:
        """Until the body is committed (claimed by this process, and taken), or its statuses
        are recorded instead (`reports`, for a body of statuses alone)."""
        arrival = _Arrival(payload, reports, asyncio.get_running_loop().create_future())
        self._arrivals.append(arrival)
        self._start_writing()
        await arrival.kept

    async def done(self, event_ids: list[int]) -> None:
        """Once committed: these bodies are marked processed."""
        marked = asyncio.get_running_loop().create_future()
        self._processed.extend(event_ids)
        self._marked.append(marked)
        self._start_writing()
        await marked

    def _start_writing(self) -> None:
        if self._writing is None or self._writing.done():
            self._writing = asyncio.create_task(self._write_all())

    async def _write_all(self) -> None:
        while self._arrivals or self._processed:
            arrivals, self._arrivals = self._arrivals, []
            processed, self._processed = self._processed, []
            marked, self._marked = self._marked, []
            try:
                ids = await self._write_group(arrivals, processed)
            except Exception as error:
                _settle([arrival.kept for arrival in arrivals] + marked, error=error)
                continue
            bodies = [arrival.payload for arrival in arrivals if not arrival.recorded]
            if bodies:
                self._take(list(zip(ids, bodies, strict=True)))
            _settle([arrival.kept for arrival in arrivals] + marked)

    async def _write_group(self, arrivals: list[_Arrival], processed: list[int]) -> list[int]:
        statuses = [
            report for arrival in arrivals if arrival.recorded for report in arrival.reports
        ]
        try:
            return await self._write(self._batch(arrivals, statuses, processed))
        except Exception:
            if not statuses:
                raise
            log.warning("could not record statuses as they came; keeping their bodies")
            log.debug("the failure", exc_info=True)
        for arrival in arrivals:
            arrival.reports = None
        return await self._write(self._batch(arrivals, [], processed))

    def _batch(
        self, arrivals: list[_Arrival], statuses: list[StatusReport], processed: list[int]
    ) -> Batch:
        bodies = [arrival.payload for arrival in arrivals if not arrival.recorded]
        return Batch(self._channel, bodies=bodies, statuses=statuses, processed=processed)


@dataclass
class _Arrival:
    payload: dict
    reports: list[StatusReport] | None  # a body of statuses alone: recorded, not kept
    kept: asyncio.Future

    @property
    def recorded(self) -> bool:
        return self.reports is not None


def _settle(futures: list[asyncio.Future], *, error: Exception | None = None) -> None:
    for future in futures:
        if future.done():  # its request may have gone away meanwhile
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(None)


def _statuses_alone(payload: dict) -> list[StatusReport] | None:
    """A body of statuses and no messages: its statuses as reports, recorded as it arrives
    (the record is idempotent, so the body need not be kept). None for any other body."""
    try:
        found = statuses(payload)
        if not found or incoming_messages(payload):
            return None
        return [report for status in found if (report := status_report(status)) is not None]
    except Exception:  # the readers are total: this should never come
        log.debug("could not read a body's statuses", exc_info=True)
        return None


def _answered_before(incoming: Incoming, last_error: str | None) -> bool:
    """Whether an earlier pass that failed (`last_error`, as `_settle` words it) had
    answered this message: it failed for something else."""
    return last_error is not None and f"message {incoming.message_id}:" not in last_error


@dataclass
class _Body:
    """A stored webhook body on its way: statuses to record, messages in their lanes."""

    statuses: list[dict[str, Any]] = field(default_factory=list)
    messages: list[tuple[str, asyncio.Task]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Answer:
    """The Graph API's answer: its HTTP status and JSON body (None when it had none)."""

    status: int
    data: Any


class GraphError(Exception):
    def __init__(self, status: int, code: int | None, title: str) -> None:
        super().__init__(f"{status} {code} {title}")
        self.status = status
        self.code = code
        self.title = title


class WhatsAppChannel:
    """Webhooks in (through the engine), messages out; the outbox's WhatsApp transport."""

    channel = CHANNEL

    def __init__(
        self,
        *,
        settings: WhatsAppSettings,
        engine: Engine,
        catalog: Catalog,
        access_token: str,
        app_secret: str,
        verify_token: str,
        http: aiohttp.ClientSession | None = None,
        lanes: Lanes | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.lanes = lanes or Lanes(engine.settings.concurrency.people)
        self._journal = _Journal(CHANNEL, engine.write_inbound, self._take)
        self._working: set[asyncio.Task] = set()  # bodies taken on arrival, in progress
        self.catalog = catalog
        self.app_secret = app_secret
        self.verify_token = verify_token
        self._http = http  # made on first use: aiohttp wants a running loop for it
        self._headers = {"Authorization": f"Bearer {access_token}"}
        self._url = (
            f"{settings.base_url.rstrip('/')}/{settings.api_version}"
            f"/{settings.phone_number_id}/messages"
        )
        self._media_url = self._url.removesuffix("/messages") + "/media"
        self._stopped = False

    async def close(self) -> None:
        """After the bodies taken on arrival are done with (left claimed, they would wait
        out their lease)."""
        await self._settled(later_ones_too=True)
        if self._http is not None:
            await self._http.close()

    def _client(self) -> aiohttp.ClientSession:
        if self._http is None:
            timeout = aiohttp.ClientTimeout(total=self.settings.request_timeout)
            # The environment's proxy, read once: aiohttp's trust_env reads ~/.netrc and the
            # proxy variables again for every request (a tenth of the process's CPU).
            proxy = _environment_proxy(self._url)
            self._http = aiohttp.ClientSession(timeout=timeout, proxy=proxy)
        return self._http

    # --- webhooks ----------------------------------------------------------------------

    def handshake(self, params: dict[str, str]) -> tuple[int, str]:
        """Meta's GET verification: echo hub.challenge for the right verify token."""
        if params.get("hub.mode") == "subscribe" and hmac.compare_digest(
            params.get("hub.verify_token", "").encode(), self.verify_token.encode()
        ):
            return 200, params.get("hub.challenge", "")
        return 403, ""

    async def accept(self, raw_body: bytes, signature: str | None, payload: dict) -> bool:
        """Keep a signed body, or record its statuses; False (and nothing kept) when unsigned.

        Once this returns the body is committed (or its statuses are): the 200 may go. A
        kept body is this process's to process, and its messages are queued at once."""
        if not signature_valid(self.app_secret, raw_body, signature):
            return False
        await self._journal.keep(payload, _statuses_alone(payload))
        return True

    def _take(self, events: list[tuple[int, dict]]) -> None:
        """Process bodies this process has claimed, without waiting for the worker's round."""
        task = asyncio.create_task(
            self._process([(id_, self._start(body)) for id_, body in events])
        )
        self._working.add(task)
        task.add_done_callback(self._working.discard)

    async def _settled(self, *, later_ones_too: bool = False) -> None:
        """Until the bodies taken on arrival so far are done with (and, `later_ones_too`,
        those taken meanwhile: under steady traffic that may never come)."""
        if self._working:
            await asyncio.wait(set(self._working))
        while later_ones_too and self._working:
            await asyncio.wait(set(self._working))

    async def process_pending(self) -> int:
        """Process stored webhook bodies, oldest first (also what a stopped process left);
        the number of bodies this process took.

        Bodies taken on arrival are waited for first. Bodies are claimed, so with several
        processes on one database each body is processed by one of them (a claim whose
        process died is taken over after its lease). Messages of different people are
        answered at once, one person's in order. Each body is passed over once per call: one
        that fails waits for the next call while the bodies after it go on, and is set
        aside after a few failed passes."""
        await self._settled()
        done = 0
        last_id = 0
        while events := await self.engine.claim_inbound(channel=CHANNEL, after_id=last_id):
            last_id = events[-1][0]
            # Every message is queued before any is awaited: one person's stay in order.
            await self._process(
                [(body.id, self._start(body.payload, body.last_error)) for body in events]
            )
            done += len(events)
        return done

    async def _process(self, started: list[tuple[int, _Body]]) -> None:
        """Bodies whose messages are queued: their statuses, their messages' ends, and the
        ones that went well marked processed."""
        await self._record_statuses([body for _, body in started])
        settled = await asyncio.gather(*(self._finish(*body) for body in started))
        if finished := [event_id for event_id, ok in settled if ok]:
            try:
                await self._journal.done(finished)
            except Exception:  # they stay claimed: passed over again after their lease
                log.warning("could not mark WhatsApp bodies %s processed", finished, exc_info=True)

    def _start(self, payload: dict[str, Any], last_error: str | None = None) -> _Body:
        """A body's statuses to record, and its messages queued in their people's lanes.

        `last_error`: what an earlier pass over the body said went wrong. Its messages not
        named there were answered by that pass (`Incoming.answered_here`)."""
        try:
            messages = [
                replace(incoming, answered_here=_answered_before(incoming, last_error))
                for incoming in incoming_messages(payload)
            ]
            body = _Body(statuses=statuses(payload))
        except Exception as error:  # the readers are total: this should never come
            return _Body(failures=[f"body: {error!r}"])
        for incoming in messages:
            task = self.lanes.submit(incoming.account_id, lambda i=incoming: self._answer(i))
            body.messages.append((incoming.message_id or "", task))
        return body

    async def _finish(self, event_id: int, body: _Body) -> tuple[int, bool]:
        """The body's id, and whether all of it went well (failures are counted here)."""
        failures = await self._settle(body)
        if not failures:
            return event_id, True
        log.warning("WhatsApp webhook body %s: %s; it is tried again", event_id, failures[0])
        if await self.engine.inbound_failed(event_id, "; ".join(failures)):
            log.error(
                "WhatsApp webhook body %s quarantined (it failed on every pass): %s",
                event_id,
                failures[0],
            )
        return event_id, False

    async def process_payload(self, payload: dict[str, Any]) -> list[str]:
        """Every status and message of a body, each in its own guard; what failed, in words.

        Passing over a body again redoes nothing that succeeded: the engine handles a message
        id once (a repeat asks the person's current question again, unless an earlier pass
        over this body answered it), and a status already recorded is recorded again
        unchanged."""
        body = self._start(payload)
        await self._record_statuses([body])
        return await self._settle(body)

    async def _settle(self, body: _Body) -> list[str]:
        failures = list(body.failures)
        for message_id, task in body.messages:
            try:
                await task
            except Exception as error:
                log.debug("message %s failed", message_id, exc_info=True)
                failures.append(f"message {message_id}: {error!r}"[:200])
        return failures

    async def _record_statuses(self, bodies: list[_Body]) -> None:
        """Every status of these bodies in one transaction; a failed one fails its body."""
        reports = [
            (body, status, report)
            for body in bodies
            for status in body.statuses
            if (report := status_report(status)) is not None
        ]
        if not reports:
            return
        try:
            errors = await self.engine.record_statuses([report for _, _, report in reports])
        except Exception as error:
            log.debug("statuses failed", exc_info=True)
            errors = [repr(error)] * len(reports)
        for (body, status, _), error in zip(reports, errors, strict=True):
            if error is not None:
                body.failures.append(f"status {as_id(status.get('id'))}: {error}"[:200])

    async def _answer(self, incoming: Incoming) -> None:
        if incoming.option_id and incoming.option_id.startswith(MORE_PREFIX):
            await self._next_page(incoming)
            return
        replies = await self.engine.handle(incoming)
        if not replies:
            return
        # The language after the message (it may have just been switched): the engine says
        # it with its replies, so no second transaction.
        language = replies[0].language or await self.engine.language_of(
            channel=CHANNEL, account_id=incoming.account_id
        )
        for reply in replies:
            delivery = await self.send(incoming.account_id, reply, language=language)
            if delivery.outcome != "sent":
                log.warning("reply to %s not sent: %s", incoming.account_id, delivery.error)
                return

    async def _next_page(self, incoming: Incoming) -> None:
        """The "Lainnya" row: the same options again, from where the last page ended. A
        forged or stale row gets the first page, or a sentence when no list is open."""
        options = await self.engine.shown_options(channel=CHANNEL, account_id=incoming.account_id)
        language = await self.engine.language_of(channel=CHANNEL, account_id=incoming.account_id)
        if not options:
            expired = Reply(self.catalog.get(language, "inbound.list_expired"))
            await self.send(incoming.account_id, expired, language=language)
            return
        offset = page_offset(incoming.option_id or "", len(options))
        page = Reply(self.catalog.get(language, "whatsapp.more_text"), options=tuple(options))
        await self.send(incoming.account_id, page, offset=offset, language=language)

    # --- sending -----------------------------------------------------------------------

    async def send(
        self, to: str, reply: Reply, *, offset: int = 0, language: str | None = None
    ) -> Delivery:
        """A reply inside the person's window (an answer to their message)."""
        if reply.picture is not None or reply.document is not None:
            return await self._send_with_files(to, reply, offset=offset, language=language)
        language = language or await self.engine.language_of(channel=CHANNEL, account_id=to)
        bodies = render_payloads(
            reply,
            choose=self.catalog.get(language, "whatsapp.choose"),
            more=self.catalog.get(language, "whatsapp.more"),
            offset=offset,
        )
        delivery = Delivery("sent")
        for body in bodies:
            delivery = await self._post(to, body)
            if delivery.outcome != "sent":
                return delivery
        return delivery

    async def _send_with_files(
        self, to: str, reply: Reply, *, offset: int, language: str | None
    ) -> Delivery:
        """Files the bot made are uploaded to /media first, then sent by the id Meta gives."""
        picture, document = reply.picture, reply.document
        if picture is not None:
            uploaded = await self._upload(picture)
            if isinstance(uploaded, Delivery):
                return uploaded
            reply = replace(reply, image=MediaRef(CHANNEL, uploaded), picture=None)
        delivery = await self.send(
            to, replace(reply, document=None), offset=offset, language=language
        )
        if document is None or delivery.outcome != "sent":
            return delivery
        uploaded = await self._upload(document)
        if isinstance(uploaded, Delivery):
            return uploaded
        body = {"type": "document", "document": {"id": uploaded, "filename": document.filename}}
        return await self._post(to, body)

    async def _upload(self, file: Document | Picture) -> str | Delivery:
        """POST /{phone_number_id}/media (multipart): the media id, or why it failed."""
        if self._stopped:
            return Delivery("failed", "sending stopped: the access token was refused")
        form = aiohttp.FormData()
        form.add_field("messaging_product", "whatsapp")
        form.add_field("type", file.mime_type)
        form.add_field("file", file.content, filename=file.filename, content_type=file.mime_type)
        answer = await self._call(self._media_url, data=form)
        if isinstance(answer, Delivery):
            return answer
        if answer.status < 300:
            return str(as_dict(answer.data)["id"])
        return self._classify(answer, {"upload": file.filename})

    async def deliver(self, message: Outgoing) -> Delivery:
        """An outbox message: free-form inside the 24-hour window, else a template or wait."""
        last = await self.engine.last_inbound(channel=CHANNEL, account_id=message.account_id)
        inside = last is not None and self.engine.clock.now() - last < WINDOW
        if inside:
            delivery = await self.send(message.account_id, message.reply)
            if delivery.outcome != "outside_window":
                return delivery
        return await self._template_or_wait(message)

    async def _template_or_wait(self, message: Outgoing) -> Delivery:
        configured = self.settings.templates.get(message.template)
        if configured is None:
            return Delivery("waiting", "outside the 24-hour window; no template for this kind")
        template = configured.for_language(message.language)
        body = template_body(template, message.reply)
        if body is None:
            log.error(
                "template %s for %r needs fields %s; the message has %s: it waits",
                template.name,
                message.template,
                template.params,
                sorted(message.reply.fields),
            )
            return Delivery("waiting", "outside the 24-hour window; the template lacks fields")
        delivery = await self._post(message.account_id, body)
        if delivery.outcome == "outside_window":
            return Delivery("failed", "a template was refused as outside the window")
        return delivery

    async def _post(self, to: str, body: dict) -> Delivery:
        if self._stopped:
            return Delivery("failed", "sending stopped: the access token was refused")
        # A username-only person is known by a business-scoped id ("CC.digits"), not a number.
        address = {"recipient": to} if "." in to else {"to": to}
        payload = {"messaging_product": "whatsapp", "recipient_type": "individual", **address}
        payload.update(body)
        answer = await self._call(self._url, json=payload)
        if isinstance(answer, Delivery):
            return answer
        if answer.status < 300:
            messages = as_dicts(as_dict(answer.data).get("messages"))
            return Delivery("sent", platform_message_id=as_id((messages or [{}])[0].get("id")))
        return self._classify(answer, payload)

    async def _call(self, url: str, **body: Any) -> _Answer | Delivery:
        """POST to the Graph API: its answer, or a retry when it could not be reached."""
        try:
            async with self._client().post(url, headers=self._headers, **body) as response:
                raw = await response.read()
        except (aiohttp.ClientError, TimeoutError) as error:
            return Delivery("retry", f"network: {error!r}")
        try:
            data = json.loads(raw) if raw else None
        except ValueError:
            data = None
        return _Answer(response.status, data)

    def _classify(self, answer: _Answer, payload: dict) -> Delivery:
        error = as_dict(as_dict(answer.data).get("error"))
        code = error.get("code")
        title = as_dict(error.get("error_data")).get("details") or error.get("message") or ""
        text = f"{answer.status} {code} {title}".strip()
        if answer.status == 401 or code == 190:
            if not self._stopped:
                log.error("WhatsApp refused the access token (401): sending stops")
            self._stopped = True
            return Delivery("failed", text)
        if code in OUTSIDE_WINDOW_CODES:
            return Delivery("outside_window", text)
        if code in TEMPLATE_REFUSED_CODES:
            log.error(
                "WhatsApp refused a template (%s): the message waits; payload: %r", text, payload
            )
            return Delivery("waiting", text)
        if code in UNDELIVERABLE_CODES:
            return Delivery("blocked", text)
        if code in RETRYABLE_CODES or answer.status >= 500:
            return Delivery("retry", text)
        log.error("WhatsApp refused a message (%s); payload: %r", text, payload)
        return Delivery("failed", text)


def _environment_proxy(url: str) -> str | None:
    """The proxy the environment names for `url` (HTTPS_PROXY, NO_PROXY ...), if any."""
    parts = urlsplit(url)
    if parts.hostname and urllib.request.proxy_bypass(parts.hostname):
        return None
    return urllib.request.getproxies().get(parts.scheme)
