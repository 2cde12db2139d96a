"""Erasing a person (`hapus data`, UU 27/2022 PDP).

Every trace of the person's personal data goes at once, wherever it is: their rows, the
webhook bodies and delivery statuses of their accounts, and their names and numbers in
what others were sent or were shown. Records that belong to others or to the Dinas (a
partnership, an offer a company received, a verification decision, an attendance) stay,
with the person cut out of them: the row keeps no link and no name, and whoever reads it
sees the anonymised label. The other party is told where it matters.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from bot.parsing.identity import format_phone
from bot.services import needs as needs_service
from bot.services import outbox
from models import (
    Announcement,
    BimtekRegistration,
    BimtekSession,
    ChannelAccount,
    Company,
    Consent,
    ConversationState,
    DeliveryStatus,
    ExportLog,
    IkmProfile,
    InboundEvent,
    Need,
    NeedMatch,
    NeedStatus,
    Offer,
    OfferQuestion,
    OfferStatus,
    OutboxMessage,
    Partnership,
    Person,
    Product,
    ProductKeyword,
    VerificationDecision,
)

# Every table, and what erasing a person does to it. tests/test_erasure.py checks that this
# covers the whole schema: a new table is not finished until it is decided here.
TABLES: dict[str, str] = {
    "person": "deleted",
    "channel_account": "deleted",
    "consent": "deleted",
    "conversation_state": "theirs deleted; others' scrubbed of the person's names and numbers",
    "outbox_message": "theirs deleted; others' scrubbed of the person's names and numbers",
    "inbound_event": "bodies naming their accounts: processed ones deleted, waiting ones cut down",
    "delivery_status": "statuses of messages to their accounts deleted",
    "handled_message": "kept: platform message ids only, nothing personal",
    "ikm_profile": "emptied (no person, no names) while others' records point at it; else deleted",
    "product": "deleted",
    "product_keyword": "deleted",
    "company": "emptied (no person, no names) while others' records point at it; else deleted",
    "need": "kept: the company's record that others' offers are on; open ones cancelled, IKM told",
    "need_match": "the IKM's deleted (they hold its product names); a company's kept",
    "offer": "kept, person cut, note and photo cleared; an open one withdrawn, the company told",
    "offer_question": "kept, scrubbed of the person's names and numbers",
    "partnership": "kept (the Perbup's evidence), pointing at the emptied profile or company",
    "verification_decision": "kept; the company's name as decided, or the officer's phone, cleared",
    "bimtek_session": "kept; the officer who created it cut",
    "bimtek_registration": "an attendance is kept with the person cut; the rest deleted",
    "announcement": "kept; the officer who wrote it cut",
    "export_log": "kept (what left the system, and when); the officer and their phone cut",
    "registry_record": "the records holding their number deleted (the Dinas's data about them)",
    "opt_out": "kept: a number's hash only, so that the opt-out is honoured after erasure",
    "console_session": "deleted with the person (foreign key CASCADE): signed out",
    "console_link_use": "kept: a used link's random id and when, the person cut (SET NULL)",
    "console_key": "kept: the console's signing key, nothing personal",
}

# Shorter names are matched only as a whole value: as a part they would hit ordinary words.
SHORTEST_NAME_FOUND_INSIDE = 5


@dataclass(frozen=True)
class Labels:
    """What stands in for an erased party in others' messages, in one language."""

    ikm: str
    company: str


LabelsFor = Callable[[str], Labels]


