"""A realistic Dinas registry of IKM as a workbook, with the mess real lists have.

    python tests/registry_workbook.py daftar.xlsx [--rows 1400] [--seed 14] [--corrected] [--csv]

A title row and group headings merged above the table, phone numbers stored as numbers
(their leading 0 lost), `+62`/`62`/`08` mixed, two numbers in one cell, blank rows, a total
row at the bottom, trailing spaces, kecamatan in mixed case and abbreviated ("Cik. Barat",
"Tamsel", a desa where the kecamatan should be). Seeded: the same arguments give the same
file. `write_registry` returns what each row means and every fault it planted, so a test
can check an import's report against it; `corrected=True` gives the list as the Dinas sends
it again later (phones fixed, some names and worker counts changed, rows added).

Faults are planted one per row: no phone, invalid phone, duplicate of an earlier row,
the number of an IKM registered in the chat (the demo data's: load it first), unknown
kecamatan.
"""

from __future__ import annotations

import argparse
import csv
import random
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import Workbook

ROOT = Path(__file__).resolve().parent.parent
WILAYAH = ROOT / "bot" / "data" / "wilayah_bekasi.toml"

# The demo data's IKM (bot/demo.py): registered in the chat, so the registry's rows with
# their numbers or NIB are duplicates of an existing IKM.
REGISTERED_PHONES = ("+6281200000001", "+6281200000002", "+6281200000004", "+6281200000005")
REGISTERED_NIB = "9120001234567"

HEADINGS_TOP = [
    "No",
    "Nama Usaha",
    "Nama Pemilik",
    "Alamat",
    None,
    None,
    "No. HP / WA",
    "KBLI",
    "Bidang Usaha",
    "Produk / Komoditi",
    "NIB",
    "Tenaga Kerja",
    "Tahun Berdiri",
]
HEADINGS_BELOW = [None, None, None, "Jalan / Kampung", "Desa/Kelurahan", "Kecamatan", *[None] * 7]
PHONE_COLUMN = 6
FIRST_DATA_ROW = 6

# (name word, Bidang as the Dinas writes it, KBLI code, products)
TRADES = [
    ("Boneka", "Mainan/Boneka", "32401", "boneka karakter, boneka wisuda"),
    ("Konveksi", "Konveksi", "14111", "seragam kerja, kaos"),
    ("Kerupuk", "Makanan Ringan", "10794", "kerupuk udang, kerupuk kulit"),
    ("Keripik", "Makanan Ringan", "10794", "keripik singkong, keripik tempe"),
    ("Kue", "Makanan", "10710", "kue kering, roti manis"),
    ("Mebel", "Furniture", "31001", "lemari, meja, kursi kayu"),
    ("Sepatu", "Alas Kaki", "15201", "sepatu kulit, sepatu safety"),
    ("Sarung Tangan", "Konveksi", "14120", "sarung tangan kerja"),
    ("Bengkel Las", "Logam", "25119", "pagar besi, kanopi, teralis"),
    ("Bubut", "Logam", "25920", "komponen bubut, baut"),
    ("Batik", "Tekstil", "13134", "batik cap, batik tulis"),
    ("Tas", "Kulit", "15121", "tas, dompet"),
    ("Sablon", "Percetakan", "18111", "sablon kaos, cetak label"),
    ("Sabun", "Kimia", "20231", "sabun cair, deterjen"),
    ("Anyaman Bambu", "Kayu & Anyaman", "16293", "besek, anyaman bambu"),
    ("Sambal", "Makanan", "10793", "sambal botol"),
    ("Keset", "Tekstil", "13929", "keset, karpet"),
    ("Paving", "Bahan Galian Bukan Logam", "23953", "paving block, batako"),
]
NAME_WORDS = [
    "Berkah",
    "Barokah",
    "Sinar Jaya",
    "Mandiri",
    "Sumber Rejeki",
    "Maju Jaya",
    "Putra",
    "Putri",
    "Lestari",
    "Makmur",
    "Sejahtera",
    "Abadi",
    "Bu Ani",
    "Pak Udin",
    "Mang Ujang",
    "Al Ikhlas",
    "Cahaya",
    "Sentosa",
    "Karya",
    "Rizki",
    "Amanah",
    "Hikmah",
    "Jaya Abadi",
    "Setia",
    "Bintang",
    "Mekar",
    "Harapan",
    "Mulya",
    "Sari",
    "Indah",
]
FIRST_NAMES = [
    "Siti",
    "Ahmad",
    "Dedi",
    "Nur",
    "Agus",
    "Yuli",
    "Rudi",
    "Asep",
    "Euis",
    "Tati",
    "Ujang",
    "Dewi",
    "Wawan",
    "Iwan",
    "Neneng",
    "Entin",
    "Hendra",
    "Rina",
    "Sri",
    "Budi",
    "Lilis",
]
LAST_NAMES = [
    "Aminah",
    "Fauzi",
    "Kurniawan",
    "Hidayat",
    "Suryani",
    "Rohmah",
    "Saputra",
    "Maulana",
    "Nurhayati",
    "Setiawan",
    "Sopandi",
    "Rahmawati",
    "Hasanah",
    "Gunawan",
    "Supriatna",
]
MOBILE_PREFIXES = ["0812", "0813", "0821", "0852", "0857", "0878", "0896", "0838", "0819"]
KECAMATAN_ALIASES = {
    "Cikarang Barat": "Cikbar",
    "Cikarang Utara": "Cikut",
    "Cikarang Selatan": "Ciksel",
    "Tambun Selatan": "Tamsel",
    "Tambun Utara": "Tamut",
    "Serang Baru": "Serbar",
    "Karangbahagia": "Karbah",
    "Kedungwaringin": "Kedwar",
    "Muaragembong": "Muara Gembong",
}
DOTTED = {"Cikarang": "Cik.", "Tambun": "Tamb."}
UNKNOWN_KECAMATAN = ["Bekasi Timur", "Karawang Barat", "Jakarta Timur", "Rawalumbu", "Bantargebang"]
INVALID_PHONES = ["0812-345", "08xx-xxxx-xxxx", "12345", "0812 3456", "021-88", "62 8"]


