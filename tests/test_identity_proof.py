"""A number belongs to a person only when proven: it wrote on WhatsApp, its own contact was
shared on Telegram, or the operator's console / the Dinas states it. A typed number is the
typing account's claim: it merges no one into it, and gives way when the owner proves it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from bot.config import WhatsAppTemplate
from models import ChannelAccount, ConversationState, Person
from models.db import make_engine, upgrade
from tests.conftest import ADMIN_PHONE
from tests.telegram_chat import press, telegram_bot
from tests.telegram_chat import say as tg_say
from tests.whatsapp_chat import act, say, texts_since, whatsapp_bot

OWNER_WA_ID = "6281255550001"
OWNER = f"+{OWNER_WA_ID}"
TYPED = "0812-5555-0001"
DROPPED = "sudah dibuktikan oleh pemiliknya"


@pytest.fixture
async def whatsapp(app):
    async with whatsapp_bot(
        app,
        templates={"announcement": WhatsAppTemplate(name="pengumuman_dinas", params=["text"])},
        approved_templates={"pengumuman_dinas": {"id": 1}},
    ) as harness:
        yield harness


async def squat(whatsapp, name: str = "Squatter", wa_id: str = "6289900003333"):
    """A username-only WhatsApp user consents, types the owner's number and starts as an IKM."""
    squatter = whatsapp.graph.person(wa_id=wa_id, name=name, has_phone=False)
    await act(whatsapp, squatter.send_text("halo"))
    await act(whatsapp, squatter.tap_button("Setuju"))
    assert "nomor HP" in squatter.last_text
    await act(whatsapp, squatter.send_text(TYPED))
    assert squatter.last_buttons == ["Saya pelaku IKM", "Saya perusahaan"]
    await act(whatsapp, squatter.tap_button("Saya pelaku IKM"))
    await say(whatsapp, squatter, "Penyerobot")  # a draft of their own registration
    return squatter


def people(app) -> list[Person]:
    with Session(app.database) as session:
        return list(session.exec(select(Person).order_by(Person.id)))


def person_of(app, channel: str, external_id: str) -> Person:
    with Session(app.database) as session:
        return session.exec(
            select(Person)
            .join(ChannelAccount, ChannelAccount.person_id == Person.id)
            .where(ChannelAccount.channel == channel, ChannelAccount.external_id == external_id)
        ).one()


def draft_of(app, person_id: int) -> dict:
    with Session(app.database) as session:
        state = session.get(ConversationState, person_id)
        return dict(state.data) if state else {}


async def test_the_owner_writing_from_a_typed_number_gets_a_person_of_their_own(whatsapp) -> None:
    squatter = await squat(whatsapp)
    squatter_id = person_of(whatsapp.app, "whatsapp", squatter.user_id).id

    owner = whatsapp.graph.person(wa_id=OWNER_WA_ID, name="Pemilik")
    await act(whatsapp, owner.send_text("halo"))
    # A stranger's welcome, not the squatter's registration draft.
    assert "Selamat datang" in owner.last_text
    assert owner.last_buttons == ["Setuju", "Tidak setuju", "English"]

    mine = person_of(whatsapp.app, "whatsapp", OWNER_WA_ID)
    assert mine.id != squatter_id and mine.phone == OWNER
    assert draft_of(whatsapp.app, mine.id) == {}
    theirs = person_of(whatsapp.app, "whatsapp", squatter.user_id)
    assert (theirs.phone, theirs.claimed_phone) == (None, None)
    assert "Penyerobot" in str(draft_of(whatsapp.app, squatter_id))  # their own draft stays

    seen = len(squatter.inbox)
    await whatsapp.deliver()
    assert DROPPED in texts_since(squatter, seen) and "0812-5555-0001" in texts_since(
        squatter, seen
    )
    # Asked again for a number of their own when they go back to the menu.
    await say(whatsapp, squatter, "menu")
    assert "nomor HP" in squatter.last_text


async def test_every_claimant_of_a_number_is_told_when_its_owner_writes(whatsapp) -> None:
    first = await squat(whatsapp, "Satu", "6289900004444")
    second = await squat(whatsapp, "Dua", "6289900005555")
    owner = whatsapp.graph.person(wa_id=OWNER_WA_ID, name="Pemilik")
    await act(whatsapp, owner.send_text("halo"))
    seen = {first.user_id: len(first.inbox), second.user_id: len(second.inbox)}
    await whatsapp.deliver()
    for claimant in (first, second):
        assert DROPPED in texts_since(claimant, seen[claimant.user_id])
    assert sorted(p.phone or "" for p in people(whatsapp.app)) == ["", "", OWNER]


