"""Every count-then-write holds when writers really race, on SQLite and PostgreSQL.

Each rule is raced for ROUNDS rounds by RACERS threads, each with its own engine (its own
connections, as `run` and the CLI have), released together by a barrier: the last bimtek
seat, promotions from the waitlist, the daily cap of procurement calls, awards never above
what is left of a need, and one offer per IKM per need. The last seat is raced by
processes too, as two `run` processes (or `run` and the CLI) would.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.config import ProcurementSettings
from bot.services import bimtek as bimtek_service
from bot.services import matching, needs, offers
from models import (
    BimtekFields,
    BimtekRegistration,
    BimtekSession,
    ChannelAccount,
    Company,
    CompanyStatus,
    IkmProfile,
    MatchState,
    Need,
    NeedFields,
    NeedMatch,
    Offer,
    OfferFields,
    Partnership,
    Person,
    Product,
)
from models.db import make_engine, transaction

WIB = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)  # Sunday 10:00 WIB
ROUNDS = 20
RACERS = 4
T = TypeVar("T")


@pytest.fixture
def engines(database_url: str) -> Iterator[list[Engine]]:
    """One engine per racer, plus one (the last) to set up and read back."""
    made = [make_engine(database_url) for _ in range(RACERS + 1)]
    yield made
    for engine in made:
        engine.dispose()


def race(engines: list[Engine], jobs: list[Callable[[Session], T]]) -> list[T | Exception]:
    """Run each job in its own transaction on its own engine, all released at once."""
    barrier = threading.Barrier(len(jobs))

    def run(engine: Engine, job: Callable[[Session], T]) -> T | Exception:
        with engine.connect():  # connected before the start, so connecting decides nothing
            pass
        barrier.wait(timeout=30)
        try:
            with transaction(engine) as session:
                return job(session)
        except Exception as error:  # a racer's failure is part of the result
            return error

    with ThreadPoolExecutor(len(jobs)) as pool:
        futures = [pool.submit(run, engine, job) for engine, job in zip(engines, jobs, strict=True)]
        return [future.result(timeout=60) for future in futures]


_numbers = iter(range(10_000_000, 99_999_999))


def make_ikm(session: Session, *, product: str = "Sarung tangan kerja katun") -> IkmProfile:
    number = next(_numbers)
    person = Person(phone=f"+62812{number}", name=f"Pemilik {number}", role="ikm")
    person.last_active_at = NOW
    session.add(person)
    session.flush()
    session.add(ChannelAccount(person_id=person.id, channel="telegram", external_id=str(number)))
    ikm = IkmProfile(
        person_id=person.id,
        owner_name=f"Pemilik {number}",
        business_name=f"Usaha {number}",
        sector="14",
        kecamatan="Cikarang Barat",
    )
    session.add(ikm)
    session.flush()
    made = Product(
        ikm_id=ikm.id,
        name=product,
        unit="pasang",
        price_min=7000,
        price_max=9000,
        capacity_per_month=3000,
    )
    session.add(made)
    session.flush()
    matching.index_product(session, made)
    return ikm


def make_company(session: Session) -> Company:
    number = next(_numbers)
    person = Person(phone=f"+62813{number}", name="Ibu Pembeli", role="company")
    session.add(person)
    session.flush()
    company = Company(
        person_id=person.id,
        name=f"PT Pembeli {number}",
        estate="jababeka",
        address="Jl. Jababeka Raya",
        contact_name="Ibu Pembeli",
        status=CompanyStatus.VERIFIED,
    )
    session.add(company)
    session.flush()
    return company


def need_fields(*, now: datetime, quantity: int = 2000) -> NeedFields:
    return NeedFields(
        title="sarung tangan kerja katun",
        sectors=["14"],
        quantity=quantity,
        unit="pasang",
        deadline=now + timedelta(days=5),
        delivery_date=now + timedelta(days=30),
        delivery_place="Jababeka",
    )


def open_need(session: Session, company: Company, *, quantity: int) -> Need:
    need = Need(**need_fields(now=NOW, quantity=quantity).model_dump(), company_id=company.id)
    session.add(need)
    session.flush()
    return need


def offer_fields(quantity: int) -> OfferFields:
    return OfferFields(price_per_unit=7500, quantity=quantity, lead_time_days=14)


def failures(results: list) -> list[Exception]:
    return [result for result in results if isinstance(result, Exception)]


# --- bimtek seats and the waitlist ------------------------------------------------------------


def new_session(session: Session, *, quota: int) -> BimtekSession:
    officer = Person(phone=f"+62811{next(_numbers)}", name="Pak Dinas", role="dinas")
    session.add(officer)
    session.flush()
    fields = BimtekFields(
        title="Pelatihan menjahit sarung tangan",
        organiser="Dinas Perindustrian",
        starts_at=NOW + timedelta(days=3),
        venue="Aula Dinas, Cikarang Pusat",
        quota=quota,
        registration_deadline=NOW + timedelta(days=2),
    )
    return bimtek_service.create_session(session, fields=fields, created_by=officer, now=NOW)


def registrations(engine: Engine, bimtek_id: int) -> list[BimtekRegistration]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(BimtekRegistration).where(BimtekRegistration.session_id == bimtek_id)
            )
        )


def take_seat(bimtek_id: int, ikm_id: int) -> Callable[[Session], str]:
    def job(session: Session) -> str:
        return bimtek_service.register(
            session,
            bimtek=session.get(BimtekSession, bimtek_id),
            ikm=session.get(IkmProfile, ikm_id),
            now=NOW,
            tz=WIB,
        ).outcome

    return job


def test_the_last_seat_goes_to_exactly_one(engines: list[Engine]) -> None:
    *racers, setup = engines
    with transaction(setup) as session:
        ikm_ids = [make_ikm(session).id for _ in range(RACERS)]
    for _ in range(ROUNDS):
        with transaction(setup) as session:
            bimtek_id = new_session(session, quota=1).id
        outcomes = race(racers, [take_seat(bimtek_id, ikm_id) for ikm_id in ikm_ids])
        assert sorted(outcomes) == ["full"] * (RACERS - 1) + ["registered"]
        seated = [r for r in registrations(setup, bimtek_id) if r.status == "registered"]
        assert len(seated) == 1


def _take_seats(url: str, bimtek_ids: list[int], ikm_id: int, barrier) -> None:
    """One process: its own engine, one try at each session's last seat, in step with the rest."""
    engine = make_engine(url)
    for bimtek_id in bimtek_ids:
        barrier.wait(timeout=60)
        with transaction(engine) as session:
            take_seat(bimtek_id, ikm_id)(session)
    engine.dispose()


