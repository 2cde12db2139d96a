"""Loading and saving a person's conversation state (one database row per person).

The row is read and written with two prebuilt statements rather than through the ORM's
unit of work: this runs for every message, and the upsert is one round trip. They go
straight to the session's connection (the same transaction): the ORM's execute adds about
twice the statement's own cost, for nothing a plain row needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from bot.core.messages import Reply
from models import ChannelAccount, ConversationState, Person
from models.db import attach

_LOAD = select(
    ConversationState.step,
    ConversationState.data,
    ConversationState.options,
    ConversationState.suspended,
    ConversationState.updated_at,
).where(ConversationState.person_id == sa.bindparam("person_id"))

# Who wrote and where their conversation stands, in one query (the engine's first read of
# every message): the account's and the person's columns, then the state's. Read as plain
# columns and made into the session's objects by `attach`: the ORM's own loading of the
# two entities cost about three times the query.
_ACCOUNT_COLUMNS = tuple(ChannelAccount.__table__.columns)
_PERSON_COLUMNS = tuple(Person.__table__.columns)
_ACCOUNT_PERSON_STATE = (
    sa.select(
        *_ACCOUNT_COLUMNS,
        *_PERSON_COLUMNS,
        ConversationState.person_id.label("state_of"),
        ConversationState.step,
        ConversationState.data,
        ConversationState.options,
        ConversationState.suspended,
        ConversationState.updated_at,
    )
    .join(Person, Person.id == ChannelAccount.person_id)
    .outerjoin(ConversationState, ConversationState.person_id == Person.id)
    .where(
        ChannelAccount.channel == sa.bindparam("channel"),
        ChannelAccount.external_id == sa.bindparam("external_id"),
    )
)
_PERSON_STARTS = len(_ACCOUNT_COLUMNS)
_STATE_STARTS = _PERSON_STARTS + len(_PERSON_COLUMNS)

_SAVE = sa.text(
    "INSERT INTO conversation_state (person_id, step, data, options, suspended, updated_at)"
    " VALUES (:person_id, :step, :data, :options, :suspended, :updated_at)"
    " ON CONFLICT (person_id) DO UPDATE SET step = excluded.step, data = excluded.data,"
    " options = excluded.options, suspended = excluded.suspended,"
    " updated_at = excluded.updated_at"
).bindparams(
    sa.bindparam("data", type_=sa.JSON),
    sa.bindparam("options", type_=sa.JSON),
    sa.bindparam("suspended", type_=sa.JSON(none_as_null=True)),
    sa.bindparam("updated_at", type_=sa.DateTime(timezone=True)),
)


@dataclass
class Conversation:
    """A person's conversation state as the engine works on it during one message: the
    `conversation_state` row's values, read by `load_state` and written by `save_state`.

    A plain object rather than the table model: building a SQLModel instance validated
    every field and cost more than reading the row."""

    person_id: int
    step: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    options: list[list[str]] = field(default_factory=list)
    suspended: dict[str, Any] | None = None
    updated_at: datetime | None = None  # when the person last answered (None: never)


def load_state(session: Session, person_id: int) -> Conversation:
    """The person's state, detached from the session: `save_state` writes it back."""
    row = session.connection().execute(_LOAD, {"person_id": person_id}).first()
    return _conversation(person_id, row)


def load_account_and_state(
    session: Session, *, channel: str, external_id: str
) -> tuple[ChannelAccount, Person, Conversation] | None:
    """The account, its person (in the session) and the person's state; None when the
    account is new."""
    row = (
        session.connection()
        .execute(_ACCOUNT_PERSON_STATE, {"channel": channel, "external_id": external_id})
        .first()
    )
    if row is None:
        return None
    account = attach(session, ChannelAccount, _ACCOUNT_COLUMNS, row[:_PERSON_STARTS])
    person = attach(session, Person, _PERSON_COLUMNS, row[_PERSON_STARTS:_STATE_STARTS])
    return account, person, _conversation(person.id, row if row.state_of is not None else None)


def _conversation(person_id: int, row: sa.Row | None) -> Conversation:
    if row is None:
        return Conversation(person_id=person_id)
    return Conversation(
        person_id=person_id,
        step=row.step,
        data=row.data or {},
        options=row.options or [],
        suspended=row.suspended,
        updated_at=row.updated_at,
    )


def save_state(session: Session, state: Conversation, now: datetime) -> None:
    session.connection().execute(
        _SAVE,
        {
            "person_id": state.person_id,
            "step": state.step,
            "data": state.data,
            "options": state.options,
            "suspended": state.suspended,
            "updated_at": now,
        },
    )


def remember_options(state: Conversation, replies: list[Reply]) -> None:
    """Keep the options of the last reply that had any, so typed labels can be matched."""
    for reply in reversed(replies):
        if reply.options:
            state.options = [[option.id, option.label] for option in reply.options]
            return
    if replies:
        state.options = []
