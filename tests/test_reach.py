"""Reach outside WhatsApp's 24-hour window, and nothing stale delivered late.

Over the strict fake Cloud API, with the project's own config.toml templates: two IKM
registered on WhatsApp (one chose English) stay silent for two days; the Dinas moves and
then cancels the bimtek they signed up for, and both learn it as approved templates, each
in their language; two months on, the monthly nudge reaches them as a template too.
When the templates are not approved yet, messages wait for the person's next word; the
person writes after months and receives only what is still true: not the invitation to
a session cancelled meanwhile, not an announcement long past, one nudge, not two. The
console inbox and the Telegram sender drop what is stale the same way.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from bot.services import accounts, audience
from bot.services.outbox import REACH
from handlers.notifications import RENDERERS
from models import OutboxMessage
from models.db import transaction
from scheduler.jobs import nudge_inactive_ikm
from tests.chat import register_ikm as register_on_console
from tests.fakes.whatsapp import FakePerson, SentMessage
from tests.telegram_chat import onboard, press, telegram_bot
from tests.telegram_chat import say as say_on_telegram
from tests.whatsapp_chat import (
    Harness,
    approved,
    configured_templates,
    say,
    tap,
    texts_since,
    whatsapp_bot,
)

OFFICER = "+6281100000002"
SITI = "6281200000031"
JOHN = "6281200000032"
TWO_DAYS = timedelta(days=2)


def grant_officer(app) -> None:
    with transaction(app.database) as session:
        accounts.grant_dinas(session, phone=OFFICER, now=app.engine.clock.now(), language="id")


async def register_ikm(wa: Harness, person: FakePerson, business: str) -> None:
    await say(wa, person, "halo")
    await tap(wa, person, "Setuju")
    await tap(wa, person, "Saya pelaku IKM")
    await say(wa, person, person.name)
    await say(wa, person, business)
    await tap(wa, person, "Pengolahan lainnya")
    await say(wa, person, "sukawangi")
    await tap(wa, person, "Lewati")  # desa, NIB and workers: later
    await say(wa, person, "Boneka karakter")
    await tap(wa, person, "pcs")
    await say(wa, person, "40rb")
    await say(wa, person, "200")
    await tap(wa, person, "Lewati")
    await tap(wa, person, "Simpan")
    assert "sudah terdaftar" in texts_since(person, len(person.inbox) - 3)


async def create_bimtek(officer, *, title: str, when: str, reach: int) -> None:
    """The officer's bimtek form on the console, for the doll makers of every kecamatan."""
    await officer.say("menu")
    await officer.tap("Buat bimtek")
    await officer.say(title)
    await officer.tap("Lewati")
    await officer.tap("Kemenperin")
    await officer.say(when)
    await officer.say("Aula Dinas Perindustrian, Cikarang Pusat")
    await officer.say("20")
    await officer.tap("Pengolahan lainnya")
    await officer.tap("Selesai")
    await officer.tap("Semua")
    await officer.tap("Sehari sebelumnya")
    await officer.tap("Lewati")
    assert f"Akan diumumkan ke {reach} IKM" in officer.text
    await officer.tap("Simpan & umumkan")
    assert "dibuat dan diumumkan" in officer.text


async def officer_opens(officer, title: str) -> None:
    await officer.say("bimtek")
    await officer.tap(title)


def templates_since(person: FakePerson, start: int) -> list[SentMessage]:
    return [m for m in person.inbox[start:] if m.type == "template"]


def outbox_states(app, kind: str) -> list[str]:
    with Session(app.database) as session:
        found = session.exec(
            select(OutboxMessage.state).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
        )
        return list(found)


