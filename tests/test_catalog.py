"""Every user-facing string is in both catalogs, with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.core.i18n import LANGUAGES, Catalog, MissingMessage
from bot.reference import load_reference
from handlers import build_registry

ROOT = Path(__file__).resolve().parent.parent
KEY_IN_CODE = re.compile(
    r"""
    \bt\(\s*"([a-z_]+\.[a-z_.0-9]+)"                                  # t("key")
    | catalog\.get\([^,()]+,\s*"([a-z_]+\.[a-z_.0-9]+)"                # catalog.get(lang, "key")
    | (?:ask|error_key|title|label_key)=\s*"([a-z_]+\.[a-z_.0-9]+)"  # ask="key" in step tables
    | \("[a-z_]+\.[a-z_.]+",\s*"([a-z_]+\.[a-z_.0-9]+)"\)           # ("step", "label.key")
    """,
    re.VERBOSE,
)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load()


def test_both_languages_have_the_same_keys(catalog: Catalog) -> None:
    assert catalog.keys("id") == catalog.keys("en")


def test_placeholders_match_across_languages(catalog: Catalog) -> None:
    for key in catalog.keys("id"):
        assert catalog.placeholders("id", key) == catalog.placeholders("en", key), key


def keys_used_in_code() -> set[str]:
    keys = set()
    for folder in ("bot", "handlers"):
        for path in (ROOT / folder).rglob("*.py"):
            for match in KEY_IN_CODE.finditer(path.read_text(encoding="utf-8")):
                keys.update(group for group in match.groups() if group)
    return keys


def test_every_key_the_code_uses_exists(catalog: Catalog) -> None:
    used = keys_used_in_code()
    assert len(used) > 100  # the scan itself works
    registry = build_registry()
    # step names ("ikm.nama") look like keys in the scan; they are not messages
    missing = {key for key in used if key not in catalog.keys("id") and not _is_step(registry, key)}
    assert missing == set()


def _is_step(registry, key: str) -> bool:
    try:
        registry.resolve(key)
    except LookupError:
        return False
    return True


def test_dynamic_keys_exist(catalog: Catalog) -> None:
    for language in LANGUAGES:
        for role in ("ikm", "company", "dinas", "admin"):
            catalog.get(language, f"roles.{role}")
        for role in ("guest", "ikm", "company", "dinas"):
            catalog.get(language, f"help.{role}")
        for status in ("pending", "verified", "rejected"):
            catalog.get(language, f"company.status.{status}")
        for other in LANGUAGES:
            catalog.get(language, f"account.language.{other}")


def test_unknown_key_is_an_error_not_a_blank(catalog: Catalog) -> None:
    with pytest.raises(MissingMessage):
        catalog.get("id", "no.such.key")


def test_option_labels_fit_whatsapp_list_rows() -> None:
    reference = load_reference()
    for sector in reference.sectors:
        for language in LANGUAGES:
            assert len(sector.label(language)) <= 24, sector.label(language)
    assert len(reference.kecamatan) == 23
    assert len({s.code for s in reference.sectors}) == len(reference.sectors)
