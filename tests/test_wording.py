"""Wording found wrong when trying the bot as people do: a bimtek's name said once, a sector
by its name, never a bare code."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, select

from models import BimtekRegistration
from scheduler.jobs import bimtek_reminders
from tests.chat import register_ikm
from tests.test_bimtek_flow import create_bimtek
from tests.test_procurement_flow import grant_officer
from tests.test_procurement_rules import (
    offer_on,
    post_need,
    press,
    register_glove_makers,
    verified_company,
)

OFFICER = "+6281100000002"


async def test_a_new_bimtek_is_named_once_and_its_sectors_by_name(app, chat_as) -> None:
    grant_officer(app)
    officer = chat_as(OFFICER)
    await officer.say("halo")
    await officer.tap("Setuju")
    await officer.tap("Buat bimtek")
    await officer.say("Bimtek Menjahit Boneka")
    await officer.tap("Lewati")
    await officer.tap("Kemenperin")
    await officer.say("Kamis 26/11/2026 jam 9")
    await officer.say("Aula Dinas Perindustrian, Cikarang Pusat")
    await officer.say("20")
    await officer.tap("Tekstil")
    await officer.tap("Selesai")
    await officer.tap("Semua")
    await officer.tap("Sehari sebelumnya")
    await officer.tap("Lewati")
    assert "Bidang usaha: Tekstil (13)" in officer.text
    await officer.tap("Simpan & umumkan")
    assert "Bimtek Menjahit Boneka dibuat dan diumumkan" in officer.text
    assert "Bimtek Bimtek" not in officer.text


async def test_a_call_not_yet_delivered_is_withdrawn_when_the_need_is_fully_awarded(
    app, chat_as
) -> None:
    company = await verified_company(app, chat_as)
    first, second, _ = await register_glove_makers(chat_as)
    need = await post_need(company)
    await offer_on(first, need.id, "7.500", "5000")  # the first opens its call and offers all
    await company.open()
    await press(company, f"@penawaran:{need.id}", "Lihat penawaran")
    await company.tap("1. Konveksi Tangan Terampil")
    await company.tap("Pilih penawaran ini")
    await company.tap("Semua (5.000)")
    assert "Seluruh jumlah sudah terpenuhi" in company.text
    replies = await second.open()  # the second never opened its call: it is gone
    assert not any(reply.title == "Peluang baru untuk usaha Anda" for reply in replies)


async def test_a_reminder_offers_cannot_come_which_frees_the_seat(app, chat_as, clock) -> None:
    grant_officer(app)
    maker = chat_as("+6281200000011")
    await register_ikm(maker)
    await create_bimtek(chat_as(OFFICER), reach=1)
    await maker.open()
    await maker.tap("Lihat dan daftar")
    await maker.tap("Daftar")
    clock.set(datetime(2026, 11, 25, 1, 0, tzinfo=UTC))  # the day before, 08:00 WIB
    await bimtek_reminders(app)
    replies = await maker.open()
    [reminder] = [reply for reply in replies if reply.title == "Pengingat: bimtek besok"]
    assert [option.label for option in reminder.options] == ["Tidak bisa hadir"]
    await maker.tap("Tidak bisa hadir")
    await maker.tap("Ya, batalkan")
    with Session(app.database) as session:
        [registration] = session.exec(select(BimtekRegistration)).all()
    assert registration.status == "cancelled"
