"""Companies and the verification queue: approve, or reject with a reason, through the same
service as the chat (bot/services/companies.py: the decision is logged, the company told)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.console.context import console_context, in_transaction
from bot.console.guard import officer_form, officer_page
from bot.console.signin import Officer
from bot.console.views import ROOT, NavItem, render
from bot.reference import load_reference
from bot.services import companies
from handlers.verification import REASON_KEYS
from models import Company, CompanyStatus, Person, VerificationDecision

STATUSES = tuple(CompanyStatus)
REASON_MAX = 300


@dataclass(frozen=True)
class CompanyRecord:
    company: Company
    phone: str | None
    decisions: list[VerificationDecision]


def _companies(*, session: Session, status: str) -> list[Company]:
    query = select(Company).order_by(Company.created_at, Company.id)
    if status:
        query = query.where(Company.status == status)
    return list(session.exec(query))


def _record(*, session: Session, company_id: int) -> CompanyRecord | None:
    company = session.get(Company, company_id)
    if company is None:
        return None
    return CompanyRecord(
        company=company,
        phone=companies.contact_phone(session, company),
        decisions=companies.decisions_of(session, company),
    )


def _decide(
    *,
    session: Session,
    company_id: int,
    officer_id: int,
    approve: bool,
    reason: str | None,
    now: datetime,
) -> bool:
    """The chat's decision, made here; False when it was already decided (by anyone)."""
    company = session.get(Company, company_id)
    officer = session.get(Person, officer_id)
    if company is None or officer is None:
        return False
    try:
        companies.decide(
            session, company=company, officer=officer, approve=approve, reason=reason, now=now
        )
    except companies.AlreadyDecided:
        return False
    return True


@officer_page
async def company_list(request: Request, officer: Officer) -> Response:
    status = request.query_params.get("status", "")
    status = status if status in STATUSES else ""
    listed = await in_transaction(request, _companies, status=status)
    queue = [company for company in listed if company.status == CompanyStatus.PENDING]
    return render(
        request,
        "companies/list.html",
        officer=officer,
        companies=listed,
        queue=queue,
        status=status,
        statuses=STATUSES,
        estate_label=_estate_label,
    )


def _estate_label(key: str) -> str:
    estate = load_reference().estate(key)
    return estate.label if estate else key


@officer_page
async def company_detail(request: Request, officer: Officer) -> Response:
    record = await in_transaction(request, _record, company_id=request.path_params["company_id"])
    if record is None:
        return render(request, "not_found.html", officer=officer, status_code=404)
    translate = console_context(request).catalog.translator(officer.language)
    return render(
        request,
        "companies/detail.html",
        officer=officer,
        record=record,
        estate_label=_estate_label,
        reasons=[translate(key) for key in REASON_KEYS],
        decided=request.query_params.get("decided", ""),
        sector_label=lambda code: _sector_label(code, officer.language),
    )


def _sector_label(code: str, language: str) -> str:
    sector = load_reference().sector(code)
    return sector.label(language) if sector else code


@officer_form
async def decide(request: Request, officer: Officer, form: FormData) -> Response:
    company_id = request.path_params["company_id"]
    approve = form.get("decision") == "approve"
    reason = " ".join(str(form.get("reason", "")).split())[:REASON_MAX] or None
    if not approve and (form.get("decision") != "reject" or reason is None):
        return RedirectResponse(f"{ROOT}/perusahaan/{company_id}?decided=no_reason", 303)
    decided = await in_transaction(
        request,
        _decide,
        company_id=company_id,
        officer_id=officer.person_id,
        approve=approve,
        reason=None if approve else reason,
        now=console_context(request).now(),
    )
    outcome = ("approved" if approve else "rejected") if decided else "already"
    return RedirectResponse(f"{ROOT}/perusahaan/{company_id}?decided={outcome}", 303)


ROUTES = [
    Route("/perusahaan", company_list, methods=["GET"]),
    Route("/perusahaan/{company_id:int}", company_detail, methods=["GET"]),
    Route("/perusahaan/{company_id:int}/keputusan", decide, methods=["POST"]),
]
NAV = [NavItem("/perusahaan", "console.nav.companies")]
