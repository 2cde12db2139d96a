"""The Dinas's registry meets its numbers on WhatsApp: a record is claimed in a few taps,
invitations go out as the approved template, and an opt-out is honoured afterwards."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from bot.services import audience, registry
from models import IkmProfile, OptOut, OutboxMessage, Person
from models.db import transaction
from tests.registry_records import SOURCE, add_record, record
from tests.whatsapp_chat import act, approved, configured_templates, say, tap, whatsapp_bot

SITI = "6281299990001"
BUDI = "6281299990002"
RINA = "6281299990003"


@pytest.fixture
async def whatsapp(app):
    templates = configured_templates()
    async with whatsapp_bot(
        app, templates=templates, approved_templates=approved(templates)
    ) as harness:
        yield harness


def profile_of(app, wa_id: str) -> IkmProfile | None:
    with Session(app.database) as session:
        person = session.exec(select(Person).where(Person.phone == f"+{wa_id}")).first()
        if person is None:
            return None
        return session.exec(select(IkmProfile).where(IkmProfile.person_id == person.id)).first()


async def start(whatsapp, wa_id: str, name: str = "Siti"):
    person = whatsapp.graph.person(wa_id=wa_id, name=name)
    await act(whatsapp, person.send_text("halo"))
    await act(whatsapp, person.tap_button("Setuju"))
    return person


async def test_benar_registers_the_record_in_three_messages(whatsapp) -> None:
    record_id = add_record(whatsapp.app, phone=f"+{SITI}")
    siti = await start(whatsapp, SITI)
    assert siti.last_text == (
        f"Data dari Dinas Perindustrian ({SOURCE}): Boneka Berkah, Desa Sukatenang, "
        "Kec. Sukawangi, produk: boneka. Benar?"
    )
    assert siti.last_buttons == ["Benar", "Ada yang salah", "Bukan usaha saya"]

    await act(whatsapp, siti.tap_button("Benar"))  # the third message

    assert "Boneka Berkah sudah terdaftar" in texts(siti)
    profile = profile_of(whatsapp.app, SITI)
    assert (profile.business_name, profile.owner_name, profile.kecamatan, profile.sector) == (
        "Boneka Berkah",
        "Siti Aminah",
        "Sukawangi",
        "32",
    )
    assert record(whatsapp.app, record_id).ikm_id == profile.id
    assert "Tambah produk" in siti.last_rows  # products are added as usual


def texts(person, last: int = 3) -> str:
    return "\n".join(message.text or "" for message in person.inbox[-last:])


async def test_a_missing_sector_is_asked_once_as_registration_asks_it(whatsapp) -> None:
    add_record(whatsapp.app, phone=f"+{SITI}", sector=None, products=None)
    siti = await start(whatsapp, SITI)
    await act(whatsapp, siti.tap_button("Benar"))
    assert "bidang apa" in siti.last_text

    await say(whatsapp, siti, "boneka")

    assert "Boneka Berkah sudah terdaftar" in texts(siti)
    assert profile_of(whatsapp.app, SITI).sector == "32"


async def test_ada_yang_salah_opens_the_form_filled_from_the_record(whatsapp) -> None:
    record_id = add_record(whatsapp.app, phone=f"+{SITI}")
    siti = await start(whatsapp, SITI)
    await act(whatsapp, siti.tap_button("Ada yang salah"))
    assert "Bagian mana" in siti.last_text

    await tap(whatsapp, siti, "Nama usaha")
    await say(whatsapp, siti, "Boneka Berkah Jaya")
    assert "Nama usaha: Boneka Berkah Jaya" in siti.last_text
    assert "Desa: Sukatenang" in siti.last_text  # the rest as the Dinas holds it
    await tap(whatsapp, siti, "Simpan")

    profile = profile_of(whatsapp.app, SITI)
    assert profile.business_name == "Boneka Berkah Jaya"
    assert record(whatsapp.app, record_id).ikm_id == profile.id


async def test_bukan_usaha_saya_flags_the_record_and_goes_on_to_the_usual_start(whatsapp) -> None:
    record_id = add_record(whatsapp.app, phone=f"+{SITI}")
    siti = await start(whatsapp, SITI)
    await act(whatsapp, siti.tap_button("Bukan usaha saya"))

    assert siti.last_buttons == ["Saya pelaku IKM", "Saya perusahaan"]
    flagged = record(whatsapp.app, record_id)
    assert (flagged.flag, flagged.ikm_id) == ("not_mine", None)
    assert flagged.flagged_at is not None
    await act(whatsapp, siti.send_text("menu"))  # not offered again
    assert siti.last_buttons == ["Saya pelaku IKM", "Saya perusahaan"]


async def test_a_typed_number_is_not_offered_the_record_it_names(whatsapp) -> None:
    add_record(whatsapp.app, phone=f"+{SITI}")
    squatter = whatsapp.graph.person(wa_id="6289900003333", name="Lain", has_phone=False)
    await act(whatsapp, squatter.send_text("halo"))
    await act(whatsapp, squatter.tap_button("Setuju"))
    await act(whatsapp, squatter.send_text("0812-9999-0001"))
    assert squatter.last_buttons == ["Saya pelaku IKM", "Saya perusahaan"]


def invite(app, batch: int) -> int:
    with transaction(app.database) as session:
        return registry.invite(session, batch=batch, now=app.engine.clock.now())[1]


def announce(app, text: str) -> None:
    with transaction(app.database) as session:
        audience.announce(
            session,
            author=None,
            text=text,
            image_ref=None,
            audience={"kind": "all_ikm"},
            now=app.engine.clock.now(),
        )


async def test_invitations_go_as_the_template_and_an_opt_out_is_honoured_later(whatsapp) -> None:
    app = whatsapp.app
    for phone, business in ((SITI, "Boneka Berkah"), (BUDI, "Sarung Tangan Budi")):
        add_record(app, phone=f"+{phone}", business_name=business)
    rina_record = add_record(app, phone=f"+{RINA}", business_name="Keripik Rina")

    siti = whatsapp.graph.person(wa_id=SITI)
    budi = whatsapp.graph.person(wa_id=BUDI, name="Budi")
    assert invite(app, batch=2) == 2  # oldest first: Rina's waits for the next batch
    outcomes = await whatsapp.deliver()
    assert outcomes["sent"] == 2, (outcomes, outbox_kinds(app))
    invitation = siti.inbox[-1]  # nobody wrote yet: outside the 24-hour window
    assert invitation.template == "undangan_sinergi_ikm"
    assert invitation.template_params == ["Boneka Berkah", SOURCE]  # where the data came from
    assert [button["title"] for button in invitation.quick_replies] == ["Gabung", "Berhenti"]

    # Siti joins from the invitation and claims her record; Budi stops it.
    await act(whatsapp, siti.tap_quick_reply("Gabung"))
    await act(whatsapp, siti.tap_button("Setuju"))
    await act(whatsapp, siti.tap_button("Benar"))
    assert profile_of(app, SITI) is not None
    await act(whatsapp, budi.tap_quick_reply("Berhenti"))
    assert "tidak akan menerima undangan" in budi.last_text

    # Later Siti, registered, says "berhenti" at the menu: she opts out too.
    await act(whatsapp, siti.send_text("berhenti"))
    assert "tidak akan menerima undangan" in siti.last_text
    with Session(app.database) as session:
        assert len(session.exec(select(OptOut)).all()) == 2

    rina = whatsapp.graph.person(wa_id=RINA, name="Rina")
    await act(whatsapp, rina.send_text("halo"))
    await act(whatsapp, rina.tap_button("Setuju"))
    await act(whatsapp, rina.tap_button("Benar"))
    assert record(app, rina_record).ikm_id is not None

    announce(app, "Pameran IKM di Jababeka, 5 Desember.")
    seen = {person: len(person.inbox) for person in (siti, rina)}
    await whatsapp.deliver()
    assert any("Pameran IKM" in (m.text or "") for m in rina.inbox[seen[rina] :])
    assert siti.inbox[seen[siti] :] == []  # opted out: no announcement
    assert invite(app, batch=10) == 0  # Budi opted out, the others are registered


async def test_berhenti_inside_a_form_cancels_and_mulai_undoes_an_opt_out(whatsapp) -> None:
    siti = whatsapp.graph.person(wa_id=SITI)
    await act(whatsapp, siti.send_text("halo"))
    await act(whatsapp, siti.tap_button("Setuju"))
    await act(whatsapp, siti.tap_button("Saya pelaku IKM"))
    await say(whatsapp, siti, "Siti Aminah")  # a pending question with an answer given

    await say(whatsapp, siti, "berhenti")
    assert "dibatalkan" in texts(siti)
    assert not registry_opted_out(whatsapp.app, SITI)

    await say(whatsapp, siti, "menu")
    await say(whatsapp, siti, "berhenti")  # nothing to cancel now: an opt-out
    assert registry_opted_out(whatsapp.app, SITI)

    await say(whatsapp, siti, "mulai")
    assert "Selamat datang kembali" in texts(siti)
    assert not registry_opted_out(whatsapp.app, SITI)


def registry_opted_out(app, wa_id: str) -> bool:
    with Session(app.database) as session:
        return registry.opted_out(session, f"+{wa_id}")


def outbox_kinds(app) -> list[str]:
    with Session(app.database) as session:
        return [
            (row.kind, row.state, row.last_error) for row in session.exec(select(OutboxMessage))
        ]


async def test_an_officer_invites_from_the_chat_with_a_preview_and_progress(
    whatsapp, chat_as
) -> None:
    from tests.test_procurement_flow import OFFICER, grant_officer

    app = whatsapp.app
    add_record(app, phone=f"+{SITI}")
    add_record(app, phone=f"+{BUDI}", business_name="Sarung Tangan Budi")
    siti = whatsapp.graph.person(wa_id=SITI)
    whatsapp.graph.person(wa_id=BUDI, name="Budi")
    grant_officer(app)
    officer = chat_as(OFFICER)
    await officer.say("halo")
    await officer.tap("Setuju")

    await officer.tap("Undang IKM")
    assert "Dinas Perindustrian Kabupaten Bekasi mencatat Boneka Berkah" in officer.text
    assert f"({SOURCE})" in officer.text  # where the data came from
    assert "Akan dikirim ke 2 nomor" in officer.text
    await officer.tap("Kirim undangan")
    assert "2 undangan masuk antrean" in officer.text
    assert "0 terkirim dari 2, 2 menunggu" in officer.text

    await whatsapp.deliver()
    await officer.tap("Perbarui")
    assert "2 terkirim dari 2, 0 menunggu, 0 gagal" in officer.text
    assert siti.inbox[-1].template == "undangan_sinergi_ikm"

    await officer.say("menu")
    await officer.tap("Undang IKM")  # nobody left to invite: said, and nothing to send
    assert "Tidak ada nomor IKM yang bisa diundang" in officer.text
    assert officer.options == ["Kembali ke menu"]
