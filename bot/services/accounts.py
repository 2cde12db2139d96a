"""People and their channel accounts: identity, roles, consent, and deleting one's data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from bot.services import erasure, outbox
from models import (
    BimtekRegistration,
    ChannelAccount,
    Company,
    Consent,
    IkmProfile,
    Need,
    Offer,
    Person,
    Product,
)
from models.base import as_utc, utc_now

ROLES = ("ikm", "company", "dinas")
ADMIN = "admin"


# Built once and reused: these run for every incoming message, and a prebuilt statement
# skips SQLAlchemy's per-call construction and cache-key work.
_CLAIM_MESSAGE = sa.text(
    "INSERT INTO handled_message (channel, message_id, handled_at)"
    " VALUES (:channel, :message_id, :handled_at)"
    " ON CONFLICT (channel, message_id) DO NOTHING"
).bindparams(sa.bindparam("handled_at", type_=sa.DateTime(timezone=True)))

# PostgreSQL: the person's transaction lock (see `lock_person`) taken by the statement that
# claims the message, when it is new; one round trip instead of two.
_HOLD_PERSON_OF_ACCOUNT = (
    "SELECT pg_advisory_xact_lock(person_id) FROM channel_account"
    " WHERE channel = :channel AND external_id = :external_id"
)
_CLAIM_AND_HOLD = sa.text(
    "INSERT INTO handled_message (channel, message_id, handled_at)"
    " VALUES (:channel, :message_id, :handled_at)"
    " ON CONFLICT (channel, message_id) DO NOTHING"
    f" RETURNING ({_HOLD_PERSON_OF_ACCOUNT})"
).bindparams(sa.bindparam("handled_at", type_=sa.DateTime(timezone=True)))
_HOLD_ACCOUNT = sa.text(_HOLD_PERSON_OF_ACCOUNT)

_ACCOUNT_WITH_PERSON = (
    select(ChannelAccount, Person)
    .join(Person, Person.id == ChannelAccount.person_id)
    .where(
        ChannelAccount.channel == sa.bindparam("channel"),
        ChannelAccount.external_id == sa.bindparam("external_id"),
    )
)


def claim_message(session: Session, *, channel: str, message_id: str, now: datetime) -> bool:
    """Record a platform message id; False when it was handled before (a redelivery).

    One INSERT ... ON CONFLICT DO NOTHING (SQLite and PostgreSQL alike): atomic across
    workers, no savepoint needed.
    """
    # Straight to the connection (same transaction): the ORM's execute would double the cost.
    result = session.connection().execute(
        _CLAIM_MESSAGE, {"channel": channel, "message_id": message_id, "handled_at": now}
    )
    return result.rowcount == 1


def claim_and_hold(
    session: Session, *, channel: str, external_id: str, message_id: str | None, now: datetime
) -> bool:
    """Claim the message id (False: handled before) and hold the account's person until the
    transaction ends (see `lock_person`), in one statement on PostgreSQL.

    The person is held before anything about them is read, so what is read next is what
    the previous message of theirs left. An account not known yet holds no one: the caller
    holds the person it creates or finds (`lock_person`).
    """
    if session.get_bind().dialect.name != "postgresql":
        return message_id is None or claim_message(
            session, channel=channel, message_id=message_id, now=now
        )
    connection = session.connection()
    if message_id is None:
        connection.execute(_HOLD_ACCOUNT, {"channel": channel, "external_id": external_id})
        return True
    claimed = connection.execute(
        _CLAIM_AND_HOLD,
        {
            "channel": channel,
            "external_id": external_id,
            "message_id": message_id,
            "handled_at": now,
        },
    )
    return claimed.first() is not None


# Activity timestamps are refreshed at most this often: enough for "active lately" and the
# WhatsApp 24-hour window (an older stamp only closes the window sooner), far fewer writes.
ACTIVITY_RESOLUTION = timedelta(minutes=1)


def find_or_create(
    session: Session,
    *,
    channel: str,
    external_id: str,
    phone: str | None,
    now: datetime,
    language: str,
    platform_user_id: str | None = None,
) -> tuple[ChannelAccount, Person]:
    """The account and its person; a known phone links a new account to an existing person.

    `phone` must be proven by the channel (the number itself wrote on WhatsApp; the operator's
    console): only such a number is looked up, and claims typed by others on it are dropped.
    """
    found = session.execute(
        _ACCOUNT_WITH_PERSON, {"channel": channel, "external_id": external_id}
    ).first()
    if found is None:
        return new_account(
            session,
            channel=channel,
            external_id=external_id,
            phone=phone,
            now=now,
            language=language,
            platform_user_id=platform_user_id,
        )
    account, person = found
    return account, note_arrival(
        session, account, person, phone=phone, now=now, platform_user_id=platform_user_id
    )


def new_account(
    session: Session,
    *,
    channel: str,
    external_id: str,
    phone: str | None,
    now: datetime,
    language: str,
    platform_user_id: str | None = None,
) -> tuple[ChannelAccount, Person]:
    """`find_or_create` for an account the caller found unknown: its person is found by the
    platform user or the proven number, or made (holding that number from the start)."""
    # The same platform user under another address (a username-only WhatsApp user whose
    # number now shows) is the same person; otherwise only a proven number finds one.
    person = _person_of_platform_user(session, channel=channel, user_id=platform_user_id)
    if person is None and phone:
        person = find_by_phone(session, phone)
    if person is None:
        person = Person(phone=phone, language=language, created_at=now, last_active_at=now)
        session.add(person)
        session.flush()
        if phone:
            _drop_claims(session, phone=phone, owner_id=person.id, now=now)
    account = ChannelAccount(
        person_id=person.id, channel=channel, external_id=external_id, created_at=now
    )
    session.add(account)
    return account, note_arrival(
        session, account, person, phone=phone, now=now, platform_user_id=platform_user_id
    )


def note_arrival(
    session: Session,
    account: ChannelAccount,
    person: Person,
    *,
    phone: str | None,
    now: datetime,
    platform_user_id: str | None = None,
) -> Person:
    """What a message from `account` tells: a proven number, the platform's user id, that
    the person is active. The person afterwards (a proven number may belong to another)."""
    if person.phone is None and phone is not None:
        person = link_phone(session, account=account, person=person, phone=phone, now=now)
    if platform_user_id and account.platform_user_id != platform_user_id:
        account.platform_user_id = platform_user_id
    _mark_active(account, person, now)
    return person


def _person_of_platform_user(
    session: Session, *, channel: str, user_id: str | None
) -> Person | None:
    if not user_id:
        return None
    return session.exec(
        select(Person)
        .join(ChannelAccount, ChannelAccount.person_id == Person.id)
        .where(ChannelAccount.channel == channel, ChannelAccount.platform_user_id == user_id)
    ).first()


def _mark_active(account: ChannelAccount, person: Person, now: datetime) -> None:
    if account.blocked:
        account.blocked = False  # writing to us again means they can be reached again
    last_inbound = as_utc(account.last_inbound_at)
    if last_inbound is None or now - last_inbound >= ACTIVITY_RESOLUTION:
        account.last_inbound_at = now
    if person.last_active_at is None or now - as_utc(person.last_active_at) >= ACTIVITY_RESOLUTION:
        person.last_active_at = now


def set_blocked(session: Session, *, channel: str, external_id: str, blocked: bool) -> bool:
    """Mark an account as blocking the bot (or not); False when the account is unknown."""
    result = session.execute(
        sa.update(ChannelAccount)
        .where(ChannelAccount.channel == channel, ChannelAccount.external_id == external_id)
        .values(blocked=blocked)
    )
    return result.rowcount > 0


def lock_person(session: Session, person_id: int) -> None:
    """Hold this person's messages one at a time until the transaction ends.

    Several webhook workers may receive two messages of one person at once (a double
    tap); without this both would read the same state and, say, save a product twice.
    SQLite needs nothing: it lets one writer in at a time.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": person_id})


