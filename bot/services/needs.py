"""Companies' needs (procurement calls): publishing to matched IKM, the daily cap and digest,
extending, closing and cancelling, and what an IKM may browse.

Every proactive message goes through the outbox with a deterministic key, so a job run
twice or a double tap sends once.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, tzinfo

import sqlalchemy as sa
from sqlmodel import Session, select

from bot.config import ProcurementSettings
from bot.reference import load_reference
from bot.services import matching, outbox
from bot.services.batches import PEOPLE_PER_BATCH, Batch
from models import (
    Company,
    CompanyStatus,
    IkmProfile,
    MatchState,
    Need,
    NeedFields,
    NeedMatch,
    NeedStatus,
    Offer,
    OfferStatus,
)
from models.base import as_utc

# Matches that still care about the need (told of changes, may browse it).
INTERESTED = (MatchState.SENT, MatchState.HELD, MatchState.DIGESTED)


class NotAllowed(Exception):
    """Only a verified company may post needs."""


class NeedClosed(Exception):
    """The need no longer takes this change (closed, awarded or cancelled)."""


class DeadlineInPast(Exception):
    pass


class DeliveryBeforeDeadline(Exception):
    """Goods cannot be delivered before the offers for them have closed."""


@dataclass
class Publication:
    need: Need
    called: int  # IKM told now
    held: int  # IKM over their daily cap: told in the next digest
    group: list[matching.Candidate] = field(default_factory=list)  # when no one IKM suffices
    anyone_suffices: bool = False


def delivery_kecamatan(company: Company | None, place: str) -> str | None:
    """Where a need is delivered, in kecamatan: from the typed place, else the company's estate."""
    reference = load_reference()
    found = reference.place_kecamatan(place)
    if found is None and company is not None:
        estate = reference.estate(company.estate)
        found = estate.kecamatan if estate else None
    return found


def as_matching_need(need: NeedFields) -> matching.Need:
    return matching.Need(
        title=need.title,
        description=need.description,
        sectors=need.sectors,
        quantity=need.quantity,
        delivery_date=as_utc(need.delivery_date),
        delivery_kecamatan=need.delivery_kecamatan,
        unit=need.unit,
    )


def publish(
    session: Session,
    *,
    company: Company,
    fields: NeedFields,
    now: datetime,
    settings: ProcurementSettings,
    tz: tzinfo,
) -> Publication:
    """Save the need, pick the IKM to call, and queue their calls within the daily cap."""
    if company.status != CompanyStatus.VERIFIED:
        raise NotAllowed()
    if as_utc(fields.deadline) <= now:
        raise DeadlineInPast()
    if as_utc(fields.delivery_date) < as_utc(fields.deadline):
        raise DeliveryBeforeDeadline()
    need = Need(**fields.model_dump(), company_id=company.id, created_at=now)
    # Stored in UTC: SQLite keeps only the wall time, and it is read back as UTC.
    need.deadline = as_utc(need.deadline).astimezone(UTC)
    need.delivery_date = as_utc(need.delivery_date).astimezone(UTC)
    session.add(need)
    session.flush()
    ranked = matching.rank(
        session,
        as_matching_need(need),
        now=now,
        inactive_after_days=settings.inactive_after_days,
        limit=settings.max_matches,
    )
    chosen = [c for c in ranked if c.score >= settings.min_score]
    _hold_caps(session, [c.ikm_id for c in chosen])
    called_today = _calls_today(session, [c.ikm_id for c in chosen], now, tz)
    publication = Publication(need=need, called=0, held=0)
    for position, candidate in enumerate(chosen, start=1):
        over_cap = called_today[candidate.ikm_id] >= settings.calls_per_day
        match = NeedMatch(
            need_id=need.id,
            ikm_id=candidate.ikm_id,
            person_id=candidate.person_id,
            rank=position,
            score=candidate.score,
            reasons=candidate.reasons,
            distance_km=candidate.distance_km,
            state=MatchState.HELD if over_cap else MatchState.SENT,
            created_at=now,
            notified_at=None if over_cap else now,
        )
        session.add(match)
        if over_cap:
            publication.held += 1
        else:
            _send_call(session, need, company, match, now)
            publication.called += 1
    session.flush()
    publication.anyone_suffices = any(c.capacity >= need.quantity for c in chosen)
    if chosen and not publication.anyone_suffices:
        publication.group = matching.propose_group(chosen, need.quantity, settings.max_group)
    return publication


