"""The kemitraan ledger in the console, over HTTP as an officer signed in with the bot's link:
the page per company with totals whose every figure opens the rows it counts, the estate
filter, the XLSX download (logged), the print view, and names shown exactly as typed."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

import httpx
import openpyxl
import pytest
from sqlmodel import select

from bot.parsing.numbers import format_rupiah
from models import ExportLog
from models.db import transaction
from tests.console.html_parts import by_id, marked, with_data
from tests.console.site import Site, sign_in
from tests.ledger_history import COMPANIES, IKM, PARTNERSHIPS, YEAR_END, YEAR_START, seed_ledger

YEAR = f"from={YEAR_START.isoformat()}&to={YEAR_END.isoformat()}"
SCRIPT_NAME = IKM[3][0]  # '<script>alert("ikm")</script>'


@contextmanager
def officer(site: Site, link: str) -> Iterator[httpx.Client]:
    with site.client() as client:
        assert sign_in(client, link).status_code == 303
        yield client


@pytest.fixture
async def signed_in(site: Site) -> dict:
    """The seeded year in the site's database, and a sign-in link from the chat."""
    return {"ids": seed_ledger(site.app.database), "link": await site.link()}


def _in_year(estate: str | None = None) -> list:
    return [
        award
        for award in PARTNERSHIPS
        if YEAR_START <= award.day <= YEAR_END
        and (estate is None or COMPANIES[award.company - 1][1] == estate)
    ]


def _company_id(ids: dict, number: int) -> int:
    return ids[f"company{number}"]


def test_every_ledger_page_refuses_without_a_session(site: Site) -> None:
    with site.client() as stranger:
        for path in ("/dinas/kemitraan", "/dinas/kemitraan/cetak", "/dinas/kemitraan.xlsx"):
            answer = stranger.get(f"{path}?{YEAR}")
            assert answer.status_code == 303, path
            assert answer.headers["location"] == "/dinas/masuk"


def test_each_company_with_its_total_and_each_figure_opens_its_rows(site, signed_in) -> None:
    ids = signed_in["ids"]
    awards = _in_year()
    with officer(site, signed_in["link"]) as browser:
        page = browser.get(f"/dinas/kemitraan?{YEAR}").text
        total = with_data(page, "total")
        assert {e.attrs["data-total"]: e.words.split(" ")[0] for e in total}["partnerships"] == str(
            len(awards)
        )
        value = next(e for e in total if e.attrs["data-total"] == "value")
        assert value.words.startswith(format_rupiah(sum(a.value for a in awards)))
        assert len(with_data(page, "partnership")) == len(awards)

        for number in sorted({award.company for award in awards}):
            own = [award for award in awards if award.company == number]
            company_id = _company_id(ids, number)
            section = by_id(page, f"company-{company_id}")
            assert COMPANIES[number - 1][0] in section.words
            shown_value = next(
                e
                for e in with_data(page, "company-value")
                if e.attrs["data-company-value"] == str(company_id)
            )
            assert shown_value.words == format_rupiah(sum(a.value for a in own))
            link = shown_value.links[0]
            assert parse_qs(urlsplit(link).query) == {
                "from": [YEAR_START.isoformat()],
                "to": [YEAR_END.isoformat()],
                "company": [str(company_id)],
            }
            only = browser.get(link).text
            assert [e.attrs["id"] for e in marked(only) if e.attrs.get("class") == "company"] == [
                f"company-{company_id}"
            ]
            assert len(with_data(only, "partnership")) == len(own)

        row = with_data(page, "partnership")[0]
        need_page = browser.get(row.links[0])
        assert need_page.status_code == 200
        awarded = with_data(need_page.text, "partnership")
        assert row.attrs["data-partnership"] in {e.attrs["data-partnership"] for e in awarded}


def test_the_estate_filter_keeps_only_its_companies(site, signed_in) -> None:
    awards = _in_year("mm2100")
    with officer(site, signed_in["link"]) as browser:
        page = browser.get(f"/dinas/kemitraan?{YEAR}&estate=mm2100").text
    sections = [e for e in marked(page) if e.attrs.get("class") == "company"]
    assert [section.attrs["id"] for section in sections] == [
        f"company-{signed_in['ids']['company2']}"
    ]
    assert len(with_data(page, "partnership")) == len(awards)
    assert "MM2100" in by_id(page, "ledger-scope").words


def test_the_xlsx_download_reads_back_and_is_logged(site, signed_in) -> None:
    awards = _in_year("jababeka")
    with officer(site, signed_in["link"]) as browser:
        answer = browser.get(f"/dinas/kemitraan.xlsx?{YEAR}&estate=jababeka")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "kemitraan_2025-12-01_2026-11-30_jababeka.xlsx" in answer.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(answer.content))
    rows = list(book["Kemitraan"].iter_rows(min_row=2, values_only=True))
    assert sorted(row[6] for row in rows) == sorted(award.value for award in awards)
    assert book["Per perusahaan"].cell(row=book["Per perusahaan"].max_row, column=5).value == sum(
        award.value for award in awards
    )
    with transaction(site.app.database) as session:
        logged = session.exec(select(ExportLog)).all()
        assert [(log.what, log.rows, log.officer_phone) for log in logged] == [
            ("ledger", len(awards), "+6281100000002")
        ]


def test_the_print_view_is_a_letter_attachment(site, signed_in) -> None:
    awards = _in_year("jababeka")
    with officer(site, signed_in["link"]) as browser:
        page = browser.get(f"/dinas/kemitraan/cetak?{YEAR}&estate=jababeka").text
        css = browser.get("/dinas/static/ledger-print.css").text
    assert "Dinas Perindustrian Kabupaten Bekasi" in page
    scope = by_id(page, "ledger-scope").words
    assert "1 Desember 2025 – 30 November 2026" in scope
    assert "Jababeka" in scope
    assert "Dibuat dari Sinergi IKM pada 22-11-2026 10:00" in by_id(page, "generated").words
    sections = [e for e in marked(page) if e.attrs.get("class") == "company"]
    assert len(sections) == len({award.company for award in awards})
    assert len(with_data(page, "partnership")) == len(awards)
    assert "ledger-print.css" in page
    assert "size: A4" in css
    assert "break-before: page" in css


@pytest.mark.parametrize("path", ["/dinas/kemitraan", "/dinas/kemitraan/cetak"])
def test_a_partner_named_script_shows_as_typed(site, signed_in, path) -> None:
    with officer(site, signed_in["link"]) as browser:
        page = browser.get(f"{path}?{YEAR}").text
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#34;ikm&#34;)&lt;/script&gt;" in page
    names = {element.words for element in marked(page)}
    assert any(SCRIPT_NAME in words for words in names)


def test_filters_that_cannot_be_read_are_said_and_left_out(site, signed_in) -> None:
    with officer(site, signed_in["link"]) as browser:
        page = browser.get('/dinas/kemitraan?from=kemarin&estate="><b>x').text
    assert "Tanggal awal tidak terbaca" in page
    assert "Kawasan tidak dikenal" in page
    assert '"><b>x' not in page
    assert len(with_data(page, "partnership")) == len(PARTNERSHIPS)