def person_id_of(session: Session, *, channel: str, external_id: str) -> int | None:
    return session.execute(
        select(ChannelAccount.person_id).where(
            ChannelAccount.channel == channel, ChannelAccount.external_id == external_id
        )
    ).scalar()


def language_of(session: Session, *, channel: str, external_id: str, default: str) -> str:
    language = session.execute(
        select(Person.language)
        .join(ChannelAccount, ChannelAccount.person_id == Person.id)
        .where(ChannelAccount.channel == channel, ChannelAccount.external_id == external_id)
    ).scalar()
    return language or default


def set_language(session: Session, person: Person, language: str) -> None:
    person.language = language
    outbox.change_language(session, person_id=person.id, language=language)


def find_by_phone(session: Session, phone: str) -> Person | None:
    """The person whose number this is, proven (or stated by the Dinas); never a mere claim."""
    return session.exec(select(Person).where(Person.phone == phone)).first()


def link_phone(
    session: Session, *, account: ChannelAccount, person: Person, phone: str, now: datetime
) -> Person:
    """Give `person` (reached through `account`) the phone number they proved is theirs.

    When someone already holds that number (registered from another channel), the
    account moves to that person, who keeps their data; the empty newcomer is removed.
    Anyone else who only typed the number loses the claim and is told.
    """
    existing = find_by_phone(session, phone)
    if existing is None or existing.id == person.id:
        person.phone = phone
        person.claimed_phone = None
        session.flush()
        _drop_claims(session, phone=phone, owner_id=person.id, now=now)
        return person
    account.person_id = existing.id
    _carry_consents(session, source=person, target=existing)
    session.flush()
    if not has_profile(session, person):
        delete_person(session, person)
    return existing


