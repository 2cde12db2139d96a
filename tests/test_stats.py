"""Statistics over a seeded year of history whose figures are known, and the chart specs
drawn from them (at most six bars, the rest as "Lainnya"; PNG and SVG from one spec)."""

from __future__ import annotations

from datetime import date
from xml.etree import ElementTree

import pytest
from sqlmodel import Session

from bot.charts import (
    MAX_BARS,
    ChartKind,
    ChartSpec,
    DataSeries,
    bar_chart,
    line_chart,
    to_png,
    to_svg,
)
from bot.core.i18n import Catalog
from bot.core.messages import Picture
from bot.services import stats
from bot.stat_charts import CHARTS, YEAR, chart_spec
from tests.conftest import START
from tests.stats_history import EXPECTED_ACTIVE, EXPECTED_BY_MONTH, seed_history

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def history(app):
    seed_history(app.database)
    with Session(app.database) as session:
        yield session


def test_overview_of_a_known_year(history) -> None:
    figures = stats.overview(session=history, now=START, active_days=60)
    assert figures == stats.Overview(
        ikm_registered=9,
        ikm_claimed=9,  # every IKM registered through the chat until the registry import
        ikm_active=EXPECTED_ACTIVE,
        companies_verified=2,
        companies_waiting=1,
        needs_open=2,
        needs_closed_this_month=1,  # closed 5 Nov; one closed in October, one cancelled
        offers=6,  # a withdrawn offer is not counted
        offers_this_month=2,  # 12 Nov, and 31 Oct 18:00 UTC, which is 1 Nov in WIB
        awards=3,
        awards_value=7_500_000,
        bimtek_held=2,  # a cancelled and a future session are not held
        bimtek_attendance=2,
    )


def test_active_follows_the_configured_window(history) -> None:
    # 62 days take in "Tenun Empat", heard from 61 days ago
    assert stats.active_ikm(session=history, now=START, days=62) == EXPECTED_ACTIVE + 1
    # 40 days leave out "Keripik Lima": its last message 59 days ago, a withdrawn offer 47
    assert stats.active_ikm(session=history, now=START, days=40) == EXPECTED_ACTIVE - 1


def test_active_ikm_by_month(history) -> None:
    series = stats.active_by_month(session=history, now=START)
    assert series.keys[0] == date(2025, 12, 1)
    assert series.keys[-1] == date(2026, 11, 1)
    assert series.values == EXPECTED_BY_MONTH


def test_breakdowns(history) -> None:
    by_kecamatan = stats.ikm_by_kecamatan(session=history)
    assert by_kecamatan.points[:3] == (
        stats.Point("Cikarang Utara", 2),
        stats.Point("Tambun Selatan", 2),
        stats.Point("Babelan", 1),
    )
    assert sum(by_kecamatan.values) == 9

    sectors = stats.by_sector(session=history, since=START - YEAR, now=START)
    # a need naming 14120 and 13 counts once under 14 and once under 13; June 2025 is out
    assert dict(zip(sectors.needs.keys, sectors.needs.values, strict=True)) == {
        "14": 2,
        "13": 1,
        "32": 1,
        "10": 1,
        "25": 1,
    }
    assert dict(zip(sectors.awards.keys, sectors.awards.values, strict=True)) == {"32": 1, "14": 1}

    companies = stats.partnerships_by_company(session=history, since=START - YEAR, now=START)
    assert companies == [stats.CompanyPartnerships("PT Sinar Otomotif", 2, 6_500_000)]

    sessions = stats.bimtek_attendance(session=history, now=START)
    assert [(s.title, s.registered, s.attended) for s in sessions] == [
        ("Kemasan Pangan", 2, 1),
        ("Pelatihan Jahit", 2, 1),  # the cancelled registration is not counted
    ]


def test_every_chart_fits_a_phone_and_draws_as_png_and_svg(history, settings) -> None:
    t = Catalog.load().translator("id")
    for name in CHARTS:
        spec = chart_spec(name, session=history, now=START, t=t, tz=settings.tz)
        assert len(spec.labels) <= MAX_BARS or spec.kind == ChartKind.LINE, name
        assert to_png(spec).startswith(PNG_SIGNATURE), name
        root = ElementTree.fromstring(to_svg(spec))
        assert root.tag.endswith("svg"), name
        # text stays text in the SVG (searchable, scalable): the title's words are there
        texts = " ".join(" ".join(node.itertext()) for node in root.iter(f"{SVG}text"))
        assert set(spec.title.split()) <= set(texts.split()), name

    kecamatan = chart_spec("ikm_by_kecamatan", session=history, now=START, t=t, tz=settings.tz)
    assert kecamatan.labels == (
        "Cikarang Utara",
        "Tambun Selatan",
        "Babelan",
        "Cibitung",
        "Serang Baru",
        "Lainnya",
    )
    assert kecamatan.series[0].values == (2, 2, 1, 1, 1, 2)

    months = chart_spec("active_by_month", session=history, now=START, t=t, tz=settings.tz)
    assert months.kind == ChartKind.LINE
    assert months.labels[0] == "Des" and months.labels[-1] == "Nov"
    assert months.series[0].values == EXPECTED_BY_MONTH


def test_bar_chart_folds_the_rest_into_other() -> None:
    labels = [f"K{n}" for n in range(9)]
    spec = bar_chart(
        "t",
        labels,
        [DataSeries("a", tuple(range(9, 0, -1))), DataSeries("b", (1,) * 9)],
        other_label="Lainnya",
    )
    assert spec.labels == ("K0", "K1", "K2", "K3", "K4", "Lainnya")
    assert spec.series[0].values == (9, 8, 7, 6, 5, 4 + 3 + 2 + 1)
    assert spec.series[1].values == (1, 1, 1, 1, 1, 4)
    six = bar_chart("t", labels[:6], [DataSeries("a", (1,) * 6)], other_label="Lainnya")
    assert "Lainnya" not in six.labels


def test_a_spec_refuses_what_a_phone_cannot_read() -> None:
    with pytest.raises(ValueError):
        ChartSpec("t", tuple("abcdefg"), (DataSeries("a", (1,) * 7),))
    with pytest.raises(ValueError):
        ChartSpec("t", ("a",), (DataSeries("a", (1,)), DataSeries("b", (1,))), kind=ChartKind.LINE)
    assert line_chart("t", ["a", "b"], [1, 2], "x").kind == ChartKind.LINE


def test_a_picture_is_drawn_when_first_read_and_only_once() -> None:
    drawn = []
    picture = Picture("chart.png", lambda: drawn.append("drawn") or PNG_SIGNATURE)
    assert drawn == []  # a step only describes it: nothing is drawn inside the transaction
    assert picture.content == picture.content == PNG_SIGNATURE
    assert drawn == ["drawn"]
