"""Importing the Dinas's registry from the console over HTTP, as a signed-in officer: the
upload gives the dry run's report (the rows the generator planted faults in, nothing
written), the confirmation imports, and forms refuse without the session's CSRF token."""

from __future__ import annotations

import hashlib
import os
import time
from datetime import timedelta
from pathlib import Path

from sqlmodel import select

from bot.console.pages.registry import UNCONFIRMED_KEPT, uploads_dir
from models import RegistryRecord
from models.db import transaction
from models.registry_import import RegistryImport
from tests.console.html_parts import by_id, with_data
from tests.console.site import Site
from tests.console.test_console_ledger import officer
from tests.console.test_console_pages import csrf_of
from tests.registry_workbook import write_registry

SKIPPED = ("duplicate_row", "duplicate_ikm")  # as tests/test_registry_import.py: the rest import


def _stored(site: Site) -> tuple[int, int]:
    with transaction(site.app.database) as session:
        records = len(session.exec(select(RegistryRecord)).all())
        imports = len(session.exec(select(RegistryImport)).all())
    return records, imports


def test_the_import_page_refuses_without_a_session(site: Site) -> None:
    with site.client() as stranger:
        assert stranger.get("/dinas/registri").status_code == 303
        for path in ("/dinas/registri", "/dinas/registri/terapkan"):
            answer = stranger.post(path, data={"csrf": "x"})
            assert (answer.status_code, answer.headers.get("location")) == (303, "/dinas/masuk")


async def test_upload_report_then_confirm(site: Site, tmp_path: Path) -> None:
    made = write_registry(tmp_path / "daftar.xlsx", rows=60)
    shown_name = "daftar <b>ikm<b>.xlsx"  # as the officer's computer named it
    content = made.path.read_bytes()
    with officer(site, await site.link()) as browser:
        page = browser.get("/dinas/registri").text
        form = {"csrf": csrf_of(page), "source": "Daftar IKM 2025"}
        files = {"file": (shown_name, content, "application/octet-stream")}
        assert browser.post("/dinas/registri", files=files).status_code == 403
        report = browser.post("/dinas/registri", data=form, files=files)
        assert report.status_code == 200
        assert _stored(site) == (0, 0)  # a dry run writes nothing
        rows = {int(row.attrs["data-row"]): row for row in with_data(report.text, "reasons")}
        assert {row: tuple(e.attrs["data-reasons"].split()) for row, e in rows.items()} == {
            row: (reason,) for row, (reason, _) in made.faults.items()
        }
        counts = {c.attrs["data-count"]: int(c.words) for c in with_data(report.text, "count")}
        assert counts["read"] == len(made.entries)
        kept = [entry for entry in made.entries if not entry.fault or entry.fault[0] not in SKIPPED]
        assert counts["new"] == len(kept)
        assert "<b>ikm" not in report.text  # the file's name is escaped
        assert "daftar &lt;b&gt;ikm&lt;b&gt;.xlsx" in report.text

        confirm = {
            "csrf": form["csrf"],
            "file_hash": _hidden(report.text, "file_hash"),
            "suffix": ".xlsx",
            "name": shown_name,
            "source": "Daftar IKM 2025",
        }
        assert (
            browser.post("/dinas/registri/terapkan", data=confirm | {"csrf": ""}).status_code == 403
        )
        done = browser.post("/dinas/registri/terapkan", data=confirm)
        assert done.status_code == 200
        assert f"{len(kept)} baru" in by_id(done.text, "registry-applied").words
        assert _stored(site) == (len(kept), 1)
        again = browser.post("/dinas/registri/terapkan", data=confirm)
        assert "Unggah berkasnya lagi" in by_id(again.text, "registry-error").words


async def test_a_file_that_is_not_a_list_is_refused(site: Site, tmp_path: Path) -> None:
    with officer(site, await site.link()) as browser:
        csrf = csrf_of(browser.get("/dinas/registri").text)
        for name, content, said in (
            ("foto.jpg", b"\xff\xd8", "Hanya berkas .xlsx atau .csv"),
            ("kosong.csv", b"a;b\n1;2\n", "Baris judul kolom tidak ditemukan"),
        ):
            answer = browser.post(
                "/dinas/registri", data={"csrf": csrf}, files={"file": (name, content)}
            )
            assert answer.status_code == 400
            assert said in by_id(answer.text, "registry-error").words
    assert _stored(site) == (0, 0)


def _hidden(html: str, name: str) -> str:
    marker = f'name="{name}" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


async def test_uploads_are_not_kept_when_unreadable_or_never_confirmed(
    site: Site, tmp_path: Path
) -> None:
    """An upload holds the registry's names and numbers: a file that cannot be read is
    removed at once, and one the officer never confirmed after a day."""
    made = write_registry(tmp_path / "daftar.xlsx", rows=20)
    left_long_ago = uploads_dir() / f"{'a' * 64}.xlsx"
    left_lately = uploads_dir() / f"{'b' * 64}.csv"
    for path, age in ((left_long_ago, UNCONFIRMED_KEPT * 2), (left_lately, timedelta(hours=1))):
        path.write_bytes(b"nama;telepon\nIbu Siti;0812\n")
        stamp = time.time() - age.total_seconds()
        os.utime(path, (stamp, stamp))
    empty = b"a;b\n1;2\n"
    with officer(site, await site.link()) as browser:
        csrf = csrf_of(browser.get("/dinas/registri").text)
        refused = browser.post(
            "/dinas/registri", data={"csrf": csrf}, files={"file": ("kosong.csv", empty)}
        )
        assert refused.status_code == 400
        report = browser.post(
            "/dinas/registri",
            data={"csrf": csrf},
            files={"file": ("daftar.xlsx", made.path.read_bytes())},
        )
        assert report.status_code == 200
    assert not (uploads_dir() / f"{hashlib.sha256(empty).hexdigest()}.csv").exists()
    assert not left_long_ago.exists()
    assert left_lately.exists()  # the officer may still confirm it
    assert (uploads_dir() / f"{_hidden(report.text, 'file_hash')}.xlsx").exists()
    left_lately.unlink()