async def test_a_moved_and_a_cancelled_bimtek_and_the_nudge_reach_the_silent(app, chat_as) -> None:
    grant_officer(app)
    officer = chat_as(OFFICER)
    await officer.say("halo")
    await officer.tap("Setuju")
    templates = configured_templates()
    async with whatsapp_bot(app, templates=templates, approved_templates=approved(templates)) as wa:
        siti = wa.graph.person(wa_id=SITI, name="Siti Aminah")
        john = wa.graph.person(wa_id=JOHN, name="John Tan")
        await register_ikm(wa, siti, "Boneka Berkah")
        await register_ikm(wa, john, "Tan Dolls")
        await create_bimtek(
            officer, title="Bimtek Menjahit Boneka", when="26/11/2026 jam 9", reach=2
        )
        await wa.deliver()
        for person in (siti, john):
            assert "Bimtek baru untuk usaha Anda" in person.last_text
            await tap(wa, person, "Lihat dan daftar")
            await tap(wa, person, "Daftar")
            assert "Anda terdaftar" in texts_since(person, len(person.inbox) - 2)
        await say(wa, john, "bahasa")
        await tap(wa, john, "English")

        wa.pass_time(TWO_DAYS)
        assert not siti.in_window and not john.in_window
        seen = {person.wa_id: len(person.inbox) for person in (siti, john)}
        await officer_opens(officer, "Bimtek Menjahit Boneka")
        await officer.tap("Ubah jadwal")
        await officer.say("30/11/2026 jam 13")
        await officer.tap("Sehari sebelumnya")
        assert "Jadwal diubah" in officer.text
        await wa.deliver()
        [moved_id] = templates_since(siti, seen[SITI])
        [moved_en] = templates_since(john, seen[JOHN])
        assert (moved_id.template, moved_id.template_language) == ("jadwal_bimtek_berubah", "id")
        assert (moved_en.template, moved_en.template_language) == ("jadwal_bimtek_berubah", "en")
        assert "bukan lagi Kamis, 26 November 2026" in moved_id.text
        assert "30 November 2026" in moved_id.text and "30 November 2026" in moved_en.text
        assert "has moved" in moved_en.text

        seen = {person.wa_id: len(person.inbox) for person in (siti, john)}
        await officer_opens(officer, "Bimtek Menjahit Boneka")
        await officer.tap("Batalkan bimtek")
        await officer.tap("Ya, batalkan bimtek")
        await wa.deliver()
        [cancelled_id] = templates_since(siti, seen[SITI])
        [cancelled_en] = templates_since(john, seen[JOHN])
        assert (cancelled_id.template, cancelled_id.template_language) == (
            "bimtek_dibatalkan",
            "id",
        )
        assert "tidak perlu datang" in cancelled_id.text
        assert cancelled_en.template_language == "en" and "do not come" in cancelled_en.text

        # Sixty-one days on, still silent: the monthly nudge, as a template, with its button.
        wa.pass_time(timedelta(days=61))
        seen = {person.wa_id: len(person.inbox) for person in (siti, john)}
        assert await nudge_inactive_ikm(app) == 2
        await wa.deliver()
        [nudge_id] = templates_since(siti, seen[SITI])
        [nudge_en] = templates_since(john, seen[JOHN])
        assert (nudge_id.template, nudge_id.template_language) == ("kabar_usaha", "id")
        assert "Boneka Berkah" in nudge_id.text
        assert nudge_en.template_language == "en" and "Tan Dolls" in nudge_en.text
        await tap_template(wa, siti, "Lihat produk saya")
        assert "Boneka karakter" in siti.last_text
    assert outbox_states(app, "bimtek.reminder") in ([], ["cancelled"])


async def tap_template(wa: Harness, person: FakePerson, title: str) -> None:
    await person.tap_quick_reply(title)
    await wa.process()


async def test_after_months_away_only_what_is_still_true_arrives(app, chat_as) -> None:
    grant_officer(app)
    officer = chat_as(OFFICER)
    await officer.say("halo")
    await officer.tap("Setuju")
    templates = configured_templates()
    # Configured but not approved by Meta yet: every message waits for the person's word.
    async with whatsapp_bot(app, templates=templates, approved_templates={}) as wa:
        siti = wa.graph.person(wa_id=SITI, name="Siti Aminah")
        await register_ikm(wa, siti, "Boneka Berkah")
        wa.pass_time(TWO_DAYS)
        await create_bimtek(officer, title="Bimtek Pewarnaan", when="27/11/2026 jam 9", reach=1)
        await create_bimtek(officer, title="Bimtek Pemasaran", when="20/2/2027 jam 9", reach=1)
        with transaction(app.database) as session:
            audience.announce(
                session,
                author=None,
                text="Pameran IKM di Jababeka, 5 Desember.",
                image_ref=None,
                audience={"kind": "all_ikm"},
                now=app.engine.clock.now(),
            )
        await wa.deliver()
        assert outbox_states(app, "bimtek.announced") == ["waiting", "waiting"]
        await officer_opens(officer, "Bimtek Pewarnaan")
        await officer.tap("Batalkan bimtek")
        await officer.tap("Ya, batalkan bimtek")  # nobody had registered: nobody is told

        wa.pass_time(timedelta(days=60))  # 23 January 2027: silent for 62 days
        assert await nudge_inactive_ikm(app) == 1
        await wa.deliver()
        wa.pass_time(timedelta(days=9))  # 1 February: the next month's nudge
        assert await nudge_inactive_ikm(app) == 1
        await wa.deliver()
        assert outbox_states(app, "ikm.nudge") == ["superseded", "waiting"]

        seen = len(siti.inbox)
        await say(wa, siti, "menu")
        await wa.deliver()
        shown = texts_since(siti, seen)
        assert "Bimtek Pemasaran" in shown and "Bimtek Pewarnaan" not in shown
        assert "Pameran IKM" not in shown
        assert shown.count("Sudah lama kami tidak mendengar") == 1
        assert shown.index("Bimtek Pemasaran") < shown.index("Sudah lama")  # oldest first
        [invitation] = [m for m in siti.inbox[seen:] if "Bimtek Pemasaran" in (m.text or "")]
        await siti.tap_button("Lihat dan daftar", message=invitation)  # still tappable
        await wa.process()
        assert "Sisa kursi" in siti.last_text
    assert outbox_states(app, "bimtek.announced") == ["superseded", "sent"]
    assert outbox_states(app, "announcement") == ["expired"]
    assert outbox_states(app, "ikm.nudge") == ["superseded", "sent"]


