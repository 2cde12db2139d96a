"""Signing in to the console without a password: a one-time link sent in the chat, then a
server-side session. No web library here: the chat handler issues links with it too."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from itsdangerous import BadSignature, URLSafeSerializer
from sqlmodel import Session, select

from bot.config import Settings
from models import ConsoleKey, ConsoleLinkUse, ConsoleSession, Person
from models.base import as_utc, utc_now

DINAS = "dinas"
LINK_LIFETIME = timedelta(minutes=10)
SESSION_LIFETIME = timedelta(hours=8)
USED_LINKS_KEPT = timedelta(days=1)
LINK_PATH = "/dinas/masuk/"
# Signed values of one purpose never pass as another's (itsdangerous "salt").
LINK_SALT = "sinergi.console.link"


@dataclass(frozen=True)
class Officer:
    """Who is signed in, and the token every form must carry back (CSRF)."""

    person_id: int
    name: str
    phone: str | None
    language: str
    csrf_token: str


def signing_key(session: Session, settings: Settings) -> str:
    """$SINERGI_CONSOLE_SECRET, else the random key this database keeps (made on first use)."""
    if settings.console.secret is not None:
        return settings.console.secret.get_secret_value()
    stored = session.exec(select(ConsoleKey).order_by(ConsoleKey.id)).first()
    if stored is None:
        stored = ConsoleKey(secret=secrets.token_hex(32), created_at=utc_now())
        session.add(stored)
        session.flush()
    return stored.secret


def issue_link(session: Session, *, person: Person, settings: Settings, now: datetime) -> str:
    """A link valid for LINK_LIFETIME that opens one session for this officer."""
    serializer = URLSafeSerializer(signing_key(session, settings), salt=LINK_SALT)
    token = serializer.dumps(
        {
            "p": person.id,
            "n": secrets.token_hex(16),
            "e": int((now + LINK_LIFETIME).timestamp()),
        }
    )
    return f"{settings.console.public_url}{LINK_PATH}{token}"


def redeem_link(
    session: Session, *, token: str, settings: Settings, now: datetime
) -> Person | None:
    """The officer a valid, unexpired, unused link names, marking it used; None otherwise."""
    serializer = URLSafeSerializer(signing_key(session, settings), salt=LINK_SALT)
    try:
        claims = serializer.loads(token)
        person_id, nonce, expires = int(claims["p"]), str(claims["n"]), int(claims["e"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
    if now.timestamp() >= expires or len(nonce) != 32:
        return None
    person = session.get(Person, person_id)
    if person is None or person.role != DINAS:
        return None
    if not _mark_used(session, nonce=nonce, person_id=person_id, now=now):
        return None
    return person


def _mark_used(session: Session, *, nonce: str, person_id: int, now: datetime) -> bool:
    """Store the link's id; False when it was stored before (here or by a racing request).

    Ids used a day ago belong to links long expired, refused anyway: they go. (A day, not
    ten minutes: the chat's and the web's clocks may differ on two machines.)"""
    session.execute(sa.delete(ConsoleLinkUse).where(ConsoleLinkUse.used_at < now - USED_LINKS_KEPT))
    if session.get(ConsoleLinkUse, nonce) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(ConsoleLinkUse(nonce=nonce, person_id=person_id, used_at=now))
    except sa.exc.IntegrityError:
        return False
    return True


def open_session(session: Session, *, person: Person, now: datetime) -> str:
    """A new session for `person`; the token for the cookie (only its hash is stored).
    Sessions past their end are removed on the way."""
    session.execute(sa.delete(ConsoleSession).where(ConsoleSession.expires_at <= now))
    token = secrets.token_urlsafe(32)
    session.add(
        ConsoleSession(
            token_hash=_hash(token),
            person_id=person.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + SESSION_LIFETIME,
        )
    )
    session.flush()
    return token


def officer_of(session: Session, *, token: str | None, now: datetime) -> Officer | None:
    """The officer of a live session: unexpired, and the person is still of the Dinas."""
    if not token:
        return None
    row = session.exec(
        select(ConsoleSession).where(ConsoleSession.token_hash == _hash(token))
    ).first()
    if row is None or as_utc(row.expires_at) <= now:
        return None
    person = session.get(Person, row.person_id)
    if person is None or person.role != DINAS:
        session.delete(row)  # the role is gone: so is the session, for good
        return None
    return Officer(
        person_id=person.id,
        name=person.name or person.phone or str(person.id),
        phone=person.phone,
        language=person.language,
        csrf_token=row.csrf_token,
    )


def close_session(session: Session, *, token: str | None) -> None:
    """Sign out: the session's row is gone, so its cookie opens nothing any more."""
    if token:
        session.execute(sa.delete(ConsoleSession).where(ConsoleSession.token_hash == _hash(token)))


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
