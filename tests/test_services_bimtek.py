"""Bimtek services: seats and waitlist, reminders, rescheduling, check-in, the roster."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, SQLModel, select

import models  # noqa: F401 - registers the tables
from bot.services import bimtek as svc
from models import (
    BimtekFields,
    BimtekRegistration,
    BimtekSession,
    BimtekStatus,
    ChannelAccount,
    IkmProfile,
    OutboxMessage,
    OutboxState,
    Person,
    RegistrationStatus,
)
from models.db import make_engine

WIB = ZoneInfo("Asia/Jakarta")
# The conftest clock starts on Sunday 22 November 2026, 10:00 WIB (03:00 UTC).
# The session: Wednesday 25 November 09:00 WIB, registration until Tuesday 17:00 WIB.
STARTS = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
DEADLINE = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
H1 = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # Tuesday 08:00 WIB
H2H = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)  # Wednesday 07:00 WIB
MINUTE = timedelta(minutes=1)


@pytest.fixture
def db(tmp_path) -> Iterator[Session]:
    engine = make_engine(f"sqlite:///{tmp_path / 'bimtek.db'}")
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        yield session
    engine.dispose()


@pytest.fixture
def officer(db) -> Person:
    person = Person(phone="+6281100000009", name="Pak Dinas", role="dinas")
    db.add(person)
    db.flush()
    return person


_phones = iter(range(10_000_000, 99_999_999))


def make_ikm(
    db: Session,
    name: str,
    *,
    sector: str = "14",
    kecamatan: str = "Sukawangi",
    channel: str = "telegram",
) -> IkmProfile:
    number = next(_phones)
    person = Person(phone=f"+62812{number}", name=f"Owner {name}", role="ikm")
    db.add(person)
    db.flush()
    db.add(ChannelAccount(person_id=person.id, channel=channel, external_id=str(number)))
    ikm = IkmProfile(
        person_id=person.id,
        owner_name=f"Owner {name}",
        business_name=name,
        sector=sector,
        kecamatan=kecamatan,
    )
    db.add(ikm)
    db.flush()
    return ikm


def fields(**overrides) -> BimtekFields:
    values = {
        "title": "Pelatihan menjahit boneka",
        "organiser": "Dinas Perindustrian",
        "starts_at": STARTS,
        "venue": "Aula Dinas, Cikarang Pusat",
        "quota": 2,
        "registration_deadline": DEADLINE,
        "bring": "KTP",
    }
    return BimtekFields(**(values | overrides))


def outbox(db: Session, template: str | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if template:
        query = query.where(OutboxMessage.kind == template)
    return list(db.exec(query))


def keys(db: Session, template: str) -> list[str]:
    return [row.idempotency_key for row in outbox(db, template)]


@pytest.fixture
def bimtek(db, officer, clock) -> BimtekSession:
    return svc.create_session(db, fields=fields(), created_by=officer, now=clock.now())


def register(db, bimtek, ikm, now, **kwargs) -> svc.RegisterResult:
    return svc.register(db, bimtek=bimtek, ikm=ikm, now=now, tz=WIB, **kwargs)


# --- codes and creation ---------------------------------------------------------------


def test_codes_avoid_ambiguous_letters_and_taken_ones() -> None:
    codes = {svc.new_code(set()) for _ in range(200)}
    assert all(len(code) == 6 for code in codes)
    assert not set("".join(codes)) & set("0O1IL")
    everything_but_z = set(svc.CODE_ALPHABET) - {"Z"}
    assert svc.new_code(everything_but_z, length=1) == "Z"
    with pytest.raises(ValueError):
        svc.new_code(set(svc.CODE_ALPHABET), length=1)


@pytest.mark.parametrize(
    ("starts_at", "deadline", "reason"),
    [
        (
            datetime(2026, 11, 22, 2, 0, tzinfo=UTC),
            datetime(2026, 11, 22, 1, tzinfo=UTC),
            "start_in_past",
        ),
        (STARTS, STARTS + MINUTE, "deadline_after_start"),
        (STARTS, datetime(2026, 11, 22, 2, 59, tzinfo=UTC), "deadline_in_past"),
    ],
)
def test_create_refuses_impossible_schedules(db, officer, clock, starts_at, deadline, reason):
    with pytest.raises(svc.InvalidSchedule) as raised:
        svc.create_session(
            db,
            fields=fields(starts_at=starts_at, registration_deadline=deadline),
            created_by=officer,
            now=clock.now(),
        )
    assert raised.value.reason == reason
    assert db.exec(select(BimtekSession)).all() == []


def test_create_announces_to_the_targeted_ikm_only(db, officer, clock):
    target = make_ikm(db, "Boneka Sukawangi", sector="14", kecamatan="Sukawangi")
    console = make_ikm(db, "Kaos Sukawangi", sector="14", kecamatan="Sukawangi", channel="console")
    make_ikm(db, "Boneka Setu", sector="14", kecamatan="Setu")
    make_ikm(db, "Keripik Sukawangi", sector="10", kecamatan="Sukawangi")
    local_time = datetime(2026, 11, 25, 9, 0, tzinfo=WIB)  # given in WIB, stored in UTC

    bimtek = svc.create_session(
        db,
        fields=fields(
            sectors=["14", "13"],
            kecamatan=["Sukawangi"],
            starts_at=local_time,
            registration_deadline=DEADLINE,
        ),
        created_by=officer,
        now=clock.now(),
    )
    db.commit()

    assert bimtek.status == BimtekStatus.OPEN
    assert bimtek.created_by == officer.id
    assert len(bimtek.checkin_code) == 6
    rows = outbox(db, "bimtek.announced")
    assert [(row.person_id, row.state) for row in rows] == [
        (target.person_id, OutboxState.PENDING),
        (console.person_id, OutboxState.WAITING),  # the console inbox waits for its person
    ]
    assert rows[0].idempotency_key == f"bimtek:{bimtek.id}:announced:person:{target.person_id}"
    assert rows[0].content == {
        "template": "bimtek.announced",
        "params": {
            "id": bimtek.id,
            "title": "Pelatihan menjahit boneka",
            "organiser": "Dinas Perindustrian",
            "starts_at": "2026-11-25T02:00:00+00:00",
            "venue": "Aula Dinas, Cikarang Pusat",
            "bring": "KTP",
            "quota": 2,
            "registration_deadline": "2026-11-24T10:00:00+00:00",
        },
    }


def test_an_untargeted_session_is_announced_to_every_reachable_ikm(db, officer, clock):
    first = make_ikm(db, "A", sector="14", kecamatan="Sukawangi")
    second = make_ikm(db, "B", sector="10", kecamatan="Setu")
    gone = make_ikm(db, "C", sector="31", kecamatan="Babelan")
    account = db.exec(select(ChannelAccount).where(ChannelAccount.person_id == gone.person_id))
    account.one().blocked = True
    svc.create_session(db, fields=fields(), created_by=officer, now=clock.now())
    assert [row.person_id for row in outbox(db, "bimtek.announced")] == [
        first.person_id,
        second.person_id,
    ]


def test_eligibility_by_sector_and_kecamatan(db, officer, clock):
    bimtek = svc.create_session(
        db,
        fields=fields(sectors=["14"], kecamatan=["Setu", "Sukawangi"]),
        created_by=officer,
        now=clock.now(),
    )
    fits = make_ikm(db, "fits", sector="14", kecamatan="Setu")
    wrong_sector = make_ikm(db, "sector", sector="10", kecamatan="Setu")
    wrong_place = make_ikm(db, "place", sector="14", kecamatan="Babelan")

    assert svc.eligible(bimtek, fits)
    assert not svc.eligible(bimtek, wrong_sector)
    assert not svc.eligible(bimtek, wrong_place)
    assert register(db, bimtek, wrong_sector, clock.now()) == svc.RegisterResult(
        "not_eligible", None
    )
    assert register(db, bimtek, fits, clock.now()).outcome == "registered"
    assert [row.ikm_id for row in db.exec(select(BimtekRegistration))] == [fits.id]


# --- seats and the waitlist -----------------------------------------------------------


def test_quota_fills_up_then_full_then_waitlist(db, bimtek, clock):
    a, b, c, d = (make_ikm(db, name) for name in "ABCD")
    now = clock.now()

    assert register(db, bimtek, a, now).outcome == "registered"
    assert svc.seats_left(db, bimtek) == 1
    assert register(db, bimtek, b, now).outcome == "registered"
    assert svc.seats_left(db, bimtek) == 0
    assert register(db, bimtek, c, now) == svc.RegisterResult("full", None)
    waiting = register(db, bimtek, c, now, waitlist_if_full=True)
    assert waiting.outcome == "waitlisted"
    assert waiting.registration.status == RegistrationStatus.WAITLISTED
    assert register(db, bimtek, d, now, waitlist_if_full=True).outcome == "waitlisted"
    again = register(db, bimtek, c, now, waitlist_if_full=True)
    assert again == svc.RegisterResult("already", waiting.registration)

    rows = db.exec(select(BimtekRegistration).order_by(BimtekRegistration.id)).all()
    assert [(row.ikm_id, row.status) for row in rows] == [
        (a.id, "registered"),
        (b.id, "registered"),
        (c.id, "waitlisted"),
        (d.id, "waitlisted"),
    ]
    codes = [row.checkin_code for row in rows]
    assert len(set(codes)) == 4 and bimtek.checkin_code not in codes
    assert svc.seats_left(db, bimtek) == 0


def test_cancelling_a_seat_promotes_the_first_waiting(db, bimtek, clock):
    a, b, c, d = (make_ikm(db, name) for name in "ABCD")
    seat = register(db, bimtek, a, clock.now()).registration
    register(db, bimtek, b, clock.now())
    clock.advance(MINUTE)
    first = register(db, bimtek, c, clock.now(), waitlist_if_full=True).registration
    clock.advance(MINUTE)
    second = register(db, bimtek, d, clock.now(), waitlist_if_full=True).registration
    db.commit()

    promoted = svc.cancel_registration(db, registration=seat, now=clock.now(), tz=WIB)

    assert promoted is not None and promoted.id == first.id
    assert seat.status == RegistrationStatus.CANCELLED and seat.cancelled_at is not None
    assert first.status == RegistrationStatus.REGISTERED
    assert second.status == RegistrationStatus.WAITLISTED
    rows = outbox(db, "bimtek.promoted")
    assert [row.person_id for row in rows] == [c.person_id]
    assert rows[0].idempotency_key.startswith(
        f"bimtek:{bimtek.id}:promoted:registration:{first.id}:"
    )
    assert rows[0].content["params"]["checkin_code"] == first.checkin_code
    assert rows[0].content["params"]["title"] == bimtek.title
    # Cancelling a waitlist place frees no seat; cancelling twice does nothing.
    assert svc.cancel_registration(db, registration=second, now=clock.now(), tz=WIB) is None
    assert svc.cancel_registration(db, registration=seat, now=clock.now(), tz=WIB) is None
    assert len(outbox(db, "bimtek.promoted")) == 1


def test_no_promotion_once_the_session_started(db, bimtek, clock):
    a, b, c = (make_ikm(db, name) for name in "ABC")
    seat = register(db, bimtek, a, clock.now()).registration
    register(db, bimtek, b, clock.now())
    waiting = register(db, bimtek, c, clock.now(), waitlist_if_full=True).registration

    clock.set(STARTS + MINUTE)
    assert svc.cancel_registration(db, registration=seat, now=clock.now(), tz=WIB) is None
    assert seat.status == RegistrationStatus.CANCELLED
    assert waiting.status == RegistrationStatus.WAITLISTED
    assert outbox(db, "bimtek.promoted") == []


def test_each_promotion_of_the_same_row_is_told(db, bimtek, clock):
    """A promoted person who cancels and waits again is told again when promoted again."""
    a, b, c = (make_ikm(db, name) for name in "ABC")
    seat_a = register(db, bimtek, a, clock.now()).registration
    register(db, bimtek, b, clock.now())
    wait_c = register(db, bimtek, c, clock.now(), waitlist_if_full=True).registration
    assert svc.cancel_registration(db, registration=seat_a, now=clock.now(), tz=WIB) is wait_c
    clock.advance(MINUTE)
    svc.cancel_registration(db, registration=wait_c, now=clock.now(), tz=WIB)
    assert register(db, bimtek, a, clock.now()).outcome == "registered"
    clock.advance(MINUTE)
    assert register(db, bimtek, c, clock.now(), waitlist_if_full=True).outcome == "waitlisted"
    assert svc.cancel_registration(db, registration=seat_a, now=clock.now(), tz=WIB) is wait_c

    rows = outbox(db, "bimtek.promoted")
    assert [row.person_id for row in rows] == [c.person_id, c.person_id]
    assert len({row.idempotency_key for row in rows}) == 2


def test_registering_again_after_cancelling_reuses_the_row(db, bimtek, clock):
    ikm = make_ikm(db, "A")
    first = register(db, bimtek, ikm, clock.now()).registration
    code = first.checkin_code
    svc.cancel_registration(db, registration=first, now=clock.now(), tz=WIB)
    db.commit()
    clock.advance(timedelta(hours=1))

    again = register(db, bimtek, ikm, clock.now())

    assert again.outcome == "registered"
    assert again.registration.id == first.id
    assert again.registration.checkin_code == code
    assert again.registration.cancelled_at is None
    assert again.registration.registered_at.replace(tzinfo=UTC) == clock.now()
    assert len(db.exec(select(BimtekRegistration)).all()) == 1


def test_the_deadline_closes_registration(db, bimtek, clock):
    early, late = make_ikm(db, "early"), make_ikm(db, "late")
    register(db, bimtek, early, clock.now())
    db.commit()

    clock.set(DEADLINE - MINUTE)
    assert svc.registration_open(bimtek, clock.now())
    assert [(s.id, seats) for s, seats in svc.upcoming_for(db, ikm=late, now=clock.now())] == [
        (bimtek.id, 1)
    ]
    clock.set(DEADLINE)
    assert not svc.registration_open(bimtek, clock.now())
    assert register(db, bimtek, late, clock.now()) == svc.RegisterResult("closed", None)
    assert register(db, bimtek, late, clock.now(), waitlist_if_full=True).outcome == "closed"
    assert svc.upcoming_for(db, ikm=late, now=clock.now()) == []
    # Who already has a seat still sees it, until the start.
    assert [s.id for s, _ in svc.upcoming_for(db, ikm=early, now=clock.now())] == [bimtek.id]
    assert register(db, bimtek, early, clock.now()).outcome == "already"
    assert svc.upcoming_for(db, ikm=early, now=STARTS) == []


def test_upcoming_and_active_registrations(db, officer, clock):
    ikm = make_ikm(db, "A", sector="14")
    now = clock.now()
    later = svc.create_session(
        db,
        fields=fields(starts_at=STARTS + timedelta(days=7), quota=5),
        created_by=officer,
        now=now,
    )
    sooner = svc.create_session(db, fields=fields(quota=1), created_by=officer, now=now)
    svc.create_session(db, fields=fields(sectors=["10"]), created_by=officer, now=now)
    cancelled = svc.create_session(db, fields=fields(), created_by=officer, now=now)
    svc.cancel_session(db, bimtek=cancelled, now=now)

    assert [(s.id, seats) for s, seats in svc.upcoming_for(db, ikm=ikm, now=now)] == [
        (sooner.id, 1),
        (later.id, 5),
    ]
    register(db, bimtek=later, ikm=ikm, now=now)
    db.commit()
    assert [(s.id, seats) for s, seats in svc.upcoming_for(db, ikm=ikm, now=now)] == [
        (sooner.id, 1),
        (later.id, 4),
    ]
    assert [(r.status, s.id) for r, s in svc.active_registrations(db, ikm=ikm, now=now)] == [
        ("registered", later.id)
    ]
    assert svc.active_registrations(db, ikm=ikm, now=later.starts_at.replace(tzinfo=UTC)) == []


# --- reminders ------------------------------------------------------------------------


def test_reminder_times_are_8_wib_the_day_before_and_2_hours_before(bimtek):
    assert svc.reminder_times(bimtek, WIB) == {"H-1": H1, "H-2h": H2H}


def test_reminders_follow_the_clock_and_are_queued_once(db, bimtek, clock):
    a, b, c = (make_ikm(db, name) for name in "ABC")
    reg_a = register(db, bimtek, a, clock.now()).registration
    register(db, bimtek, b, clock.now())
    register(db, bimtek, c, clock.now(), waitlist_if_full=True)  # no reminders while waiting
    db.commit()

    def run(at: datetime) -> int:
        clock.set(at)
        return svc.enqueue_due_reminders(db, now=clock.now(), tz=WIB)

    assert run(H1 - MINUTE) == 0
    assert run(H1) == 2
    assert run(H1) == 0
    assert run(H1 + timedelta(hours=5)) == 0
    assert run(H2H - MINUTE) == 0
    assert run(H2H) == 2
    assert run(H2H + MINUTE) == 0
    assert run(STARTS + MINUTE) == 0

    rows = outbox(db, "bimtek.reminder")
    assert sorted(row.idempotency_key for row in rows) == sorted(
        f"bimtek:{bimtek.id}:v1:reminder:{which}:person:{ikm.person_id}"
        for which in ("H-1", "H-2h")
        for ikm in (a, b)
    )
    first = next(row for row in rows if row.person_id == a.person_id)
    assert first.content["params"]["which"] == "H-1"
    assert first.content["params"]["checkin_code"] == reg_a.checkin_code
    assert first.content["params"]["starts_at"] == "2026-11-25T02:00:00+00:00"


def test_h1_is_skipped_when_the_first_run_is_already_past_h2h(db, bimtek, clock):
    ikm = make_ikm(db, "A")
    register(db, bimtek, ikm, clock.now())

    assert svc.enqueue_due_reminders(db, now=H2H + MINUTE, tz=WIB) == 1
    assert keys(db, "bimtek.reminder") == [
        f"bimtek:{bimtek.id}:v1:reminder:H-2h:person:{ikm.person_id}"
    ]


def test_registering_after_the_h1_time_gets_it_at_once(db, bimtek, clock):
    ikm = make_ikm(db, "late")
    clock.set(H1 + timedelta(hours=3))

    assert register(db, bimtek, ikm, clock.now()).outcome == "registered"

    assert keys(db, "bimtek.reminder") == [
        f"bimtek:{bimtek.id}:v1:reminder:H-1:person:{ikm.person_id}"
    ]
    assert svc.enqueue_due_reminders(db, now=clock.now(), tz=WIB) == 0


def test_a_promoted_person_gets_the_reminder_already_due(db, bimtek, clock):
    a, b, c = (make_ikm(db, name) for name in "ABC")
    seat = register(db, bimtek, a, clock.now()).registration
    register(db, bimtek, b, clock.now())
    register(db, bimtek, c, clock.now(), waitlist_if_full=True)
    clock.set(H1 + MINUTE)
    svc.enqueue_due_reminders(db, now=clock.now(), tz=WIB)

    svc.cancel_registration(db, registration=seat, now=clock.now(), tz=WIB)

    assert [row.person_id for row in outbox(db, "bimtek.reminder")] == [
        a.person_id,
        b.person_id,
        c.person_id,
    ]


def test_reschedule_moves_the_reminders_and_tells_registrants(db, bimtek, clock):
    a, b, c, d = (make_ikm(db, name) for name in "ABCD")
    register(db, bimtek, a, clock.now())
    register(db, bimtek, b, clock.now())
    register(db, bimtek, c, clock.now(), waitlist_if_full=True)
    gone = register(db, bimtek, d, clock.now(), waitlist_if_full=True).registration
    svc.cancel_registration(db, registration=gone, now=clock.now(), tz=WIB)
    db.commit()

    week = timedelta(days=7)
    svc.reschedule(
        db,
        bimtek=bimtek,
        starts_at=STARTS + week,
        registration_deadline=DEADLINE + week,
        now=clock.now(),
    )
    db.commit()

    assert bimtek.schedule_version == 2
    told = outbox(db, "bimtek.rescheduled")
    assert [row.idempotency_key for row in told] == [
        f"bimtek:{bimtek.id}:v2:rescheduled:person:{ikm.person_id}" for ikm in (a, b, c)
    ]
    assert told[0].content["params"]["starts_at"] == "2026-12-02T02:00:00+00:00"
    assert told[0].content["params"]["previous_starts_at"] == "2026-11-25T02:00:00+00:00"
    # The old times pass without a reminder; the new ones bring them, under v2 keys.
    assert svc.enqueue_due_reminders(db, now=H1, tz=WIB) == 0
    assert svc.enqueue_due_reminders(db, now=H2H, tz=WIB) == 0
    assert svc.enqueue_due_reminders(db, now=H1 + week, tz=WIB) == 2
    assert keys(db, "bimtek.reminder") == [
        f"bimtek:{bimtek.id}:v2:reminder:H-1:person:{ikm.person_id}" for ikm in (a, b)
    ]


def test_reschedule_after_reminders_sends_new_ones_under_the_new_version(db, bimtek, clock):
    ikm = make_ikm(db, "A")
    register(db, bimtek, ikm, clock.now())
    assert svc.enqueue_due_reminders(db, now=H1, tz=WIB) == 1

    svc.reschedule(
        db,
        bimtek=bimtek,
        starts_at=STARTS + timedelta(hours=1),
        registration_deadline=DEADLINE,
        now=H1,
    )
    assert svc.enqueue_due_reminders(db, now=H1, tz=WIB) == 1
    assert keys(db, "bimtek.reminder") == [
        f"bimtek:{bimtek.id}:v1:reminder:H-1:person:{ikm.person_id}",
        f"bimtek:{bimtek.id}:v2:reminder:H-1:person:{ikm.person_id}",
    ]


def test_reschedule_validates_like_create(db, bimtek, clock):
    with pytest.raises(svc.InvalidSchedule) as raised:
        svc.reschedule(
            db,
            bimtek=bimtek,
            starts_at=STARTS,
            registration_deadline=STARTS + MINUTE,
            now=clock.now(),
        )
    assert raised.value.reason == "deadline_after_start"
    assert bimtek.schedule_version == 1
    assert outbox(db, "bimtek.rescheduled") == []


def test_cancelling_the_session_tells_registered_and_waiting(db, bimtek, clock):
    a, b, c = (make_ikm(db, name) for name in "ABC")
    register(db, bimtek, a, clock.now())
    register(db, bimtek, b, clock.now())
    register(db, bimtek, c, clock.now(), waitlist_if_full=True)
    make_ikm(db, "not registered")
    db.commit()

    assert svc.cancel_session(db, bimtek=bimtek, now=clock.now()) == 3
    assert svc.cancel_session(db, bimtek=bimtek, now=clock.now()) == 0

    assert bimtek.status == BimtekStatus.CANCELLED
    assert keys(db, "bimtek.cancelled") == [
        f"bimtek:{bimtek.id}:cancelled:person:{ikm.person_id}" for ikm in (a, b, c)
    ]
    assert svc.enqueue_due_reminders(db, now=H1, tz=WIB) == 0
    assert svc.active_registrations(db, ikm=a, now=clock.now()) == []
    assert register(db, bimtek, make_ikm(db, "E"), clock.now()).outcome == "closed"


def test_closing_registration_tells_the_waitlist_once(db, bimtek, clock):
    a, b, c = (make_ikm(db, name) for name in "ABC")
    register(db, bimtek, a, clock.now())
    register(db, bimtek, b, clock.now())
    register(db, bimtek, c, clock.now(), waitlist_if_full=True)

    assert svc.close_registrations(db, now=DEADLINE - MINUTE) == 0
    assert svc.close_registrations(db, now=DEADLINE) == 1
    assert svc.close_registrations(db, now=DEADLINE + timedelta(hours=1)) == 0
    assert keys(db, "bimtek.closed_waitlist") == [f"bimtek:{bimtek.id}:closed:person:{c.person_id}"]


# --- check-in -------------------------------------------------------------------------


def test_officer_checks_in_by_participant_code(db, bimtek, clock):
    a, b, c = (make_ikm(db, name) for name in "ABC")
    seat = register(db, bimtek, a, clock.now()).registration
    register(db, bimtek, b, clock.now())
    waiting = register(db, bimtek, c, clock.now(), waitlist_if_full=True).registration
    db.commit()
    clock.set(STARTS - timedelta(minutes=10))
    typed = " ".join(seat.checkin_code.lower())  # "a b c d e f"

    checked = svc.check_in(db, bimtek=bimtek, code=typed, now=clock.now())
    assert checked.id == seat.id
    assert checked.attended_at == clock.now()
    later = svc.check_in(db, bimtek=bimtek, code=seat.checkin_code, now=STARTS)
    assert later.attended_at == STARTS - timedelta(minutes=10)

    with pytest.raises(svc.NotRegistered):
        svc.check_in(db, bimtek=bimtek, code=waiting.checkin_code, now=clock.now())
    with pytest.raises(svc.UnknownCode):
        svc.check_in(db, bimtek=bimtek, code="ZZZZZZZ", now=clock.now())
    assert waiting.attended_at is None


def test_self_check_in_with_the_venue_code_or_ones_own(db, bimtek, clock):
    a, b, c = (make_ikm(db, name) for name in "ABC")
    register(db, bimtek, a, clock.now())
    own = register(db, bimtek, b, clock.now()).registration.checkin_code
    register(db, bimtek, c, clock.now(), waitlist_if_full=True)
    db.commit()
    venue = f" {bimtek.checkin_code.lower()} "
    opens = STARTS - timedelta(hours=2)  # 07:00 WIB, with the last reminder
    closes = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)  # midnight WIB after the start

    with pytest.raises(svc.CheckInClosed) as early:
        svc.self_check_in(db, ikm=a, code=venue, now=opens - MINUTE, tz=WIB)
    assert early.value.too_early and early.value.opens_at == opens
    with pytest.raises(svc.UnknownCode):
        svc.self_check_in(db, ikm=a, code="WRONG9", now=STARTS, tz=WIB)
    with pytest.raises(svc.UnknownCode):  # another participant's code
        svc.self_check_in(db, ikm=a, code=own, now=STARTS, tz=WIB)

    found, registration = svc.self_check_in(db, ikm=a, code=venue, now=opens, tz=WIB)
    assert found.id == bimtek.id
    assert registration.ikm_id == a.id and registration.attended_via == "self"
    assert registration.attended_at.replace(tzinfo=UTC) == opens
    _, mine = svc.self_check_in(db, ikm=b, code=own.lower(), now=closes - MINUTE, tz=WIB)
    assert mine.attended_via == "self"
    with pytest.raises(svc.NotRegistered):  # waitlisted
        svc.self_check_in(db, ikm=c, code=venue, now=STARTS, tz=WIB)
    with pytest.raises(svc.NotRegistered):
        svc.self_check_in(db, ikm=make_ikm(db, "D"), code=venue, now=STARTS, tz=WIB)
    with pytest.raises(svc.CheckInClosed) as late:
        svc.self_check_in(db, ikm=b, code=venue, now=closes, tz=WIB)
    assert not late.value.too_early


def test_the_officer_confirms_a_self_check_in_and_keeps_its_time(db, bimtek, clock):
    a = make_ikm(db, "A")
    seat = register(db, bimtek, a, clock.now()).registration
    db.commit()
    svc.self_check_in(db, ikm=a, code=seat.checkin_code, now=STARTS, tz=WIB)
    confirmed = svc.check_in(db, bimtek=bimtek, code=seat.checkin_code, now=STARTS + MINUTE)
    assert confirmed.attended_via == "officer"
    assert confirmed.attended_at.replace(tzinfo=UTC) == STARTS
    again = svc.self_check_in(db, ikm=a, code=seat.checkin_code, now=STARTS + MINUTE, tz=WIB)[1]
    assert again.attended_via == "officer"  # typing it again takes nothing back


# --- roster and the Dinas overview ----------------------------------------------------


def test_roster_order_and_csv(db, bimtek, clock):
    a = make_ikm(db, "=Boneka A", kecamatan="Setu")
    b, c, d = (make_ikm(db, name) for name in ("Batik B", "Kaos C", "Sarung D"))
    register(db, bimtek, a, clock.now())  # 10:00 WIB
    clock.advance(timedelta(minutes=5))
    cancelled = register(db, bimtek, b, clock.now()).registration  # 10:05
    clock.advance(timedelta(minutes=5))
    register(db, bimtek, c, clock.now(), waitlist_if_full=True)  # 10:10
    clock.advance(timedelta(minutes=5))
    register(db, bimtek, d, clock.now(), waitlist_if_full=True)  # 10:15
    svc.cancel_registration(db, registration=cancelled, now=clock.now(), tz=WIB)  # C moves up
    codes = {row.ikm_id: row.checkin_code for row in db.exec(select(BimtekRegistration)).all()}
    svc.check_in(db, bimtek=bimtek, code=codes[c.id], now=STARTS - timedelta(minutes=30))
    svc.self_check_in(db, ikm=a, code=codes[a.id], now=STARTS - timedelta(minutes=20), tz=WIB)
    db.commit()

    lines = svc.roster(db, bimtek=bimtek)

    assert [(line.business_name, line.status) for line in lines] == [
        ("=Boneka A", "registered"),
        ("Kaos C", "registered"),
        ("Sarung D", "waitlisted"),
        ("Batik B", "cancelled"),
    ]
    header = (
        "no",
        "usaha",
        "pemilik",
        "telepon",
        "kecamatan",
        "status",
        "kode",
        "terdaftar",
        "hadir",
        "dicatat oleh",
    )
    rows = list(csv.reader(io.StringIO(svc.roster_csv(
        lines, WIB, header=header, status_label=lambda status: status, via_label=str.upper
    ))))  # fmt: skip
    phone_of = {ikm.id: db.get(Person, ikm.person_id).phone for ikm in (a, b, c, d)}
    assert rows == [
        ["no", "usaha", "pemilik", "telepon", "kecamatan", "status", "kode", "terdaftar", "hadir",
         "dicatat oleh"],
        ["1", "'=Boneka A", "Owner =Boneka A", phone_of[a.id], "Setu", "registered", codes[a.id],
         "2026-11-22 10:00", "2026-11-25 08:40", "SELF"],
        ["2", "Kaos C", "Owner Kaos C", phone_of[c.id], "Sukawangi", "registered", codes[c.id],
         "2026-11-22 10:10", "2026-11-25 08:30", "OFFICER"],
        ["3", "Sarung D", "Owner Sarung D", phone_of[d.id], "Sukawangi", "waitlisted",
         codes[d.id], "2026-11-22 10:15", "", ""],
        ["4", "Batik B", "Owner Batik B", phone_of[b.id], "Sukawangi", "cancelled", codes[b.id],
         "2026-11-22 10:05", "", ""],
    ]  # fmt: skip


def test_roster_lists_the_waitlist_in_queue_order(db, bimtek, clock):
    ikms = [make_ikm(db, name) for name in ("A", "B", "C", "D")]
    for ikm in reversed(ikms):  # D and C take the seats, then B waits, then A
        register(db, bimtek, ikm, clock.now(), waitlist_if_full=True)
        clock.advance(MINUTE)
    assert [(line.business_name, line.status) for line in svc.roster(db, bimtek=bimtek)] == [
        ("D", "registered"),
        ("C", "registered"),
        ("B", "waitlisted"),
        ("A", "waitlisted"),
    ]


def test_sessions_for_dinas_counts(db, officer, clock):
    old = svc.create_session(
        db,
        fields=fields(
            starts_at=datetime(2026, 11, 10, 2, tzinfo=UTC),
            registration_deadline=datetime(2026, 11, 9, 2, tzinfo=UTC),
        ),
        created_by=officer,
        now=datetime(2026, 11, 1, tzinfo=UTC),
    )
    recent = svc.create_session(
        db,
        fields=fields(
            starts_at=datetime(2026, 11, 18, 2, tzinfo=UTC),
            registration_deadline=datetime(2026, 11, 17, 2, tzinfo=UTC),
        ),
        created_by=officer,
        now=datetime(2026, 11, 1, tzinfo=UTC),
    )
    upcoming = svc.create_session(db, fields=fields(), created_by=officer, now=clock.now())
    a, b, c = (make_ikm(db, name) for name in "ABC")
    past = datetime(2026, 11, 2, tzinfo=UTC)
    attended = register(db, recent, a, past).registration
    svc.check_in(db, bimtek=recent, code=attended.checkin_code, now=recent.starts_at)
    register(db, recent, b, past)
    for ikm in (a, b, c):
        register(db, upcoming, ikm, clock.now(), waitlist_if_full=True)
    assert old.id is not None

    overview = svc.sessions_for_dinas(db, now=clock.now())

    assert [(s.id, counts) for s, counts in overview] == [
        (recent.id, {"registered": 2, "waitlisted": 0, "attended": 1}),
        (upcoming.id, {"registered": 2, "waitlisted": 1, "attended": 0}),
    ]
