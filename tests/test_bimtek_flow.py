"""Bimtek end to end through the console: the Dinas creates a session, IKM register until
the quota is full, one waits, one cancels and the waiting one is promoted and told, and
reminders arrive exactly once each even when the scheduler job runs twice."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, select

from bot.services import accounts
from models import BimtekRegistration, BimtekSession, OutboxMessage
from models.db import transaction
from scheduler.jobs import bimtek_reminders, close_bimtek_registrations
from tests.chat import register_ikm

OFFICER = "+6281100000002"
IKM_PHONES = ["+6281200000011", "+6281200000012", "+6281200000013"]
OTHER_SECTOR = "+6281200000014"


def grant_officer(app) -> None:
    with transaction(app.database) as session:
        accounts.grant_dinas(session, phone=OFFICER, now=app.engine.clock.now(), language="id")


async def create_bimtek(officer, reach: int) -> None:
    await officer.say("halo")
    await officer.tap("Setuju")
    await officer.tap("Buat bimtek")
    await officer.say("Bimtek Menjahit Boneka")
    await officer.tap("Lewati")
    await officer.tap("Kemenperin")
    await officer.say("Kamis 26/11/2026 jam 9")
    await officer.say("Aula Dinas Perindustrian, Cikarang Pusat")
    await officer.say("2")
    await officer.tap("Pengolahan lainnya")
    await officer.tap("Selesai")
    await officer.tap("Semua")
    await officer.tap("Sehari sebelumnya")
    await officer.say("Peserta menerima mesin jahit portabel")
    assert f"Akan diumumkan ke {reach} IKM" in officer.text
    await officer.tap("Simpan & umumkan")
    assert "dibuat dan diumumkan" in officer.text


def outbox_rows(app, template: str) -> list[OutboxMessage]:
    with Session(app.database) as session:
        rows = session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    return [row for row in rows if row.content["template"] == template]


async def test_quota_waitlist_promotion_and_reminders(app, chat_as, clock) -> None:
    ikm = [chat_as(phone) for phone in IKM_PHONES]
    for number, chat in enumerate(ikm):
        await register_ikm(chat, business=f"Boneka {number}")
    other = chat_as(OTHER_SECTOR)
    await other.say("halo")
    await other.tap("Setuju")
    await other.tap("Saya pelaku IKM")
    await other.say("Ujang")
    await other.say("Keripik Mang Ujang")
    await other.tap("Makanan")
    grant_officer(app)
    officer = chat_as(OFFICER)
    await create_bimtek(officer, reach=3)

    # The announcement reaches the three doll makers, not the food maker.
    announced = outbox_rows(app, "bimtek.announced")
    assert sorted(row.account_id for row in announced) == IKM_PHONES

    first, second, third = ikm
    for chat in (first, second):
        await chat.open()
        assert "Bimtek baru untuk usaha Anda" in chat.text
        await chat.tap("Lihat dan daftar")
        assert "Sisa kursi" in chat.text
        await chat.tap("Daftar")
        assert "Anda terdaftar" in chat.text
    await third.open()
    await third.tap("Lihat dan daftar")
    assert "Kuota sudah penuh" in third.text
    await third.tap("Masuk daftar tunggu")
    assert "daftar tunggu" in third.text

    await first.say("bimtek")
    await first.tap("Pendaftaran saya")
    await first.tap("Bimtek Menjahit Boneka")
    await first.tap("Batalkan pendaftaran")
    await first.tap("Ya, batalkan")
    assert "sudah dibatalkan" in first.text

    await third.open()
    assert "Kabar baik" in third.text
    assert len(outbox_rows(app, "bimtek.promoted")) == 1

    # The day before at 08:00 WIB (01:00 UTC): H-1 reminders, once, even run twice.
    clock.set(datetime(2026, 11, 25, 1, 0, tzinfo=UTC))
    await bimtek_reminders(app)
    await bimtek_reminders(app)
    h1 = [r for r in outbox_rows(app, "bimtek.reminder") if r.content["params"]["which"] == "H-1"]
    assert sorted(row.account_id for row in h1) == sorted([IKM_PHONES[1], IKM_PHONES[2]])

    # Two hours before (07:00 WIB = 00:00 UTC on the 26th): H-2h, once each.
    clock.set(datetime(2026, 11, 26, 0, 0, tzinfo=UTC))
    await bimtek_reminders(app)
    await bimtek_reminders(app)
    reminders = outbox_rows(app, "bimtek.reminder")
    assert sorted((r.account_id, r.content["params"]["which"]) for r in reminders) == sorted(
        [
            (IKM_PHONES[1], "H-1"),
            (IKM_PHONES[2], "H-1"),
            (IKM_PHONES[1], "H-2h"),
            (IKM_PHONES[2], "H-2h"),
        ]
    )
    await second.open()
    # The later reminder replaces the earlier one still waiting: "tomorrow" is today now.
    assert "Pengingat: bimtek besok" not in second.text
    assert "Pengingat: bimtek segera dimulai" in second.text
    assert "mesin jahit" in second.text

    # Check-in by the officer, with the code shown to the IKM.
    with Session(app.database) as session:
        registration = session.exec(
            select(BimtekRegistration).where(BimtekRegistration.status == "registered")
        ).first()
        code = registration.checkin_code
    await officer.say("bimtek")
    await officer.tap("Bimtek Menjahit Boneka")
    await officer.tap("Catat kehadiran")
    await officer.say(f"{code.lower()} ZZZZZZ")
    assert f"{code}: hadir" in officer.text and "ZZZZZZ: kode tidak dikenal" in officer.text
    await officer.tap("Selesai")
    await officer.tap("Unduh daftar (CSV)")
    [document] = [reply.document for reply in officer.last if reply.document]
    assert code in document.content.decode()


async def test_reschedule_moves_the_reminders(app, chat_as, clock) -> None:
    chat = chat_as(IKM_PHONES[0])
    await register_ikm(chat)
    grant_officer(app)
    officer = chat_as(OFFICER)
    await create_bimtek(officer, reach=1)
    await chat.open()
    await chat.tap("Lihat dan daftar")
    await chat.tap("Daftar")

    await officer.say("bimtek")
    await officer.tap("Bimtek Menjahit Boneka")
    await officer.tap("Ubah jadwal")
    await officer.say("30/11/2026 jam 13")
    await officer.tap("Sehari sebelumnya")
    assert "Jadwal diubah" in officer.text
    await chat.open()
    assert "Jadwal bimtek berubah" in chat.text
    assert "30 November 2026" in chat.text

    clock.set(datetime(2026, 11, 25, 1, 0, tzinfo=UTC))  # the old H-1: nothing now
    await bimtek_reminders(app)
    assert outbox_rows(app, "bimtek.reminder") == []
    clock.set(datetime(2026, 11, 29, 1, 0, tzinfo=UTC))  # the new H-1
    await bimtek_reminders(app)
    assert len(outbox_rows(app, "bimtek.reminder")) == 1
    with Session(app.database) as session:
        assert session.exec(select(BimtekSession)).one().schedule_version == 2
    assert await close_bimtek_registrations(app) == 0


async def test_times_are_shown_in_wib_wherever_they_appear(app, chat_as) -> None:
    chat = chat_as(IKM_PHONES[0])
    await register_ikm(chat)
    grant_officer(app)
    officer = chat_as(OFFICER)
    await create_bimtek(officer, reach=1)
    await officer.say("bimtek")
    assert "pukul 09.00 WIB" in officer.text
    await chat.say("bimtek")
    assert "pukul 09.00 WIB" in chat.text and "02.00" not in chat.text


async def test_deleting_ones_data_gives_the_seat_to_the_waiting_ikm(app, chat_as) -> None:
    first, second = chat_as(IKM_PHONES[0]), chat_as(IKM_PHONES[1])
    for number, chat in enumerate((first, second)):
        await register_ikm(chat, business=f"Boneka {number}")
    grant_officer(app)
    officer = chat_as(OFFICER)
    await officer.say("halo")
    await officer.tap("Setuju")
    await officer.tap("Buat bimtek")
    for answer in ("Bimtek Menjahit Boneka",):
        await officer.say(answer)
    await officer.tap("Lewati")
    await officer.tap("Kemenperin")
    await officer.say("26/11/2026 jam 9")
    await officer.say("Aula Dinas Perindustrian")
    await officer.say("1")
    await officer.tap("Semua")
    await officer.tap("Semua")
    await officer.tap("Sehari sebelumnya")
    await officer.tap("Lewati")
    await officer.tap("Simpan & umumkan")
    await first.open()
    await first.tap("Lihat dan daftar")
    await first.tap("Daftar")
    await second.open()
    await second.tap("Lihat dan daftar")
    await second.tap("Masuk daftar tunggu")

    await first.say("hapus data")
    assert "Pendaftaran bimtek (termasuk kehadiran): 1" in first.text
    await first.tap("Hapus semua data")
    await first.tap("Ya, hapus semua")
    await second.open()
    assert "Kabar baik" in second.text
    with Session(app.database) as session:
        [registration] = session.exec(select(BimtekRegistration)).all()
    assert registration.status == "registered"


async def test_a_cancelled_session_withdraws_reminders_still_waiting(app, chat_as, clock) -> None:
    chat = chat_as(IKM_PHONES[0])
    await register_ikm(chat)
    grant_officer(app)
    officer = chat_as(OFFICER)
    await create_bimtek(officer, reach=1)
    await chat.open()
    await chat.tap("Lihat dan daftar")
    await chat.tap("Daftar")
    clock.set(datetime(2026, 11, 25, 1, 0, tzinfo=UTC))
    await bimtek_reminders(app)  # H-1 waits in the console inbox
    await officer.say("bimtek")
    await officer.tap("Bimtek Menjahit Boneka")
    await officer.tap("Batalkan bimtek")
    await officer.tap("Ya, batalkan bimtek")
    await chat.open()
    assert "Bimtek dibatalkan" in chat.text
    assert "Pengingat" not in chat.text  # the stale reminder was taken back


async def test_registering_on_the_day_says_today_not_tomorrow(app, chat_as, clock) -> None:
    chat = chat_as(IKM_PHONES[0])
    await register_ikm(chat)
    grant_officer(app)
    officer = chat_as(OFFICER)
    await officer.say("halo")
    await officer.tap("Setuju")
    await officer.tap("Buat bimtek")
    await officer.say("Bimtek Pengemasan")
    await officer.tap("Lewati")
    await officer.tap("Kemenperin")
    await officer.say("26/11/2026 jam 20")
    await officer.say("Aula Dinas Perindustrian")
    await officer.say("10")
    await officer.tap("Semua")
    await officer.tap("Semua")
    await officer.say("26/11/2026 jam 15")
    await officer.tap("Lewati")
    await officer.tap("Simpan & umumkan")
    clock.set(datetime(2026, 11, 26, 3, 0, tzinfo=UTC))  # 10:00 WIB on the day
    await chat.open()
    await chat.tap("Lihat dan daftar")
    await chat.tap("Daftar")
    await chat.open()
    assert "Pengingat: bimtek hari ini" in chat.text
    assert "besok" not in chat.text
