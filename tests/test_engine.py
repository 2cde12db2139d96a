"""The engine's promises: state survives restarts, global words, dedup, roles, no tracebacks."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from bot.app import build_app
from bot.core.messages import Incoming
from models import Consent, ConversationState, IkmProfile, Person, Product
from scheduler.lease import is_postgres
from tests.chat import register_company, register_ikm
from tests.conftest import ADMIN_PHONE

PHONE = "+6281234567890"


async def start_ikm_registration(chat) -> None:
    await chat.say("halo")
    await chat.tap("Setuju")
    await chat.tap("Saya pelaku IKM")
    await chat.say("Siti Aminah")
    await chat.say("Boneka Berkah")


async def test_restart_mid_registration_continues_where_it_was(settings, clock, chat_as) -> None:
    first = build_app(settings, clock=clock)
    chat = chat_as(PHONE, first)
    await start_ikm_registration(chat)
    assert "bidang apa" in chat.text
    first.close()  # the process stops

    second = build_app(settings, clock=clock)
    reopened = chat_as(PHONE, second)
    await reopened.open()
    assert "bidang apa" in reopened.text  # the console asks the pending question again
    await reopened.tap("Pengolahan lainnya")
    assert "kecamatan" in reopened.text
    await reopened.say("Sukawangi")
    await reopened.tap("Lewati")  # desa, NIB and workers: later
    await reopened.say("Boneka")
    await reopened.tap("pcs")
    await reopened.say("40rb")
    await reopened.say("100")
    await reopened.tap("Lewati")
    assert "Nama usaha: Boneka Berkah" in reopened.text
    await reopened.tap("Simpan")
    with Session(second.database) as session:
        assert session.exec(select(IkmProfile)).one().business_name == "Boneka Berkah"
    second.close()


async def test_batal_mid_flow_keeps_the_draft_to_go_on_with_later(app, chat_as) -> None:
    chat = chat_as(PHONE)
    await register_ikm(chat)
    await chat.tap("Tambah produk")
    await chat.say("Boneka wisuda")
    await chat.say("BATAL")
    assert "dibatalkan" in chat.text and "Lanjutkan yang tadi" in chat.text
    assert chat.options[0] == "Lanjutkan yang tadi"
    with Session(app.database) as session:
        assert [p.name for p in session.exec(select(Product))] == ["Boneka karakter"]
    await chat.tap("Tambah produk")  # the same form again: offered to go on with it
    assert chat.options == ["Lanjutkan yang tadi", "Mulai baru"]
    await chat.say("lanjut")
    assert "satuan" in chat.text.lower()  # after the name typed before "batal"
    await chat.tap("pcs")
    await chat.say("batal")
    await chat.tap("Tambah produk")
    await chat.tap("Mulai baru")
    assert "Produk apa" in chat.text  # a fresh draft, the set-aside one dropped
    await chat.say("menu")
    assert "Lanjutkan yang tadi" not in chat.options  # nothing typed, nothing to go on with
    await chat.tap("Tambah produk")
    await chat.say("Boneka wayang")
    await chat.say("menu")
    assert chat.options[0] == "Lanjutkan yang tadi"
    await chat.say("batal")
    assert chat.text.startswith("Tidak ada yang sedang berjalan")


async def test_batal_during_registration_keeps_consent_and_the_answers(chat_as) -> None:
    chat = chat_as(PHONE)
    await start_ikm_registration(chat)
    await chat.say("/batal")
    assert "dibatalkan" in chat.text
    assert chat.options == ["Lanjutkan yang tadi", "Saya pelaku IKM", "Saya perusahaan"]
    await chat.tap("Lanjutkan yang tadi")
    assert "bidang apa" in chat.text  # name and business were kept


async def test_menu_mid_flow_can_resume_with_answers_kept(chat_as) -> None:
    chat = chat_as(PHONE)
    await register_ikm(chat)
    await chat.tap("Tambah produk")
    await chat.say("Boneka wisuda")
    await chat.tap("pcs")
    await chat.say("menu")
    assert chat.options[0] == "Lanjutkan yang tadi"
    await chat.tap("Lanjutkan yang tadi")
    assert "harga" in chat.text.lower()
    await chat.say("75rb")
    await chat.say("300")
    await chat.tap("Lewati")
    assert "Produk: Boneka wisuda" in chat.text and "Satuan: pcs" in chat.text


async def test_bantuan_helps_without_losing_the_place(chat_as) -> None:
    chat = chat_as(PHONE)
    await start_ikm_registration(chat)
    await chat.say("bantuan")
    assert "Bantuan" in chat.text
    assert "bidang apa" in chat.text  # the same question again
    await chat.tap("Makanan")
    assert "kecamatan" in chat.text


async def test_a_redelivered_platform_message_is_handled_once_and_asks_again(app) -> None:
    """Delivered again (the platform never saw our answer, or the process died between its
    commit and the send): not handled twice, but the person is asked where they are, so
    the answer is not lost."""

    def said(text: str, number: int) -> Incoming:
        return Incoming(channel="telegram", account_id="555", text=text, message_id=f"u-{number}")

    assert "Selamat datang" in (await app.engine.handle(said("halo", 1)))[0].text
    first = await app.engine.handle(said("Setuju", 2))
    again = await app.engine.handle(said("Setuju", 2))
    assert [reply.text for reply in first] == ["Terima kasih.", first[-1].text]
    assert again == [first[-1]]  # the same question, its button included
    with Session(app.database) as session:
        assert len(session.exec(select(Consent)).all()) == 1


async def test_a_person_without_the_role_is_refused_the_flow(chat_as) -> None:
    company = chat_as("+6281300000009")
    await register_company(company)
    await company.say("/produk")
    assert "khusus untuk pelaku IKM" in company.text
    assert "Produk apa" not in company.text

    ikm = chat_as(PHONE)
    await register_ikm(ikm)
    await ikm.say("Beri peran Dinas")
    assert "Beri peran Dinas" not in ikm.options

    stranger = chat_as("+6281999999999")
    await stranger.say("produk")
    assert "selesaikan pendaftaran" in stranger.text
    assert "Selamat datang" in stranger.text  # and is shown the way in


async def test_unregistered_person_is_asked_to_register_first(chat_as) -> None:
    chat = chat_as(PHONE)
    await chat.say("halo")
    await chat.tap("Setuju")
    await chat.say("tambah produk")
    assert "selesaikan pendaftaran" in chat.text
    assert chat.options == ["Saya pelaku IKM", "Saya perusahaan"]


async def test_admin_grants_the_dinas_role_in_the_chat(app, chat_as) -> None:
    admin = chat_as(ADMIN_PHONE)
    await admin.say("halo")
    await admin.tap("Setuju")
    assert "Beri peran Dinas" in admin.options
    await admin.tap("Beri peran Dinas")
    await admin.say("bukan nomor")
    assert "Contoh" in admin.text
    await admin.say("0812-1111-2222")
    assert "+62 812" in admin.text or "0812-1111-2222" in admin.text
    with Session(app.database) as session:
        officer = session.exec(select(Person).where(Person.phone == "+6281211112222")).one()
        assert officer.role == "dinas"


async def test_language_switch_applies_to_everything_after(chat_as) -> None:
    chat = chat_as(PHONE)
    await chat.say("halo")
    await chat.tap("English")
    assert "Welcome" in chat.text
    await chat.tap("I agree")
    await chat.say("help")
    assert "Help" in chat.text


async def test_a_failing_step_answers_politely_and_loses_nothing(app, chat_as, monkeypatch) -> None:
    chat = chat_as(PHONE)
    await start_ikm_registration(chat)
    flow, step = app.engine.registry.resolve("ikm.sektor")

    def broken(ctx, incoming):
        raise RuntimeError("database hiccup")

    monkeypatch.setitem(flow._by_name, "sektor", type(step)("sektor", step.prompt, broken))
    await chat.tap("Makanan")
    assert "gangguan" in chat.text
    assert "Traceback" not in chat.text
    monkeypatch.undo()
    with Session(app.database) as session:
        state = session.exec(select(ConversationState)).one()
    assert state.step == "ikm.sektor"
    assert state.data["ikm"]["business_name"] == "Boneka Berkah"


async def test_the_apology_comes_in_the_persons_language(app, chat_as, monkeypatch) -> None:
    chat = chat_as(PHONE)
    await chat.say("halo")
    await chat.tap("English")
    await chat.tap("I agree")
    await chat.tap("I am an IKM")
    flow, step = app.engine.registry.resolve("ikm.nama")

    def broken(ctx, incoming):
        raise RuntimeError("database hiccup")

    monkeypatch.setitem(flow._by_name, "nama", type(step)("nama", step.prompt, broken))
    await chat.say("Siti Aminah")
    assert chat.text.startswith("Sorry, our system has a problem.")


async def test_unknown_step_in_saved_state_sends_the_person_home(app, chat_as) -> None:
    chat = chat_as(PHONE)
    await register_ikm(chat)
    with Session(app.database) as session:
        state = session.exec(select(ConversationState)).one()
        state.step = "removed_flow.old_step"
        session.add(state)
        session.commit()
    await chat.say("apa saja")
    assert "Menu utama" in chat.text


async def test_typed_label_counts_as_tap_on_any_channel(app) -> None:
    async def say(text: str):
        return await app.engine.handle(
            Incoming(channel="whatsapp", account_id="6281234567890", phone=PHONE, text=text)
        )

    await say("halo")
    replies = await say("setuju")
    assert replies[-1].options[0].label == "Saya pelaku IKM"


async def test_menu_during_first_registration_can_resume_it(chat_as) -> None:
    chat = chat_as(PHONE)
    await start_ikm_registration(chat)
    await chat.say("menu")
    assert chat.options[0] == "Lanjutkan yang tadi"
    await chat.tap("Lanjutkan yang tadi")
    assert "bidang apa" in chat.text


async def test_browsing_does_not_push_aside_a_half_filled_form(chat_as) -> None:
    chat = chat_as(PHONE)
    await register_ikm(chat)
    await chat.tap("Tambah produk")
    await chat.say("Keripik pisang")
    await chat.say("produk")  # look at the products meanwhile
    await chat.tap("Boneka karakter")  # browsing keeps an id, not a form
    await chat.say("menu")
    await chat.tap("Lanjutkan yang tadi")
    assert "Dijual per apa" in chat.text  # the product form, with its name kept
    await chat.tap("pcs")
    await chat.say("10rb")
    await chat.say("100")
    await chat.tap("Lewati")
    assert "Produk: Keripik pisang" in chat.text


async def test_a_new_consent_text_is_asked_before_any_flow_and_declining_keeps_data(
    app, chat_as
) -> None:
    chat = chat_as(PHONE)
    await register_ikm(chat)
    app.settings.app.consent_version = "2027-01"
    await chat.say("produk")
    assert "Selamat datang" in chat.text  # the new text first
    await chat.tap("Tidak setuju")
    assert "Data Anda tetap tersimpan" in chat.text
    with Session(app.database) as session:
        assert session.exec(select(Product)).all()
    await chat.say("halo")
    await chat.tap("Setuju")
    await chat.say("produk")
    assert "Boneka karakter" in chat.text


def _drop_every_connection_of(app) -> int:
    """The database restarts, as far as the bot's pooled connections can tell."""
    outside = sa.create_engine(app.database.url, poolclass=sa.pool.NullPool)
    with outside.connect() as connection:
        dropped = connection.execute(
            sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar()
        connection.commit()
    outside.dispose()
    return dropped


async def test_messages_after_the_database_dropped_its_connections_are_answered(
    app, chat_as
) -> None:
    """Pooled connections are not pinged before use: the first message on a dead one is
    handled again on a fresh connection, not answered with an apology."""
    if not is_postgres(app.database):
        pytest.skip("PostgreSQL only: SQLite has no connections to drop")
    chat = chat_as(PHONE)
    await start_ikm_registration(chat)
    assert _drop_every_connection_of(app) >= 1
    await chat.tap("Makanan")
    assert "gangguan" not in chat.text
    other = chat_as("+6281299990000")
    await other.say("halo")
    assert "Selamat datang" in other.text
    with Session(app.database) as session:
        states = session.exec(select(ConversationState)).all()
    (registering,) = [state for state in states if "ikm" in state.data]
    assert registering.data["ikm"]["business_name"] == "Boneka Berkah"
    assert registering.step != "ikm.sektor"


async def test_replies_say_the_language_they_are_written_in_after_a_switch(app) -> None:
    """A channel words its own parts of a message ("Pilih", "Lainnya") from the replies'
    language, so the answer to the message that switched it must already say the new one."""

    def said(text: str, number: int) -> Incoming:
        return Incoming(
            channel="whatsapp", account_id="6281255550000", text=text, message_id=f"wamid.{number}"
        )

    greeting = await app.engine.handle(said("halo", 1))
    assert {reply.language for reply in greeting} == {"id"}
    switched = await app.engine.handle(said("English", 2))
    assert "agree" in switched[-1].text.lower() or switched[-1].options
    assert {reply.language for reply in switched} == {"en"}