@dataclass
class Entry:
    """One business row as the sheet shows it and what it means."""

    row: int  # its row in the sheet (1-based)
    values: dict[str, object]  # what an import should read: E.164 phones, kecamatan by name
    cells: list[object]
    fault: tuple[str, str] | None = None  # (reason, detail) the report should give


@dataclass
class Registry:
    path: Path
    entries: list[Entry]
    blank_rows: int
    faults: dict[int, tuple[str, str]] = field(default_factory=dict)  # row -> (reason, detail)
    # Only in the corrected list: what changed, by row.
    phones_fixed: dict[int, str] = field(default_factory=dict)
    renamed: dict[int, str] = field(default_factory=dict)
    workers_changed: dict[int, int] = field(default_factory=dict)
    added: list[int] = field(default_factory=list)

    def entry(self, row: int) -> Entry:
        return next(entry for entry in self.entries if entry.row == row)


def write_registry(
    path: Path,
    *,
    rows: int = 1400,
    seed: int = 14,
    corrected: bool = False,
    fmt: str = "xlsx",
    phone_heading: str = "No. HP / WA",
) -> Registry:
    """Write the registry to `path` (XLSX, or CSV with `;`) and return what it holds."""
    maker = _Maker(random.Random(seed))
    entries = [maker.business() for _ in range(rows)]
    _plant_faults(entries, random.Random(seed + 1), maker)
    registry = Registry(path, entries, blank_rows=0)
    if corrected:
        _correct(registry, random.Random(seed + 2), maker)
    grid = _layout(registry, random.Random(seed + 3), phone_heading)
    if fmt == "csv":
        _write_csv(path, grid)
    else:
        _write_xlsx(path, grid)
    registry.faults = {entry.row: entry.fault for entry in registry.entries if entry.fault}
    return registry


