"""Audiences and announcements: who hears, one outbox row each, progress and stopping."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, SQLModel, select

import models  # noqa: F401 - registers the tables
from bot.services import audience as svc
from bot.services import bimtek
from models import (
    Announcement,
    AnnouncementStatus,
    BimtekFields,
    ChannelAccount,
    Company,
    CompanyStatus,
    IkmProfile,
    OutboxMessage,
    OutboxState,
    Person,
)
from models.db import make_engine

WIB = ZoneInfo("Asia/Jakarta")


@pytest.fixture
def db(tmp_path) -> Iterator[Session]:
    engine = make_engine(f"sqlite:///{tmp_path / 'audience.db'}")
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        yield session
    engine.dispose()


class People:
    """A small town: IKM and companies, some reachable, some not."""

    def __init__(self, db: Session) -> None:
        self.db = db
        self.count = 0
        self.officer = self.person("dinas", accounts=[("telegram", False)])
        self.doll = self.ikm("14", "Sukawangi", accounts=[("telegram", False)])
        self.snack = self.ikm("10", "Setu", accounts=[("console", False)])
        self.shirt_blocked = self.ikm("14", "Setu", accounts=[("telegram", True)])
        # Blocked on Telegram but still reachable on WhatsApp.
        self.batik = self.ikm("13", "Sukawangi", accounts=[("telegram", True), ("whatsapp", False)])
        self.silent = self.ikm("14", "Sukawangi", accounts=[])
        self.verified = self.company(CompanyStatus.VERIFIED, accounts=[("telegram", False)])
        self.pending = self.company(CompanyStatus.PENDING, accounts=[("telegram", False)])
        self.rejected = self.company(CompanyStatus.REJECTED, accounts=[("telegram", False)])
        self.blocked_company = self.company(CompanyStatus.VERIFIED, accounts=[("telegram", True)])

    def person(self, role: str, *, accounts: list[tuple[str, bool]]) -> Person:
        self.count += 1
        person = Person(phone=f"+6281200000{self.count:03d}", role=role)
        self.db.add(person)
        self.db.flush()
        for channel, blocked in accounts:
            self.db.add(
                ChannelAccount(
                    person_id=person.id,
                    channel=channel,
                    external_id=f"{channel}-{self.count}",
                    blocked=blocked,
                )
            )
        self.db.flush()
        return person

    def ikm(self, sector: str, kecamatan: str, *, accounts: list[tuple[str, bool]]) -> Person:
        person = self.person("ikm", accounts=accounts)
        self.db.add(
            IkmProfile(
                person_id=person.id,
                owner_name=f"Owner {person.id}",
                business_name=f"Usaha {person.id}",
                sector=sector,
                kecamatan=kecamatan,
            )
        )
        self.db.flush()
        return person

    def company(self, status: str, *, accounts: list[tuple[str, bool]]) -> Person:
        person = self.person("company", accounts=accounts)
        self.db.add(
            Company(
                person_id=person.id,
                name=f"PT {person.id}",
                estate="jababeka",
                address="Jl. Industri",
                contact_name="Bu HRD",
                status=status,
            )
        )
        self.db.flush()
        return person


@pytest.fixture
def town(db) -> People:
    return People(db)


def ids(*people: Person) -> list[int]:
    return sorted(person.id for person in people)


# --- audiences ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ({"kind": "all_ikm"}, {"kind": "all_ikm"}),
        ({"kind": "companies"}, {"kind": "companies"}),
        (
            {"kind": "sector", "values": ["14", "10", "14"]},
            {"kind": "sector", "values": ["14", "10"]},
        ),
        (
            {"kind": "kecamatan", "values": ["Sukawangi"]},
            {"kind": "kecamatan", "values": ["Sukawangi"]},
        ),
        ({"kind": "bimtek", "values": ["7"]}, {"kind": "bimtek", "values": ["7"]}),
    ],
)
def test_valid_audiences(given, stored) -> None:
    assert svc.validate(given) == stored


@pytest.mark.parametrize(
    "given",
    [
        None,
        "all_ikm",
        {},
        {"kind": "everyone"},
        {"kind": "all_ikm", "values": ["14"]},
        {"kind": "sector"},
        {"kind": "sector", "values": []},
        {"kind": "sector", "values": "14"},
        {"kind": "sector", "values": ["19"]},  # no IKM division 19
        {"kind": "sector", "values": [14]},
        {"kind": "kecamatan", "values": ["Bandung"]},
        {"kind": "kecamatan", "values": ["sukawangi"]},
        {"kind": "bimtek", "values": ["seven"]},
        {"kind": "bimtek", "values": ["7"], "extra": 1},
    ],
)
def test_invalid_audiences(given) -> None:
    with pytest.raises(ValueError):
        svc.validate(given)


def test_each_kind_reaches_only_reachable_people(db, town):
    t = town
    assert svc.recipients(db, {"kind": "all_ikm"}) == ids(t.doll, t.snack, t.batik)
    assert svc.recipients(db, {"kind": "sector", "values": ["14"]}) == ids(t.doll)
    assert svc.recipients(db, {"kind": "sector", "values": ["13", "10"]}) == ids(t.snack, t.batik)
    assert svc.recipients(db, {"kind": "kecamatan", "values": ["Sukawangi"]}) == ids(
        t.doll, t.batik
    )
    assert svc.recipients(db, {"kind": "kecamatan", "values": ["Setu"]}) == ids(t.snack)
    assert svc.recipients(db, {"kind": "companies"}) == ids(t.verified, t.pending)
    assert svc.count(db, {"kind": "all_ikm"}) == 3
    assert svc.count(db, {"kind": "companies"}) == 2
    assert svc.count(db, {"kind": "sector", "values": ["31"]}) == 0


def test_a_bimtek_audience_is_its_registered_and_waitlisted(db, town):
    t = town
    now = datetime(2026, 11, 22, 3, tzinfo=UTC)
    session = bimtek.create_session(
        db,
        fields=BimtekFields(
            title="Pelatihan",
            organiser="Dinas",
            starts_at=now + timedelta(days=3),
            venue="Aula Dinas",
            quota=1,
            registration_deadline=now + timedelta(days=2),
        ),
        created_by=t.officer,
        now=now,
    )
    profile = {p.person_id: p for p in db.exec(select(IkmProfile)).all()}
    for person in (t.doll, t.snack, t.shirt_blocked, t.batik):
        bimtek.register(
            db, bimtek=session, ikm=profile[person.id], now=now, tz=WIB, waitlist_if_full=True
        )
    cancelled = bimtek.register(
        db, bimtek=session, ikm=profile[t.silent.id], now=now, tz=WIB, waitlist_if_full=True
    ).registration
    bimtek.cancel_registration(db, registration=cancelled, now=now, tz=WIB)
    bimtek.create_session(  # another session's people are not in this audience
        db,
        fields=BimtekFields(
            title="Lain",
            organiser="Dinas",
            starts_at=now + timedelta(days=3),
            venue="Aula Dinas",
            quota=5,
            registration_deadline=now + timedelta(days=2),
        ),
        created_by=t.officer,
        now=now,
    )

    audience = {"kind": "bimtek", "values": [str(session.id)]}
    assert svc.recipients(db, audience) == ids(t.doll, t.snack, t.batik)
    assert svc.recipients(db, {"kind": "bimtek", "values": ["999"]}) == []


# --- announcements --------------------------------------------------------------------

NOW = datetime(2026, 11, 22, 3, tzinfo=UTC)


def announce_to_all_ikm(db, town) -> Announcement:
    return svc.announce(
        db,
        author=town.officer,
        text="Pameran produk IKM di Cikarang, 1 Desember.",
        image_ref="telegram:photo-1",
        audience={"kind": "all_ikm"},
        now=NOW,
    )


def batch_rows(db, announcement) -> list[OutboxMessage]:
    return list(
        db.exec(
            select(OutboxMessage)
            .where(OutboxMessage.batch == f"announcement:{announcement.id}")
            .order_by(OutboxMessage.person_id)
        )
    )


def test_announce_queues_one_message_per_recipient(db, town):
    announcement = announce_to_all_ikm(db, town)
    db.commit()

    assert announcement.recipients == 3
    assert announcement.status == AnnouncementStatus.SENDING
    assert announcement.audience == {"kind": "all_ikm"}
    assert announcement.author_id == town.officer.id
    rows = batch_rows(db, announcement)
    assert [(row.person_id, row.channel, row.state) for row in rows] == [
        (town.doll.id, "telegram", OutboxState.PENDING),
        (town.snack.id, "console", OutboxState.WAITING),  # console messages wait in the inbox
        (town.batik.id, "whatsapp", OutboxState.PENDING),  # its unblocked account
    ]
    assert [row.idempotency_key for row in rows] == [
        f"announcement:{announcement.id}:person:{pid}"
        for pid in ids(town.doll, town.snack, town.batik)
    ]
    assert rows[0].kind == "announcement"
    assert rows[0].content == {
        "template": "announcement",
        "params": {
            "announcement_id": announcement.id,
            "text": "Pameran produk IKM di Cikarang, 1 Desember.",
            "image_ref": "telegram:photo-1",
        },
    }
    assert len(db.exec(select(OutboxMessage)).all()) == 3


def test_announce_refuses_an_empty_text_or_a_bad_audience(db, town):
    with pytest.raises(ValueError):
        svc.announce(
            db,
            author=town.officer,
            text="  ",
            image_ref=None,
            audience={"kind": "all_ikm"},
            now=NOW,
        )
    with pytest.raises(ValueError):
        svc.announce(
            db, author=town.officer, text="Halo", image_ref=None, audience={"kind": "x"}, now=NOW
        )
    assert db.exec(select(Announcement)).all() == []
    assert db.exec(select(OutboxMessage)).all() == []


def test_progress_counts_each_state(db, town):
    extra = [town.ikm("14", "Setu", accounts=[("telegram", False)]) for _ in range(4)]
    announcement = announce_to_all_ikm(db, town)
    rows = {row.person_id: row for row in batch_rows(db, announcement)}
    assert len(rows) == 7
    rows[town.doll.id].state = OutboxState.SENT
    rows[extra[0].id].state = OutboxState.FAILED  # undeliverable, account fine
    rows[extra[0].id].last_error = "400 chat not found"
    rows[extra[1].id].state = OutboxState.FAILED  # the account blocked us
    rows[extra[1].id].last_error = "403 Forbidden: bot was blocked by the user"
    db.exec(
        select(ChannelAccount).where(ChannelAccount.person_id == extra[1].id)
    ).one().blocked = True
    rows[extra[2].id].state = OutboxState.SENDING
    db.flush()

    progress = svc.progress(db, announcement=announcement)

    assert progress == svc.Progress(
        total=7, sent=1, failed=1, blocked=1, waiting=1, pending=3, cancelled=0
    )
    assert not progress.done


def test_stop_cancels_what_has_not_gone(db, town):
    announcement = announce_to_all_ikm(db, town)
    rows = {row.person_id: row for row in batch_rows(db, announcement)}
    rows[town.doll.id].state = OutboxState.SENT
    db.flush()

    assert svc.stop(db, announcement=announcement) == 2  # batik pending, snack waiting
    db.commit()

    assert announcement.status == AnnouncementStatus.STOPPED
    states = {row.person_id: row.state for row in batch_rows(db, announcement)}
    assert states == {
        town.doll.id: OutboxState.SENT,
        town.snack.id: OutboxState.CANCELLED,
        town.batik.id: OutboxState.CANCELLED,
    }
    progress = svc.progress(db, announcement=announcement)
    assert progress == svc.Progress(
        total=3, sent=1, failed=0, blocked=0, waiting=0, pending=0, cancelled=2
    )
    assert progress.done
    assert svc.stop(db, announcement=announcement) == 0


def test_announcements_are_separate_batches(db, town):
    first = announce_to_all_ikm(db, town)
    second = svc.announce(
        db,
        author=town.officer,
        text="Untuk perusahaan",
        image_ref=None,
        audience={"kind": "companies"},
        now=NOW,
    )
    assert svc.stop(db, announcement=second) == 2
    assert svc.progress(db, announcement=first).pending == 2
    assert [row.state for row in batch_rows(db, second)] == [OutboxState.CANCELLED] * 2
