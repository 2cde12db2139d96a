"""The domain's reference data (KBLI sectors, kecamatan, estates), read from bot/data."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from bot.parsing.fuzzy import Match, pick_one, rank_choices

DATA_FILE = Path(__file__).with_name("data") / "reference.toml"
KECAMATAN_CUTOFF = 70


@dataclass(frozen=True)
class Sector:
    code: str
    labels: dict[str, str]
    descriptions: dict[str, str]
    keywords: tuple[str, ...]

    def label(self, language: str) -> str:
        return self.labels.get(language) or self.labels["id"]

    def description(self, language: str) -> str:
        return self.descriptions.get(language) or self.descriptions["id"]


@dataclass(frozen=True)
class Estate:
    key: str
    label: str


@dataclass(frozen=True)
class Reference:
    sectors: tuple[Sector, ...]
    kecamatan: tuple[str, ...]
    estates: tuple[Estate, ...]

    def sector(self, code: str) -> Sector | None:
        return next((sector for sector in self.sectors if sector.code == code), None)

    def estate(self, key: str) -> Estate | None:
        return next((estate for estate in self.estates if estate.key == key), None)

    def find_sector(self, text: str) -> Sector | None:
        """A sector from a typed division number ("14") or a name or keyword ("boneka")."""
        typed = text.strip().lower().removeprefix("kbli").strip()
        if typed.isdigit():
            return self.sector(typed.zfill(2))
        choices = {
            sector.code: [*sector.labels.values(), *sector.keywords] for sector in self.sectors
        }
        match = pick_one(text, choices)
        return self.sector(match.key) if match else None

    def find_kecamatan(self, text: str) -> tuple[str | None, list[str]]:
        """The kecamatan meant by `text`, or None and the closest candidates to offer."""
        choices = {name: [name] for name in self.kecamatan}
        match = pick_one(text, choices)
        if match:
            return match.key, []
        # Only close spellings are offered: "Bandung" must not become "Cabangbungin?".
        candidates: list[Match] = rank_choices(text, choices, limit=5, cutoff=KECAMATAN_CUTOFF)
        return None, [candidate.key for candidate in candidates]


@cache
def load_reference(path: Path = DATA_FILE) -> Reference:
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    sectors = tuple(
        Sector(
            code=item["code"],
            labels=dict(item["label"]),
            descriptions=dict(item["description"]),
            keywords=tuple(item.get("keywords", ())),
        )
        for item in raw["sector"]
    )
    estates = tuple(Estate(key=item["key"], label=item["label"]) for item in raw["estate"])
    return Reference(sectors=sectors, kecamatan=tuple(raw["kecamatan"]["names"]), estates=estates)
