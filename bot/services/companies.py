"""Company registration, and its verification by the Dinas (every decision kept for audit)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from bot.services import outbox
from bot.services.ikm import AlreadyRegistered
from models import Company, CompanyFields, CompanyStatus, Person, VerificationDecision


class AlreadyDecided(Exception):
    """Another officer (or a second tap) decided on this company first."""


def company_of(session: Session, person: Person) -> Company | None:
    return session.exec(select(Company).where(Company.person_id == person.id)).first()


def register_company(
    session: Session, *, person: Person, fields: CompanyFields, now: datetime
) -> Company:
    """Save a company as waiting for verification and give the person the `company` role."""
    if company_of(session, person) is not None or person.role not in (None, "company"):
        raise AlreadyRegistered()
    company = Company(
        **fields.model_dump(),
        person_id=person.id,
        status=CompanyStatus.PENDING,
        created_at=now,
        updated_at=now,
    )
    session.add(company)
    person.role = "company"
    person.name = fields.contact_name
    session.flush()
    _tell_officers(session, company, now)
    return company


def update_company(
    session: Session, *, company: Company, fields: CompanyFields, person: Person, now: datetime
) -> Company:
    for name, value in fields.model_dump().items():
        setattr(company, name, value)
    company.updated_at = now
    person.name = fields.contact_name
    resubmitted = company.status == CompanyStatus.REJECTED  # corrected: look again
    if resubmitted:
        company.status = CompanyStatus.PENDING
    session.flush()
    if resubmitted:
        _tell_officers(session, company, now)
    return company


def _tell_officers(session: Session, company: Company, now: datetime) -> None:
    """Every Dinas officer learns that a company waits, with a button to its details."""
    rounds = len(decisions_of(session, company))  # a new key after each rejection
    officers = session.exec(select(Person.id).where(Person.role == "dinas")).all()
    for officer_id in officers:
        outbox.enqueue(
            session,
            person_id=officer_id,
            key=f"company:{company.id}:waiting:{rounds}:officer:{officer_id}",
            template="company.waiting",
            params={
                "id": company.id,
                "name": company.name,
                "estate": company.estate,
                "again": rounds > 0,
            },
            now=now,
        )


def pending_companies(session: Session) -> list[Company]:
    """Companies waiting for verification, oldest first."""
    return list(
        session.exec(
            select(Company)
            .where(Company.status == CompanyStatus.PENDING, Company.person_id.is_not(None))
            .order_by(Company.created_at, Company.id)
        )
    )


def contact_phone(session: Session, company: Company) -> str | None:
    return session.exec(select(Person.phone).where(Person.id == company.person_id)).first()


def decide(
    session: Session,
    *,
    company: Company,
    officer: Person,
    approve: bool,
    reason: str | None,
    now: datetime,
) -> VerificationDecision:
    """Verify or reject a waiting company, log who decided, and tell the company."""
    # Re-read under the row lock PostgreSQL gives an UPDATE: two officers, one decision.
    claimed = session.execute(
        sa.update(Company)
        .where(Company.id == company.id, Company.status == CompanyStatus.PENDING)
        .values(
            status=CompanyStatus.VERIFIED if approve else CompanyStatus.REJECTED, updated_at=now
        )
    )
    if claimed.rowcount != 1:
        raise AlreadyDecided()
    session.refresh(company)
    decision = VerificationDecision(
        company_id=company.id,
        company_name=company.name,
        officer_id=officer.id,
        officer_phone=officer.phone,
        decision=company.status,
        reason=reason,
        decided_at=now,
    )
    session.add(decision)
    session.flush()
    outbox.enqueue(
        session,
        person_id=company.person_id,
        key=f"company:{company.id}:decision:{decision.id}",
        template="company.verified" if approve else "company.rejected",
        params={"name": company.name, "reason": reason or ""},
        now=now,
    )
    return decision


def decisions_of(session: Session, company: Company) -> list[VerificationDecision]:
    return list(
        session.exec(
            select(VerificationDecision)
            .where(VerificationDecision.company_id == company.id)
            .order_by(VerificationDecision.decided_at, VerificationDecision.id)
        )
    )