def test_the_last_seat_goes_to_exactly_one_across_processes(
    database_url: str, engines: list[Engine]
) -> None:
    setup = engines[-1]
    with transaction(setup) as session:
        ikm_ids = [make_ikm(session).id for _ in range(RACERS)]
        bimtek_ids = [new_session(session, quota=1).id for _ in range(ROUNDS)]
    spawn = multiprocessing.get_context("spawn")  # nothing of this process's connections
    barrier = spawn.Barrier(RACERS)
    racers = [
        spawn.Process(target=_take_seats, args=(database_url, bimtek_ids, ikm_id, barrier))
        for ikm_id in ikm_ids
    ]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(timeout=120)
    assert [racer.exitcode for racer in racers] == [0] * RACERS
    for bimtek_id in bimtek_ids:
        seated = [r for r in registrations(setup, bimtek_id) if r.status == "registered"]
        assert len(seated) == 1


def leave(registration_id: int) -> Callable[[Session], int | None]:
    def job(session: Session) -> int | None:
        promoted = bimtek_service.cancel_registration(
            session,
            registration=session.get(BimtekRegistration, registration_id),
            now=NOW,
            tz=WIB,
        )
        return promoted.ikm_id if promoted else None

    return job


def test_each_freed_seat_promotes_the_next_waiting_once(engines: list[Engine]) -> None:
    *racers, setup = engines
    with transaction(setup) as session:
        seated_ids = [make_ikm(session).id for _ in range(RACERS)]
        waiting_ids = [make_ikm(session).id for _ in range(RACERS + 1)]
    for _ in range(ROUNDS):
        with transaction(setup) as session:
            bimtek = new_session(session, quota=RACERS)
            leaving = []
            for ikm_id in [*seated_ids, *waiting_ids]:
                result = bimtek_service.register(
                    session,
                    bimtek=bimtek,
                    ikm=session.get(IkmProfile, ikm_id),
                    now=NOW,
                    tz=WIB,
                    waitlist_if_full=True,
                )
                if result.outcome == "registered":
                    leaving.append(result.registration.id)
            bimtek_id = bimtek.id
        promoted = race(racers, [leave(registration_id) for registration_id in leaving])
        assert sorted(promoted) == sorted(waiting_ids[:RACERS])  # each once, in queue order
        now_seated = {r.ikm_id for r in registrations(setup, bimtek_id) if r.status == "registered"}
        assert now_seated == set(waiting_ids[:RACERS])


