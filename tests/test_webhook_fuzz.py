"""Fuzzing both webhook parsers (issue 11): update and webhook shapes with fields missing,
added and of the wrong type. Nothing raises past the channel, and a well-formed message
among the junk still becomes an Incoming and is answered."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from telegram import Bot

from bot.channels.telegram import parse_update, salvage_incoming, update_to_incoming
from bot.channels.whatsapp import incoming_messages, statuses
from tests.telegram_chat import telegram_bot
from tests.whatsapp_chat import act, whatsapp_bot

SITI = "6281234567890"
FAST = settings(max_examples=150, deadline=None)
THROUGH_THE_CHANNEL = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
JUNK = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)


def shaped(template: Any) -> st.SearchStrategy:
    """The template with any field dropped, added or replaced by junk, at every depth; a
    lone object where a list belongs; or junk instead of the whole."""
    if isinstance(template, dict):
        fields = st.fixed_dictionaries(
            {}, optional={key: shaped(value) for key, value in template.items()}
        )
        extra = st.dictionaries(TEXT, JUNK, max_size=2)
        whole = st.builds(lambda kept, added: {**added, **kept}, fields, extra)
    elif isinstance(template, list):
        whole = st.lists(shaped(template[0]), max_size=3) | shaped(template[0])
    else:
        whole = st.just(template)
    return st.one_of(whole, whole, JUNK)


# --- WhatsApp ---------------------------------------------------------------------------------


def wa_messages(sender: str) -> list[dict]:
    return [
        {"from": sender, "id": "wamid.x", "timestamp": "1", "type": "text", "text": {"body": "hi"}},
        {"from": sender, "id": "wamid.x", "type": "location", "location": {"latitude": 1.0}},
        {
            "from": sender,
            "id": "wamid.x",
            "type": "interactive",
            "interactive": {"type": "list_reply", "list_reply": {"id": "~more:9", "title": "L"}},
        },
        {
            "from": sender,
            "id": "wamid.x",
            "type": "button",
            "button": {"text": "a", "payload": "b"},
        },
        {"from": sender, "id": "wamid.x", "type": "image", "image": {"id": "m", "caption": "c"}},
        {
            "from": sender,
            "id": "wamid.x",
            "type": "contacts",
            "contacts": [
                {"name": {"formatted_name": "S"}, "phones": [{"phone": "+62", "wa_id": "6"}]}
            ],
        },
    ]


WA_MESSAGES = wa_messages(SITI)
OTHER = "6280000000001"  # whose junk comes with Siti's message through the channel
WA_STATUS = {
    "id": "wamid.out",
    "status": "failed",
    "recipient_id": SITI,
    "errors": [{"code": 131026, "title": "undeliverable"}],
}
WA_CONTACT = {"profile": {"name": "Siti"}, "wa_id": SITI}


def wa_body(messages: Any, statuses_: Any, contacts: Any) -> dict:
    value = {"messaging_product": "whatsapp", "contacts": contacts, "messages": messages}
    value["statuses"] = statuses_
    change = {"field": "messages", "value": value}
    return {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [change]}]}


def wa_bodies(sender: str) -> st.SearchStrategy:
    messages = wa_messages(sender)
    return shaped(wa_body(messages, [WA_STATUS], [WA_CONTACT])) | st.builds(
        wa_body,
        st.lists(st.one_of(*(shaped(m) for m in messages)), max_size=4),
        st.lists(shaped(WA_STATUS), max_size=2),
        st.lists(shaped(WA_CONTACT), max_size=2),
    )


WA_BODIES = wa_bodies(SITI)


def shaped_message_list(sender: str = SITI) -> st.SearchStrategy:
    return st.lists(st.one_of(*(shaped(m) for m in wa_messages(sender))), max_size=3)


def valid_text(wamid: str) -> dict:
    return {"from": SITI, "id": wamid, "timestamp": "1", "type": "text", "text": {"body": "halo"}}


def embed(body: Any, before: list, after: list, wamid: str) -> dict:
    """The junk body, with one well-formed entry carrying a text among junk messages."""
    change = {
        "field": "messages",
        "value": {"contacts": [WA_CONTACT], "messages": [*before, valid_text(wamid), *after]},
    }
    junk_entries = body.get("entry") if isinstance(body, dict) else None
    entries = junk_entries if isinstance(junk_entries, list) else []
    return {
        "object": "whatsapp_business_account",
        "entry": [*entries, {"id": "2", "changes": [change]}],
    }


@FAST
@given(WA_BODIES)
def test_the_whatsapp_parser_is_total(body: Any) -> None:
    for incoming in incoming_messages(body):
        assert isinstance(incoming.account_id, str) and 0 < len(incoming.account_id) <= 64
        assert isinstance(incoming.message_id, str) and len(incoming.message_id) <= 128
        assert incoming.phone is None or incoming.phone[1:].isdigit()
        assert incoming.text is None or isinstance(incoming.text, str)
        assert incoming.option_id is None or isinstance(incoming.option_id, str)
    assert all(isinstance(status, dict) for status in statuses(body))


@FAST
@given(WA_BODIES, shaped_message_list(), shaped_message_list())
def test_a_whatsapp_message_among_junk_is_never_lost(body: Any, before, after) -> None:
    found = incoming_messages(embed(body, before, after, "wamid.valid"))
    valid = [i for i in found if i.message_id == "wamid.valid"]
    assert [(i.account_id, i.text) for i in valid] == [(SITI, "halo")]


@pytest.fixture
async def whatsapp(app):
    async with whatsapp_bot(app, templates={}, approved_templates={}) as harness:
        yield harness


@THROUGH_THE_CHANNEL
@given(body=wa_bodies(OTHER), before=shaped_message_list(OTHER))
async def test_whatsapp_junk_through_the_webhook_holds_back_no_one(whatsapp, body, before):
    siti = whatsapp.graph.person(wa_id=SITI, name="Siti")
    whatsapp.pass_time(timedelta(seconds=7))  # WhatsApp's pace to one person
    wamid = f"wamid.valid.{next(WAMIDS)}"
    siti.last_inbound = whatsapp.graph.clock()  # she writes now: her window is open
    answered = len(siti.inbox)
    delivery = await whatsapp.graph.deliver(embed(body, before, [], wamid))
    assert delivery.status == 200
    await act(whatsapp, whatsapp.graph.idle())
    assert len(siti.inbox) > answered  # her "halo" was answered, whatever came with it


WAMIDS = itertools.count()

# --- Telegram ---------------------------------------------------------------------------------

TG_USER = {"id": 111, "is_bot": False, "first_name": "Siti"}
TG_CHAT = {"id": 111, "type": "private", "first_name": "Siti"}
TG_UPDATES = [
    {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": 1700000000,
            "chat": TG_CHAT,
            "from": TG_USER,
            "text": "halo",
        },
    },
    {
        "update_id": 1,
        "callback_query": {
            "id": "q",
            "from": TG_USER,
            "chat_instance": "c",
            "data": "x",
            "message": {"message_id": 2, "date": 1700000000, "chat": TG_CHAT},
        },
    },
    {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": 1700000000,
            "chat": TG_CHAT,
            "from": TG_USER,
            "location": {"latitude": 1.0, "longitude": 2.0},
            "contact": {"phone_number": "+62", "first_name": "S", "user_id": 111},
        },
    },
]
TG_SHAPES = st.one_of(*(shaped(update) for update in TG_UPDATES))
BOT = Bot("123456:TEST-token")


@FAST
@given(TG_SHAPES)
@example(  # found by this test: a message without its chat
    {
        "update_id": 1,
        "message": {
            "date": 1700000000,
            "from": {"id": 111, "first_name": "Siti", "is_bot": False},
            "message_id": 1,
        },
    }
)
def test_the_telegram_parser_is_total(raw: Any) -> None:
    update = parse_update(raw, BOT)
    if update is None:
        return
    if "sinergi_unreadable" in update.api_kwargs:
        incoming = salvage_incoming(update.api_kwargs["sinergi_unreadable"], "1")
    else:
        incoming = update_to_incoming(update, "1")
    if incoming is not None:
        assert incoming.account_id.lstrip("-").isdigit()
        assert incoming.text is None or isinstance(incoming.text, str)


@pytest.fixture
async def telegram(app):
    async with telegram_bot(app) as harness:
        yield harness


@THROUGH_THE_CHANNEL
@given(raw=TG_SHAPES)
async def test_telegram_junk_through_the_channel_holds_back_no_one(telegram, raw):
    siti = telegram.api.user(111, "Siti", phone="+6281234567890", started=True)
    await telegram.channel.process_json(raw if isinstance(raw, dict) else {"junk": raw})
    answered = len(siti.inbox)
    await siti.send_text("halo")
    assert await telegram.pump() == 1
    assert len(siti.inbox) > answered
