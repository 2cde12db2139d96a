"""`sinergi import ikm`, run as the Dinas runs it, on the generated 1,400-row registry.

The generator (tests/registry_workbook.py) says what it planted; the report must list
exactly those rows, and the records must hold what each row means.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.demo import load_demo_data
from bot.parsing.identity import format_phone
from bot.registry import FIELDS
from models import IkmProfile, Person, RegistryImport, RegistryRecord
from models.db import make_engine, transaction
from tests.conftest import START
from tests.registry_workbook import Registry, write_registry

ROOT = Path(__file__).resolve().parent.parent
SKIPPED = ("duplicate_row", "duplicate_ikm")


@pytest.fixture
def config(database_url: str, tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "{database_url}"\n', encoding="utf-8")
    return path


@pytest.fixture
def database(database_url: str):
    engine = make_engine(database_url)
    with transaction(engine) as session:  # IKM already registered in the chat
        load_demo_data(session, now=START)
    yield engine
    engine.dispose()


def sinergi(
    config: Path, *args: str, answer: str = "", code: int = 0
) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SINERGI_CONFIG")}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(config), *args],
        input=answer,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=240,
    )
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    return result


def report(path: Path) -> dict[int, tuple[str, str]]:
    """The report as {row: (reason codes, detail)}."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    lines = {int(row["baris"]): (row["kode"], row["keterangan"]) for row in rows}
    assert len(lines) == len(rows), "one line per row"
    return lines


def expected_report(made: Registry) -> dict[int, tuple[str, str]]:
    return {row: (reason, _detail(reason, detail)) for row, (reason, detail) in made.faults.items()}


def _detail(reason: str, detail: str) -> str:
    if reason == "duplicate_row":
        return f"sama dengan baris {detail}"
    if reason == "duplicate_ikm" and detail.startswith("+"):
        return format_phone(detail)
    return detail


def records(engine) -> dict[int, RegistryRecord]:
    with Session(engine) as session:
        return {r.source_row: r for r in session.exec(select(RegistryRecord))}


def imports(engine) -> list[RegistryImport]:
    with Session(engine) as session:
        return list(session.exec(select(RegistryImport)))


def kept_rows(made: Registry) -> dict[int, dict]:
    """What each row that becomes a record means, by its row."""
    return {
        entry.row: entry.values
        for entry in made.entries
        if not entry.fault or entry.fault[0] not in SKIPPED
    }


def test_registry_dry_run_import_again_and_corrected(config, database, tmp_path) -> None:
    made = write_registry(tmp_path / "daftar_ikm_2025.xlsx")
    listed = tmp_path / "daftar_ikm_2025-laporan.csv"

    first = sinergi(config, "import", "ikm", str(made.path))
    assert "belum pernah diimpor" in first.stderr and "Baris dibaca" in first.stderr
    assert report(listed) == expected_report(made)
    assert records(database) == {} and imports(database) == []  # a dry run writes nothing

    sinergi(config, "import", "ikm", str(made.path), "--yes")
    imported = records(database)
    assert len(imported) == 1400 - 12 - 5
    for row, values in kept_rows(made).items():
        record = imported[row]
        assert {name: getattr(record, name) for name in FIELDS} == values, row
        assert record.ikm_id is None and "daftar_ikm_2025.xlsx" in record.source
    snapshot = {row: (r.updated_at, r.imported_values) for row, r in imported.items()}

    again = sinergi(config, "import", "ikm", str(made.path), answer="y\n")
    assert "Tidak ada yang berubah" in again.stderr
    assert {row: (r.updated_at, r.imported_values) for row, r in records(database).items()} == (
        snapshot
    )
    assert report(listed) == expected_report(made)
    assert len(imports(database)) == 1

    corrected = write_registry(tmp_path / "daftar_ikm_2026.xlsx", corrected=True)
    renamed_row, recounted_row = sorted(corrected.renamed)[0], sorted(corrected.workers_changed)[0]
    owners = _claim(database, imported[renamed_row], imported[recounted_row])

    dry = sinergi(config, "import", "ikm", str(corrected.path))
    assert "belum pernah diimpor" in dry.stderr
    fixed_by_nib = {row for row in corrected.phones_fixed if corrected.entry(row).values["nib"]}
    to_confirm = set(corrected.phones_fixed) - fixed_by_nib
    lines = report(tmp_path / "daftar_ikm_2026-laporan.csv")
    assert {row for row, (codes, _) in lines.items() if codes == "name_match"} == to_confirm
    assert records(database)[renamed_row].business_name != corrected.renamed[renamed_row]

    sinergi(config, "import", "ikm", str(corrected.path), "--yes")
    after = records(database)
    assert len(after) == len(imported) + len(corrected.added)
    for row, name in corrected.renamed.items():
        assert after[row].business_name == name
    for row, workers in corrected.workers_changed.items():
        assert after[row].workers == workers
    for row, phone in corrected.phones_fixed.items():
        assert after[row].phone == (phone if row in fixed_by_nib else None)
    for row in corrected.added:
        assert after[row].business_name == corrected.entry(row).values["business_name"]
    with Session(database) as session:
        kept, recounted = (session.get(IkmProfile, ikm_id) for ikm_id in owners)
        assert kept.business_name == "Nama Pilihan Pemilik"  # changed in the chat: kept
        assert recounted.workers == corrected.workers_changed[recounted_row]

    sinergi(config, "import", "ikm", str(corrected.path), "--yes", "--accept-name-matches")
    for row, phone in corrected.phones_fixed.items():
        assert records(database)[row].phone == phone


