"""Offers on needs, the company's questions, and awards that become partnerships (kemitraan).

A company never sees an IKM's phone number before an award: offer views carry the
business name, never the person; the award's messages exchange contacts both ways.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from bot.services import outbox
from bot.services.matching import NEAR_KM
from bot.services.needs import NeedClosed, is_open, need_params, offer_of
from models import (
    Company,
    IkmProfile,
    Need,
    NeedMatch,
    NeedStatus,
    Offer,
    OfferFields,
    OfferQuestion,
    OfferStatus,
    Partnership,
    Person,
)
from models.db import lock_for_count

# How the offers list weighs what a buyer compares (each scaled 0..1 among the offers).
PRICE_WEIGHT = 0.45
QUANTITY_WEIGHT = 0.25
LEAD_TIME_WEIGHT = 0.15
DISTANCE_WEIGHT = 0.15


class TooMuch(Exception):
    """An award above what is left of the need (or above what the IKM offered)."""

    def __init__(self, left: int) -> None:
        super().__init__(left)
        self.left = left


class OfferGone(Exception):
    """The offer was withdrawn, or is already decided."""


# An awarded offer is a partnership on record; a not-chosen one was answered: neither changes.
DECIDED = (OfferStatus.AWARDED, OfferStatus.NOT_CHOSEN)


def submit(
    session: Session,
    *,
    need: Need,
    ikm: IkmProfile,
    fields: OfferFields,
    now: datetime,
) -> tuple[Offer, bool]:
    """Make or change the IKM's one offer on a need; True when it is new."""
    lock_for_count(session, need)  # one offer per IKM: looked for, then made
    if not is_open(need, now):
        raise NeedClosed()
    if fields.quantity > need.quantity:
        raise TooMuch(need.quantity)
    offer = offer_of(session, need, ikm)
    if offer is not None and offer.status in DECIDED:
        raise OfferGone()
    created = offer is None
    if created:
        offer = Offer(
            **fields.model_dump(),
            need_id=need.id,
            ikm_id=ikm.id,
            person_id=ikm.person_id,
            created_at=now,
            updated_at=now,
        )
        session.add(offer)
    else:
        for name, value in fields.model_dump().items():
            setattr(offer, name, value)
        offer.status = OfferStatus.ACTIVE
        offer.updated_at = now
    session.flush()
    if created:
        company = session.get(Company, need.company_id)
        outbox.enqueue(
            session,
            person_id=company.person_id,
            key=f"offer:{offer.id}:received",
            template="offer.received",
            params={**need_params(need, company), "ikm": ikm.business_name, "offer": offer.id},
            now=now,
        )
    return offer, created


def withdraw(session: Session, *, offer: Offer, need: Need, now: datetime) -> None:
    lock_for_count(session, need)  # never withdrawn while it is being awarded
    session.refresh(offer)
    if not is_open(need, now):
        raise NeedClosed()
    if offer.status != OfferStatus.ACTIVE:
        raise OfferGone()
    offer.status = OfferStatus.WITHDRAWN
    offer.shortlisted = False
    offer.updated_at = now
    session.flush()


# --- what the company sees ----------------------------------------------------------------------


@dataclass(frozen=True)
class OfferView:
    offer: Offer
    business_name: str
    kecamatan: str
    distance_km: float | None
    reasons: list[dict]
    standing: float  # 0..1, how it compares with the other offers