# --- procurement: the daily cap, awards, one offer per IKM ------------------------------------


def publish(company_id: int, now: datetime) -> Callable[[Session], int]:
    def job(session: Session) -> int:
        return needs.publish(
            session,
            company=session.get(Company, company_id),
            fields=need_fields(now=now),
            now=now,
            settings=ProcurementSettings(calls_per_day=1),
            tz=WIB,
        ).called

    return job


def test_the_daily_cap_counts_needs_published_at_once(engines: list[Engine]) -> None:
    *racers, setup = engines
    with transaction(setup) as session:
        company_id = make_company(session).id
        ikm_ids = {make_ikm(session).id for _ in range(3)}
    for day in range(ROUNDS):
        now = NOW + timedelta(days=day)
        with transaction(setup) as session:  # the matched IKM were active that morning
            for ikm_id in ikm_ids:
                session.get(Person, session.get(IkmProfile, ikm_id).person_id).last_active_at = now
        results = race(racers, [publish(company_id, now) for _ in racers])
        assert failures(results) == []
        with Session(setup) as session:
            sent_today = session.exec(
                select(NeedMatch.ikm_id).where(
                    NeedMatch.state == MatchState.SENT, NeedMatch.notified_at >= now
                )
            ).all()
        assert Counter(sent_today) == dict.fromkeys(ikm_ids, 1)  # a cap of one, for each


def award_all(need_id: int, offer_id: int) -> Callable[[Session], int]:
    def job(session: Session) -> int:
        offer = session.get(Offer, offer_id)
        need = session.get(Need, need_id)
        return offers.award(session, need=need, offer=offer, quantity=offer.quantity, now=NOW).id

    return job


def test_awards_never_exceed_what_is_left(engines: list[Engine]) -> None:
    *racers, setup = engines
    with transaction(setup) as session:
        company = make_company(session)
        ikms = [make_ikm(session) for _ in range(RACERS)]
    for _ in range(ROUNDS):
        with transaction(setup) as session:
            need = open_need(session, company, quantity=1000)
            offer_ids = [
                offers.submit(session, need=need, ikm=ikm, fields=offer_fields(600), now=NOW)[0].id
                for ikm in ikms
            ]
            need_id = need.id
        results = race(racers, [award_all(need_id, offer_id) for offer_id in offer_ids])
        refused = failures(results)
        assert all(isinstance(error, offers.TooMuch | needs.NeedClosed) for error in refused)
        assert len(refused) == RACERS - 1
        with Session(setup) as session:
            awarded = session.exec(select(Partnership).where(Partnership.need_id == need_id)).all()
        assert sum(partnership.quantity for partnership in awarded) == 600


def make_offer(need_id: int, ikm_id: int, quantity: int) -> Callable[[Session], bool]:
    def job(session: Session) -> bool:
        _, created = offers.submit(
            session,
            need=session.get(Need, need_id),
            ikm=session.get(IkmProfile, ikm_id),
            fields=offer_fields(quantity),
            now=NOW,
        )
        return created

    return job


def test_one_offer_per_ikm_per_need_when_sent_twice_at_once(engines: list[Engine]) -> None:
    *racers, setup = engines
    with transaction(setup) as session:
        company = make_company(session)
        ikm_id = make_ikm(session).id
    for _ in range(ROUNDS):
        with transaction(setup) as session:
            need_id = open_need(session, company, quantity=1000).id
        results = race(racers, [make_offer(need_id, ikm_id, 100 + n) for n in range(RACERS)])
        assert failures(results) == []
        assert sorted(results) == [False] * (RACERS - 1) + [True]  # one made, then changed
        with Session(setup) as session:
            made = session.exec(select(Offer).where(Offer.need_id == need_id)).all()
        assert len(made) == 1