@dataclass(frozen=True)
class Traces:
    """How the person can be recognised in stored text."""

    names: frozenset[str]  # lower case: every name they gave
    # Business and company names: a row is theirs to scrub only when it holds one of these
    # or their number. A person's own name alone ("Siti Aminah") is too common to go by.
    distinct_names: frozenset[str]
    phones: frozenset[str]  # every written form of their number
    account_ids: frozenset[str]  # channel external ids and platform user ids

    @property
    def needles(self) -> frozenset[str]:
        return self.distinct_names | self.phones

    def is_phone(self, text: str) -> bool:
        return text.strip() in self.phones

    def found_in(self, text: str) -> bool:
        lowered = text.lower().strip()
        if lowered in self.names:
            return True
        inside = (name for name in self.names if len(name) >= SHORTEST_NAME_FOUND_INSIDE)
        return any(needle in lowered for needle in (*inside, *self.phones))


def erase(session: Session, person: Person, *, now: datetime, labels: LabelsFor) -> None:
    """Remove every trace of `person`, keeping (anonymised) what others' records need."""
    ikm = session.exec(select(IkmProfile).where(IkmProfile.person_id == person.id)).first()
    company = session.exec(select(Company).where(Company.person_id == person.id)).first()
    traces = traces_of(session, person, ikm=ikm, company=company)
    label = _label_picker(ikm=ikm, company=company, labels=labels)
    if ikm is not None:
        _withdraw_open_offers(session, ikm, now)
    if company is not None:
        _cancel_open_needs(session, company, now)
    _delete_platform_traces(session, person, traces)
    _delete_own_rows(session, person)
    _scrub_others(session, traces, label)
    if ikm is not None:
        _erase_ikm(session, ikm)
    if company is not None:
        _erase_company(session, company)
    _cut_links(session, person)
    session.execute(sa.delete(Person).where(Person.id == person.id))
    session.expunge(person)


def traces_of(
    session: Session, person: Person, *, ikm: IkmProfile | None, company: Company | None
) -> Traces:
    distinct = set()
    if ikm is not None:
        distinct |= {ikm.business_name}
    if company is not None:
        distinct |= {company.name, company.address}
    names = distinct | {person.name, ikm and ikm.owner_name, company and company.contact_name}
    accounts = session.exec(select(ChannelAccount).where(ChannelAccount.person_id == person.id))
    account_ids = set()
    for account in accounts:
        account_ids |= {account.external_id, account.platform_user_id}
    return Traces(
        names=_lowered(names),
        distinct_names=_lowered(distinct),
        phones=frozenset(_phone_forms(person.phone)),
        account_ids=frozenset(found for found in account_ids if found),
    )


def _lowered(names: Iterable[str | None]) -> frozenset[str]:
    return frozenset(name.lower().strip() for name in names if name and name.strip())


def _phone_forms(phone: str | None) -> set[str]:
    if not phone:
        return set()
    forms = {phone, phone.lstrip("+"), format_phone(phone)}
    if phone.startswith("+62"):
        forms.add("0" + phone[3:])
    return forms


def _label_picker(
    *, ikm: IkmProfile | None, company: Company | None, labels: LabelsFor
) -> Callable[[str], str]:
    """The label that replaces the person's names in a message, in its reader's language."""

    def label(language: str) -> str:
        chosen = labels(language)
        return chosen.company if company is not None and ikm is None else chosen.ikm

    return label


# --- the other party, where it matters ------------------------------------------------------------


def _withdraw_open_offers(session: Session, ikm: IkmProfile, now: datetime) -> None:
    """An offer still waiting for the company's choice is withdrawn, and the company told."""
    rows = session.exec(
        select(Offer, Need, Company)
        .join(Need, Need.id == Offer.need_id)
        .join(Company, Company.id == Need.company_id)
        .where(
            Offer.ikm_id == ikm.id,
            Offer.status == OfferStatus.ACTIVE,
            Need.status.in_([NeedStatus.OPEN, NeedStatus.CLOSED]),
        )
    ).all()
    for offer, need, company in rows:
        offer.status = OfferStatus.WITHDRAWN
        offer.shortlisted = False
        offer.updated_at = now
        if company.person_id is not None:
            outbox.enqueue(
                session,
                person_id=company.person_id,
                key=f"offer:{offer.id}:withdrawn:erased",
                template="offer.withdrawn_erased",
                params=needs_service.need_params(need, company),
                now=now,
            )
    session.flush()