class _Maker:
    """Businesses, each unique by phone, NIB and (name, desa)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        wilayah = tomllib.loads(WILAYAH.read_text(encoding="utf-8"))["kecamatan"]
        self.places = [
            (_our_kecamatan(item["name"]), desa["name"])
            for item in wilayah
            for desa in item["desa"]
        ]
        counts: dict[str, int] = {}
        for _, desa in self.places:
            counts[desa] = counts.get(desa, 0) + 1
        kecamatan_words = {word.casefold() for k, _ in self.places for word in k.split()}
        # A desa written in the kecamatan's column: only one that names no kecamatan.
        self.lone_desa = {
            desa
            for _, desa in self.places
            if counts[desa] == 1 and desa.split()[0].casefold() not in kecamatan_words
        }
        self.phones: set[str] = set(REGISTERED_PHONES)
        self.nibs: set[str] = {REGISTERED_NIB}
        self.names: set[tuple[str, str]] = set()

    def business(self) -> Entry:
        rng = self.rng
        trade = rng.choice(TRADES)
        kecamatan, desa = rng.choice(self.places)
        name = self.name(trade[0], desa)
        phone = self.phone()
        values: dict[str, object] = {
            "business_name": name,
            "owner_name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
            "address": self.address(),
            "desa": desa,
            "kecamatan": kecamatan,
            "sector": trade[2][:2],
            "kbli_code": None,
            "products": trade[3],
            "nib": self.nib() if rng.random() < 0.4 else None,
            "phone": phone,
            "phone_alt": self.phone() if rng.random() < 0.1 else None,
            "workers": rng.choice([None, rng.randint(1, 40)]),
            "founded_year": rng.choice([None, rng.randint(1985, 2025)]),
        }
        kbli_cell = rng.choice([int(trade[2]), trade[2], None, None])
        values["kbli_code"] = trade[2] if kbli_cell else None
        cells = [
            None,  # "No", numbered when laid out
            _spaced(rng, name),
            _spaced(rng, values["owner_name"]),
            values["address"],
            desa,
            self.kecamatan_cell(kecamatan),
            self.phone_cell(phone, values["phone_alt"]),
            kbli_cell,
            trade[1],
            trade[3],
            self.nib_cell(values["nib"]),
            self.workers_cell(values["workers"]),
            self.year_cell(values["founded_year"]),
        ]
        if cells[5] in self.lone_desa:
            cells[4] = None  # the desa moved into the kecamatan's column
        return Entry(0, values, cells)

    def name(self, word: str, desa: str) -> str:
        rng = self.rng
        for attempt in range(50):
            suffix = rng.choice(NAME_WORDS)
            form = rng.randrange(4)
            name = [
                f"{word} {suffix}",
                f"UD {word} {suffix}",
                f"CV {suffix}",
                f"{word} {suffix} {desa}",
            ][form]
            if attempt > 10:
                name = f"{name} {attempt}"
            if (name.casefold(), desa) not in self.names:
                self.names.add((name.casefold(), desa))
                return name
        raise AssertionError("no free name")

    def phone(self) -> str:
        while True:
            national = f"{self.rng.choice(MOBILE_PREFIXES)}{self.rng.randrange(10**8):08d}"
            e164 = f"+62{national[1:]}"
            if e164 not in self.phones:
                self.phones.add(e164)
                return e164

    def nib(self) -> str:
        while True:
            nib = f"91{self.rng.randrange(10**11):011d}"
            if nib not in self.nibs:
                self.nibs.add(nib)
                return nib

    def address(self) -> str:
        rng = self.rng
        if rng.random() < 0.5:
            return f"Kp. {rng.choice(NAME_WORDS)} RT 0{rng.randint(1, 9)}/0{rng.randint(1, 9)}"
        return f"Jl. Raya {rng.choice(NAME_WORDS)} No. {rng.randint(1, 200)}"

    def kecamatan_cell(self, kecamatan: str) -> str:
        rng = self.rng
        style = rng.random()
        first = kecamatan.split()[0]
        if style < 0.35:
            return kecamatan
        if style < 0.5:
            return kecamatan.upper()
        if style < 0.6:
            return f"{kecamatan.lower()} "
        if style < 0.7:
            return f"Kec. {kecamatan}"
        if style < 0.8 and kecamatan in KECAMATAN_ALIASES:
            return KECAMATAN_ALIASES[kecamatan]
        if style < 0.9 and first in DOTTED:
            return kecamatan.replace(first, DOTTED[first])
        return kecamatan

    def phone_cell(self, phone: str, alt: str | None) -> object:
        rng = self.rng
        national = f"0{phone[3:]}"
        if alt is not None:
            return f"{national} / 0{alt[3:]}"
        style = rng.random()
        if style < 0.35:
            return national
        if style < 0.55:
            return int(national)  # typed into a number cell: Excel dropped the 0
        if style < 0.65:
            return f"+62 {national[1:4]}-{national[4:8]}-{national[8:]}"
        if style < 0.75:
            return f"62{national[1:]}"
        if style < 0.8:
            return int(f"62{national[1:]}")
        return f"{national[:4]}-{national[4:8]}-{national[8:]} "

    def nib_cell(self, nib: str | None) -> object:
        if nib is None:
            return None
        return int(nib) if self.rng.random() < 0.5 else nib

    def workers_cell(self, workers: int | None) -> object:
        if workers is None:
            return None
        return workers if self.rng.random() < 0.6 else f"{workers} orang"

    def year_cell(self, year: int | None) -> object:
        if year is None:
            return None
        return year if self.rng.random() < 0.7 else f"Tahun {year}"


def _spaced(rng: random.Random, text: object) -> object:
    return f"{text}  " if rng.random() < 0.15 else text


def _our_kecamatan(decree_name: str) -> str:
    """The kecamatan as the bot names it ("Karang Bahagia" in the decree is "Karangbahagia")."""
    joined = {"Karang Bahagia": "Karangbahagia", "Kedung Waringin": "Kedungwaringin"}
    return joined.get(decree_name, decree_name)


def _plant_faults(entries: list[Entry], rng: random.Random, maker: _Maker) -> None:
    """One fault on each of a few rows chosen at random; duplicates copy an earlier clean row."""
    total = len(entries)
    share = total / 1400
    counts = {"no_phone": 30, "invalid_phone": 16, "unknown_kecamatan": 10, "duplicate_row": 12}
    plan = (
        ["no_phone"] * max(1, round(counts["no_phone"] * share))
        + ["invalid_phone"] * max(1, round(counts["invalid_phone"] * share))
        + ["duplicate_ikm"] * (len(REGISTERED_PHONES) + 1)
        + ["unknown_kecamatan"] * max(1, round(counts["unknown_kecamatan"] * share))
        # Last: each copies a row left clean.
        + ["duplicate_row"] * max(1, round(counts["duplicate_row"] * share))
    )
    chosen = rng.sample(range(min(20, total // 4), total), len(plan))
    for index, reason in zip(chosen, plan, strict=True):
        _plant(entries, index, reason, rng, maker)


def _plant(
    entries: list[Entry], index: int, reason: str, rng: random.Random, maker: _Maker
) -> None:
    entry = entries[index]
    cells, values = entry.cells, entry.values
    if reason == "no_phone":
        cells[PHONE_COLUMN] = rng.choice([None, "-", "", "belum ada"])
        values["phone"] = values["phone_alt"] = None
        entry.fault = ("no_phone", "")
    elif reason == "invalid_phone":
        cells[PHONE_COLUMN] = rng.choice(INVALID_PHONES)
        values["phone"] = values["phone_alt"] = None
        entry.fault = ("invalid_phone", str(cells[PHONE_COLUMN]))
    elif reason == "duplicate_row":
        original = _earlier_clean(entries, index, rng)
        entry.cells = list(original.cells)
        entry.values = dict(original.values)
        entry.fault = ("duplicate_row", original)  # type: ignore[assignment] - the row comes later
    elif reason == "duplicate_ikm":
        registered = [e for e in entries if e.fault and e.fault[0] == "duplicate_ikm"]
        if len(registered) < len(REGISTERED_PHONES):
            phone = REGISTERED_PHONES[len(registered)]
            cells[PHONE_COLUMN], values["phone"], values["phone_alt"] = f"0{phone[3:]}", phone, None
            entry.fault = ("duplicate_ikm", phone)
        else:
            cells[10], values["nib"] = REGISTERED_NIB, REGISTERED_NIB
            entry.fault = ("duplicate_ikm", f"NIB {REGISTERED_NIB}")
    else:
        unknown = rng.choice([*UNKNOWN_KECAMATAN, None])
        cells[5], values["kecamatan"] = unknown, None
        cells[4] = values["desa"] if unknown else None  # a blank one would be read from the desa
        values["desa"] = cells[4]
        entry.fault = ("unknown_kecamatan", unknown or "")


def _earlier_clean(entries: list[Entry], index: int, rng: random.Random) -> Entry:
    while True:
        candidate = entries[rng.randrange(index)]
        if candidate.fault is None and candidate.values["phone"]:
            return candidate


def _correct(registry: Registry, rng: random.Random, maker: _Maker) -> None:
    """The list as sent again: invalid phones fixed, some names and counts changed, rows added."""
    entries = registry.entries
    for position, entry in enumerate(entries):
        if entry.fault and entry.fault[0] == "invalid_phone":
            phone = maker.phone()
            entry.cells[PHONE_COLUMN], entry.values["phone"] = f"0{phone[3:]}", phone
            entry.fault = None
            registry.phones_fixed[position] = phone
    clean = [i for i, e in enumerate(entries) if e.fault is None and e.values["phone"]]
    clean = [i for i in clean if not _duplicated(entries, entries[i])]
    for position in rng.sample(clean, 20):
        entry = entries[position]
        name = maker.name(f"{rng.choice(TRADES)[0]} Baru", str(entry.values["desa"]))
        entry.cells[1], entry.values["business_name"] = name, name
        registry.renamed[position] = name
    for position in rng.sample([i for i in clean if i not in registry.renamed], 10):
        entry = entries[position]
        workers = int(entry.values["workers"] or 0) + 3
        entry.cells[11], entry.values["workers"] = workers, workers
        registry.workers_changed[position] = workers
    for _ in range(25):
        entries.append(maker.business())
        registry.added.append(len(entries) - 1)


def _duplicated(entries: list[Entry], original: Entry) -> bool:
    return any(
        e.fault and e.fault[0] == "duplicate_row" and e.fault[1] is original for e in entries
    )


def _layout(registry: Registry, rng: random.Random, phone_heading: str) -> list[list[object]]:
    """The sheet's rows: title, headings, data with blank rows between, the total row. Sets
    each entry's row and turns position-keyed changes into row-keyed ones."""
    width = len(HEADINGS_TOP)
    top = list(HEADINGS_TOP)
    top[PHONE_COLUMN] = phone_heading
    grid: list[list[object]] = [
        [
            "DATA INDUSTRI KECIL DAN MENENGAH (IKM) KABUPATEN BEKASI TAHUN 2025",
            *[None] * (width - 1),
        ],
        ["Dinas Perindustrian Kabupaten Bekasi", *[None] * (width - 1)],
        [None] * width,
        top,
        list(HEADINGS_BELOW),
    ]
    blank_after = set(rng.sample(range(len(registry.entries)), min(15, len(registry.entries))))
    for number, entry in enumerate(registry.entries, start=1):
        entry.row = len(grid) + 1
        entry.cells[0] = number
        grid.append(entry.cells)
        if number - 1 in blank_after:
            grid.append([None] * width)
            registry.blank_rows += 1
    for entry in registry.entries:
        if entry.fault and entry.fault[0] == "duplicate_row":
            entry.fault = ("duplicate_row", str(entry.fault[1].row))  # type: ignore[union-attr]
    workers = sum(int(e.values["workers"] or 0) for e in registry.entries)
    grid.append(
        ["JUMLAH", None, None, None, None, None, None, None, None, None, None, workers, None]
    )
    for changes in (registry.phones_fixed, registry.renamed, registry.workers_changed):
        moved = {registry.entries[position].row: value for position, value in changes.items()}
        changes.clear()
        changes.update(moved)
    registry.added[:] = [registry.entries[position].row for position in registry.added]
    return grid


