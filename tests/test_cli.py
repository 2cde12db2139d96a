"""The command line, run as a newcomer would: `python -m bot ...` with piped input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import Session, select

from models import Company, IkmProfile, Person, Product
from models.db import make_engine

ROOT = Path(__file__).resolve().parent.parent
PHONE = "081234567890"

REGISTRATION = [
    "halo",
    "Setuju",
    "Saya pelaku IKM",
    "Siti Aminah",
    "Boneka Berkah Sukawangi",
    "Pengolahan lainnya",
    "sukawangi",
    "Tambah detail",
    "Sukatenang",
    "Lewati",
    "4",
    "Boneka karakter",
    "pcs",
    "40-100 ribu",
    "200",
    "Lewati",
    "Simpan",
    "Tambah produk",
    "Boneka wisuda",
    "pcs",
    "75rb",
    "3 ribu",
    "Lewati",
    "Simpan",
]


@pytest.fixture
def config(tmp_path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "cli.db"}"\n')
    return path


def sinergi(
    config: Path, *args: str, lines: list[str] | None = None
) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SINERGI_CONFIG")}
    return subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(config), *args],
        input="\n".join(lines or []) + "\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )


def database(config: Path):
    return make_engine(f"sqlite:///{config.parent / 'cli.db'}")


def test_scripted_registration_through_the_cli_saves_ikm_and_products(config) -> None:
    result = sinergi(config, "chat", "--phone", PHONE, lines=REGISTRATION)
    assert result.returncode == 0, result.stderr
    assert "sudah terdaftar" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr

    engine = database(config)
    with Session(engine) as session:
        ikm = session.exec(select(IkmProfile)).one()
        assert (ikm.business_name, ikm.kecamatan, ikm.desa, ikm.workers) == (
            "Boneka Berkah Sukawangi",
            "Sukawangi",
            "Sukatenang",
            4,
        )
        names = sorted(p.name for p in session.exec(select(Product)))
        assert names == ["Boneka karakter", "Boneka wisuda"]
        assert session.exec(select(Person)).one().phone == "+6281234567890"
    engine.dispose()

    again = sinergi(config, "chat", "--phone", "+62 812-3456-7890", "--json", lines=["Produk saya"])
    assert again.returncode == 0, again.stderr
    replies = [json.loads(line) for line in again.stdout.splitlines()]
    products = replies[-1]
    assert "Boneka karakter" in products["text"] and "Boneka wisuda" in products["text"]
    assert products["options"][:2] == ["Boneka karakter", "Boneka wisuda"]


def test_stopping_mid_registration_and_coming_back_continues(config) -> None:
    first = sinergi(config, "chat", "--phone", PHONE, lines=REGISTRATION[:6])
    assert first.returncode == 0, first.stderr
    second = sinergi(config, "chat", "--phone", PHONE, "--json", lines=REGISTRATION[6:17])
    assert second.returncode == 0, second.stderr
    replies = [json.loads(line) for line in second.stdout.splitlines()]
    assert "kecamatan" in replies[0]["text"]  # the pending question, asked again on opening
    assert any("sudah terdaftar" in reply["text"] for reply in replies)


def test_json_replies_carry_text_and_option_labels(config) -> None:
    result = sinergi(config, "chat", "--phone", PHONE, "--json", lines=["halo"])
    [reply] = [json.loads(line) for line in result.stdout.splitlines()]
    assert reply["options"] == ["Setuju", "Tidak setuju", "English"]
    assert reply["option_ids"] == ["agree", "decline", "lang"]
    assert "Selamat datang" in reply["text"]


def test_demo_data_is_idempotent_and_shows_in_chat(config) -> None:
    first = sinergi(config, "demo-data")
    second = sinergi(config, "demo-data")
    assert first.returncode == second.returncode == 0
    assert "(9 baru)" in first.stderr and "(0 baru)" in second.stderr
    engine = database(config)
    with Session(engine) as session:
        assert len(session.exec(select(IkmProfile)).all()) == 6
        assert len(session.exec(select(Company)).all()) == 2
    engine.dispose()
    chat = sinergi(config, "chat", "--phone", "081200000002", lines=["produk"])
    assert "Sarung tangan kerja katun" in chat.stdout


def test_admin_grant_dinas(config) -> None:
    result = sinergi(config, "admin", "grant-dinas", "0812-5555-6666")
    assert result.returncode == 0, result.stderr
    engine = database(config)
    with Session(engine) as session:
        assert session.exec(select(Person)).one().role == "dinas"
    engine.dispose()
    assert sinergi(config, "admin", "grant-dinas", "12").returncode == 2


def test_run_without_a_network_channel_says_so_in_one_line(config) -> None:
    result = sinergi(config, "run")
    assert result.returncode == 2
    assert "python -m bot chat" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_phone_and_bad_config_exit_2_without_traceback(config, tmp_path) -> None:
    assert sinergi(config, "chat", "--phone", "halo").returncode == 2
    broken = tmp_path / "broken.toml"
    broken.write_text("[app\n")
    result = sinergi(broken, "chat")
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_the_readme_test_command_is_what_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    command = next(
        line.strip()
        for line in ci.splitlines()
        if line.strip().startswith(".venv/bin/python -m pytest")
    )
    assert command in readme


def test_run_with_telegram_but_no_token_says_so_in_one_line(tmp_path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "cli.db"}"\n[telegram]\nenabled = true\n'
    )
    result = sinergi(config, "run")
    assert result.returncode == 2
    assert "TELEGRAM_BOT_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_broadcast_and_outbox_drain_from_the_command_line(config) -> None:
    assert sinergi(config, "demo-data").returncode == 0
    # Demo people have no channel account yet; the doll maker opens the console once.
    sinergi(config, "chat", "--phone", "081200000001", lines=["menu"])
    result = sinergi(
        config, "broadcast", "--text", "Pameran IKM di Jababeka", "--to", "sector", "--value", "32"
    )
    assert result.returncode == 0, result.stderr
    assert "menunggu di kotak masuk" in result.stderr
    drained = sinergi(config, "outbox", "drain")
    assert drained.returncode == 0
    # The announcement, and the demo company's notice that it was verified.
    assert "waiting: 2" in drained.stdout
    inbox = sinergi(config, "chat", "--phone", "081200000001", "--json", lines=[])
    first = json.loads(inbox.stdout.splitlines()[0])
    assert first["text"] == "Pameran IKM di Jababeka"
    bad = sinergi(config, "broadcast", "--text", "x", "--to", "sector", "--value", "99")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_broadcast_takes_sector_and_kecamatan_names_and_says_problems_in_one_language(
    config,
) -> None:
    assert sinergi(config, "demo-data").returncode == 0
    sinergi(config, "chat", "--phone", "081200000001", lines=["menu"])
    by_name = sinergi(
        config, "broadcast", "--text", "Pameran boneka", "--to", "sector", "--value", "mainan"
    )
    assert by_name.returncode == 0, by_name.stderr
    assert "Terkirim" in by_name.stderr
    place = sinergi(config, "broadcast", "--text", "Info", "--to", "kecamatan", "--value", "cikbar")
    assert place.returncode == 0, place.stderr
    for args, said in (
        (("--to", "sector", "--value", "roket"), "Bidang 'roket' tidak dikenal"),
        (("--to", "kecamatan", "--value", "Jakarta"), "Kecamatan 'Jakarta' tidak dikenal"),
        (("--to", "planet"), "Audiens 'planet' tidak dikenal"),
        (("--to", "sector"), "perlu --value"),
    ):
        bad = sinergi(config, "broadcast", "--text", "x", *args)
        assert bad.returncode == 2 and said in bad.stderr, bad.stderr
        assert "unknown" not in bad.stderr and "Traceback" not in bad.stderr
