"""Announcements of the Dinas: who an audience is, sending to it, its progress, stopping it.

An audience is a small JSON-able dict, stored with the announcement:
{"kind": "all_ikm"}, {"kind": "sector", "values": ["14"]},
{"kind": "kecamatan", "values": ["Sukawangi"]}, {"kind": "companies"},
{"kind": "bimtek", "values": ["12"]} (those registered or waitlisted for session 12).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from bot.reference import load_reference
from bot.services import registry
from bot.services.outbox import batch_counts, cancel_batch, enqueue
from models import (
    Announcement,
    AnnouncementStatus,
    BimtekRegistration,
    ChannelAccount,
    Company,
    CompanyStatus,
    IkmProfile,
    OutboxMessage,
    OutboxState,
    Person,
    RegistrationStatus,
)

KINDS_ALONE = ("all_ikm", "companies")
KINDS_WITH_VALUES = ("sector", "kecamatan", "bimtek")
TEXT_LIMIT = 3000


def validate(audience: object) -> dict:
    """The audience in its stored form (values deduplicated); ValueError if malformed."""
    if not isinstance(audience, dict):
        raise ValueError("audience must be a dict")
    kind = audience.get("kind")
    if kind in KINDS_ALONE:
        if set(audience) != {"kind"}:
            raise ValueError(f"audience {kind!r} takes no values")
        return {"kind": kind}
    if kind not in KINDS_WITH_VALUES:
        raise ValueError(f"unknown audience kind {kind!r}")
    values = audience.get("values")
    if set(audience) != {"kind", "values"} or not isinstance(values, list) or not values:
        raise ValueError(f"audience {kind!r} needs a non-empty list of values")
    for value in values:
        if not isinstance(value, str) or not _known(kind, value):
            raise ValueError(f"unknown {kind} {value!r}")
    return {"kind": kind, "values": list(dict.fromkeys(values))}


def _known(kind: str, value: str) -> bool:
    reference = load_reference()
    if kind == "sector":
        return reference.sector(value) is not None
    if kind == "kecamatan":
        return value in reference.kecamatan
    return value.isascii() and value.isdigit()


def recipients(session: Session, audience: dict) -> list[int]:
    """Person ids of the audience, in id order, that we can still reach on some channel."""
    query = _recipients_query(session, validate(audience))
    return list(session.exec(query.order_by(Person.id)))


def count(session: Session, audience: dict) -> int:
    query = _recipients_query(session, validate(audience)).subquery()
    return session.execute(select(sa.func.count()).select_from(query)).scalar_one()


def count_ikm(session: Session, *, sectors: list[str], kecamatan: list[str]) -> int:
    """Reachable IKM in these sectors and kecamatan (an empty list means all)."""
    members = _ikm_members(sectors=sectors, kecamatan=kecamatan)
    query = _reachable(session, members).subquery()
    return session.execute(select(sa.func.count()).select_from(query)).scalar_one()


def _recipients_query(session: Session, audience: dict) -> sa.Select:
    return _reachable(session, _members(audience))


def _reachable(session: Session, members: sa.Select) -> sa.Select:
    # Someone whose every account blocked us (or who has none) cannot be reached; a number
    # that opted out ("berhenti") is not sent announcements.
    reachable = select(ChannelAccount.person_id).where(ChannelAccount.blocked == sa.false())
    return select(Person.id).where(
        Person.id.in_(members),
        Person.id.in_(reachable),
        registry.not_opted_out(session, Person.id),
    )


def _members(audience: dict) -> sa.Select:
    kind, values = audience["kind"], audience.get("values", [])
    if kind == "companies":
        # Pending companies hear the Dinas too; only those it rejected are left out.
        return select(Company.person_id).where(Company.status != CompanyStatus.REJECTED)
    if kind == "bimtek":
        return select(BimtekRegistration.person_id).where(
            BimtekRegistration.session_id.in_([int(value) for value in values]),
            BimtekRegistration.status.in_(
                [RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED]
            ),
        )
    return _ikm_members(
        sectors=values if kind == "sector" else [],
        kecamatan=values if kind == "kecamatan" else [],
    )


def _ikm_members(*, sectors: list[str], kecamatan: list[str]) -> sa.Select:
    query = select(IkmProfile.person_id)
    if sectors:
        query = query.where(IkmProfile.sector.in_(sectors))
    if kecamatan:
        query = query.where(IkmProfile.kecamatan.in_(kecamatan))
    return query


def announce(
    session: Session,
    *,
    author: Person | None,
    text: str,
    image_ref: str | None,
    audience: dict,
    now: datetime,
) -> Announcement:
    """Store the announcement and queue one message per recipient, as one batch."""
    if not text.strip() or len(text) > TEXT_LIMIT:
        raise ValueError("announcement text must be 1 to 3000 characters")
    audience = validate(audience)
    announcement = Announcement(
        author_id=author.id if author else None,
        text=text,
        image_ref=image_ref,
        audience=audience,
        status=AnnouncementStatus.SENDING,
        created_at=now,
    )
    session.add(announcement)
    session.flush()
    params = {"announcement_id": announcement.id, "text": text, "image_ref": image_ref}
    queued = 0
    for person_id in recipients(session, audience):
        queued += enqueue(
            session,
            person_id=person_id,
            key=f"announcement:{announcement.id}:person:{person_id}",
            template="announcement",
            params=params,
            now=now,
            batch=batch_of(announcement),
        )
    announcement.recipients = queued
    session.flush()
    return announcement


def batch_of(announcement: Announcement) -> str:
    return f"announcement:{announcement.id}"


@dataclass(frozen=True)
class Progress:
    """Where an announcement's messages are; the counts add up to `total`.

    `blocked`: failed messages whose channel account is (now) marked as blocking us;
    `failed` is the other failures. `pending` includes messages being sent right now;
    `waiting` are held for the person (console inbox, WhatsApp's 24-hour window).
    """

    total: int
    sent: int
    failed: int
    blocked: int
    waiting: int
    pending: int
    cancelled: int

    @property
    def done(self) -> bool:
        """Nothing left for the sender; waiting messages go when their person writes."""
        return self.pending == 0


def progress(session: Session, *, announcement: Announcement) -> Progress:
    batch = batch_of(announcement)
    counts = batch_counts(session, batch)
    blocked = _blocked_failures(session, batch)
    return Progress(
        total=sum(counts.values()),
        sent=counts[OutboxState.SENT],
        failed=counts[OutboxState.FAILED] - blocked,
        blocked=blocked,
        waiting=counts[OutboxState.WAITING],
        pending=counts[OutboxState.PENDING] + counts[OutboxState.SENDING],
        cancelled=counts[OutboxState.CANCELLED],
    )


def _blocked_failures(session: Session, batch: str) -> int:
    blocked_account = (
        select(ChannelAccount.id)
        .where(
            ChannelAccount.channel == OutboxMessage.channel,
            ChannelAccount.external_id == OutboxMessage.account_id,
            ChannelAccount.blocked == sa.true(),
        )
        .exists()
    )
    return session.execute(
        select(sa.func.count())
        .select_from(OutboxMessage)
        .where(
            OutboxMessage.batch == batch,
            OutboxMessage.state == OutboxState.FAILED,
            blocked_account,
        )
    ).scalar_one()


def stop(session: Session, *, announcement: Announcement) -> int:
    """Stop sending: what has not gone yet is cancelled; returns how many."""
    announcement.status = AnnouncementStatus.STOPPED
    session.flush()
    return cancel_batch(session, batch_of(announcement))