def _claim(engine, *claimed: RegistryRecord) -> list[int]:
    """Records claimed by their owners as the claim flow does (a profile made from the
    record); the first owner then renamed the business in the chat."""
    ids = []
    with transaction(engine) as session:
        for number, record in enumerate(claimed):
            person = Person(phone=record.phone, name=record.owner_name, role="ikm")
            session.add(person)
            session.flush()
            profile = IkmProfile(
                person_id=person.id,
                owner_name=record.owner_name,
                business_name=record.business_name,
                sector=record.sector or "32",
                kecamatan=record.kecamatan or "Setu",
                desa=record.desa,
                nib=record.nib,
                workers=record.workers,
            )
            session.add(profile)
            session.flush()
            stored = session.get(RegistryRecord, record.id)
            stored.ikm_id, stored.claimed_at = profile.id, START + timedelta(days=1)
            if number == 0:
                profile.business_name = "Nama Pilihan Pemilik"
            ids.append(profile.id)
    return ids


def test_csv_export_with_semicolons_reads_like_the_workbook(config, database, tmp_path) -> None:
    made = write_registry(tmp_path / "daftar_ikm.csv", fmt="csv")
    sinergi(config, "import", "ikm", str(made.path), "--yes", "--source", "Daftar IKM 2025")
    assert report(tmp_path / "daftar_ikm-laporan.csv") == expected_report(made)
    imported = records(database)
    assert len(imported) == 1400 - 12 - 5
    for row, values in kept_rows(made).items():
        assert {name: getattr(imported[row], name) for name in FIELDS} == values, row
    assert {record.source for record in imported.values()} == {"Daftar IKM 2025"}


def test_map_names_a_heading_the_words_do_not_know(config, database, tmp_path) -> None:
    made = write_registry(tmp_path / "daftar.xlsx", rows=200, phone_heading="Nomer Seluler")
    unmapped = tmp_path / "tanpa-map.csv"
    sinergi(config, "import", "ikm", str(made.path), "--dry-run", "--report", str(unmapped))
    lines = report(unmapped)
    assert len(lines) == 200 and all("no_phone" in codes for codes, _ in lines.values())

    mapped = tmp_path / "dengan-map.csv"
    sinergi(
        config,
        "import",
        "ikm",
        str(made.path),
        "--dry-run",
        "--map",
        "nomer seluler=phone",
        "--report",
        str(mapped),
    )
    assert report(mapped) == expected_report(made)
    assert records(database) == {}


def test_a_map_to_an_unknown_field_is_refused(config, database, tmp_path) -> None:
    made = write_registry(tmp_path / "daftar.xlsx", rows=30)
    refused = sinergi(config, "import", "ikm", str(made.path), "--map", "Seluler=hape", code=2)
    assert "tidak dikenal" in refused.stderr and "phone" in refused.stderr
    assert records(database) == {}
