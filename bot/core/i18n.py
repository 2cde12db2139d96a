"""The message catalog: every user-facing string, by key, in Bahasa Indonesia and English."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from string import Formatter

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = "id"


class MissingMessage(KeyError):
    """A key that no catalog has: a programming error, caught by the catalog tests."""


def _flatten(table: Mapping[str, object], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, dotted + "."))
        else:
            flat[dotted] = str(value)
    return flat


class Catalog:
    """All languages' messages, loaded once and shared (read-only)."""

    def __init__(self, messages: Mapping[str, Mapping[str, str]]) -> None:
        self._messages = messages

    @classmethod
    def load(cls, directory: Path = LOCALES_DIR) -> Catalog:
        messages = {}
        for language in LANGUAGES:
            path = directory / f"{language}.toml"
            messages[language] = _flatten(tomllib.loads(path.read_text(encoding="utf-8")))
        return cls(messages)

    def keys(self, language: str) -> set[str]:
        return set(self._messages[language])

    def get(self, language: str, key: str, /, **params: object) -> str:
        template = self._messages.get(language, {}).get(key)
        if template is None:
            template = self._messages[DEFAULT_LANGUAGE].get(key)
        if template is None:
            raise MissingMessage(key)
        return template.format(**params) if params else template

    def all_variants(self, key: str) -> list[str]:
        """The message in every language (for words a person may type in either)."""
        return [self._messages[lang][key] for lang in LANGUAGES if key in self._messages[lang]]

    def placeholders(self, language: str, key: str) -> set[str]:
        template = self._messages[language][key]
        return {name for _, name, _, _ in Formatter().parse(template) if name}

    def translator(self, language: str) -> Translator:
        return Translator(self, language if language in LANGUAGES else DEFAULT_LANGUAGE)


class Translator:
    """The catalog bound to one person's language: `t("menu.title")`."""

    def __init__(self, catalog: Catalog, language: str) -> None:
        self.catalog = catalog
        self.language = language

    def __call__(self, key: str, /, **params: object) -> str:
        return self.catalog.get(self.language, key, **params)
