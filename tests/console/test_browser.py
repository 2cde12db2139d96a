"""The console in a real browser (Debian's headless Chromium through Selenium): sign in
through the link the bot sent, open every page, approve a company, download the export and
read it back, with screenshots at phone and desktop widths.

`SINERGI_DOCS_SCREENSHOTS=docs pytest tests/console/test_browser.py` also writes the
README's pictures, docs/console-overview.png and docs/console-chart.png.
"""

from __future__ import annotations

import os
from pathlib import Path

from openpyxl import load_workbook
from sqlmodel import Session, select

from bot.config import Settings
from bot.core.clock import FixedClock
from models import Company, CompanyStatus, ExportLog
from tests.console.site import Site, running_site
from tests.stats_history import seed_history

PHONE = (390, 844)
DESKTOP = (1366, 900)
WAITING_COMPANY = "PT Elektronika Mitra Cikarang"
DOCS_ENV = "SINERGI_DOCS_SCREENSHOTS"
WAIT_SECONDS = 30


def _wait(browser, condition) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, WAIT_SECONDS).until(condition)


def sign_in_with_browser(browser, link: str) -> None:
    """Open the link from the chat and press its button; wait for the overview."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions

    browser.get(link)
    browser.find_element(By.ID, "sign-in").click()
    _wait(browser, expected_conditions.url_matches(r"/dinas/$"))


def screenshots(browser, folder: Path, name: str) -> None:
    """The page at a phone's width and at a desktop's, whole height."""
    for width_name, (width, height) in (("phone", PHONE), ("desktop", DESKTOP)):
        browser.set_window_size(width, height)
        full = browser.execute_script("return document.documentElement.scrollHeight")
        browser.set_window_size(width, max(height, min(full, 6000)))
        assert browser.save_screenshot(str(folder / f"{name}-{width_name}.png"))
    browser.set_window_size(*DESKTOP)


def _drawn(browser, picture) -> bool:
    """The picture has arrived and was decoded (an SVG that failed has no natural width)."""
    return browser.execute_script(
        "return arguments[0].complete && arguments[0].naturalWidth > 0", picture
    )


def no_horizontal_scroll(browser) -> bool:
    return browser.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth + 1"
    )


def _docs_pictures(browser, site: Site) -> None:
    """The README's pictures: the overview (desktop) and one chart (phone)."""
    folder = os.environ.get(DOCS_ENV)
    if not folder:
        return
    from selenium.webdriver.common.by import By

    browser.get(f"{site.url}/dinas/")
    browser.set_window_size(DESKTOP[0], 1800)
    charts = browser.find_elements(By.CSS_SELECTOR, "figure.chart img")
    _wait(browser, lambda _: all(_drawn(browser, chart) for chart in charts))
    browser.save_screenshot(str(Path(folder) / "console-overview.png"))
    browser.get(f"{site.url}/dinas/grafik/ikm_by_kecamatan")
    browser.set_window_size(PHONE[0], 900)
    browser.save_screenshot(str(Path(folder) / "console-chart.png"))
    browser.set_window_size(*DESKTOP)


async def test_an_officer_works_through_every_page_in_a_browser(
    settings: Settings, clock: FixedClock, browser, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions

    shots = tmp_path / "screenshots"
    shots.mkdir()
    with running_site(settings, clock) as site:
        seed_history(site.app.database)  # a year of needs, offers, awards and bimtek
        sign_in_with_browser(browser, await site.link())

        assert len(browser.find_elements(By.CSS_SELECTOR, "[data-figure]")) == 12
        charts = browser.find_elements(By.CSS_SELECTOR, "figure.chart img")
        assert len(charts) == 5
        _wait(browser, lambda _: all(_drawn(browser, chart) for chart in charts))
        screenshots(browser, shots, "overview")
        browser.set_window_size(*PHONE)
        assert no_horizontal_scroll(browser)
        browser.set_window_size(*DESKTOP)

        browser.find_element(By.CSS_SELECTOR, "#chart-ikm_by_kecamatan figcaption a").click()
        _wait(browser, expected_conditions.url_contains("/dinas/grafik/ikm_by_kecamatan"))
        _wait(
            browser,
            expected_conditions.text_to_be_present_in_element(
                (By.CSS_SELECTOR, "figure.single svg"), "IKM per kecamatan"
            ),
        )
        screenshots(browser, shots, "chart")

        browser.find_element(By.LINK_TEXT, "IKM").click()
        _wait(browser, expected_conditions.url_contains("/dinas/ikm"))
        browser.find_element(By.NAME, "q").send_keys("boneka")
        browser.find_element(By.CSS_SELECTOR, ".filters button").click()
        _wait(browser, expected_conditions.url_contains("q=boneka"))
        rows = browser.find_elements(By.CSS_SELECTOR, "#ikm-list tbody tr")
        assert rows and all("boneka" in row.text.lower() for row in rows)
        screenshots(browser, shots, "ikm-list")
        browser.find_element(By.PARTIAL_LINK_TEXT, "Boneka Berkah").click()
        _wait(browser, expected_conditions.presence_of_element_located((By.ID, "products")))
        assert "Boneka karakter" in browser.find_element(By.ID, "products").text
        screenshots(browser, shots, "ikm-detail")

        browser.find_element(By.LINK_TEXT, "Perusahaan").click()
        _wait(browser, expected_conditions.presence_of_element_located((By.ID, "queue")))
        screenshots(browser, shots, "companies")
        browser.find_element(By.CSS_SELECTOR, "#queue").find_element(
            By.PARTIAL_LINK_TEXT, WAITING_COMPANY
        ).click()
        _wait(browser, expected_conditions.presence_of_element_located((By.ID, "approve")))
        screenshots(browser, shots, "company-detail")
        browser.find_element(By.ID, "approve").click()
        _wait(browser, expected_conditions.presence_of_element_located((By.ID, "notice")))
        assert "sudah diverifikasi" in browser.find_element(By.ID, "notice").text
        with Session(site.app.database) as session:
            company = session.exec(select(Company).where(Company.name == WAITING_COMPANY)).one()
            assert company.status == CompanyStatus.VERIFIED

        browser.execute_cdp_cmd(
            "Page.setDownloadBehavior",
            {"behavior": "allow", "downloadPath": str(browser.downloads)},
        )
        browser.find_element(By.LINK_TEXT, "Ekspor").click()
        _wait(browser, expected_conditions.presence_of_element_located((By.ID, "download")))
        screenshots(browser, shots, "exports")
        browser.find_element(By.ID, "download").click()
        _wait(browser, lambda _: list(browser.downloads.glob("*.xlsx")))
        workbook = load_workbook(next(browser.downloads.glob("*.xlsx")))
        assert "Perusahaan" in workbook.sheetnames
        rows = list(workbook["Perusahaan"].iter_rows(values_only=True))
        assert any(WAITING_COMPANY in row for row in rows)
        with Session(site.app.database) as session:
            assert session.exec(select(ExportLog.what)).all() == ["xlsx:all:web"]

        _docs_pictures(browser, site)

        browser.find_element(By.CSS_SELECTOR, ".signout button").click()
        _wait(browser, expected_conditions.url_contains("/dinas/keluar"))
        browser.get(f"{site.url}/dinas/")
        assert browser.current_url.endswith("/dinas/masuk")
    taken = sorted(path.name for path in shots.iterdir())
    assert len(taken) == 14 and "overview-phone.png" in taken