def claim_phone(session: Session, *, person: Person, phone: str) -> bool:
    """Keep a typed number as the person's unproven claim; False when it is someone's already.

    A claim links nothing and finds no one: the number's owner, writing from it later, gets
    a person of their own (and the claim is dropped, see `_drop_claims`).
    """
    holder = find_by_phone(session, phone)
    if holder is not None and holder.id != person.id:
        return False
    if holder is None:
        person.claimed_phone = phone
    return True


CLAIM_DROPPED = "identity.claim_dropped"


def _drop_claims(session: Session, *, phone: str, owner_id: int, now: datetime) -> None:
    """The number now belongs to `owner_id`: whoever only typed it loses the claim, and is told."""
    claimants = session.exec(
        select(Person).where(Person.claimed_phone == phone, Person.id != owner_id)
    ).all()
    for claimant in claimants:
        claimant.claimed_phone = None
        outbox.enqueue(
            session,
            person_id=claimant.id,
            key=f"identity:{claimant.id}:claim_dropped:{phone}:{now.isoformat()}",
            template=CLAIM_DROPPED,
            params={"phone": phone},
            now=now,
        )
    session.flush()


def _carry_consents(session: Session, *, source: Person, target: Person) -> None:
    """The consent given on this account was given by the person who holds the number
    (e.g. a Dinas officer added by phone who then starts on Telegram): it stays theirs."""
    held = set(session.exec(select(Consent.text_version).where(Consent.person_id == target.id)))
    given = session.exec(select(Consent).where(Consent.person_id == source.id)).all()
    for consent in given:
        if consent.text_version not in held:
            session.add(
                Consent(
                    person_id=target.id,
                    text_version=consent.text_version,
                    language=consent.language,
                    accepted_at=consent.accepted_at,
                )
            )
            held.add(consent.text_version)


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


_CONSENT_GIVEN = select(Consent.id).where(
    Consent.person_id == sa.bindparam("person_id"),
    Consent.text_version == sa.bindparam("text_version"),
)


def has_consented(session: Session, person: Person, text_version: str) -> bool:
    found = session.execute(
        _CONSENT_GIVEN, {"person_id": person.id, "text_version": text_version}
    ).first()
    return found is not None


def grant_dinas(session: Session, *, phone: str, now: datetime, language: str) -> Person:
    """Give the Dinas role to the person with `phone`, creating them if they never wrote.

    Only a registered number is found: someone who merely typed it is not the officer.
    """
    person = find_by_phone(session, phone)
    if person is None:
        person = Person(phone=phone, language=language, created_at=now, last_active_at=now)
        session.add(person)
    if person.role not in (None, "dinas"):
        raise RoleConflict(person.role)
    person.role = "dinas"
    session.flush()
    # The Dinas states whose number this is: a claim someone typed on it gives way.
    _drop_claims(session, phone=phone, owner_id=person.id, now=now)
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
    registrations: list[BimtekRegistration]
    company: Company | None
    offers: list[Offer]
    needs: list[Need]


def personal_data(session: Session, person: Person) -> PersonalData:
    ikm = session.exec(select(IkmProfile).where(IkmProfile.person_id == person.id)).first()
    products = (
        list(session.exec(select(Product).where(Product.ikm_id == ikm.id).order_by(Product.id)))
        if ikm
        else []
    )
    company = session.exec(select(Company).where(Company.person_id == person.id)).first()
    return PersonalData(
        person=person,
        accounts=list(
            session.exec(select(ChannelAccount).where(ChannelAccount.person_id == person.id))
        ),
        consents=list(session.exec(select(Consent).where(Consent.person_id == person.id))),
        ikm=ikm,
        products=products,
        registrations=list(
            session.exec(
                select(BimtekRegistration).where(BimtekRegistration.person_id == person.id)
            )
        ),
        company=company,
        offers=list(
            session.exec(select(Offer).where(Offer.person_id == person.id).order_by(Offer.id))
        ),
        needs=(
            list(session.exec(select(Need).where(Need.company_id == company.id).order_by(Need.id)))
            if company
            else []
        ),
    )


def delete_person(
    session: Session,
    person: Person,
    *,
    now: datetime | None = None,
    labels: erasure.LabelsFor | None = None,
) -> None:
    """Erase a person: every trace of their data, while others' records stay anonymised.

    `labels` give the words that stand in for them in others' messages; a person deleted
    without them (an empty newcomer merged into the number's owner) has none to replace.
    """
    erasure.erase(
        session,
        person,
        now=now or utc_now(),
        labels=labels or (lambda _language: erasure.Labels(ikm="", company="")),
    )
