"""One check-in story, told the same way everywhere: what the messages call "Kode hadir"
is what `hadir` accepts (in one message or two, in any case or spacing); a venue code sent
on to someone at home works only while the session runs; officers see who checked in
themselves, in the roster and in the CSV."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

from sqlmodel import Session, select

from models import BimtekRegistration
from models.base import as_utc
from scheduler.jobs import bimtek_reminders
from tests.chat import Chat, register_ikm
from tests.test_bimtek_flow import OFFICER, create_bimtek, grant_officer

FIRST, SECOND, OUTSIDER = "+6281200000011", "+6281200000012", "+6281200000013"
# The session: Thursday 26 November 2026, 09:00 WIB (02:00 UTC).
DAY_BEFORE = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # Wednesday 10:00 WIB
H2H = datetime(2026, 11, 26, 0, 0, tzinfo=UTC)  # 07:00 WIB: the last reminder
AT_THE_VENUE = datetime(2026, 11, 26, 2, 30, tzinfo=UTC)  # 09:30 WIB
NEXT_DAY = datetime(2026, 11, 26, 17, 30, tzinfo=UTC)  # Friday 00:30 WIB


def code_in(text: str, label: str = "Kode hadir Anda") -> str:
    """A code as a person reads it off a message."""
    found = re.search(rf"{label}: ([A-Z0-9]+)", text)
    assert found, f"no {label!r} in {text!r}"
    return found.group(1)


async def roster(officer: Chat) -> str:
    await officer.say("bimtek")
    await officer.tap("Bimtek Menjahit Boneka")
    return officer.text


async def csv_rows(officer: Chat) -> list[list[str]]:
    await roster(officer)
    await officer.tap("Unduh daftar (CSV)")
    [document] = [reply.document for reply in officer.last if reply.document]
    return list(csv.reader(io.StringIO(document.content.decode())))


def attended(app) -> dict[str, tuple[datetime | None, str | None]]:
    with Session(app.database) as session:
        rows = session.exec(select(BimtekRegistration)).all()
    return {row.checkin_code: (row.attended_at, row.attended_via) for row in rows}


async def test_the_code_the_reminder_calls_kode_hadir_checks_in(app, chat_as, clock) -> None:
    first, second = chat_as(FIRST), chat_as(SECOND)
    grant_officer(app)
    officer = chat_as(OFFICER)
    await register_ikm(first, business="Boneka Satu")
    await register_ikm(second, business="Boneka Dua")
    await create_bimtek(officer, reach=2)
    for chat in (first, second):
        await chat.open()
        await chat.tap("Lihat dan daftar")
        await chat.tap("Daftar")
        assert "ketik: hadir" in chat.text

    clock.set(H2H)
    await bimtek_reminders(app)
    await first.open()
    assert "Pengingat: bimtek segera dimulai" in first.text
    first_code = code_in(first.text)
    assert f"ketik: hadir {first_code}" in first.text
    await second.open()  # before the start: a reminder opened later would be stale
    second_code = code_in(second.text)

    # In one message, lower case, spaced and dashed as people type it.
    clock.set(AT_THE_VENUE)
    code = f"{first_code[:3].lower()}-{first_code[3:].lower()}"
    await first.say(f"Hadir  {code}")
    assert "Kehadiran Anda di Bimtek Menjahit Boneka sudah tercatat" in first.text

    # Or `hadir`, then the code alone.
    await second.say("hadir")
    assert "kode hadir Anda" in second.text
    await second.say(" ".join(second_code))
    assert "sudah tercatat" in second.text

    # The officer sees both as self check-ins; confirming one keeps its time.
    text = await roster(officer)
    assert "Boneka Satu" in text and text.count("✓ (sendiri)") == 2
    await officer.tap("Catat kehadiran")
    await officer.say(first_code)
    assert f"{first_code}: hadir ✓" in officer.text
    await officer.tap("Selesai")
    assert officer.text.count("✓ (sendiri)") == 1
    at, via = attended(app)[first_code]
    assert (as_utc(at), via) == (AT_THE_VENUE, "officer")
    rows = await csv_rows(officer)
    assert rows[0][-2:] == ["hadir", "dicatat oleh"]
    by_code = {row[6]: row for row in rows[1:]}
    assert by_code[first_code][-2:] == ["2026-11-26 09:30", "petugas"]
    assert by_code[second_code][-1] == "sendiri"


async def test_a_forwarded_venue_code_works_only_while_the_session_runs(
    app, chat_as, clock
) -> None:
    grant_officer(app)
    officer = chat_as(OFFICER)
    outsider = chat_as(OUTSIDER)
    await register_ikm(outsider, business="Boneka Tiga")
    first = chat_as(FIRST)
    await register_ikm(first, business="Boneka Satu")
    await create_bimtek(officer, reach=2)
    venue_code = code_in(officer.text, "Kode lokasi")
    await first.open()
    await first.tap("Lihat dan daftar")
    await first.tap("Daftar")

    clock.set(DAY_BEFORE)  # sent on to someone at home, a day early
    await first.say(f"hadir {venue_code}")
    assert "baru bisa mulai Kamis, 26 November 2026 pukul 07.00 WIB" in first.text
    assert "sudah tercatat" not in first.text

    clock.set(AT_THE_VENUE)
    await outsider.say(f"hadir {venue_code}")  # registered for nothing
    assert "tidak terdaftar" in outsider.text
    await outsider.say("hadir ZZ9ZZ9")  # a guess
    assert "tidak cocok" in outsider.text

    clock.set(NEXT_DAY)
    await first.say(f"hadir {venue_code}")
    assert "sudah lewat" in first.text
    assert [at for at, _ in attended(app).values()] == [None]

    clock.set(AT_THE_VENUE)
    await first.say(f"HADIR {venue_code.lower()}")
    assert "sudah tercatat" in first.text
    assert "✓ (sendiri)" in await roster(officer)


async def test_someone_elses_code_checks_no_one_in(app, chat_as, clock) -> None:
    grant_officer(app)
    officer = chat_as(OFFICER)
    first, second = chat_as(FIRST), chat_as(SECOND)
    await register_ikm(first, business="Boneka Satu")
    await register_ikm(second, business="Boneka Dua")
    await create_bimtek(officer, reach=2)
    for chat in (first, second):
        await chat.open()
        await chat.tap("Lihat dan daftar")
        await chat.tap("Daftar")
    first_code = code_in(first.text)

    clock.set(AT_THE_VENUE)
    await second.say(f"hadir {first_code}")
    assert "tidak cocok" in second.text
    assert all(at is None for at, _ in attended(app).values())
