"""The console's needs, bimtek and announcements pages over HTTP, as a signed-in officer: each
list counts what the overview's figure counts, a need shows its offers and awards, a bimtek
its roster (check-in by code through a form, the chat's CSV, logged), an announcement its
delivery progress and can be stopped; forms refuse without the session's CSRF token."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import openpyxl
import pytest
from sqlmodel import select

from bot.demo import DINAS_OFFICER
from bot.services import audience, stats
from models import Announcement, BimtekSession, ExportLog, Need, OutboxMessage, Person
from models.db import transaction
from tests.conftest import START
from tests.console.html_parts import by_id, with_data
from tests.console.site import Site
from tests.console.test_console_ledger import officer
from tests.stats_history import seed_history

PAGES = (
    "/dinas/kebutuhan",
    "/dinas/kebutuhan/1",
    "/dinas/bimtek",
    "/dinas/bimtek/1",
    "/dinas/bimtek/1/peserta.csv",
    "/dinas/bimtek/1/peserta.xlsx",
    "/dinas/pengumuman",
    "/dinas/pengumuman/1",
)
FORMS = ("/dinas/bimtek/1/hadir", "/dinas/pengumuman/1/hentikan")


@pytest.fixture
async def history(site: Site) -> dict:
    """The stats' known year in the site's database, its overview, and a sign-in link."""
    seed_history(site.app.database)
    with transaction(site.app.database) as session:
        overview = stats.overview(session=session, now=START, tz=site.app.settings.tz)
    return {"overview": overview, "link": await site.link()}


def csrf_of(html: str) -> str:
    marker = 'name="csrf" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


def test_every_page_and_form_refuses_without_a_session(site: Site) -> None:
    with site.client() as stranger:
        for path in PAGES:
            answer = stranger.get(path)
            assert (answer.status_code, answer.headers.get("location")) == (303, "/dinas/masuk")
        for path in FORMS:
            answer = stranger.post(path, data={"codes": "K1", "csrf": "x"})
            assert (answer.status_code, answer.headers.get("location")) == (303, "/dinas/masuk")


def test_the_needs_lists_count_what_the_overview_counts(site, history) -> None:
    overview = history["overview"]
    with officer(site, history["link"]) as browser:
        for query, expected in (
            ("status=open", overview.needs_open),
            ("closed=month", overview.needs_closed_this_month),
        ):
            page = browser.get(f"/dinas/kebutuhan?{query}").text
            assert len(with_data(page, "need")) == expected, query
        with_offers = browser.get("/dinas/kebutuhan?with=offers").text
        counts = [int(cell.attrs["data-offers"]) for cell in with_data(with_offers, "offers")]
        assert all(counts)
        assert sum(counts) == overview.offers
        everything = browser.get("/dinas/kebutuhan").text
        with transaction(site.app.database) as session:
            assert len(with_data(everything, "need")) == len(session.exec(select(Need)).all())


def test_a_need_shows_its_offers_and_awards(site, history) -> None:
    with transaction(site.app.database) as session:
        need = session.exec(select(Need).where(Need.title == "Kebutuhan 2")).one()
        need_id = need.id
    with officer(site, history["link"]) as browser:
        page = browser.get(f"/dinas/kebutuhan/{need_id}").text
        assert browser.get("/dinas/kebutuhan/99999").status_code == 404
    assert by_id(page, "need-company").words == "PT Sinar Otomotif"
    offers = {row.words.split(" Rp")[0] for row in with_data(page, "offer")}
    assert offers == {"Boneka Ceria", "Keripik Lima", "Jahit Tiga"}  # one withdrawn, shown so
    awards = by_id(page, "need-awards").words
    assert "Boneka Ceria" in awards and "Rp 4.000.000" in awards
    assert "Jahit Tiga" in awards and "Rp 2.500.000" in awards


def test_bimtek_held_roster_check_in_and_csv(site, history) -> None:
    overview = history["overview"]
    with transaction(site.app.database) as session:
        bimtek_id = session.exec(
            select(BimtekSession.id).where(BimtekSession.title == "Pelatihan Jahit")
        ).one()
    with officer(site, history["link"]) as browser:
        held = browser.get("/dinas/bimtek?held=yes").text
        assert len(with_data(held, "bimtek")) == overview.bimtek_held
        page = browser.get(f"/dinas/bimtek/{bimtek_id}").text
        assert by_id(page, "bimtek-attended").words == "1"
        assert [row.attrs["data-code"] for row in with_data(page, "code")] == ["K1", "K2", "K3"]

        refused = browser.post(f"/dinas/bimtek/{bimtek_id}/hadir", data={"codes": "K2"})
        assert refused.status_code == 403
        answer = browser.post(
            f"/dinas/bimtek/{bimtek_id}/hadir",
            data={"codes": "k2, ZZZ9", "csrf": csrf_of(page)},
        )
        assert answer.status_code == 200
        results = by_id(answer.text, "checkin-results").words
        assert "K2: hadir ✓" in results
        assert "ZZZ9: kode tidak dikenal" in results
        assert by_id(answer.text, "bimtek-attended").words == "2"

        roster = browser.get(f"/dinas/bimtek/{bimtek_id}/peserta.csv")
        workbook = browser.get(f"/dinas/bimtek/{bimtek_id}/peserta.xlsx")
        assert browser.get(f"/dinas/bimtek/{bimtek_id}/peserta.pdf").status_code == 404
    assert roster.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(roster.text)))
    assert rows[0][:3] == ["no", "usaha", "pemilik"]
    assert [row[1] for row in rows[1:]] == ["Jahit Tiga", "Konveksi Dua", "Tenun Empat"]
    # The same roster as a workbook: the same cells, times as dates, phones as text.
    assert workbook.headers["content-disposition"].endswith(f'bimtek-{bimtek_id}.xlsx"')
    sheet = openpyxl.load_workbook(io.BytesIO(workbook.content))["Peserta"]
    cells = [["" if cell.value is None else cell.value for cell in row] for row in sheet.rows]
    as_text = [
        [value if isinstance(value, str) else _csv_text(value) for value in row] for row in cells
    ]
    assert as_text == rows
    phones = [row[3] for row in cells[1:]]
    assert phones and all(isinstance(phone, str) and phone.startswith("+62") for phone in phones)
    with transaction(site.app.database) as session:
        logged = session.exec(select(ExportLog)).all()
        assert [(log.what, log.rows, log.officer_phone) for log in logged] == [
            ("bimtek_roster", 3, DINAS_OFFICER),
            ("bimtek_roster", 3, DINAS_OFFICER),
        ]


def _csv_text(value: object) -> str:
    """A workbook cell as the CSV writes it (local times to the minute)."""
    return value.strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime) else str(value)


def test_an_announcement_with_its_progress_stopped_by_a_form(site, history) -> None:
    with transaction(site.app.database) as session:
        author = session.exec(select(Person).where(Person.phone == DINAS_OFFICER)).one()
        sent = audience.announce(
            session,
            author=author,
            text="Pameran <script>alert(1)</script> di Jababeka",
            image_ref=None,
            audience={"kind": "all_ikm"},
            now=START,
        )
        announcement_id, recipients = sent.id, sent.recipients
    assert recipients > 0
    with officer(site, history["link"]) as browser:
        listed = browser.get("/dinas/pengumuman").text
        assert [row.attrs["data-announcement"] for row in with_data(listed, "announcement")] == [
            str(announcement_id)
        ]
        page = browser.get(f"/dinas/pengumuman/{announcement_id}").text
        assert "<script>alert(1)" not in page
        assert (
            "Pameran <script>alert(1)</script> di Jababeka"
            in by_id(page, "announcement-text").words
        )
        states = {cell.attrs["data-state"]: int(cell.words) for cell in with_data(page, "state")}
        assert states["total"] == recipients
        # The demo IKM chat on the console: their messages wait in its inbox until they write.
        assert states["pending"] + states["waiting"] == recipients
        assert browser.post(f"/dinas/pengumuman/{announcement_id}/hentikan").status_code == 403
        stopped = browser.post(
            f"/dinas/pengumuman/{announcement_id}/hentikan", data={"csrf": csrf_of(page)}
        ).text
    states = {cell.attrs["data-state"]: int(cell.words) for cell in with_data(stopped, "state")}
    assert states["cancelled"] == recipients
    assert "Dihentikan" in by_id(stopped, "announcement-progress").words
    with transaction(site.app.database) as session:
        assert session.get(Announcement, announcement_id).status == "stopped"
        states_stored = {
            message.state
            for message in session.exec(
                select(OutboxMessage).where(
                    OutboxMessage.batch == f"announcement:{announcement_id}"
                )
            )
        }
        assert states_stored == {"cancelled"}
