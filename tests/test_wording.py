"""Wording found wrong when trying the bot as people do: a bimtek's name said once, a sector
by its name, never a bare code."""

from __future__ import annotations

from tests.test_procurement_flow import grant_officer

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