async def test_the_console_inbox_leaves_out_what_is_stale(app, chat_as, clock) -> None:
    grant_officer(app)
    officer = chat_as(OFFICER)
    await officer.say("halo")
    await officer.tap("Setuju")
    maker = chat_as("+6281200000033")
    await register_on_console(maker)
    await create_bimtek(officer, title="Bimtek Pewarnaan", when="27/11/2026 jam 9", reach=1)
    await create_bimtek(officer, title="Bimtek Pemasaran", when="20/2/2027 jam 9", reach=1)
    await officer_opens(officer, "Bimtek Pewarnaan")
    await officer.tap("Batalkan bimtek")
    await officer.tap("Ya, batalkan bimtek")
    with transaction(app.database) as session:
        audience.announce(
            session,
            author=None,
            text="Pameran IKM di Jababeka, 5 Desember.",
            image_ref=None,
            audience={"kind": "all_ikm"},
            now=clock.now(),
        )
    clock.set(datetime(2027, 1, 10, 3, 0, tzinfo=UTC))
    await maker.open()
    assert "Bimtek Pemasaran" in maker.text
    assert "Bimtek Pewarnaan" not in maker.text and "Pameran IKM" not in maker.text
    assert outbox_states(app, "announcement") == ["expired"]


async def test_the_telegram_sender_drops_what_went_stale_while_it_was_down(
    app, chat_as, clock
) -> None:
    grant_officer(app)
    officer = chat_as(OFFICER)
    await officer.say("halo")
    await officer.tap("Setuju")
    async with telegram_bot(app) as tg:
        maker = tg.api.user(7101, "Wati", phone="+6281200000034")
        await onboard(tg, maker)
        await press(tg, maker, "Saya pelaku IKM")
        for answer in ("Wati", "Boneka Wati", "Pengolahan lainnya", "sukawangi"):
            await say_on_telegram(tg, maker, answer)
        await press(tg, maker, "Lewati")  # desa, NIB and workers: later
        for answer in ("Boneka karakter", "pcs", "40rb", "200"):
            await say_on_telegram(tg, maker, answer)
        await press(tg, maker, "Lewati")
        await press(tg, maker, "Simpan")
        # The sender is down while the Dinas announces, opens two sessions, cancels one.
        await create_bimtek(officer, title="Bimtek Pewarnaan", when="27/11/2026 jam 9", reach=1)
        await create_bimtek(officer, title="Bimtek Pemasaran", when="20/2/2027 jam 9", reach=1)
        await officer_opens(officer, "Bimtek Pewarnaan")
        await officer.tap("Batalkan bimtek")
        await officer.tap("Ya, batalkan bimtek")
        with transaction(app.database) as session:
            audience.announce(
                session,
                author=None,
                text="Pameran IKM di Jababeka, 5 Desember.",
                image_ref=None,
                audience={"kind": "all_ikm"},
                now=clock.now(),
            )
        seen = len(maker.inbox)
        clock.set(datetime(2026, 12, 20, 3, 0, tzinfo=UTC))  # back four weeks later
        await tg.deliver()
        shown = "\n".join(message.shown_text or "" for message in maker.inbox[seen:])
        assert "Bimtek Pemasaran" in shown
        assert "Bimtek Pewarnaan" not in shown and "Pameran IKM" not in shown
    assert outbox_states(app, "announcement") == ["expired"]
    assert outbox_states(app, "bimtek.announced") == ["superseded", "sent"]


def test_every_kind_states_its_reach_and_has_a_template_or_is_left_without_on_purpose() -> None:
    templates = configured_templates()
    assert set(RENDERERS) == set(REACH), "a kind rendered but without its reach, or the reverse"
    for kind, reach in REACH.items():
        if reach.template:
            assert kind in templates, f"{kind}: no WhatsApp template in config.toml"
            assert templates[kind].for_language("en").language == "en", f"{kind}: no English"
        else:
            assert kind not in templates, f"{kind}: a template for a kind left without one"


def test_the_readme_table_decides_every_kind() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    templates = configured_templates()
    for kind, reach in REACH.items():
        row = next((line for line in readme.splitlines() if line.startswith(f"| `{kind}` |")), "")
        assert row, f"{kind} is not in the README's template table"
        expected = f"`{templates[kind].name}`" if reach.template else "none"
        assert expected in row, f"{kind}: the README says {row!r}"
