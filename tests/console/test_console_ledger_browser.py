"""The ledger, needs, bimtek and announcements pages in a real browser (Debian's headless
Chromium through Selenium): signed in with the bot's link, every page opened, the ledger's
XLSX downloaded by a click and read back, the print view printed to PDF one company a page,
and screenshots at phone and desktop widths. With `SINERGI_DOCS_SCREENSHOTS=docs` the
desktop one is also written as the README's docs/console-ledger.png."""

from __future__ import annotations

import base64
import io
import os
import re
import shutil
from pathlib import Path
from threading import Event

import openpyxl
from sqlmodel import select

from models import BimtekSession, Need
from models.db import transaction
from tests.console.site import Site
from tests.console.test_browser import DESKTOP, DOCS_ENV, PHONE, sign_in_with_browser
from tests.ledger_history import COMPANIES, PARTNERSHIPS, YEAR_END, YEAR_START, seed_ledger
from tests.stats_history import seed_history

ROOT = Path(__file__).resolve().parents[2]
YEAR = f"from={YEAR_START.isoformat()}&to={YEAR_END.isoformat()}"


def _downloaded(folder: Path, suffix: str) -> Path:
    """The finished download, waited for at most 30 s (Chromium writes .crdownload first)."""
    for _ in range(300):
        done = [path for path in folder.iterdir() if path.name.endswith(suffix)]
        if done:
            return done[0]
        Event().wait(0.1)
    raise AssertionError(f"nothing ending in {suffix} downloaded to {folder}")


def _ids(site: Site) -> tuple[int, int]:
    with transaction(site.app.database) as session:
        need = session.exec(select(Need.id).order_by(Need.id)).first()
        bimtek = session.exec(select(BimtekSession.id).order_by(BimtekSession.id)).first()
    return need, bimtek


async def test_the_ledger_and_its_pages_in_a_browser(site: Site, browser, tmp_path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.print_page_options import PrintOptions

    seed_ledger(site.app.database)
    sign_in_with_browser(browser, await site.link())

    browser.get(f"{site.url}/dinas/kemitraan?{YEAR}")
    in_year = [award for award in PARTNERSHIPS if YEAR_START <= award.day <= YEAR_END]
    rows = browser.find_elements(By.CSS_SELECTOR, "[data-partnership]")
    assert len(rows) == len(in_year)
    assert '<script>alert("ikm")</script>' in browser.find_element(By.ID, "rows").text
    for name, (width, height) in (("phone", PHONE), ("desktop", DESKTOP)):
        browser.set_window_size(width, height)
        shot = tmp_path / f"console-ledger-{name}.png"
        assert browser.save_screenshot(str(shot))
        assert shot.read_bytes().startswith(b"\x89PNG")
    if os.environ.get(DOCS_ENV):
        docs = ROOT / os.environ[DOCS_ENV]
        docs.mkdir(exist_ok=True)
        shutil.copy(tmp_path / "console-ledger-desktop.png", docs / "console-ledger.png")
    seed_history(site.app.database)  # after the picture: bimtek and needs of every state
    need_id, bimtek_id = _ids(site)

    browser.get(f"{site.url}/dinas/kemitraan?{YEAR}&estate=jababeka")
    browser.find_element(By.ID, "ledger-xlsx").click()
    workbook = openpyxl.load_workbook(
        io.BytesIO(_downloaded(browser.downloads, ".xlsx").read_bytes())
    )
    read = list(workbook["Kemitraan"].iter_rows(min_row=2, values_only=True))
    assert {row[1] for row in read} == {"Jababeka"}
    assert {name for name, estate in COMPANIES if estate == "jababeka"} <= {row[0] for row in read}

    browser.find_element(By.ID, "ledger-print").click()
    assert "/dinas/kemitraan/cetak" in browser.current_url
    sections = browser.find_elements(By.CSS_SELECTOR, "section.company")
    options = PrintOptions()
    options.page_width, options.page_height = 21.0, 29.7  # A4, in centimetres
    pdf = base64.b64decode(browser.print_page(options))
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages >= len(sections) >= 2  # one company a page at least

    for path, marker in (
        ("/dinas/kebutuhan", "[data-need]"),
        (f"/dinas/kebutuhan/{need_id}", "#need-company"),
        ("/dinas/bimtek", "[data-bimtek]"),
        (f"/dinas/bimtek/{bimtek_id}", "#checkin-form"),
        ("/dinas/pengumuman", "h1"),
        ("/dinas/registri", "#registry-upload"),
    ):
        browser.get(f"{site.url}{path}")
        assert browser.find_elements(By.CSS_SELECTOR, marker), path
        assert "Internal Server Error" not in browser.page_source
