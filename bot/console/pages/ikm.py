"""IKM: the directory with search and filters (kecamatan, sector, active, claimed), paged;
one IKM's record (profile, products, offers, partnerships, bimtek); a registry record."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.console.context import console_context, in_transaction
from bot.console.guard import officer_page
from bot.console.signin import Officer
from bot.console.views import NavItem, render
from bot.reference import load_reference
from bot.services import directory

YES_NO = ("", "yes", "no")


def wanted_from(request: Request) -> directory.IkmFilter:
    """The filter in the query string; a value that is not one of the choices is ignored."""
    query = request.query_params
    reference = load_reference()
    page = query.get("page", "1")
    return directory.IkmFilter(
        search=query.get("q", "")[:80],
        kecamatan=_one_of(query.get("kecamatan", ""), reference.kecamatan),
        sector=_one_of(query.get("sector", ""), [sector.code for sector in reference.sectors]),
        active=_one_of(query.get("active", ""), YES_NO),
        claimed=_one_of(query.get("claimed", ""), YES_NO),
        page=int(page) if page.isdigit() else 1,
    )


def _one_of(value: str, allowed: object) -> str:
    return value if value in allowed else ""


@officer_page
async def ikm_list(request: Request, officer: Officer) -> Response:
    context = console_context(request)
    wanted = wanted_from(request)
    found = await in_transaction(
        request,
        directory.list_ikm,
        wanted=wanted,
        now=context.now(),
        active_days=context.settings.stats.active_days,
    )
    reference = load_reference()
    return render(
        request,
        "ikm/list.html",
        officer=officer,
        wanted=wanted,
        found=found,
        kecamatan=reference.kecamatan,
        sectors=[(s.code, s.label(officer.language)) for s in reference.sectors],
        sector_label=lambda code: _sector_label(code, officer.language),
        query_for=lambda page: _query_for(request, page),
    )


def _query_for(request: Request, page: int) -> str:
    params = dict(request.query_params)
    params["page"] = str(page)
    return urlencode(params)


def _sector_label(code: str | None, language: str) -> str:
    sector = load_reference().sector(code) if code else None
    return sector.label(language) if sector else (code or "")


@officer_page
async def ikm_detail(request: Request, officer: Officer) -> Response:
    context = console_context(request)
    record = await in_transaction(
        request,
        directory.ikm_record,
        ikm_id=request.path_params["ikm_id"],
        now=context.now(),
        active_days=context.settings.stats.active_days,
    )
    if record is None:
        return render(request, "not_found.html", officer=officer, status_code=404)
    return render(
        request,
        "ikm/detail.html",
        officer=officer,
        record=record,
        sector_label=lambda code: _sector_label(code, officer.language),
    )


@officer_page
async def registry_detail(request: Request, officer: Officer) -> Response:
    record = await in_transaction(
        request, directory.registry_record, record_id=request.path_params["record_id"]
    )
    if record is None:
        return render(request, "not_found.html", officer=officer, status_code=404)
    return render(
        request,
        "ikm/registry.html",
        officer=officer,
        record=record,
        sector_label=lambda code: _sector_label(code, officer.language),
    )


ROUTES = [
    Route("/ikm", ikm_list, methods=["GET"]),
    Route("/ikm/{ikm_id:int}", ikm_detail, methods=["GET"]),
    Route("/ikm/registri/{record_id:int}", registry_detail, methods=["GET"]),
]
NAV = [NavItem("/ikm", "console.nav.ikm")]
