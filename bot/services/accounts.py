"""People and their channel accounts: identity, roles, consent, and deleting one's data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from models import (
    ChannelAccount,
    Company,
    Consent,
    ConversationState,
    HandledMessage,
    IkmProfile,
    Person,
    Product,
)

ROLES = ("ikm", "company", "dinas")
ADMIN = "admin"


def claim_message(session: Session, *, channel: str, message_id: str, now: datetime) -> bool:
    """Record a platform message id; False when it was handled before (a redelivery)."""
    exists = session.exec(
        select(HandledMessage.id).where(
            HandledMessage.channel == channel, HandledMessage.message_id == message_id
        )
    ).first()
    if exists is not None:
        return False
    try:
        with session.begin_nested():
            session.add(HandledMessage(channel=channel, message_id=message_id, handled_at=now))
    except IntegrityError:  # another worker got the same redelivery first
        return False
    return True


def find_or_create(
    session: Session,
    *,
    channel: str,
    external_id: str,
    phone: str | None,
    now: datetime,
    language: str,
) -> tuple[ChannelAccount, Person]:
    """The account and its person; a known phone links a new account to an existing person."""
    account = session.exec(
        select(ChannelAccount).where(
            ChannelAccount.channel == channel, ChannelAccount.external_id == external_id
        )
    ).first()
    if account is not None:
        person = session.get(Person, account.person_id)
        if person.phone is None and phone is not None:
            link_phone(session, account=account, person=person, phone=phone)
            person = session.get(Person, account.person_id)
    else:
        person = find_by_phone(session, phone) if phone else None
        if person is None:
            person = Person(phone=phone, language=language, created_at=now, last_active_at=now)
            session.add(person)
            session.flush()
        account = ChannelAccount(
            person_id=person.id, channel=channel, external_id=external_id, created_at=now
        )
        session.add(account)
    account.last_inbound_at = now
    person.last_active_at = now
    session.flush()
    return account, person


def find_by_phone(session: Session, phone: str) -> Person | None:
    return session.exec(select(Person).where(Person.phone == phone)).first()


def link_phone(session: Session, *, account: ChannelAccount, person: Person, phone: str) -> Person:
    """Give `person` (reached through `account`) the phone number they proved is theirs.

    When someone already holds that number (registered from another channel), the
    account moves to that person, who keeps their data; the empty newcomer is removed.
    """
    existing = find_by_phone(session, phone)
    if existing is None or existing.id == person.id:
        person.phone = phone
        session.flush()
        return person
    account.person_id = existing.id
    session.flush()
    if not has_profile(session, person):
        session.delete(person)
        session.flush()
    return existing


def has_profile(session: Session, person: Person) -> bool:
    return person.role is not None or (
        session.exec(select(IkmProfile.id).where(IkmProfile.person_id == person.id)).first()
        is not None
    )


def roles_of(person: Person, admins: list[str]) -> frozenset[str]:
    roles = {person.role} if person.role else set()
    if person.phone and person.phone in admins:
        roles.add(ADMIN)
    return frozenset(roles)


def record_consent(
    session: Session, *, person: Person, text_version: str, language: str, now: datetime
) -> Consent:
    consent = Consent(
        person_id=person.id, text_version=text_version, language=language, accepted_at=now
    )
    session.add(consent)
    return consent


def has_consented(session: Session, person: Person, text_version: str) -> bool:
    return (
        session.exec(
            select(Consent.id).where(
                Consent.person_id == person.id, Consent.text_version == text_version
            )
        ).first()
        is not None
    )


def grant_dinas(session: Session, *, phone: str, now: datetime, language: str) -> Person:
    """Give the Dinas role to the person with `phone`, creating them if they never wrote."""
    person = find_by_phone(session, phone)
    if person is None:
        person = Person(phone=phone, language=language, created_at=now, last_active_at=now)
        session.add(person)
    if person.role not in (None, "dinas"):
        raise RoleConflict(person.role)
    person.role = "dinas"
    session.flush()
    return person


class RoleConflict(Exception):
    """The person already has another role; one phone is one role."""

    def __init__(self, role: str) -> None:
        super().__init__(role)
        self.role = role


@dataclass(frozen=True)
class PersonalData:
    """Everything stored about one person, for "hapus data" and export."""

    person: Person
    accounts: list[ChannelAccount]
    consents: list[Consent]
    ikm: IkmProfile | None
    products: list[Product]
    company: Company | None


def personal_data(session: Session, person: Person) -> PersonalData:
    ikm = session.exec(select(IkmProfile).where(IkmProfile.person_id == person.id)).first()
    products = (
        list(session.exec(select(Product).where(Product.ikm_id == ikm.id).order_by(Product.id)))
        if ikm
        else []
    )
    return PersonalData(
        person=person,
        accounts=list(
            session.exec(select(ChannelAccount).where(ChannelAccount.person_id == person.id))
        ),
        consents=list(session.exec(select(Consent).where(Consent.person_id == person.id))),
        ikm=ikm,
        products=products,
        company=session.exec(select(Company).where(Company.person_id == person.id)).first(),
    )


def delete_person(session: Session, person: Person) -> None:
    """Erase a person and everything that hangs off them (explicitly, not trusting cascades)."""
    ikm_ids = select(IkmProfile.id).where(IkmProfile.person_id == person.id)
    session.execute(sa.delete(Product).where(Product.ikm_id.in_(ikm_ids)))
    for table in (IkmProfile, Company, Consent, ConversationState, ChannelAccount):
        session.execute(sa.delete(table).where(table.person_id == person.id))
    session.execute(sa.delete(Person).where(Person.id == person.id))
    session.expunge(person)
