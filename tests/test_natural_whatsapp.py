"""The story of tests/test_natural_console.py over WhatsApp, against the strict fake Cloud API
with its webhooks posted on loopback: every answer typed as people type it, the call's
"Ajukan penawaran" tapped, the bimtek taken with "daftar" and "iya". Nothing clear is refused,
what was meant is stored, and every message keeps WhatsApp's limits: at most 3 reply buttons
of 20 characters, or a list of at most 10 rows, a "did you mean" included.
"""

from __future__ import annotations

import logging

from bot.core.i18n import Catalog
from bot.services import accounts
from models.db import transaction
from tests.fakes.whatsapp import FakePerson
from tests.procurement_cast import COMPANY, OFFICER
from tests.test_natural_console import (
    BIMTEK,
    BIMTEK_SIGN_UP,
    BUSINESS,
    COMPANY_AFTER_CONTACT,
    COMPANY_BEFORE_CONTACT,
    IKM_AFTER_CONTACT,
    IKM_BEFORE_CONTACT,
    MAKER,
    MAX_REGISTRATION_MESSAGES,
    NEED,
    NEED_AFTER,
    OFFER,
    REFUSED,
    assert_company_stored,
    assert_maker_stored,
    assert_need_stored,
    assert_offer_stored,
    assert_signed_up,
)
from tests.whatsapp_chat import (
    Harness,
    act,
    approved,
    configured_templates,
    say,
    tap,
    texts_since,
    whatsapp_bot,
)

_ID = Catalog.load().translator("id")
MAX_BUTTONS, BUTTON_TITLE, MAX_ROWS, ROW_TITLE = 3, 20, 10, 24


def wa_id(phone: str) -> str:
    return phone.removeprefix("+")


async def say_all(wa: Harness, person: FakePerson, answers: list[str]) -> int:
    """Type each answer; none may be refused. Returns how many messages were sent."""
    for answer in answers:
        seen = len(person.inbox)
        await say(wa, person, answer)
        answered = texts_since(person, seen)
        assert answered, f"no answer to {answer!r}"
        assert REFUSED not in answered, f"{answer!r} was refused: {answered}"
    return len(answers)


def assert_within_whatsapp_limits(*people: FakePerson) -> None:
    for person in people:
        for message in person.inbox:
            if message.interactive_type == "button":
                assert len(message.buttons) <= MAX_BUTTONS, message.button_titles
                assert all(len(title) <= BUTTON_TITLE for title in message.button_titles)
            elif message.interactive_type == "list":
                assert len(message.rows) <= MAX_ROWS, message.row_titles
                assert all(len(title) <= ROW_TITLE for title in message.row_titles)


async def test_a_story_typed_as_people_type_over_whatsapp(app, caplog) -> None:
    with transaction(app.database) as session:
        accounts.grant_dinas(session, phone=OFFICER, now=app.engine.clock.now(), language="id")
    templates = configured_templates()

    async with whatsapp_bot(app, templates=templates, approved_templates=approved(templates)) as wa:
        maker = wa.graph.person(wa_id=wa_id(MAKER), name="Siti")
        sent = await say_all(wa, maker, IKM_BEFORE_CONTACT + IKM_AFTER_CONTACT)
        assert f"{BUSINESS} sudah terdaftar" in texts_since(maker, len(maker.inbox) - 3)
        assert sent <= MAX_REGISTRATION_MESSAGES
        assert_maker_stored(app)

        company = wa.graph.person(wa_id=wa_id(COMPANY), name="Bambang")
        await say_all(wa, company, COMPANY_BEFORE_CONTACT + COMPANY_AFTER_CONTACT)
        assert_company_stored(app)

        officer = wa.graph.person(wa_id=wa_id(OFFICER), name="Rina")
        await say(wa, officer, "halo")
        await tap(wa, officer, "Setuju")
        await say(wa, officer, "menu")
        await tap(wa, officer, "Verifikasi perusahaan")
        await tap(wa, officer, "PT Sinar Otomotif Indonesia")
        await tap(wa, officer, "Setujui")
        await wa.deliver()

        await say_all(wa, company, [NEED, *NEED_AFTER])  # no slash: people on WhatsApp type none
        assert "sudah diterbitkan" in texts_since(company, len(company.inbox) - 3)
        assert_need_stored(app)

        seen = len(maker.inbox)
        await wa.deliver()
        [call] = [m for m in maker.inbox[seen:] if m.type == "interactive"]
        assert call.button_titles == ["Lihat detail", "Ajukan penawaran", "Tidak berminat"]
        await act(wa, maker.tap_button("Ajukan penawaran", message=call))
        assert "Target perusahaan" in maker.last_text
        await say_all(wa, maker, OFFER)
        assert "terkirim" in texts_since(maker, len(maker.inbox) - 2)
        assert_offer_stored(app)

        await say_all(wa, officer, BIMTEK)
        assert "dibuat dan diumumkan" in texts_since(officer, len(officer.inbox) - 2)
        seen = len(maker.inbox)
        await wa.deliver()
        assert "Bimtek baru untuk usaha Anda" in texts_since(maker, seen)
        await say_all(wa, maker, BIMTEK_SIGN_UP)
        assert "Anda terdaftar" in texts_since(maker, len(maker.inbox) - 2)
        assert_signed_up(app)

        assert_within_whatsapp_limits(maker, company, officer)
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]


async def test_a_did_you_mean_fits_whatsapp_buttons_or_a_list(app) -> None:
    templates = configured_templates()
    async with whatsapp_bot(app, templates=templates, approved_templates=approved(templates)) as wa:
        person = wa.graph.person(wa_id=wa_id(MAKER), name="Siti")
        await say_all(wa, person, ["halo", "y", "ikm", "Siti", "Kue Siti", "kue"])
        await say(wa, person, "tambun")  # two kecamatan begin so: two and "Bukan", as buttons
        asked = person.last_message
        assert asked.text == _ID("understanding.which")
        assert asked.button_titles == ["Tambun Selatan", "Tambun Utara", "Bukan"]
        await tap(wa, person, "Tambun Utara")
        assert person.last_text == _ID("ikm.details.ask")
        assert person.last_message.button_titles == ["Tambah detail", "Lewati"]
        await say_all(wa, person, ["boleh", "gak tau", "blm ada", "3 orang"])
        assert_within_whatsapp_limits(person)
