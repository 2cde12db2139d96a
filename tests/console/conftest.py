"""Fixtures for the console's tests: a running site, and a headless Chromium driving it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import Settings
from bot.core.clock import FixedClock
from tests.console.site import Site, running_site

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


@pytest.fixture
def site(settings: Settings, clock: FixedClock) -> Iterator[Site]:
    with running_site(settings, clock) as running:
        yield running


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[object]:
    """Debian's Chromium, headless, through Debian's chromedriver: nothing is downloaded."""
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        pytest.skip("browser tests need Debian's chromium and chromium-driver (apt-get install)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(argument)
    options.add_argument("--window-size=1366,900")
    options.add_experimental_option(
        "prefs",
        {"download.default_directory": str(downloads), "download.prompt_for_download": False},
    )
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.downloads = downloads  # where the tests look for what was downloaded
    driver.implicitly_wait(10)  # an element of a page still loading is waited for, bounded
    try:
        yield driver
    finally:
        driver.quit()
