"""The Dinas's registry of IKM: claiming a record, flagging one, inviting its number, opt-outs.

A registry record is what the Dinas holds about a business (models/registry.py). Its number
may claim it (the record becomes an `IkmProfile`), say it is not theirs (flagged for the
Dinas), be invited over WhatsApp, or opt out of being contacted. No chat text here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.services import outbox
from models import ChannelAccount, IkmFields, IkmProfile, OptOut, Person, RegistryRecord

NOT_MINE = "not_mine"
INVITE_KIND = "registry.invite"
# The fields of a record that are also an IKM profile's, under the same names.
PROFILE_FIELDS = ("owner_name", "business_name", "sector", "kbli_code", "kecamatan", "desa")
PROFILE_FIELDS_OPTIONAL = ("nib", "workers")


# --- claiming ------------------------------------------------------------------------------


def _unclaimed() -> sa.ColumnElement[bool]:
    return sa.and_(col(RegistryRecord.ikm_id).is_(None), col(RegistryRecord.flag).is_(None))


def _holds(phone: str) -> sa.ColumnElement[bool]:
    return sa.or_(RegistryRecord.phone == phone, RegistryRecord.phone_alt == phone)


def claimable(session: Session, phone: str | None) -> RegistryRecord | None:
    """The first unclaimed, unflagged record holding this (proven) number, if any."""
    if not phone:
        return None
    return session.exec(
        select(RegistryRecord).where(_holds(phone), _unclaimed()).order_by(RegistryRecord.id)
    ).first()


def record_of(session: Session, record_id: int, phone: str | None) -> RegistryRecord | None:
    """The record only if it is still claimable by this number: ids from a chat are not trusted."""
    record = session.get(RegistryRecord, record_id)
    if record is None or record.ikm_id is not None or record.flag is not None:
        return None
    return record if phone and phone in (record.phone, record.phone_alt) else None


def draft_of(record: RegistryRecord) -> dict:
    """The record's values as an IKM registration draft (what it lacks left out)."""
    names = (*PROFILE_FIELDS, *PROFILE_FIELDS_OPTIONAL)
    return {name: getattr(record, name) for name in names if getattr(record, name) is not None}


def missing_required(draft: dict) -> list[str]:
    """The fields an IKM profile needs that the draft lacks, in the model's order."""
    return [
        name
        for name, field in IkmFields.model_fields.items()
        if field.is_required() and draft.get(name) in (None, "")
    ]


class AlreadyClaimed(Exception):
    """The record was claimed or flagged meanwhile, or the person has a role already."""


def claim(
    session: Session, *, record: RegistryRecord, person: Person, fields: IkmFields, now: datetime
) -> IkmProfile:
    """Register `person` as the IKM of `record`: a profile from it, the `ikm` role, the link."""
    if record.ikm_id is not None or record.flag is not None or person.role is not None:
        raise AlreadyClaimed()
    if session.exec(select(IkmProfile.id).where(IkmProfile.person_id == person.id)).first():
        raise AlreadyClaimed()
    profile = IkmProfile(**fields.model_dump(), person_id=person.id, created_at=now, updated_at=now)
    session.add(profile)
    session.flush()
    person.role = "ikm"
    person.name = fields.owner_name
    record.ikm_id = profile.id
    record.claimed_at = now
    record.updated_at = now
    session.flush()
    return profile


def flag_not_mine(session: Session, *, record: RegistryRecord, now: datetime) -> None:
    """The number's owner says the record is not their business: the Dinas looks at it."""
    record.flag = NOT_MINE
    record.flagged_at = now
    record.updated_at = now
    session.flush()


def flagged(session: Session, *, limit: int = 50) -> list[RegistryRecord]:
    """Records flagged "not mine", newest first, for the Dinas to correct."""
    return list(
        session.exec(
            select(RegistryRecord)
            .where(RegistryRecord.flag == NOT_MINE)
            .order_by(col(RegistryRecord.flagged_at).desc(), RegistryRecord.id)
            .limit(limit)
        )
    )


# --- opt-outs ------------------------------------------------------------------------------


def phone_hash(phone: str) -> str:
    """What an opt-out keeps of a number: its SHA-256, so it outlives an erasure."""
    return hashlib.sha256(phone.encode("ascii")).hexdigest()


def opted_out(session: Session, phone: str | None) -> bool:
    if not phone:
        return False
    found = select(OptOut.id).where(OptOut.phone_hash == phone_hash(phone))
    return session.exec(found).first() is not None


def opt_out(session: Session, *, phone: str, now: datetime) -> bool:
    """Record that this number asked not to be contacted; False if it had already."""
    if opted_out(session, phone):
        return False
    session.add(OptOut(phone_hash=phone_hash(phone), created_at=now))
    session.flush()
    return True