def _cancel_open_needs(session: Session, company: Company, now: datetime) -> None:
    """Needs still open or being decided are called off; the IKM called or offering are told."""
    open_needs = session.exec(
        select(Need).where(
            Need.company_id == company.id,
            Need.status.in_([NeedStatus.OPEN, NeedStatus.CLOSED]),
        )
    ).all()
    for need in open_needs:
        needs_service.cancel(session, need=need, now=now)


# --- the person's own rows and their platform traces ------------------------------------------


def _delete_own_rows(session: Session, person: Person) -> None:
    for table in (OutboxMessage, ConversationState, Consent, ChannelAccount):
        session.execute(sa.delete(table).where(table.person_id == person.id))
    session.execute(
        sa.delete(BimtekRegistration).where(
            BimtekRegistration.person_id == person.id, BimtekRegistration.attended_at.is_(None)
        )
    )


def _delete_platform_traces(session: Session, person: Person, traces: Traces) -> None:
    """Delivery statuses and webhook bodies are not linked to a person: found by their ids."""
    if not traces.account_ids:
        return
    sent_to_them = select(OutboxMessage.platform_message_id).where(
        OutboxMessage.person_id == person.id, OutboxMessage.platform_message_id.is_not(None)
    )
    session.execute(
        sa.delete(DeliveryStatus).where(
            sa.or_(
                DeliveryStatus.recipient.in_(sorted(traces.account_ids | traces.phones)),
                DeliveryStatus.platform_message_id.in_(sent_to_them),
            )
        )
    )
    ids = traces.account_ids | {form for form in traces.phones if form.isdigit()}
    for event in _rows_mentioning(session, InboundEvent, InboundEvent.payload, ids):
        if event.processed_at is not None:
            session.delete(event)
            continue
        # Not processed yet: what others sent in the same body must still be answered.
        kept = _without_objects_naming(event.payload, ids)
        event.payload = kept if isinstance(kept, dict) else {}
    session.flush()


def _without_objects_naming(value: object, ids: frozenset[str] | set[str]) -> object | None:
    """`value` without every object that has one of `ids` as a field's value."""
    if isinstance(value, dict):
        if any(not isinstance(v, dict | list) and str(v) in ids for v in value.values()):
            return None
        kept = {}
        for key, item in value.items():
            cut = _without_objects_naming(item, ids)
            if cut is not None or not isinstance(item, dict):
                kept[key] = cut
        return kept
    if isinstance(value, list):
        cut_items = (_without_objects_naming(item, ids) for item in value)
        return [item for item in cut_items if item is not None]
    return value


# --- others' rows ---------------------------------------------------------------------------------


def _scrub_others(session: Session, traces: Traces, label: Callable[[str], str]) -> None:
    """Others' messages, conversations and questions: the person's names become the label."""
    for message in _rows_mentioning(session, OutboxMessage, OutboxMessage.content, traces.needles):
        message.content = scrub(message.content, traces, label(message.language))
    for state in _rows_mentioning(
        session,
        ConversationState,
        sa.func.coalesce(sa.cast(ConversationState.data, sa.Text), "")
        + sa.cast(ConversationState.options, sa.Text)
        + sa.func.coalesce(sa.cast(ConversationState.suspended, sa.Text), ""),
        traces.needles,
    ):
        reader = session.get(Person, state.person_id)
        shown = label(reader.language if reader else "id")
        state.data = scrub(state.data, traces, shown)
        state.options = scrub(state.options, traces, shown)
        state.suspended = scrub(state.suspended, traces, shown)
    for question in _rows_mentioning(
        session,
        OfferQuestion,
        OfferQuestion.question + sa.func.coalesce(OfferQuestion.answer, ""),
        traces.needles,
    ):
        question.question = scrub(question.question, traces, label("id")) or ""
        question.answer = scrub(question.answer, traces, label("id"))
    session.flush()


