"""The web console's sign-in: used one-time links, open sessions, and the signing key.

A link is signed (so nobody can make one) and carries a random id; using it stores that id,
so the same link never opens a second session. A session is a row, so that signing out, a
lost role or an erased person ends it at the next request.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


class ConsoleKey(SQLModel, table=True):
    """The signing key when $SINERGI_CONSOLE_SECRET is not set: random, made once, shared by
    every process on this database (the chat that sends the link and the web that opens it)."""

    __tablename__ = "console_key"

    id: int | None = Field(default=None, primary_key=True)
    secret: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class ConsoleLinkUse(SQLModel, table=True):
    """A sign-in link that was used: its id may never open a session again."""

    __tablename__ = "console_link_use"

    nonce: str = Field(primary_key=True, max_length=32)
    person_id: int | None = Field(
        default=None, foreign_key="person.id", index=True, ondelete="SET NULL"
    )
    used_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class ConsoleSession(SQLModel, table=True):
    """An officer signed in to the console; the cookie holds a token, the row its hash."""

    __tablename__ = "console_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    person_id: int = Field(foreign_key="person.id", index=True, ondelete="CASCADE")
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    expires_at: datetime = Field(sa_type=sa.DateTime(timezone=True), index=True)