def _hold_caps(session: Session, ikm_ids: list[int]) -> None:
    """Another need published at the same moment waits here until this one is saved, so
    both count each other's calls against the daily cap. Locked in id order: two
    publishers never wait on each other in a circle. (FOR UPDATE is for PostgreSQL; on
    SQLite the transaction holds the one write lock from its BEGIN IMMEDIATE.)"""
    if ikm_ids:
        session.execute(
            select(IkmProfile.id)
            .where(IkmProfile.id.in_(ikm_ids))
            .order_by(IkmProfile.id)
            .with_for_update()
        ).all()


def _calls_today(session: Session, ikm_ids: list[int], now: datetime, tz: tzinfo) -> Counter[int]:
    if not ikm_ids:
        return Counter()
    rows = session.execute(
        select(NeedMatch.ikm_id, sa.func.count())
        .where(
            NeedMatch.ikm_id.in_(ikm_ids),
            NeedMatch.state == MatchState.SENT,
            NeedMatch.notified_at >= start_of_day(now, tz),
        )
        .group_by(NeedMatch.ikm_id)
    )
    return Counter(dict(rows.all()))


def start_of_day(now: datetime, tz: tzinfo) -> datetime:
    local = now.astimezone(tz)
    return datetime.combine(local.date(), time(0), tzinfo=tz)


def need_params(need: Need, company: Company) -> dict:
    """What messages about a need show: chosen here once, rendered by the handlers."""
    return {
        "id": need.id,
        "title": need.title,
        "company": company.name,
        "quantity": need.quantity,
        "unit": need.unit,
        "deadline": as_utc(need.deadline).isoformat(),
        "delivery_date": as_utc(need.delivery_date).isoformat(),
        "place": need.delivery_place,
    }


def _send_call(
    session: Session, need: Need, company: Company, match: NeedMatch, now: datetime
) -> None:
    outbox.enqueue(
        session,
        person_id=match.person_id,
        key=f"need:{need.id}:call:ikm:{match.ikm_id}",
        template="need.call",
        params={**need_params(need, company), "reasons": match.reasons},
        now=now,
        batch=f"need:{need.id}",
    )


# --- the company's own needs ---------------------------------------------------------------


@dataclass(frozen=True)
class NeedCounts:
    matched: int
    offers: int


def needs_of(session: Session, company: Company) -> list[tuple[Need, NeedCounts]]:
    """The company's needs, newest first, with how many IKM were matched and offered."""
    needs = list(
        session.exec(
            select(Need).where(Need.company_id == company.id).order_by(Need.id.desc()).limit(30)
        )
    )
    ids = [need.id for need in needs]
    matched = _count_by_need(session, NeedMatch, ids)
    offers = _count_by_need(session, Offer, ids, Offer.status != OfferStatus.WITHDRAWN)
    return [(need, NeedCounts(matched[need.id], offers[need.id])) for need in needs]


def counts_of(session: Session, need: Need) -> NeedCounts:
    matched = _count_by_need(session, NeedMatch, [need.id])
    offers = _count_by_need(session, Offer, [need.id], Offer.status != OfferStatus.WITHDRAWN)
    return NeedCounts(matched[need.id], offers[need.id])


def _count_by_need(session: Session, table: type, ids: list[int], *where: object) -> Counter:
    if not ids:
        return Counter()
    rows = session.execute(
        select(table.need_id, sa.func.count())
        .where(table.need_id.in_(ids), *where)
        .group_by(table.need_id)
    )
    return Counter(dict(rows.all()))


def need_of_company(session: Session, company: Company, need_id: int) -> Need | None:
    """The need only if it is this company's: ids from a chat are never trusted."""
    need = session.get(Need, need_id)
    return need if need is not None and need.company_id == company.id else None


