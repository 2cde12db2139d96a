"""Company registration; verification by the Dinas comes with procurement."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from bot.services.ikm import AlreadyRegistered
from models import Company, CompanyFields, CompanyStatus, Person


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
    return company


def update_company(
    session: Session, *, company: Company, fields: CompanyFields, person: Person, now: datetime
) -> Company:
    for name, value in fields.model_dump().items():
        setattr(company, name, value)
    company.updated_at = now
    person.name = fields.contact_name
    session.flush()
    return company