def offers_for(session: Session, need: Need) -> list[OfferView]:
    """The need's offers (not withdrawn), best first: price, quantity, lead time, distance."""
    rows = session.exec(
        select(Offer, IkmProfile, NeedMatch)
        .join(IkmProfile, IkmProfile.id == Offer.ikm_id)
        .outerjoin(
            NeedMatch, sa.and_(NeedMatch.need_id == Offer.need_id, NeedMatch.ikm_id == Offer.ikm_id)
        )
        .where(Offer.need_id == need.id, Offer.status != OfferStatus.WITHDRAWN)
    ).all()
    if not rows:
        return []
    prices = [offer.price_per_unit for offer, _, _ in rows]
    leads = [offer.lead_time_days for offer, _, _ in rows]
    views = []
    for offer, ikm, match in rows:
        distance = match.distance_km if match else None
        standing = (
            PRICE_WEIGHT * _lower_is_better(offer.price_per_unit, prices)
            + QUANTITY_WEIGHT * min(offer.quantity / need.quantity, 1.0)
            + LEAD_TIME_WEIGHT * _lower_is_better(offer.lead_time_days, leads)
            + DISTANCE_WEIGHT * (0.5 if distance is None else max(0.0, 1 - distance / NEAR_KM))
        )
        views.append(
            OfferView(
                offer=offer,
                business_name=ikm.business_name,
                kecamatan=ikm.kecamatan,
                distance_km=distance,
                reasons=list(match.reasons) if match else [],
                standing=round(standing, 3),
            )
        )
    views.sort(key=lambda view: (-view.standing, view.offer.id))
    return views


def _lower_is_better(value: int, values: list[int]) -> float:
    low, high = min(values), max(values)
    return 1.0 if high == low else (high - value) / (high - low)


def offer_for_company(session: Session, company: Company, offer_id: int) -> Offer | None:
    """An offer only if it is on one of this company's needs."""
    offer = session.get(Offer, offer_id)
    if offer is None:
        return None
    need = session.get(Need, offer.need_id)
    return offer if need.company_id == company.id else None


def toggle_shortlist(session: Session, *, offer: Offer) -> bool:
    offer.shortlisted = not offer.shortlisted
    session.flush()
    return offer.shortlisted


# --- questions ------------------------------------------------------------------------------------


def ask(session: Session, *, offer: Offer, question: str, now: datetime) -> OfferQuestion:
    """The company's question reaches the IKM, with a button to answer."""
    asked = OfferQuestion(offer_id=offer.id, question=question, asked_at=now)
    session.add(asked)
    session.flush()
    need = session.get(Need, offer.need_id)
    company = session.get(Company, need.company_id)
    outbox.enqueue(
        session,
        person_id=offer.person_id,
        key=f"question:{asked.id}",
        template="offer.question",
        params={**need_params(need, company), "question": question, "question_id": asked.id},
        now=now,
    )
    return asked


def question_for_ikm(session: Session, ikm: IkmProfile, question_id: int) -> OfferQuestion | None:
    """A question only if it was asked about this IKM's offer."""
    asked = session.get(OfferQuestion, question_id)
    if asked is None:
        return None
    offer = session.get(Offer, asked.offer_id)
    return asked if offer.ikm_id == ikm.id else None


def answer(
    session: Session, *, question: OfferQuestion, ikm: IkmProfile, text: str, now: datetime
) -> bool:
    """Send the IKM's answer to the company; False if it was answered already."""
    if question.answer is not None:
        return False
    question.answer = text
    question.answered_at = now
    session.flush()
    offer = session.get(Offer, question.offer_id)
    need = session.get(Need, offer.need_id)
    company = session.get(Company, need.company_id)
    outbox.enqueue(
        session,
        person_id=company.person_id,
        key=f"question:{question.id}:answer",
        template="offer.answer",
        params={
            **need_params(need, company),
            "ikm": ikm.business_name,
            "question": question.question,
            "answer": text,
            "offer": offer.id,
        },
        now=now,
    )
    return True


# --- awards ---------------------------------------------------------------------------------------


def awarded_quantity(session: Session, need: Need) -> int:
    total = session.execute(
        select(sa.func.coalesce(sa.func.sum(Partnership.quantity), 0)).where(
            Partnership.need_id == need.id
        )
    ).scalar_one()
    return int(total)


def partnership_of(session: Session, offer: Offer) -> Partnership | None:
    return session.exec(select(Partnership).where(Partnership.offer_id == offer.id)).first()


