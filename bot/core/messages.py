"""The two types every channel speaks: `Incoming` from a person, `Reply` from the bot.

Flows and services only ever see these; channels translate platform updates into
`Incoming` and render `Reply` within their platform's limits.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from functools import cached_property

from bot.core.text import normalise_text


@dataclass(frozen=True)
class MediaRef:
    """A file kept on the platform that sent it (Telegram file_id, WhatsApp media id)."""

    channel: str
    file_id: str

    def as_stored(self) -> str:
        return f"{self.channel}:{self.file_id}"

    @classmethod
    def from_stored(cls, stored: str) -> MediaRef:
        channel, _, file_id = stored.partition(":")
        return cls(channel=channel, file_id=file_id)


@dataclass(frozen=True)
class SharedContact:
    """A contact card shared in the chat. `user_id` is the platform account it belongs to."""

    phone: str
    user_id: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class Location:
    latitude: float
    longitude: float


@dataclass(frozen=True)
class Incoming:
    """One message from a person, whatever the channel."""

    channel: str
    account_id: str
    text: str | None = None
    option_id: str | None = None
    contact: SharedContact | None = None
    photo: MediaRef | None = None
    location: Location | None = None
    message_id: str | None = None
    # The account's own phone number when the channel knows it (WhatsApp, console).
    phone: str | None = None
    display_name: str | None = None
    received_at: datetime | None = None
    # What the person sent that the bot cannot read (a sticker, a voice note, ...).
    unsupported: str | None = None
    # A platform's own stable user id besides the account id (WhatsApp's business-scoped id).
    platform_user_id: str | None = None
    # Handled, and answered, by an earlier pass over the same stored webhook body (tried
    # again because another part of it failed): a repeat is silent rather than asking the
    # person's question again, as an unknown repeat does (the engine's `_asked_again`).
    answered_here: bool = False

    def __post_init__(self) -> None:
        # Every channel builds an Incoming, so no channel can forget to clean what came in.
        for name in _TEXT_FIELDS:
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, normalise_text(value))
        if self.contact is not None:
            object.__setattr__(self, "contact", _clean_contact(self.contact))

    @property
    def clean_text(self) -> str:
        return (self.text or "").strip()


_NOT_TEXT = {"contact", "photo", "location", "received_at"}
_TEXT_FIELDS = tuple(f.name for f in fields(Incoming) if f.name not in _NOT_TEXT)


def _clean_contact(contact: SharedContact) -> SharedContact:
    return replace(
        contact,
        **{
            f.name: normalise_text(value)
            for f in fields(contact)
            if isinstance(value := getattr(contact, f.name), str)
        },
    )


# An option id of this form points at the n-th option last shown (1-based): channels use
# it when an id would not fit the platform (Telegram's callback data holds 64 bytes).
OPTION_INDEX_PREFIX = "#"


@dataclass(frozen=True)
class Option:
    """A tappable choice; the channel sends `id` back, never matched by its label."""

    id: str
    label: str
    description: str | None = None


@dataclass(frozen=True)
class Document:
    filename: str
    content: bytes
    mime_type: str = "text/plain"


@dataclass(frozen=True)
class Picture:
    """An image the bot makes (a chart), drawn when a channel first reads `content`: after
    the transaction, so drawing never holds the database (SQLite's one write lock)."""

    filename: str
    draw: Callable[[], bytes] = field(repr=False, compare=False)
    mime_type: str = "image/png"

    @cached_property
    def content(self) -> bytes:
        return self.draw()


@dataclass(frozen=True)
class Reply:
    """One message from the bot. `title` is shown emphasised where the channel can."""

    text: str
    title: str | None = None
    options: tuple[Option, ...] = field(default_factory=tuple)
    # True when typing an answer is as welcome as tapping an option.
    accepts_text: bool = False
    # A button that shares the person's own contact card, with this label.
    contact_button: str | None = None
    image: MediaRef | None = None
    document: Document | None = None
    # An image the bot made (a chart): the channel uploads its bytes.
    picture: Picture | None = None
    # A proactive message's facts as display text by name ("quantity": "5.000 pasang"),
    # for a channel that may only send a pre-approved template with placeholders
    # (WhatsApp outside its 24-hour window). Written by the notification renderers.
    fields: Mapping[str, str] = field(default_factory=dict, hash=False)
    # The language it is written in, when the engine knows it (its answers to a message):
    # a channel writes its own words around it ("Pilih", "Lainnya") in the same one.
    language: str | None = None