async def test_on_telegram_only_a_shared_own_contact_proves_a_number_someone_typed(
    whatsapp, app
) -> None:
    squatter = await squat(whatsapp)
    async with telegram_bot(app) as telegram:
        owner = telegram.api.user(777, "Pemilik", phone=OWNER)
        await tg_say(telegram, owner, "/start")
        await press(telegram, owner, "Setuju")
        await tg_say(telegram, owner, TYPED)  # typed on Telegram: no proof, asked for the card
        assert owner.reply_keyboard_labels == ["Bagikan nomor HP"]
        await owner.share_contact()
        await telegram.pump()
        # Not "your data is now linked": the owner starts afresh, as a person of their own.
        assert owner.last_buttons == ["Saya pelaku IKM", "Saya perusahaan"]
    mine = person_of(app, "telegram", "777")
    assert mine.phone == OWNER
    assert mine.id != person_of(app, "whatsapp", squatter.user_id).id
    seen = len(squatter.inbox)
    await whatsapp.deliver()
    assert DROPPED in texts_since(squatter, seen)


async def test_the_console_operator_number_is_proven_and_takes_no_claimant(
    whatsapp, chat_as
) -> None:
    squatter = await squat(whatsapp)
    operator = chat_as(OWNER)
    await operator.say("halo")
    assert "Selamat datang" in operator.text
    assert person_of(whatsapp.app, "console", OWNER).id != (
        person_of(whatsapp.app, "whatsapp", squatter.user_id).id
    )


async def test_an_officer_granted_by_phone_is_never_the_one_who_typed_it(whatsapp, chat_as) -> None:
    squatter = await squat(whatsapp)
    admin = chat_as(ADMIN_PHONE)
    await admin.say("halo")
    await admin.tap("Setuju")
    await admin.tap("Beri peran Dinas")
    await admin.say(TYPED)
    assert "sudah diberikan" in admin.text
    claimant = person_of(whatsapp.app, "whatsapp", squatter.user_id)
    assert claimant.role is None
    assert (claimant.phone, claimant.claimed_phone) == (None, None)
    # The real officer, writing later from the number, finds the role the Dinas gave them.
    officer = whatsapp.graph.person(wa_id=OWNER_WA_ID, name="Petugas")
    await act(whatsapp, officer.send_text("halo"))
    assert person_of(whatsapp.app, "whatsapp", OWNER_WA_ID).role == "dinas"
    seen = len(squatter.inbox)
    await whatsapp.deliver()
    assert DROPPED in texts_since(squatter, seen)


def test_the_migration_turns_numbers_only_ever_typed_into_claims(tmp_path) -> None:
    """Before this change a typed number was stored as proven: upgrading makes it a claim,
    and keeps numbers that wrote themselves or that the Dinas stated (an officer by phone)."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0005")
    engine = make_engine(url)
    with engine.begin() as connection:
        for person_id, phone in ((1, "+6281200000001"), (2, "+6281200000002"), (3, OWNER)):
            connection.execute(
                sa.text(
                    "INSERT INTO person (id, phone, language, created_at, last_active_at)"
                    " VALUES (:id, :phone, 'id', :at, :at)"
                ),
                {"id": person_id, "phone": phone, "at": "2026-11-01 00:00:00"},
            )
        for person_id, external_id in ((1, "ID.1234"), (2, "6281200000002")):
            connection.execute(
                sa.text(
                    "INSERT INTO channel_account (person_id, channel, external_id, blocked,"
                    " created_at) VALUES (:id, 'whatsapp', :ext, false, :at)"
                ),
                {"id": person_id, "ext": external_id, "at": "2026-11-01 00:00:00"},
            )
    upgrade(url)
    with engine.connect() as connection:
        found = connection.execute(
            sa.text("SELECT id, phone, claimed_phone FROM person ORDER BY id")
        ).all()
    engine.dispose()
    assert [tuple(row) for row in found] == [
        (1, None, "+6281200000001"),
        (2, "+6281200000002", None),
        (3, OWNER, None),
    ]


async def test_a_username_only_user_whose_own_number_shows_later_stays_one_person(
    whatsapp,
) -> None:
    """The business-scoped user id is WhatsApp's proof that it is the same account: the
    number it typed, once it shows in the webhook, is proven for that same person."""
    user = whatsapp.graph.person(wa_id=OWNER_WA_ID, name="Sendiri", has_phone=False)
    await act(whatsapp, user.send_text("halo"))
    await act(whatsapp, user.tap_button("Setuju"))
    await act(whatsapp, user.send_text(TYPED))
    await act(whatsapp, user.tap_button("Saya pelaku IKM"))
    await say(whatsapp, user, "Siti Aminah")
    user.has_phone = True  # they drop the username: the webhook carries the number again
    await say(whatsapp, user, "Boneka Sendiri")
    assert "bidang apa" in user.last_text  # the same registration goes on
    [person] = people(whatsapp.app)
    assert (person.phone, person.claimed_phone) == (OWNER, None)
    seen = len(user.inbox)
    await whatsapp.deliver()
    assert DROPPED not in texts_since(user, seen)
