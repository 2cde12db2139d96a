"""Loading and saving a person's conversation state (one database row per person)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm.attributes import flag_modified
from sqlmodel import Session

from bot.core.messages import Reply
from models import ConversationState


def load_state(session: Session, person_id: int) -> ConversationState:
    state = session.get(ConversationState, person_id)
    if state is None:
        state = ConversationState(person_id=person_id, step=None, data={}, options=[])
        session.add(state)
    return state


def remember_options(state: ConversationState, replies: list[Reply]) -> None:
    """Keep the options of the last reply that had any, so typed labels can be matched."""
    for reply in reversed(replies):
        if reply.options:
            state.options = [[option.id, option.label] for option in reply.options]
            return
    if replies:
        state.options = []


def touch(state: ConversationState, now: datetime) -> None:
    # JSON columns do not track in-place changes: say that they changed.
    for column in ("data", "options", "suspended"):
        flag_modified(state, column)
    state.updated_at = now