def extend(session: Session, *, need: Need, deadline: datetime, now: datetime) -> None:
    """A later deadline; the IKM that were called are told."""
    if need.status != NeedStatus.OPEN:
        raise NeedClosed()
    if deadline <= now:
        raise DeadlineInPast()
    need.deadline = as_utc(deadline).astimezone(UTC)
    session.flush()
    _tell_matched(session, need, "need.extended", f"extended:{deadline.isoformat()}", now)


def close_early(session: Session, *, need: Need, now: datetime) -> None:
    if need.status != NeedStatus.OPEN:
        raise NeedClosed()
    _close(session, need, now)
    _tell_matched(session, need, "need.closed", "closed", now)


def cancel(session: Session, *, need: Need, now: datetime) -> None:
    """Call the need off: the IKM called and those who offered are told."""
    if need.status not in (NeedStatus.OPEN, NeedStatus.CLOSED):
        raise NeedClosed()
    need.status = NeedStatus.CANCELLED
    need.closed_at = now
    session.flush()
    _tell_matched(session, need, "need.cancelled", "cancelled", now, include_offers=True)


def _close(session: Session, need: Need, now: datetime) -> None:
    need.status = NeedStatus.CLOSED
    need.closed_at = now
    session.flush()
    company = session.get(Company, need.company_id)
    summary = offer_summary(session, need)
    outbox.enqueue(
        session,
        person_id=company.person_id,
        key=f"need:{need.id}:summary",
        template="need.summary",
        params={**need_params(need, company), **summary},
        now=now,
    )


def offer_summary(session: Session, need: Need) -> dict:
    offers = session.exec(
        select(Offer).where(Offer.need_id == need.id, Offer.status != OfferStatus.WITHDRAWN)
    ).all()
    return {
        "offers": len(offers),
        "lowest_price": min((offer.price_per_unit for offer in offers), default=None),
        "offered_quantity": sum(offer.quantity for offer in offers),
    }


def _tell_matched(
    session: Session,
    need: Need,
    template: str,
    event: str,
    now: datetime,
    include_offers: bool = False,
) -> None:
    company = session.get(Company, need.company_id)
    people = set(
        session.exec(
            select(NeedMatch.person_id).where(
                NeedMatch.need_id == need.id, NeedMatch.state.in_(INTERESTED)
            )
        )
    )
    if include_offers:
        people |= set(
            session.exec(
                select(Offer.person_id).where(
                    Offer.need_id == need.id, Offer.status == OfferStatus.ACTIVE
                )
            )
        )
    params = need_params(need, company)
    for person_id in sorted(people):
        outbox.enqueue(
            session,
            person_id=person_id,
            key=f"need:{need.id}:{event}:person:{person_id}",
            template=template,
            params=params,
            now=now,
            batch=f"need:{need.id}",
        )


# --- the scheduler's jobs -----------------------------------------------------------------------


def close_due(session: Session, *, now: datetime) -> int:
    """Close needs whose deadline has passed; each company gets a summary of its offers."""
    due = session.exec(
        select(Need).where(Need.status == NeedStatus.OPEN, Need.deadline <= now)
    ).all()
    for need in due:
        _close(session, need, now)
    return len(due)