def scrub(value: object, traces: Traces, label: str) -> object:
    """`value` (JSON-like) with each text naming the person replaced: a bare phone number by
    None (shown as "-"), any other by `label`."""
    if isinstance(value, str):
        if traces.is_phone(value):
            return None
        return label if traces.found_in(value) else value
    if isinstance(value, list):
        return [scrub(item, traces, label) for item in value]
    if isinstance(value, dict):
        return {key: scrub(item, traces, label) for key, item in value.items()}
    return value


def _rows_mentioning(
    session: Session, table: type, text: sa.ColumnElement, needles: Iterable[str]
) -> list:
    """Rows whose `text` (a JSON or text column) holds any needle; checked closer by callers.

    JSON is stored as serialised text with non-ASCII escaped, so each needle is looked for
    in both spellings.
    """
    lowered = sa.func.lower(sa.cast(text, sa.Text))
    spellings = {form.lower() for needle in needles for form in (needle, json.dumps(needle)[1:-1])}
    if not spellings:
        return []
    found = [lowered.contains(spelling, autoescape=True) for spelling in sorted(spellings)]
    return list(session.exec(select(table).where(sa.or_(*found))))


# --- records kept for others, emptied ------------------------------------------------------------


def _erase_ikm(session: Session, ikm: IkmProfile) -> None:
    session.execute(sa.delete(ProductKeyword).where(ProductKeyword.ikm_id == ikm.id))
    session.execute(sa.delete(Product).where(Product.ikm_id == ikm.id))
    session.execute(sa.delete(NeedMatch).where(NeedMatch.ikm_id == ikm.id))
    session.execute(
        sa.update(Offer)
        .where(Offer.ikm_id == ikm.id)
        .values(person_id=None, note=None, photo_ref=None)
    )
    session.execute(
        sa.update(BimtekRegistration)
        .where(BimtekRegistration.ikm_id == ikm.id)
        .values(person_id=None)
    )
    if _referenced(session, ikm.id, (Offer.ikm_id, Partnership.ikm_id, BimtekRegistration.ikm_id)):
        # Sector and kecamatan stay for the Dinas's figures; nothing that names anyone.
        ikm.person_id = None
        ikm.owner_name = ""
        ikm.business_name = ""
        ikm.desa = None
        ikm.nib = None
        ikm.workers = None
    else:
        session.delete(ikm)
    session.flush()


def _erase_company(session: Session, company: Company) -> None:
    session.execute(
        sa.update(VerificationDecision)
        .where(VerificationDecision.company_id == company.id)
        .values(company_name="")
    )
    if _referenced(session, company.id, (Need.company_id, VerificationDecision.company_id)):
        company.person_id = None
        company.name = ""
        company.contact_name = ""
        company.address = ""
    else:
        session.delete(company)
    session.flush()


def _referenced(session: Session, key: int, columns: Iterable[sa.Column]) -> bool:
    return any(
        session.execute(select(column).where(column == key).limit(1)).first() is not None
        for column in columns
    )


def _cut_links(session: Session, person: Person) -> None:
    """Records the Dinas keeps that name who did them: the link and the phone go."""
    for audit in (VerificationDecision, ExportLog):
        session.execute(
            sa.update(audit)
            .where(audit.officer_id == person.id)
            .values(officer_id=None, officer_phone=None)
        )
        if person.phone:
            session.execute(
                sa.update(audit)
                .where(audit.officer_phone == person.phone)
                .values(officer_phone=None)
            )
    session.execute(
        sa.update(BimtekSession)
        .where(BimtekSession.created_by == person.id)
        .values(created_by=None)
    )
    session.execute(
        sa.update(Announcement).where(Announcement.author_id == person.id).values(author_id=None)
    )