def _write_xlsx(path: Path, grid: list[list[object]]) -> None:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Data IKM")
    last = chr(ord("A") + len(HEADINGS_TOP) - 1)
    for merged in (f"A1:{last}1", f"A2:{last}2", "D4:F4", f"A{len(grid)}:C{len(grid)}"):
        sheet.merged_cells.add(merged)
    for column, heading in enumerate(HEADINGS_TOP):
        if heading and column not in (3,):
            letter = chr(ord("A") + column)
            sheet.merged_cells.add(f"{letter}4:{letter}5")
    for row in grid:
        sheet.append(row)
    book.save(path)


def _write_csv(path: Path, grid: list[list[object]]) -> None:
    """As Excel set to Indonesian exports it: `;` between cells, numbers without leading 0."""
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        for row in grid:
            writer.writerow(["" if cell is None else cell for cell in row])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--rows", type=int, default=1400)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--corrected", action="store_true")
    parser.add_argument("--csv", action="store_true")
    args = parser.parse_args()
    made = write_registry(
        args.path,
        rows=args.rows,
        seed=args.seed,
        corrected=args.corrected,
        fmt="csv" if args.csv else "xlsx",
    )
    print(f"{args.path}: {len(made.entries)} baris IKM, {len(made.faults)} bermasalah")


if __name__ == "__main__":
    main()