def opt_in(session: Session, *, phone: str) -> bool:
    """Undo an opt-out ("mulai"); False if the number had not opted out."""
    deleted = session.execute(sa.delete(OptOut).where(OptOut.phone_hash == phone_hash(phone)))
    return deleted.rowcount > 0


def _opted_out_hashes(session: Session) -> set[str]:
    return set(session.exec(select(OptOut.phone_hash)))


def opted_out_people(session: Session) -> set[int]:
    """Ids of the people whose number opted out. Only hashes are stored, so the numbers are
    hashed here: a few thousand sha256 per broadcast, and none when nobody opted out."""
    hashes = _opted_out_hashes(session)
    if not hashes:
        return set()
    people = session.exec(select(Person.id, Person.phone).where(col(Person.phone).is_not(None)))
    return {person_id for person_id, phone in people if phone_hash(phone) in hashes}


def not_opted_out(session: Session, person_id: sa.ColumnElement[int]) -> sa.ColumnElement[bool]:
    """The clause every broadcast (announcements, nudges, invitations) filters people with."""
    excluded = opted_out_people(session)
    return person_id.not_in(excluded) if excluded else sa.true()


# --- invitations ---------------------------------------------------------------------------


def _phones_with_a_role(session: Session) -> set[str]:
    rows = session.exec(
        select(Person.phone).where(col(Person.role).is_not(None), col(Person.phone).is_not(None))
    )
    return set(rows)


def invitable(session: Session, *, limit: int | None = None) -> list[RegistryRecord]:
    """Unclaimed, unflagged, never-invited records whose number has not opted out and is not
    already someone registered; oldest first, at most `limit`."""
    query = (
        select(RegistryRecord)
        .where(_unclaimed(), col(RegistryRecord.phone).is_not(None))
        .where(col(RegistryRecord.invited_at).is_(None))
        .order_by(RegistryRecord.id)
    )
    hashes = _opted_out_hashes(session)
    registered = _phones_with_a_role(session)
    found: list[RegistryRecord] = []
    seen: set[str] = set()
    for record in session.exec(query):
        phone = record.phone or ""
        if phone in registered or phone in seen or phone_hash(phone) in hashes:
            continue
        seen.add(phone)
        found.append(record)
        if limit is not None and len(found) >= limit:
            break
    return found


@dataclass(frozen=True)
class InvitePreview:
    """What an invitation batch would do: how many, and the first record as an example."""

    count: int
    example: RegistryRecord | None


def preview(session: Session, *, batch: int) -> InvitePreview:
    records = invitable(session, limit=batch)
    return InvitePreview(len(records), records[0] if records else None)


def invite_batch_name(now: datetime) -> str:
    return f"invite:{now.strftime('%Y%m%dT%H%M%S')}"


def invite(session: Session, *, batch: int, now: datetime) -> tuple[str, int]:
    """Queue the WhatsApp invitation for up to `batch` invitable records, as one outbox
    batch; returns (batch name, how many were queued)."""
    name = invite_batch_name(now)
    queued = 0
    for record in invitable(session, limit=batch):
        person = _recipient(session, record.phone or "", now)
        queued += outbox.enqueue(
            session,
            person_id=person.id,
            key=f"invite:record:{record.id}:{record.invitations + 1}",
            template=INVITE_KIND,
            params=invitation_params(record),
            now=now,
            batch=name,
        )
        record.invited_at = now
        record.invitations += 1
        record.updated_at = now
    session.flush()
    return name, queued


def invitation_params(record: RegistryRecord) -> dict:
    return {
        "record_id": record.id,
        "business_name": record.business_name,
        "source": record.source,
    }


def _recipient(session: Session, phone: str, now: datetime) -> Person:
    """The person the number is (the Dinas's statement of it), with a WhatsApp account whose
    id is the number's digits, as WhatsApp's wa_id: the reply lands on this person."""
    person = session.exec(select(Person).where(Person.phone == phone)).first()
    if person is None:
        person = Person(phone=phone, created_at=now, last_active_at=now)
        session.add(person)
        session.flush()
    wa_id = phone.removeprefix("+")
    account = session.exec(
        select(ChannelAccount).where(
            ChannelAccount.channel == "whatsapp", ChannelAccount.external_id == wa_id
        )
    ).first()
    if account is None:
        session.add(
            ChannelAccount(
                person_id=person.id, channel="whatsapp", external_id=wa_id, created_at=now
            )
        )
        session.flush()
    return person


# --- erasure ---------------------------------------------------------------------------------


def erase_records(session: Session, *, phones: set[str], ikm_id: int | None) -> int:
    """Delete the records holding these numbers, and the one claimed as `ikm_id` (hapus data)."""
    holds = [RegistryRecord.phone.in_(phones), RegistryRecord.phone_alt.in_(phones)]
    if ikm_id is not None:
        holds.append(RegistryRecord.ikm_id == ikm_id)
    return session.execute(sa.delete(RegistryRecord).where(sa.or_(*holds))).rowcount
