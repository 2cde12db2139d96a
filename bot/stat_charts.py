"""The Dinas's charts, defined once over the statistics service: the chat draws them as PNG,
the web console as SVG (`bot.charts.to_png` / `to_svg` of the same `ChartSpec`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.charts import ChartSpec, DataSeries, bar_chart, line_chart
from bot.core.i18n import Translator
from bot.reference import load_reference
from bot.services import stats

# In the order "Grafik lain" pages through them.
CHARTS = (
    "active_by_month",
    "ikm_by_kecamatan",
    "by_sector",
    "partnerships_by_company",
    "bimtek_attendance",
)
YEAR = timedelta(days=365)


def chart_spec(
    name: str, *, session: Session, now: datetime, t: Translator, tz: ZoneInfo
) -> ChartSpec:
    """The chart called `name` (one of CHARTS), its figures as of `now`, its text in `t`."""
    return _BUILDERS[name](session, now, t, tz)


def _active_by_month(session: Session, now: datetime, t: Translator, tz: ZoneInfo) -> ChartSpec:
    series = stats.active_by_month(session=session, now=now, tz=tz)
    months = t("stats.months").split()
    labels = [months[month.month - 1] for month in series.keys]
    return line_chart(t("stats.chart.active_by_month"), labels, series.values, t("stats.ikm"))


def _ikm_by_kecamatan(session: Session, now: datetime, t: Translator, tz: ZoneInfo) -> ChartSpec:
    series = stats.ikm_by_kecamatan(session=session)
    return bar_chart(
        t("stats.chart.ikm_by_kecamatan"),
        [str(key) for key in series.keys],
        [DataSeries(t("stats.ikm"), series.values)],
        other_label=t("stats.other"),
    )


def _by_sector(session: Session, now: datetime, t: Translator, tz: ZoneInfo) -> ChartSpec:
    figures = stats.by_sector(session=session, since=now - YEAR, now=now)
    needs = dict(zip(figures.needs.keys, figures.needs.values, strict=True))
    awards = dict(zip(figures.awards.keys, figures.awards.values, strict=True))
    codes = sorted(set(needs) | set(awards), key=lambda c: (-needs.get(c, 0), -awards.get(c, 0), c))
    return bar_chart(
        t("stats.chart.by_sector"),
        [_sector_label(str(code), t.language) for code in codes],
        [
            DataSeries(t("stats.needs"), tuple(needs.get(code, 0) for code in codes)),
            DataSeries(t("stats.awards"), tuple(awards.get(code, 0) for code in codes)),
        ],
        other_label=t("stats.other"),
    )


def _sector_label(code: str, language: str) -> str:
    sector = load_reference().sector(code)
    return sector.label(language) if sector else code


def _partnerships_by_company(
    session: Session, now: datetime, t: Translator, tz: ZoneInfo
) -> ChartSpec:
    rows = stats.partnerships_by_company(session=session, since=now - YEAR, now=now, limit=1000)
    return bar_chart(
        t("stats.chart.partnerships_by_company"),
        [row.name for row in rows],
        [DataSeries(t("stats.awards"), tuple(row.partnerships for row in rows))],
        other_label=t("stats.other"),
    )


def _bimtek_attendance(session: Session, now: datetime, t: Translator, tz: ZoneInfo) -> ChartSpec:
    rows = stats.bimtek_attendance(session=session, now=now)
    return bar_chart(
        t("stats.chart.bimtek_attendance"),
        [row.title for row in rows],
        [
            DataSeries(t("stats.registered"), tuple(row.registered for row in rows)),
            DataSeries(t("stats.attended"), tuple(row.attended for row in rows)),
        ],
        other_label=t("stats.other"),
    )


_BUILDERS = {
    "active_by_month": _active_by_month,
    "ikm_by_kecamatan": _ikm_by_kecamatan,
    "by_sector": _by_sector,
    "partnerships_by_company": _partnerships_by_company,
    "bimtek_attendance": _bimtek_attendance,
}
