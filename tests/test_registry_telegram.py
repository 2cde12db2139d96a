"""On Telegram a registry record is offered once the person shares their own contact: the
shared card proves the number the Dinas holds."""

from __future__ import annotations

from sqlmodel import Session, select

from models import IkmProfile
from tests.registry_records import SOURCE, add_record, record
from tests.telegram_chat import onboard, press, say, telegram_bot

PHONE = "+6281299990001"


async def claim_question(telegram, user_id: int = 501):
    user = telegram.api.user(user_id, "Siti", phone=PHONE)
    await onboard(telegram, user)
    assert user.last_text.startswith(f"Data dari Dinas Perindustrian ({SOURCE}): Boneka Berkah")
    assert user.last_buttons == ["Benar", "Ada yang salah", "Bukan usaha saya"]
    return user


def profiles(app) -> list[IkmProfile]:
    with Session(app.database) as session:
        return list(session.exec(select(IkmProfile)))


async def test_benar_after_sharing_the_contact_registers_the_record(app) -> None:
    record_id = add_record(app, phone_alt=PHONE, phone="+6281299990999")  # the second number
    async with telegram_bot(app) as telegram:
        siti = await claim_question(telegram)
        await press(telegram, siti, "Benar")
        assert any("Boneka Berkah sudah terdaftar" in (m.shown_text or "") for m in siti.inbox)
    [profile] = profiles(app)
    assert record(app, record_id).ikm_id == profile.id


async def test_ada_yang_salah_corrects_the_kecamatan_before_saving(app) -> None:
    add_record(app, phone=PHONE)
    async with telegram_bot(app) as telegram:
        siti = await claim_question(telegram)
        await press(telegram, siti, "Ada yang salah")
        await press(telegram, siti, "Kecamatan")
        await say(telegram, siti, "Sukatani")
        assert "Kecamatan: Sukatani" in siti.last_text
        await press(telegram, siti, "Simpan")
    [profile] = profiles(app)
    assert (profile.kecamatan, profile.desa) == ("Sukatani", "Sukatenang")


async def test_bukan_usaha_saya_flags_it_and_offers_the_roles(app) -> None:
    record_id = add_record(app, phone=PHONE)
    async with telegram_bot(app) as telegram:
        siti = await claim_question(telegram)
        await press(telegram, siti, "Bukan usaha saya")
        assert siti.last_buttons == ["Saya pelaku IKM", "Saya perusahaan"]
    assert record(app, record_id).flag == "not_mine"
    assert profiles(app) == []
