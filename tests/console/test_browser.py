"""The console in a real browser (Debian's headless Chromium through Selenium): sign in
through the link the bot sent, open every page, act, and save screenshots at phone and
desktop widths."""

from __future__ import annotations

from pathlib import Path

from tests.console.site import Site

PHONE = (390, 844)
DESKTOP = (1366, 900)
SHOTS = Path(__file__).resolve().parents[2] / "docs"


def sign_in_with_browser(browser, link: str) -> None:
    """Open the link from the chat and press its button; wait for the overview."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(link)
    browser.find_element(By.ID, "sign-in").click()
    WebDriverWait(browser, 30).until(expected_conditions.url_matches(r"/dinas/$"))


async def test_an_officer_signs_in_and_sees_the_overview(site: Site, browser, tmp_path) -> None:
    from selenium.webdriver.common.by import By

    sign_in_with_browser(browser, await site.link())
    assert browser.current_url == f"{site.url}/dinas/"
    figures = browser.find_elements(By.CSS_SELECTOR, "[data-figure]")
    assert len(figures) == 12
    assert len(browser.find_elements(By.CSS_SELECTOR, "figure.chart svg")) == 5
    for name, (width, height) in (("phone", PHONE), ("desktop", DESKTOP)):
        browser.set_window_size(width, height)
        assert browser.save_screenshot(str(tmp_path / f"overview-{name}.png"))
