"""The Dinas officer in the chat: announcements to an audience with progress and stop;
IKM checking in with the session code; the monthly nudge; the scheduler's jobs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from bot.services import accounts
from models import BimtekRegistration, BimtekSession, ConversationState, OutboxMessage, Person
from models.db import transaction
from scheduler.jobs import nudge_inactive_ikm
from scheduler.runner import build_scheduler
from tests.chat import register_ikm
from tests.test_bimtek_flow import OFFICER, create_bimtek, grant_officer


async def register_food_maker(chat) -> None:
    await chat.say("halo")
    await chat.tap("Setuju")
    await chat.tap("Saya pelaku IKM")
    await chat.say("Ujang")
    await chat.say("Keripik Mang Ujang")
    await chat.tap("Makanan")
    await chat.say("Cibitung")
    await chat.tap("Lewati")  # desa, NIB and workers: later
    await chat.say("Keripik tempe")
    await chat.tap("pcs")
    await chat.say("15rb")
    await chat.say("1500")
    await chat.tap("Lewati")
    await chat.tap("Simpan")


async def test_announcement_to_one_sector_with_preview_progress_and_stop(app, chat_as) -> None:
    doll_maker = chat_as("+6281200000021")
    await register_ikm(doll_maker)
    food_maker = chat_as("+6281200000022")
    await register_food_maker(food_maker)
    grant_officer(app)
    officer = chat_as(OFFICER)
    await officer.say("halo")
    await officer.tap("Setuju")
    await officer.tap("Kirim pengumuman")
    await officer.say("Pameran produk IKM di Jababeka tanggal 5 Desember. Daftar ke Dinas.")
    await officer.tap("Lewati")
    await officer.tap("IKM per bidang")
    await officer.tap("Pengolahan lainnya")
    await officer.tap("Selesai")
    assert "Pameran produk IKM" in officer.last[0].text  # the preview, as it will look
    assert "1 penerima" in officer.text
    await officer.tap("Kirim")
    assert "Terkirim 1 dari 1" in officer.text  # the console inbox holds it for the person

    await doll_maker.open()
    assert "Pameran produk IKM" in doll_maker.text
    await food_maker.open()
    assert "Pameran produk IKM" not in food_maker.text

    await officer.tap("Hentikan")
    assert "Dihentikan" in officer.text


async def test_stopping_cancels_what_has_not_gone(app, chat_as) -> None:
    with transaction(app.database) as session:
        for number in range(3):
            person = Person(phone=f"+62812444{number:05d}", language="id", role="ikm")
            session.add(person)
            session.flush()
            from models import ChannelAccount, IkmProfile

            session.add(
                ChannelAccount(
                    person_id=person.id, channel="telegram", external_id=str(700 + number)
                )
            )
            session.add(
                IkmProfile(
                    person_id=person.id,
                    owner_name="A",
                    business_name="B",
                    sector="10",
                    kecamatan="Setu",
                )
            )
    grant_officer(app)
    officer = chat_as(OFFICER)
    await officer.say("halo")
    await officer.tap("Setuju")
    await officer.say("pengumuman")
    await officer.say("Pelatihan pengemasan makanan minggu depan.")
    await officer.tap("Lewati")
    await officer.tap("Semua IKM")
    assert "3 penerima" in officer.text
    await officer.tap("Kirim")
    assert "Terkirim 0 dari 3" in officer.text
    await officer.tap("Hentikan")
    assert "3 tidak dikirim" in officer.text
    with Session(app.database) as session:
        states = [row.state for row in session.exec(select(OutboxMessage))]
    assert states == ["cancelled"] * 3


async def test_ikm_checks_in_with_the_session_code(app, chat_as, clock) -> None:
    chat = chat_as("+6281200000021")
    await register_ikm(chat)
    grant_officer(app)
    await create_bimtek(chat_as(OFFICER), reach=1)
    await chat.open()
    await chat.tap("Lihat dan daftar")
    await chat.tap("Daftar")
    with Session(app.database) as session:
        code = session.exec(select(BimtekSession)).one().checkin_code
    clock.set(datetime(2026, 11, 26, 2, 0, tzinfo=UTC))  # 09:00 WIB, at the venue
    await chat.say("hadir")
    await chat.say("salah")
    assert "tidak cocok" in chat.text
    await chat.say(code.lower())
    assert "sudah tercatat" in chat.text
    with Session(app.database) as session:
        assert session.exec(select(BimtekRegistration)).one().attended_at is not None


async def test_monthly_nudge_reaches_silent_ikm_once(app, chat_as, clock) -> None:
    chat = chat_as("+6281200000021")
    await register_ikm(chat)
    clock.advance(timedelta(days=61))
    assert await nudge_inactive_ikm(app) == 1
    assert await nudge_inactive_ikm(app) == 0  # the same month: once
    await chat.open()
    assert "Apa kabar usahanya?" in chat.text
    await chat.tap("Lihat produk saya")
    assert "Boneka karakter" in chat.text


def test_scheduler_has_its_jobs_in_jakarta_time(app) -> None:
    scheduler = build_scheduler(app)
    assert str(scheduler.timezone) == "Asia/Jakarta"
    ids = {job.id for job in scheduler.get_jobs()}
    assert ids == {
        "bimtek_reminders",
        "close_bimtek_registrations",
        "nudge_inactive_ikm",
        "close_needs",
        "call_digest",
        "prune_records",
    }


async def test_a_company_cannot_enter_dinas_tools(chat_as, app) -> None:
    from tests.chat import register_company

    company = chat_as("+6281300000009")
    await register_company(company)
    await company.say("pengumuman")
    assert "khusus untuk petugas Dinas" in company.text
    with Session(app.database) as session:
        person = session.exec(select(Person)).one()
    assert accounts.roles_of(person, app.settings.app.admins) == frozenset({"company"})


async def test_changing_the_audience_kind_starts_its_choice_afresh(app, chat_as) -> None:
    await register_ikm(chat_as("+6281200000021"))
    grant_officer(app)
    officer = chat_as(OFFICER)
    await officer.say("halo")
    await officer.tap("Setuju")
    await officer.say("pengumuman")
    await officer.say("Pameran produk IKM di Jababeka.")
    await officer.tap("Lewati")
    await officer.tap("IKM per bidang")
    await officer.tap("Pakaian jadi")
    await officer.tap("Selesai")
    await officer.tap("Ubah teks")
    await officer.say("Pameran produk IKM di Cikarang.")
    await officer.tap("Lewati")
    await officer.tap("IKM per kecamatan")
    await officer.tap("Sukawangi")
    await officer.tap("Selesai")
    assert "1 penerima" in officer.text
    assert "gangguan" not in officer.text


async def test_a_bimtek_set_aside_is_not_offered_when_announcing(app, chat_as) -> None:
    """Creating a bimtek and sending an announcement are different jobs: a half-made
    bimtek kept aside by "menu" is offered again by "Buat bimtek", not by "Kirim pengumuman"."""
    grant_officer(app)
    officer = chat_as(OFFICER)
    await officer.say("halo")
    await officer.tap("Setuju")
    await officer.tap("Buat bimtek")
    await officer.say("Bimtek Menjahit Boneka")
    await officer.say("menu")
    await officer.tap("Kirim pengumuman")
    assert "Ada isian yang belum selesai" not in officer.text
    assert "Tulis isi pengumuman" in officer.text

    await officer.say("menu")
    await officer.tap("Buat bimtek")
    assert "Ada isian yang belum selesai" in officer.text
    await officer.tap("Lanjutkan yang tadi")
    assert "deskripsi" in officer.text.lower()  # the question after the title kept aside


async def test_a_form_set_aside_at_a_step_since_renamed_is_dropped(app, chat_as) -> None:
    """A bimtek form kept aside under the old one-flow step names ("dinas.deskripsi")
    before an upgrade: "Lanjutkan yang tadi" brings the menu back, not an internal error."""
    grant_officer(app)
    officer = chat_as(OFFICER)
    await officer.say("halo")
    await officer.tap("Setuju")
    with transaction(app.database) as session:
        state = session.exec(select(ConversationState)).one()
        state.suspended = {"step": "dinas.deskripsi", "data": {"bimtek": {"title": "Boneka"}}}
    await officer.say("menu")
    await officer.tap("Lanjutkan yang tadi")
    assert "gangguan" not in officer.text
    assert "Buat bimtek" in officer.options
    assert "Lanjutkan yang tadi" not in officer.options
