"""`statistik` and `ekspor` in the chat, as a Dinas officer uses them: the summary with a
chart, paging through the charts, the XLSX export read back (and logged); refused to
others. On the console, and over the fake Telegram Bot API and WhatsApp Cloud API, where
the chart and the workbook are really uploaded."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
from openpyxl import load_workbook
from sqlmodel import Session, select

from bot.channels.console import render_text, run_console, save_file
from bot.services import accounts
from bot.stat_charts import CHARTS
from bot.workbook import XLSX_MIME
from models import ExportLog
from models.db import transaction
from tests.chat import register_ikm
from tests.conftest import START
from tests.stats_history import seed_history
from tests.telegram_chat import onboard, press, say, telegram_bot
from tests.whatsapp_chat import approved, configured_templates, whatsapp_bot
from tests.whatsapp_chat import say as wa_say
from tests.whatsapp_chat import tap as wa_tap

OFFICER = "+6281100000002"
PNG = b"\x89PNG\r\n\x1a\n"
XLSX = b"PK\x03\x04"  # a workbook is a zip file
SHEETS = [
    "IKM dan produk",
    "Perusahaan",
    "Kebutuhan",
    "Penawaran",
    "Kemitraan",
    "Pendaftaran bimtek",
]
CHART_TITLES = [
    "IKM aktif per bulan",
    "IKM per kecamatan",
    "Kebutuhan dan kemitraan per sektor (12 bulan)",
    "Kemitraan per perusahaan (12 bulan)",
    "Kehadiran bimtek",
]


def grant_officer(app) -> None:
    with transaction(app.database) as session:
        accounts.grant_dinas(session, phone=OFFICER, now=app.engine.clock.now(), language="id")


def export_log(app) -> list[ExportLog]:
    with Session(app.database) as session:
        return list(session.exec(select(ExportLog)))


def read_workbook(content: bytes):
    return load_workbook(io.BytesIO(content))


async def test_statistik_summary_chart_and_paging_on_the_console(app, chat_as, tmp_path) -> None:
    seed_history(app.database)
    grant_officer(app)
    officer = chat_as(OFFICER)
    await officer.say("halo")
    await officer.tap("Setuju")
    await officer.say("statistik")
    summary, chart = officer.last
    assert summary.text.splitlines() == [
        "IKM terdaftar: 9 (diklaim lewat chat: 9)",
        "IKM aktif (60 hari terakhir): 6",
        "Perusahaan terverifikasi: 2, menunggu verifikasi: 1",
        "Kebutuhan terbuka: 2, ditutup bulan ini: 1",
        "Penawaran: 6 (bulan ini: 2)",
        "Kemitraan: 3, senilai Rp 7.500.000",
        "Bimtek terlaksana: 2, kehadiran: 2",
    ]
    assert chart.picture is not None and chart.picture.mime_type == "image/png"
    assert chart.picture.content.startswith(PNG)
    assert chart.text == f"Grafik 1 dari 5: {CHART_TITLES[0]}"
    # The console shows where the picture went, and the file is a PNG.
    assert "[gambar: grafik-1-active_by_month.png" in render_text(chart)
    assert save_file(chart.picture, tmp_path).read_bytes().startswith(PNG)

    seen = []
    for _ in range(len(CHARTS)):
        await officer.tap("Grafik lain")
        (reply,) = officer.last
        assert reply.picture.content.startswith(PNG)
        seen.append(reply.text)
    assert seen == [
        f"Grafik {number} dari 5: {CHART_TITLES[number - 1]}" for number in (2, 3, 4, 5, 1)
    ]
    await officer.tap("Kembali ke menu")
    assert "Statistik dan ekspor" in officer.options  # the officer's menu item


async def test_ekspor_sends_a_workbook_and_logs_it(app, chat_as) -> None:
    seed_history(app.database)
    grant_officer(app)
    officer = chat_as(OFFICER)
    await officer.say("halo")
    await officer.tap("Setuju")
    await officer.say("ekspor")
    assert "data pribadi" in officer.text
    assert export_log(app) == []  # asking is not exporting
    await officer.tap("Kirim berkas")
    (sent,) = [reply for reply in officer.last if reply.document]
    assert sent.document.mime_type == XLSX_MIME
    assert sent.document.filename == "sinergi-ikm-2026-11-22.xlsx"

    book = read_workbook(sent.document.content)
    assert book.sheetnames == SHEETS
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2", sheet.title
        assert sheet.column_dimensions["A"].width >= 8, sheet.title
    ikm = book["IKM dan produk"]
    header = [cell.value for cell in ikm[1]]
    assert header[:4] == ["ID IKM", "Nama usaha", "Nama pemilik", "No. HP"]
    first = dict(zip(header, [cell.value for cell in ikm[2]], strict=True))
    assert first["Nama usaha"] == "Boneka Ceria"
    assert first["Kecamatan"] == "Cikarang Utara"
    assert first["Produk"] == "Produk Boneka Ceria"
    assert ikm.max_row == 1 + 9  # one product each
    partnerships = book["Kemitraan"]
    values = sorted(row[6].value for row in partnerships.iter_rows(min_row=2))
    assert values == [1_000_000, 2_500_000, 4_000_000]
    awarded = partnerships["H2"].value  # shown in WIB, as a date Excel understands
    assert (awarded.hour, awarded.minute) == (10, 0)
    assert partnerships["H2"].number_format == "yyyy-mm-dd hh:mm"
    assert book["Pendaftaran bimtek"].max_row == 1 + 7

    (logged,) = export_log(app)
    assert (logged.officer_phone, logged.what) == (OFFICER, "xlsx:all")
    assert logged.rows == 9 + 4 + 6 + 7 + 3 + 7
    assert logged.exported_at.replace(tzinfo=START.tzinfo) == START


async def test_statistik_and_ekspor_are_only_for_officers(app, chat_as) -> None:
    seed_history(app.database)
    maker = chat_as("+6281200000031")
    await register_ikm(maker)
    for word in ("statistik", "/stats", "ekspor"):
        replies = await maker.say(word)
        assert "Dinas" in maker.text, word  # "only for Dinas officers"
        assert not any(reply.picture or reply.document for reply in replies), word
    assert export_log(app) == []


async def test_statistik_and_ekspor_over_telegram(app) -> None:
    seed_history(app.database)
    grant_officer(app)
    async with telegram_bot(app) as tg:
        officer = tg.api.user(100, "Rina", phone=OFFICER)
        await onboard(tg, officer)
        await say(tg, officer, "/statistik")
        photo = officer.last_message
        assert photo.method == "sendPhoto" and photo.photo_source == "upload"
        assert photo.shown_text == f"Grafik 1 dari 5: {CHART_TITLES[0]}"
        assert officer.last_buttons == ["Grafik lain", "Ekspor Excel", "Kembali ke menu"]
        assert "IKM terdaftar: 9" in officer.inbox[-2].shown_text
        picture = await tg.bot.get_file(photo.photo[-1]["file_id"])
        assert bytes(await picture.download_as_bytearray()).startswith(PNG)

        await press(tg, officer, "Grafik lain")
        assert officer.last_text == f"Grafik 2 dari 5: {CHART_TITLES[1]}"
        await press(tg, officer, "Ekspor Excel")
        await press(tg, officer, "Kirim berkas")
        (document,) = [m for m in officer.inbox if m.method == "sendDocument"]
        assert document.document["file_name"] == "sinergi-ikm-2026-11-22.xlsx"
        stored = await tg.bot.get_file(document.document["file_id"])
        book = read_workbook(bytes(await stored.download_as_bytearray()))
        assert book.sheetnames == SHEETS
    assert len(export_log(app)) == 1


async def test_statistik_and_ekspor_over_whatsapp(app) -> None:
    seed_history(app.database)
    grant_officer(app)
    templates = configured_templates()
    async with whatsapp_bot(app, templates=templates, approved_templates=approved(templates)) as wa:
        officer = wa.graph.person(wa_id=OFFICER.removeprefix("+"), name="Rina")
        await wa_say(wa, officer, "halo")
        await wa_tap(wa, officer, "Setuju")
        start = len(officer.inbox)
        await wa_say(wa, officer, "statistik")
        summary, image, question = officer.inbox[start:]
        assert "IKM terdaftar: 9" in summary.text
        assert image.type == "image" and "id" in image.image  # uploaded, then sent by its id
        assert question.text == f"Grafik 1 dari 5: {CHART_TITLES[0]}"
        assert question.button_titles == ["Grafik lain", "Ekspor Excel", "Kembali ke menu"]
        assert (await download(wa.graph, image.image["id"])).startswith(PNG)

        await wa_tap(wa, officer, "Ekspor Excel")
        await wa_tap(wa, officer, "Kirim berkas")
        (document,) = [m for m in officer.inbox if m.type == "document"]
        assert document.document["filename"] == "sinergi-ikm-2026-11-22.xlsx"
        content = await download(wa.graph, document.document["id"])
        assert content.startswith(XLSX)
        assert read_workbook(content).sheetnames == SHEETS
    assert len(export_log(app)) == 1


async def download(graph, media_id: str) -> bytes:
    """What a person's phone does with a media id: ask Graph for its URL, then fetch it."""
    headers = {"Authorization": f"Bearer {graph.access_token}"}
    async with httpx.AsyncClient() as http:
        url = f"{graph.base_url}/{graph.api_version}/{media_id}"
        found = (await http.get(url, headers=headers)).json()
        response = await http.get(found["url"], headers=headers)
        response.raise_for_status()
        return response.content


async def test_the_console_saves_the_chart_and_workbook_to_open(app, tmp_path) -> None:
    grant_officer(app)
    out = io.StringIO()
    typed = ["halo", "Setuju", "statistik", "Ekspor Excel", "Kirim berkas"]
    await run_console(app.engine, OFFICER, lines=typed, out=out, files=tmp_path)
    lines = [line for line in out.getvalue().splitlines() if line.strip().startswith("->")]
    chart, workbook = (Path(line.split("->", 1)[1].strip()) for line in lines)
    assert chart.parent == tmp_path and chart.suffix == ".png"
    assert chart.read_bytes().startswith(PNG)
    assert read_workbook(workbook.read_bytes()).sheetnames == SHEETS