def award(
    session: Session, *, need: Need, offer: Offer, quantity: int, now: datetime
) -> Partnership:
    """Award (part of) the need to an offer: a partnership, and contacts exchanged.

    A second award of the same offer (a double tap) returns the first one unchanged.
    """
    lock_for_count(session, need)  # what is left is counted, then awarded
    session.refresh(offer)
    existing = partnership_of(session, offer)
    if existing is not None:
        return existing
    if need.status not in (NeedStatus.OPEN, NeedStatus.CLOSED):
        raise NeedClosed()
    if offer.need_id != need.id or offer.status != OfferStatus.ACTIVE:
        raise OfferGone()
    left = need.quantity - awarded_quantity(session, need)
    if quantity > min(left, offer.quantity) or quantity <= 0:
        raise TooMuch(min(left, offer.quantity))
    partnership = Partnership(
        company_id=need.company_id,
        ikm_id=offer.ikm_id,
        need_id=need.id,
        offer_id=offer.id,
        quantity=quantity,
        unit=need.unit,
        value=quantity * offer.price_per_unit,
        awarded_at=now,
    )
    session.add(partnership)
    offer.status = OfferStatus.AWARDED
    offer.updated_at = now
    session.flush()
    _exchange_contacts(session, need, offer, partnership, now)
    if left - quantity == 0:
        finish(session, need=need, now=now)
    return partnership


def _exchange_contacts(
    session: Session, need: Need, offer: Offer, partnership: Partnership, now: datetime
) -> None:
    company = session.get(Company, need.company_id)
    ikm = session.get(IkmProfile, offer.ikm_id)
    company_person = session.get(Person, company.person_id)
    ikm_person = session.get(Person, ikm.person_id)
    deal = {
        **need_params(need, company),
        "awarded_quantity": partnership.quantity,
        "value": partnership.value,
        "price": offer.price_per_unit,
    }
    outbox.enqueue(
        session,
        person_id=ikm.person_id,
        key=f"partnership:{partnership.id}:ikm",
        template="award.won",
        params={
            **deal,
            "contact_name": company.contact_name,
            "contact_phone": company_person.phone,
            "address": company.address,
        },
        now=now,
    )
    outbox.enqueue(
        session,
        person_id=company.person_id,
        key=f"partnership:{partnership.id}:company",
        template="award.partner",
        params={
            **deal,
            "ikm": ikm.business_name,
            "contact_name": ikm.owner_name,
            "contact_phone": ikm_person.phone,
            "kecamatan": ikm.kecamatan,
        },
        now=now,
    )


def finish(session: Session, *, need: Need, now: datetime) -> int:
    """The company is done choosing: the need is awarded and the others are told politely."""
    lock_for_count(session, need)  # the offers still open are listed, then answered
    if need.status not in (NeedStatus.OPEN, NeedStatus.CLOSED):
        raise NeedClosed()
    need.status = NeedStatus.AWARDED
    need.closed_at = need.closed_at or now
    company = session.get(Company, need.company_id)
    # Calls not yet delivered (a WhatsApp window, a console inbox) are no longer true.
    outbox.supersede(session, kind="need.closed", params=need_params(need, company))
    others = session.exec(
        select(Offer).where(Offer.need_id == need.id, Offer.status == OfferStatus.ACTIVE)
    ).all()
    for offer in others:
        offer.status = OfferStatus.NOT_CHOSEN
        offer.updated_at = now
        outbox.enqueue(
            session,
            person_id=offer.person_id,
            key=f"need:{need.id}:not_chosen:offer:{offer.id}",
            template="offer.not_chosen",
            params=need_params(need, company),
            now=now,
        )
    session.flush()
    return len(others)


def partnerships_of_need(session: Session, need: Need) -> list[tuple[Partnership, IkmProfile]]:
    return list(
        session.exec(
            select(Partnership, IkmProfile)
            .join(IkmProfile, IkmProfile.id == Partnership.ikm_id)
            .where(Partnership.need_id == need.id)
            .order_by(Partnership.id)
        ).all()
    )
