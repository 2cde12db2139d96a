""" "Active" as one figure the Dinas can move: registered (chat and registry), claimed, active
and opted out, the nudge's effect, and `hapus data` taking the registry's records along."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from bot.services import bimtek, ikm, registry, stats
from models import BimtekFields, IkmProfile, OptOut, OutboxMessage, Person, RegistryRecord
from models.db import transaction
from tests.chat import register_ikm
from tests.conftest import START
from tests.registry_records import add_record, record
from tests.test_cli import config, database, sinergi  # noqa: F401 - `config` is a fixture

SUKAWANGI_A, SUKAWANGI_B, CIBITUNG = "+6281200000001", "+6281200000002", "+6281200000003"


def seed_people(app) -> dict[str, int]:
    """Three IKM registered in the chat: two in Sukawangi (32), one in Cibitung (10)."""
    ids = {}
    with transaction(app.database) as session:
        for phone, kecamatan, sector in (
            (SUKAWANGI_A, "Sukawangi", "32"),
            (SUKAWANGI_B, "Sukawangi", "32"),
            (CIBITUNG, "Cibitung", "10"),
        ):
            person = Person(phone=phone, role="ikm", name="Pemilik", created_at=START)
            session.add(person)
            session.flush()
            profile = IkmProfile(
                person_id=person.id,
                owner_name="Pemilik",
                business_name=f"Usaha {phone[-1]}",
                sector=sector,
                kecamatan=kecamatan,
                created_at=START,
            )
            session.add(profile)
            session.flush()
            ids[phone] = person.id
    return ids


def heard_from(app, person_id: int, days_ago: int) -> None:
    with transaction(app.database) as session:
        session.get(Person, person_id).last_active_at = START - timedelta(days=days_ago)


async def test_registered_claimed_active_and_opted_out_on_a_seeded_history(app) -> None:
    ids = seed_people(app)
    heard_from(app, ids[SUKAWANGI_A], 10)
    heard_from(app, ids[SUKAWANGI_B], 59)  # active: within the 60 days
    heard_from(app, ids[CIBITUNG], 61)  # not active
    add_record(app, phone="+6281299990001")  # unclaimed, Sukawangi 32
    add_record(app, phone="+6281299990002", kecamatan=None, sector="14")  # unknown kecamatan
    add_record(app, phone="+6281299990003", kecamatan="Cibitung", sector="10", flag="not_mine")
    with transaction(app.database) as session:
        registry.opt_out(session, phone="+6281299990002", now=START - timedelta(days=40))

    with Session(app.database) as session:
        figures = stats.active_figures(session=session, now=START, months=3)

    assert figures.total == stats.Counts(registered=6, claimed=3, active=2, opted_out=1)
    assert figures.flagged == 1
    assert dict(figures.by_kecamatan) == {
        "Sukawangi": stats.Counts(registered=3, claimed=2, active=2),
        "Cibitung": stats.Counts(registered=2, claimed=1, active=0),
        "-": stats.Counts(registered=1, claimed=0, active=0),
    }
    assert dict(figures.by_sector)["32"] == stats.Counts(registered=3, claimed=2, active=2)
    # September: B's message (24 Sep) and Cibitung's (22 Sep); October: the opt-out;
    # November: A's message and the three registrations.
    assert [(month.month, row) for month, row in figures.by_month] == [
        (9, stats.Counts(active=2)),
        (10, stats.Counts(opted_out=1)),
        (11, stats.Counts(claimed=3, active=1)),
    ]


def person_id(app, phone: str) -> int:
    with Session(app.database) as session:
        return session.exec(select(Person.id).where(Person.phone == phone)).one()


def announce_bimtek(app) -> None:
    now = app.engine.clock.now()
    with transaction(app.database) as session:
        bimtek.create_session(
            session,
            fields=BimtekFields(
                title="Menjahit Boneka",
                organiser="Dinas Perindustrian",
                starts_at=now + timedelta(days=10),
                venue="Aula Dinas",
                quota=20,
                registration_deadline=now + timedelta(days=8),
            ),
            created_by=session.exec(select(Person)).first(),
            now=now,
        )


def announced_to(app) -> set[int]:
    with Session(app.database) as session:
        kind = OutboxMessage.kind == "bimtek.announced"
        return set(session.exec(select(OutboxMessage.person_id).where(kind)))


def nudge(app) -> int:
    with transaction(app.database) as session:
        now, tz = app.engine.clock.now(), app.settings.tz
        return ikm.nudge_inactive_batch(session, now=now, tz=tz).enqueued


async def test_the_nudge_asks_the_inactive_honours_opt_outs_and_its_effect_is_measured(
    app, chat_as, clock
) -> None:
    comes_back, stays_silent, opted = (
        chat_as(phone) for phone in (SUKAWANGI_A, SUKAWANGI_B, CIBITUNG)
    )
    for chat, business in zip(
        (comes_back, stays_silent, opted),
        ("Boneka Satu", "Boneka Dua", "Keripik Tiga"),
        strict=True,
    ):
        await register_ikm(chat, business=business)
    await opted.say("berhenti")  # at the menu: an opt-out

    announce_bimtek(app)  # a new session's invitation is a broadcast too
    assert announced_to(app) == {person_id(app, SUKAWANGI_A), person_id(app, SUKAWANGI_B)}

    clock.advance(timedelta(days=61))
    assert nudge(app) == 2  # the opted-out number is left out
    clock.advance(timedelta(days=5))
    await comes_back.open()  # reads the nudge and answers
    await comes_back.say("produk")
    clock.advance(timedelta(days=40))

    with Session(app.database) as session:
        effect = stats.nudge_effect(session=session, since=START, now=clock.now())
        nudged = session.exec(select(OutboxMessage.kind).where(OutboxMessage.kind == "ikm.nudge"))
        assert len(nudged.all()) == 2
    assert effect == stats.NudgeEffect(nudged=2, active_again=1, within_days=30)


async def test_hapus_data_deletes_the_registry_records_holding_the_number(app, chat_as) -> None:
    claimed = add_record(app, phone=SUKAWANGI_A)
    second = add_record(app, phone="+6281299990009", phone_alt=SUKAWANGI_A, business_name="Lain")
    someone_else = add_record(app, phone="+6281299990010", business_name="Orang Lain")
    siti = chat_as(SUKAWANGI_A)
    await siti.say("halo")
    await siti.tap("Setuju")
    await siti.tap("Benar")
    assert record(app, claimed).ikm_id is not None
    await siti.say("berhenti")  # the opt-out outlives the erasure

    await siti.say("hapus data")
    await siti.tap("Hapus semua data")
    await siti.tap("Ya, hapus semua")
    assert "Semua data Anda sudah dihapus" in siti.text

    assert record(app, claimed) is None and record(app, second) is None
    assert record(app, someone_else) is not None
    with Session(app.database) as session:
        assert session.exec(select(IkmProfile)).all() == []
        [kept] = session.exec(select(OptOut)).all()
        assert kept.phone_hash == registry.phone_hash(SUKAWANGI_A)
        assert registry.opted_out(session, SUKAWANGI_A)


def test_sinergi_invite_and_stats_active_from_the_command_line(config) -> None:  # noqa: F811
    assert sinergi(config, "db", "upgrade").returncode == 0
    engine = database(config)
    with Session(engine) as session:
        session.add(
            RegistryRecord(
                business_name="Bukan Punya Siapa",
                phone="+6281299990100",
                source="Data IKM 2025.xlsx",
                source_row=12,
                flag="not_mine",
            )
        )
        for index in range(3):
            session.add(
                RegistryRecord(
                    business_name=f"Usaha {index}",
                    kecamatan="Sukawangi",
                    sector="32",
                    phone=f"+62812999900{index:02d}",
                    source="Data IKM 2025.xlsx",
                )
            )
        session.commit()
    engine.dispose()

    dry = sinergi(config, "invite", "--batch", "2", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "Akan diundang: 2 nomor" in dry.stdout
    queued = sinergi(config, "invite", "--batch", "2")
    assert "Undangan masuk antrean: 2 nomor" in queued.stdout, queued.stderr
    again = sinergi(config, "invite", "--batch", "200")
    assert "Undangan masuk antrean: 1 nomor" in again.stdout  # the invited are not asked twice

    shown = sinergi(config, "stats", "active")
    assert shown.returncode == 0, shown.stderr
    assert "IKM terdaftar 4, diklaim/terdaftar di chat 0, aktif 0" in shown.stdout
    assert "Sukawangi" in shown.stdout and "32 Pengolahan lainnya" in shown.stdout
    assert "ditandai 'bukan usaha saya' 1" in shown.stdout
    assert "Bukan Punya Siapa" in shown.stdout  # listed for the Dinas to correct