def send_digests(
    session: Session,
    *,
    now: datetime,
    tz: tzinfo,
    hour: int,
    after_person_id: int = 0,
    limit: int = PEOPLE_PER_BATCH,
) -> Batch:
    """From `hour` (WIB) on: one message per IKM listing the calls held back by the daily
    cap before today and still open, for up to `limit` IKM past `after_person_id` (one
    batch of the job). Run it often: a process down at `hour` catches up.
    """
    today = start_of_day(now, tz)
    if now.astimezone(tz).hour < hour:
        return Batch(0, None)
    held = (NeedMatch.state == MatchState.HELD, NeedMatch.created_at < today)
    people = session.exec(
        select(NeedMatch.person_id)
        .where(*held, NeedMatch.person_id > after_person_id)
        .group_by(NeedMatch.person_id)
        .order_by(NeedMatch.person_id)
        .limit(limit)
    ).all()
    if not people:
        return Batch(0, None)
    rows = session.exec(
        select(NeedMatch, Need)
        .join(Need, Need.id == NeedMatch.need_id)
        .where(*held, NeedMatch.person_id.in_(people))
        .order_by(NeedMatch.person_id, Need.deadline)
    ).all()
    by_person: dict[int, list[tuple[NeedMatch, Need]]] = {}
    for match, need in rows:
        if need.status == NeedStatus.OPEN and as_utc(need.deadline) > now:
            by_person.setdefault(match.person_id, []).append((match, need))
        else:
            match.state = MatchState.DIGESTED  # too late to be of use: never listed
    day = today.date().isoformat()
    sent = 0
    for person_id, items in by_person.items():
        calls = [
            {
                "id": need.id,
                "title": need.title,
                "quantity": need.quantity,
                "unit": need.unit,
                "deadline": as_utc(need.deadline).isoformat(),
            }
            for _, need in items
        ]
        sent += outbox.enqueue(
            session,
            person_id=person_id,
            key=f"digest:{day}:person:{person_id}",
            template="need.digest",
            params={"calls": calls},
            now=now,
        )
        for match, _ in items:
            match.state = MatchState.DIGESTED
            match.notified_at = now
    session.flush()
    return Batch(sent, people[-1])


# --- what an IKM sees ---------------------------------------------------------------------------


def open_calls_for(session: Session, ikm: IkmProfile, *, now: datetime) -> list[Need]:
    """Open needs an IKM may offer on: those it was called for, and those of its sector."""
    called = set(
        session.exec(
            select(NeedMatch.need_id).where(
                NeedMatch.ikm_id == ikm.id, NeedMatch.state != MatchState.DECLINED
            )
        )
    )
    declined = set(
        session.exec(
            select(NeedMatch.need_id).where(
                NeedMatch.ikm_id == ikm.id, NeedMatch.state == MatchState.DECLINED
            )
        )
    )
    needs = session.exec(
        select(Need)
        .where(Need.status == NeedStatus.OPEN, Need.deadline > now)
        .order_by(Need.deadline, Need.id)
    ).all()
    return [
        need
        for need in needs
        if need.id not in declined
        and (need.id in called or ikm.sector in {code[:2] for code in need.sectors})
    ]


def visible_to_ikm(
    session: Session, ikm: IkmProfile, need_id: int, *, now: datetime
) -> Need | None:
    """A need an IKM may look at: open and meant for it, or one it has offered on."""
    need = session.get(Need, need_id)
    if need is None or need.status == NeedStatus.CANCELLED:
        return None
    if offer_of(session, need, ikm) is not None:
        return need
    if need.status != NeedStatus.OPEN:
        return None
    if match_of(session, need, ikm) is not None:
        return need
    return need if ikm.sector in {code[:2] for code in need.sectors} else None


def match_of(session: Session, need: Need, ikm: IkmProfile) -> NeedMatch | None:
    return session.exec(
        select(NeedMatch).where(NeedMatch.need_id == need.id, NeedMatch.ikm_id == ikm.id)
    ).first()


def offer_of(session: Session, need: Need, ikm: IkmProfile) -> Offer | None:
    return session.exec(
        select(Offer).where(Offer.need_id == need.id, Offer.ikm_id == ikm.id)
    ).first()


def decline(session: Session, *, need: Need, ikm: IkmProfile, now: datetime) -> None:
    """ "Tidak berminat": no more news of this need."""
    match = match_of(session, need, ikm)
    if match is None:
        match = NeedMatch(
            need_id=need.id,
            ikm_id=ikm.id,
            person_id=ikm.person_id,
            rank=0,
            score=0.0,
            state=MatchState.DECLINED,
            created_at=now,
        )
        session.add(match)
    match.state = MatchState.DECLINED
    session.flush()


def is_open(need: Need, now: datetime) -> bool:
    return need.status == NeedStatus.OPEN and as_utc(need.deadline) > now


DEFAULT_DEADLINE_TIME = time(23, 59)


def end_of_day(day_start: datetime, tz: tzinfo) -> datetime:
    """A deadline typed as a day ("30/11") lasts until 23:59 WIB of that day."""
    local = day_start.astimezone(tz)
    return datetime.combine(local.date(), DEFAULT_DEADLINE_TIME, tzinfo=tz)
