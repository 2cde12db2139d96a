"""Companies' needs: a list with a status filter (and the overview's "closed this month" and
"with offers"), and a need's page with its offers and its awards (the partnerships)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.console.context import console_context, in_transaction
from bot.console.guard import officer_page
from bot.console.signin import Officer
from bot.console.views import NavItem, render
from bot.services.stats import month_starts
from models import Company, IkmProfile, Need, NeedMatch, NeedStatus, Offer, OfferStatus, Partnership

PAGE_SIZE = 50
STATUSES = tuple(status.value for status in NeedStatus)


@dataclass(frozen=True)
class NeedFilter:
    status: str | None = None  # a NeedStatus
    closed_this_month: bool = False
    with_offers: bool = False
    page: int = 1

    @classmethod
    def read(cls, params: dict[str, str]) -> NeedFilter:
        status = params.get("status", "")
        page = params.get("page", "1")
        return cls(
            status=status if status in STATUSES else None,
            closed_this_month=params.get("closed") == "month",
            with_offers=params.get("with") == "offers",
            page=max(int(page), 1) if page.isdigit() else 1,
        )


@dataclass(frozen=True)
class NeedLine:
    need: Need
    company_name: str  # "" once the company erased its data
    offers: int  # not withdrawn
    awards: int
    awarded_value: int


@dataclass(frozen=True)
class OfferLine:
    offer: Offer
    ikm_name: str


@dataclass(frozen=True)
class NeedPage:
    need: Need
    company: Company
    called: int  # IKM the call went to
    offers: list[OfferLine]
    awards: list[tuple[Partnership, str]]  # with the IKM's name


def _offers_count() -> sa.ScalarSelect:
    return (
        select(sa.func.count(Offer.id))
        .where(Offer.need_id == Need.id, Offer.status != OfferStatus.WITHDRAWN)
        .scalar_subquery()
    )


def _conditions(chosen: NeedFilter, now: datetime, tz: ZoneInfo) -> list[sa.ColumnElement]:
    conditions = []
    if chosen.status:
        conditions.append(Need.status == chosen.status)
    if chosen.closed_this_month:  # as the overview counts it (bot/services/stats.py)
        conditions += [
            col(Need.status).in_([NeedStatus.CLOSED, NeedStatus.AWARDED]),
            col(Need.closed_at) >= month_starts(now, 1, tz)[0],
            col(Need.closed_at) <= now,
        ]
    if chosen.with_offers:
        conditions.append(_offers_count() > 0)
    return conditions


@dataclass(frozen=True)
class NeedList:
    lines: list[NeedLine]  # one page
    total: int  # needs chosen, on every page
    offers_total: int  # their offers (not withdrawn), what the overview's "offers" counts


def list_needs(*, session: Session, chosen: NeedFilter, now: datetime, tz: ZoneInfo) -> NeedList:
    """One page of the needs `chosen` selects, newest first, and the totals of all pages."""
    conditions = _conditions(chosen, now, tz)
    total, offers_total = session.exec(
        select(sa.func.count(Need.id), sa.func.coalesce(sa.func.sum(_offers_count()), 0)).where(
            *conditions
        )
    ).one()
    awards = (
        select(
            Partnership.need_id,
            sa.func.count().label("n"),
            sa.func.sum(Partnership.value).label("v"),
        )
        .group_by(Partnership.need_id)
        .subquery()
    )
    rows = session.exec(
        select(Need, Company.name, _offers_count(), awards.c.n, awards.c.v)
        .join(Company, Company.id == Need.company_id)
        .outerjoin(awards, awards.c.need_id == Need.id)
        .where(*conditions)
        .order_by(col(Need.created_at).desc(), col(Need.id).desc())
        .offset((chosen.page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    lines = [
        NeedLine(need, name, offers or 0, count or 0, int(value or 0))
        for need, name, offers, count, value in rows
    ]
    return NeedList(lines, total, int(offers_total))


def need_page(*, session: Session, need_id: int) -> NeedPage | None:
    need = session.get(Need, need_id)
    if need is None:
        return None
    offers = session.exec(
        select(Offer, IkmProfile.business_name)
        .join(IkmProfile, IkmProfile.id == Offer.ikm_id)
        .where(Offer.need_id == need.id)
        .order_by(Offer.price_per_unit, Offer.id)
    ).all()
    awards = session.exec(
        select(Partnership, IkmProfile.business_name)
        .join(IkmProfile, IkmProfile.id == Partnership.ikm_id)
        .where(Partnership.need_id == need.id)
        .order_by(Partnership.awarded_at, Partnership.id)
    ).all()
    called = session.exec(
        select(sa.func.count(NeedMatch.id)).where(NeedMatch.need_id == need.id)
    ).one()
    return NeedPage(
        need=need,
        company=session.get(Company, need.company_id),
        called=called,
        offers=[OfferLine(offer, name) for offer, name in offers],
        awards=list(awards),
    )


def _page_link(chosen: NeedFilter, page: int) -> str:
    params = []
    if chosen.status:
        params.append(f"status={chosen.status}")
    if chosen.closed_this_month:
        params.append("closed=month")
    if chosen.with_offers:
        params.append("with=offers")
    params.append(f"page={page}")
    return "?" + "&".join(params)


@officer_page
async def needs_list(request: Request, officer: Officer) -> Response:
    context = console_context(request)
    chosen = NeedFilter.read(dict(request.query_params))
    found = await in_transaction(
        request, list_needs, chosen=chosen, now=context.now(), tz=context.settings.tz
    )
    pages = max((found.total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    return render(
        request,
        "needs/list.html",
        officer=officer,
        lines=found.lines,
        total=found.total,
        offers_total=found.offers_total,
        chosen=chosen,
        statuses=STATUSES,
        pages=pages,
        page_link=lambda page: _page_link(chosen, page),
    )


@officer_page
async def need_detail(request: Request, officer: Officer) -> Response:
    found = await in_transaction(request, need_page, need_id=request.path_params["need_id"])
    if found is None:
        return render(request, "not_found.html", officer=officer, status_code=404)
    return render(request, "needs/detail.html", officer=officer, page=found)


ROUTES = [
    Route("/kebutuhan", needs_list, methods=["GET"]),
    Route("/kebutuhan/{need_id:int}", need_detail, methods=["GET"]),
]
NAV = [NavItem("/kebutuhan", "console.needs.nav")]
