"""Statistics for Dinas officers: a short summary with a chart, more charts, and the export.

statistik.ringkasan  summary + first chart  --Grafik lain-->  statistik.grafik (pages on)
statistik.ekspor     "send the workbook?"   --Kirim-->  XLSX document, export logged
"""

from __future__ import annotations

from bot.charts import to_png
from bot.core.flow import Again, Context, Finish, Flow, Goto, Outcome, Prompt, Step
from bot.core.messages import Document, Option, Picture, Reply
from bot.core.steps import choice_step
from bot.parsing.numbers import format_rupiah
from bot.services import exports as export_service
from bot.services import stats as stats_service
from bot.stat_charts import CHARTS, chart_spec
from bot.workbook import XLSX_MIME, workbook_bytes

NEXT_CHART = "next"
EXPORT = "export"
SEND = "send"
MENU = "menu"
CHART = "chart"  # the draft's index of the chart shown


def _summary_text(ctx: Context) -> str:
    figures = stats_service.overview(
        session=ctx.session,
        now=ctx.now,
        active_days=ctx.settings.stats.active_days,
        tz=ctx.settings.tz,
    )
    return ctx.t(
        "stats.summary",
        registered=figures.ikm_registered,
        claimed=figures.ikm_claimed,
        active=figures.ikm_active,
        days=ctx.settings.stats.active_days,
        verified=figures.companies_verified,
        waiting=figures.companies_waiting,
        needs_open=figures.needs_open,
        needs_closed=figures.needs_closed_this_month,
        offers=figures.offers,
        offers_month=figures.offers_this_month,
        awards=figures.awards,
        value=format_rupiah(figures.awards_value),
        held=figures.bimtek_held,
        attendance=figures.bimtek_attendance,
    )


def _chart_reply(ctx: Context, index: int) -> Reply:
    name = CHARTS[index]
    spec = chart_spec(name, session=ctx.session, now=ctx.now, t=ctx.t, tz=ctx.settings.tz)
    picture = Picture(f"grafik-{index + 1}-{name}.png", lambda: to_png(spec))
    caption = ctx.t("stats.chart_caption", title=spec.title, number=index + 1, total=len(CHARTS))
    return Reply(caption, picture=picture, options=tuple(_options(ctx)))


def _options(ctx: Context) -> list[Option]:
    return [
        Option(NEXT_CHART, ctx.t("stats.next_chart")),
        Option(EXPORT, ctx.t("stats.export")),
        Option(MENU, ctx.t("common.back_to_menu")),
    ]


def _summary_prompt(ctx: Context) -> list[Reply]:
    return [Reply(_summary_text(ctx), title=ctx.t("stats.title")), _chart_reply(ctx, 0)]


def _chart_prompt(ctx: Context) -> list[Reply]:
    return [_chart_reply(ctx, int(ctx.data.get(CHART, 0)) % len(CHARTS))]


def _on_summary(ctx: Context, chosen: str) -> Outcome:
    if chosen == NEXT_CHART:
        ctx.data[CHART] = 1
        return Goto("statistik.grafik")
    return _elsewhere(chosen)


def _on_chart(ctx: Context, chosen: str) -> Outcome:
    if chosen == NEXT_CHART:
        ctx.data[CHART] = (int(ctx.data.get(CHART, 0)) + 1) % len(CHARTS)
        return Again()
    return _elsewhere(chosen)


def _elsewhere(chosen: str) -> Outcome:
    if chosen == EXPORT:
        return Goto("statistik.ekspor")
    return Finish()


def _export_options(ctx: Context) -> list[Option]:
    return [Option(SEND, ctx.t("stats.export_send")), Option(MENU, ctx.t("common.back_to_menu"))]


def _on_export(ctx: Context, chosen: str) -> Outcome:
    """The workbook is made (and the export logged) only when the officer confirms."""
    if chosen != SEND:
        return Finish()
    tables = export_service.export_tables(session=ctx.session)
    rows = sum(len(table.rows) for table in tables)
    content = workbook_bytes(
        tables,
        sheet_title=lambda name: ctx.t(f"export.sheet.{name}"),
        header=lambda column: ctx.t(f"export.column.{column}"),
        tz=ctx.settings.tz,
    )
    export_service.record_export(
        session=ctx.session, officer=ctx.person, what="xlsx:all", rows=rows, now=ctx.now
    )
    filename = f"sinergi-ikm-{ctx.now.astimezone(ctx.settings.tz):%Y-%m-%d}.xlsx"
    document = Document(filename, content, XLSX_MIME)
    return Finish(say=(Reply(ctx.t("stats.export_ready", rows=rows), document=document),))


def _with_prompt(step: Step, prompt: Prompt) -> Step:
    """A choice step whose question is several replies (the summary, then the chart)."""
    return Step(step.name, prompt, step.handle, step.expect)


STATS = Flow(
    "statistik",
    steps=(
        _with_prompt(
            choice_step("ringkasan", ask="stats.title", options=_options, choose=_on_summary),
            _summary_prompt,
        ),
        _with_prompt(
            choice_step("grafik", ask="stats.title", options=_options, choose=_on_chart),
            _chart_prompt,
        ),
        choice_step("ekspor", ask="stats.export_ask", options=_export_options, choose=_on_export),
    ),
    roles=frozenset({"dinas"}),
)
