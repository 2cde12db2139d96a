"""Every refusal in the catalogs is short: at most 200 characters once its values are in.

A refusal is the text of a `Retry` (or of an `Invalid` a parser raises): what was not
understood and one example, with the question's options again as buttons (issue 12). The
keys used that way are found in the code where refusals are made, so a new one is checked
without being listed here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.core.i18n import LANGUAGES, Catalog

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 200
KEY = r'"([a-z_]+(?:\.[a-z_]+)+)"'
# Where a catalog key becomes a refusal: Retry(ctx.t("k")), Invalid(ctx.t("k")), the
# step builders' error_key / invalid_key / none_key, and the parsers made from a key.
REFUSAL_SITES = re.compile(
    r"(?:(?:Retry|Invalid)\(\s*ctx\.t\(\s*"
    r"|(?:error|invalid|none)_key\s*=\s*"
    r"|text_parser\(\s*"
    r"|value_parser\([^,()]+(?:\([^()]*\))?,\s*"
    r"|_parser\(\s*)" + KEY
)
# The longest values people realistically see in each placeholder.
REALISTIC = {
    "max": 120,
    "limit": "Rp 1.000.000.000.000",
    "quantity": "1.250.000 pasang",
    "unit": "pasang",
    "when": "Jumat, 12 Maret 2027 pukul 09.00",
    "role": "Perusahaan",
    "who": "perusahaan terverifikasi",
}


def refusal_keys(catalog: Catalog) -> set[str]:
    sources = [
        path.read_text(encoding="utf-8")
        for folder in ("bot", "handlers")
        for path in (ROOT / folder).rglob("*.py")
    ]
    found = {key for source in sources for key in REFUSAL_SITES.findall(source)}
    return found | {key for key in catalog.keys("id") if key.startswith("errors.")}


def test_the_scan_finds_the_refusals(catalog: Catalog) -> None:
    keys = refusal_keys(catalog)
    # The builders' and the parsers' keys are all found, not only the literal Retry calls.
    assert {"errors.choose_option", "company.sectors.none", "ikm.nib.invalid"} <= keys
    assert {"product.price.invalid", "need.deadline.after_delivery"} <= keys
    assert len(keys) >= 60
    assert keys <= catalog.keys("id"), keys - catalog.keys("id")


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_refusal_fits_200_characters(catalog: Catalog, language: str) -> None:
    too_long = {}
    for key in sorted(refusal_keys(catalog)):
        names = catalog.placeholders(language, key)
        assert names <= REALISTIC.keys(), f"{key}: give {names - REALISTIC.keys()} a value"
        text = catalog.get(language, key, **{name: REALISTIC[name] for name in names})
        if len(text) > LIMIT:
            too_long[key] = len(text)
    assert not too_long, f"refusals over {LIMIT} characters in {language}: {too_long}"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load()
