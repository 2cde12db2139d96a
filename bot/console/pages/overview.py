"""The overview: the figures of the chat's `statistik`, each a link to the rows it counts, and
the chat's charts drawn as SVG from the same chart definitions.

Drawing a chart takes matplotlib 0.2-0.5 s, far more than its figures' queries, so a drawing
is kept per chart definition (`ChartSpec`, figures included): the same figures are never
drawn twice, and changed figures are drawn anew. The overview shows each chart as its own
SVG request, so that the page's figures do not wait for five drawings; a chart's own page
shows it inline."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.charts import ChartSpec, to_svg
from bot.config import Settings
from bot.console.context import console_context, in_transaction
from bot.console.guard import officer_page
from bot.console.signin import Officer
from bot.console.views import NavItem, render
from bot.core.i18n import Translator
from bot.services import stats
from bot.stat_charts import CHARTS, chart_spec

DRAWINGS_KEPT = 64  # a few languages times five charts, with room for figures that change


@dataclass(frozen=True)
class Figure:
    """One number of the overview, its label key and the page listing what it counts."""

    label: str
    value: int
    link: str | None
    money: bool = False


@dataclass(frozen=True)
class Chart:
    name: str
    title: str
    svg: Markup


def figures(overview: stats.Overview) -> list[Figure]:
    """The overview's figures in the chat's order; links to pages that other modules own
    (needs, ledger, bimtek) are shown only once those pages are registered."""
    return [
        Figure("registered", overview.ikm_registered, "/ikm?claimed=yes"),
        Figure("claimed", overview.ikm_claimed, "/ikm?claimed=yes"),
        Figure("active", overview.ikm_active, "/ikm?active=yes"),
        Figure("verified", overview.companies_verified, "/perusahaan?status=verified"),
        Figure("waiting", overview.companies_waiting, "/perusahaan?status=pending"),
        Figure("needs_open", overview.needs_open, "/kebutuhan?status=open"),
        Figure("needs_closed", overview.needs_closed_this_month, "/kebutuhan?closed=month"),
        Figure("offers", overview.offers, "/kebutuhan?with=offers"),
        Figure("awards", overview.awards, "/kemitraan"),
        Figure("awards_value", overview.awards_value, "/kemitraan", money=True),
        Figure("bimtek_held", overview.bimtek_held, "/bimtek?held=yes"),
        Figure("bimtek_attendance", overview.bimtek_attendance, "/bimtek?held=yes"),
    ]


@functools.lru_cache(maxsize=DRAWINGS_KEPT)
def drawn(spec: ChartSpec) -> str:
    """The SVG of a chart definition; its text escaped by matplotlib (a business named
    "<script>" is drawn as those characters)."""
    return to_svg(spec)


def svg_markup(svg: str) -> Markup:
    """matplotlib's SVG without its XML prologue, to sit inside the page."""
    return Markup(svg[svg.index("<svg") :])


def chart(
    name: str, *, session: Session, now: datetime, t: Translator, settings: Settings
) -> Chart:
    spec = chart_spec(name, session=session, now=now, t=t, tz=settings.tz)
    return Chart(name, spec.title, svg_markup(drawn(spec)))


def _overview(*, session: Session, now: datetime, settings: Settings) -> list[Figure]:
    overview = stats.overview(
        session=session, now=now, active_days=settings.stats.active_days, tz=settings.tz
    )
    return figures(overview)


@officer_page
async def overview_page(request: Request, officer: Officer) -> Response:
    context = console_context(request)
    shown = await in_transaction(request, _overview, now=context.now(), settings=context.settings)
    translate = context.catalog.translator(officer.language)
    return render(
        request,
        "overview.html",
        officer=officer,
        figures=shown,
        charts=[(name, translate(f"stats.chart.{name}")) for name in CHARTS],
        active_days=context.settings.stats.active_days,
    )


async def _chart(request: Request, officer: Officer) -> Chart | None:
    name = request.path_params["name"]
    if name not in CHARTS:
        return None
    context = console_context(request)
    return await in_transaction(
        request,
        chart,
        name=name,
        now=context.now(),
        t=context.catalog.translator(officer.language),
        settings=context.settings,
    )


@officer_page
async def chart_page(request: Request, officer: Officer) -> Response:
    shown = await _chart(request, officer)
    if shown is None:
        return render(request, "not_found.html", officer=officer, status_code=404)
    return render(request, "chart.html", officer=officer, chart=shown)


@officer_page
async def chart_svg(request: Request, officer: Officer) -> Response:
    """The chart alone, as an SVG document (the overview's pictures)."""
    shown = await _chart(request, officer)
    if shown is None:
        return Response(status_code=404)
    return Response(str(shown.svg), media_type="image/svg+xml")


ROUTES = [
    Route("/", overview_page, methods=["GET"]),
    Route("/grafik/{name}.svg", chart_svg, methods=["GET"]),
    Route("/grafik/{name}", chart_page, methods=["GET"]),
]
NAV = [NavItem("/", "console.nav.overview")]
