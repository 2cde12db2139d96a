"""The domain's reference data (KBLI sectors, kecamatan, estates), read from bot/data."""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path

from bot.parsing.fuzzy import Match, normalise, pick_one, rank_choices
from bot.parsing.keywords import Vocabulary

DATA_FILE = Path(__file__).with_name("data") / "reference.toml"
WILAYAH_FILE = Path(__file__).with_name("data") / "wilayah_bekasi.toml"
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
    kecamatan: str | None = None  # where it lies; None for "lainnya"
    aliases: tuple[str, ...] = ()  # what people call it besides its label ("jbbk")


@dataclass(frozen=True)
class Reference:
    sectors: tuple[Sector, ...]
    kecamatan: tuple[str, ...]
    estates: tuple[Estate, ...]
    centres: dict[str, tuple[float, float]] = field(default_factory=dict)  # kecamatan -> lat, lon
    synonyms: tuple[tuple[str, ...], ...] = ()
    stopwords: tuple[str, ...] = ()
    kecamatan_aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    desa: dict[str, str] = field(default_factory=dict)  # desa or kelurahan -> its kecamatan

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

    def distance_km(self, kecamatan_a: str, kecamatan_b: str) -> float | None:
        """Straight-line distance between two kecamatan's centres; None if one is unknown."""
        a, b = self.centres.get(kecamatan_a), self.centres.get(kecamatan_b)
        if a is None or b is None:
            return None
        return _haversine_km(a, b)

    def estate_named(self, text: str) -> Estate | None:
        """The estate `text` names exactly, by its label or what people call it ("jbbk")."""
        folded = normalise(text)
        for estate in self.estates:
            names = (estate.label, *estate.label.split("/"), *estate.aliases)
            if estate.kecamatan and folded in {normalise(name) for name in names}:
                return estate
        return None

    def place_kecamatan(self, text: str) -> str | None:
        """The kecamatan a typed place lies in: an estate's ("kirim ke Jababeka") or a named one."""
        named = self.estate_named(text)
        if named is not None:
            return named.kecamatan
        folded = text.casefold()
        for estate in self.estates:
            if estate.kecamatan and estate.label.casefold().split("/")[0] in folded:
                return estate.kecamatan
        for name in sorted(self.kecamatan, key=len, reverse=True):
            if name.casefold() in folded:
                return name
        found, _ = self.find_kecamatan(text)
        return found

    def kecamatan_named(self, folded: str) -> str | None:
        """The kecamatan whose name or alias is `folded` (normalised; spaces do not count)."""
        return self._kecamatan_by_compact_name.get(folded.replace(" ", ""))

    def kecamatan_starting(self, folded: str) -> list[str]:
        """Kecamatan whose name begins with the words `folded` ("cikarang", "tambun")."""
        return [
            name
            for name in self.kecamatan
            if len(name.split()) > 1 and normalise(name).startswith(f"{folded} ")
        ]

    def desa_named(self, folded: str) -> tuple[str, str] | None:
        """(desa, kecamatan) for a desa or kelurahan named exactly (spaces do not count)."""
        return self._desa_by_compact_name.get(folded.replace(" ", ""))

    # Looked up for every place typed: the 187 desa and the kecamatan's names are folded once.
    @cached_property
    def _kecamatan_by_compact_name(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for name, names in self.kecamatan_choices().items():
            for said in names:
                found.setdefault(_compact(said), name)
        return found

    @cached_property
    def _desa_by_compact_name(self) -> dict[str, tuple[str, str]]:
        found: dict[str, tuple[str, str]] = {}
        for desa, kecamatan in self.desa.items():
            found.setdefault(_compact(desa), (desa, kecamatan))
        return found

    def sector_aliases(self) -> dict[str, tuple[str, ...]]:
        """What people call each sector besides its label, keyed by its code."""
        return {sector.code: (*sector.labels.values(), *sector.keywords) for sector in self.sectors}

    def estate_aliases(self) -> dict[str, tuple[str, ...]]:
        return {estate.key: estate.aliases for estate in self.estates}

    def kecamatan_choices(self) -> dict[str, list[str]]:
        return {name: [name, *self.kecamatan_aliases.get(name, ())] for name in self.kecamatan}

    def desa_choices(self) -> dict[str, list[str]]:
        """Desa keyed "desa|kecamatan", for fuzzy matching."""
        return {f"{desa}|{kecamatan}": [desa] for desa, kecamatan in self.desa.items()}

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
    estates = tuple(
        Estate(
            key=item["key"],
            label=item["label"],
            kecamatan=item.get("kecamatan"),
            aliases=tuple(item.get("aliases", ())),
        )
        for item in raw["estate"]
    )
    centres = {name: (lat, lon) for name, (lat, lon) in raw["kecamatan"]["centre"].items()}
    return Reference(
        sectors=sectors,
        kecamatan=tuple(raw["kecamatan"]["names"]),
        estates=estates,
        centres=centres,
        synonyms=tuple(tuple(group) for group in raw["matching"]["synonyms"]),
        stopwords=tuple(raw["matching"]["stopwords"]),
        kecamatan_aliases={
            name: tuple(aliases) for name, aliases in raw["kecamatan"]["aliases"].items()
        },
        desa=_desa_by_kecamatan(raw["kecamatan"]["names"]),
    )


def _desa_by_kecamatan(kecamatan: list[str]) -> dict[str, str]:
    """Every desa and kelurahan of the regency with its kecamatan, named as reference.toml
    names them (the decree writes "Karang Bahagia" where we write "Karangbahagia")."""
    ours = {name.replace(" ", "").casefold(): name for name in kecamatan}
    wilayah = tomllib.loads(WILAYAH_FILE.read_text(encoding="utf-8"))
    return {
        desa["name"]: ours[entry["name"].replace(" ", "").casefold()]
        for entry in wilayah["kecamatan"]
        for desa in entry["desa"]
    }


EARTH_RADIUS_KM = 6371.0


def _haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


@cache
def load_vocabulary() -> Vocabulary:
    """Keyword extraction with the trade's synonyms from the reference data."""
    reference = load_reference()
    return Vocabulary(reference.synonyms, reference.stopwords)


def _compact(name: str) -> str:
    return normalise(name).replace(" ", "")
