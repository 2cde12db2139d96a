"""Bimtek sessions: scheduling, seats and waitlist, reminders, check-in and the roster.

No chat text here: what people are told goes to the outbox as a template name and a
snapshot of the session (`session_params`), rendered in their language when sent.
"""

from __future__ import annotations

import csv
import io
import re
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, select

from bot.services import registry
from bot.services.exports import Table
from bot.services.outbox import enqueue, supersede
from bot.services.outbox import withdraw as outbox_withdraw
from models import (
    AttendedVia,
    BimtekFields,
    BimtekRegistration,
    BimtekSession,
    BimtekStatus,
    IkmProfile,
    Person,
    RegistrationStatus,
)
from models.base import as_utc
from models.db import lock_for_count

# No 0/O, 1/I/L: codes are read aloud and typed from a phone screen.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
RECENT = timedelta(days=7)
# H-1 falls at most ~40 hours before the start: later sessions have nothing due yet.
REMINDER_HORIZON = timedelta(hours=48)
H1_LOCAL_TIME = time(8, 0)
H2H_LEAD = timedelta(hours=2)
CHECKIN_OPENS = H2H_LEAD  # self check-in opens with the last reminder
ACTIVE = (RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED)
ROSTER_ORDER = {
    RegistrationStatus.REGISTERED: 0,
    RegistrationStatus.WAITLISTED: 1,
    RegistrationStatus.CANCELLED: 2,
}

Outcome = Literal["registered", "waitlisted", "full", "already", "closed", "not_eligible"]


class InvalidSchedule(Exception):
    """The times do not make sense: `reason` is a short machine word for the handler."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UnknownCode(Exception):
    """No registration (or session) has that check-in code."""


class NotRegistered(Exception):
    """The code is known but its registration is not a confirmed seat."""


class CheckInClosed(Exception):
    """The code is right, but checking in oneself is possible only within the window."""

    def __init__(
        self, bimtek: BimtekSession, window: tuple[datetime, datetime], now: datetime
    ) -> None:
        super().__init__(bimtek.id)
        self.bimtek = bimtek
        self.opens_at = window[0]
        self.too_early = now < window[0]


@dataclass
class RegisterResult:
    outcome: Outcome
    registration: BimtekRegistration | None


@dataclass
class RosterLine:
    business_name: str
    owner_name: str
    phone: str | None
    kecamatan: str
    status: str
    checkin_code: str
    registered_at: datetime
    attended_at: datetime | None
    attended_via: str | None  # AttendedVia; None for attendance recorded before it was kept


# --- codes and small facts ------------------------------------------------------------


def new_code(taken: set[str], length: int = 6) -> str:
    """A random code from the unambiguous alphabet that is not in `taken`."""
    if len(taken) >= len(CODE_ALPHABET) ** length:
        raise ValueError("no free code of that length")
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))
        if code not in taken:
            return code


def normalize_code(text: str) -> str:
    """What an officer or IKM typed, as stored: upper case, without spaces or dashes."""
    return "".join(text.split()).replace("-", "").upper()


def session_params(bimtek: BimtekSession) -> dict:
    """A JSON snapshot of the session for outbox messages (times in UTC, ISO 8601)."""
    return {
        "id": bimtek.id,
        "title": bimtek.title,
        "organiser": bimtek.organiser,
        "starts_at": _iso(bimtek.starts_at),
        "venue": bimtek.venue,
        "bring": bimtek.bring,
        "quota": bimtek.quota,
        "registration_deadline": _iso(bimtek.registration_deadline),
    }


def eligible(bimtek: BimtekSession, ikm: IkmProfile) -> bool:
    return (not bimtek.sectors or ikm.sector in bimtek.sectors) and (
        not bimtek.kecamatan or ikm.kecamatan in bimtek.kecamatan
    )


def registration_open(bimtek: BimtekSession, now: datetime) -> bool:
    return (
        bimtek.status == BimtekStatus.OPEN
        and now < as_utc(bimtek.registration_deadline)
        and now < as_utc(bimtek.starts_at)
    )


def seats_left(session: Session, bimtek: BimtekSession) -> int:
    """Quota minus confirmed seats (never below zero)."""
    return max(0, bimtek.quota - _registered_count(session, bimtek.id))


def reminder_times(bimtek: BimtekSession, tz: ZoneInfo) -> dict[str, datetime]:
    """When each reminder is due, in UTC: 08:00 local the day before, and 2 hours before."""
    starts_at = as_utc(bimtek.starts_at)
    day_before = starts_at.astimezone(tz).date() - timedelta(days=1)
    h1 = datetime.combine(day_before, H1_LOCAL_TIME, tzinfo=tz).astimezone(UTC)
    return {"H-1": h1, "H-2h": starts_at - H2H_LEAD}


# --- sessions -----------------------------------------------------------------------


def create_session(
    session: Session, *, fields: BimtekFields, created_by: Person, now: datetime
) -> BimtekSession:
    """Save a new open session and announce it to every IKM it targets."""
    starts_at, deadline = _checked_schedule(fields.starts_at, fields.registration_deadline, now)
    taken = set(session.exec(select(BimtekSession.checkin_code)))
    bimtek = BimtekSession(
        **fields.model_dump(exclude={"starts_at", "registration_deadline"}),
        starts_at=starts_at,
        registration_deadline=deadline,
        created_by=created_by.id,
        status=BimtekStatus.OPEN,
        checkin_code=new_code(taken),
        created_at=now,
        updated_at=now,
    )
    session.add(bimtek)
    session.flush()
    params = session_params(bimtek)
    for person_id in _target_people(session, bimtek):
        enqueue(
            session,
            person_id=person_id,
            key=f"bimtek:{bimtek.id}:announced:person:{person_id}",
            template="bimtek.announced",
            params=params,
            now=now,
            batch=f"bimtek:{bimtek.id}:announced",
        )
    return bimtek


def reschedule(
    session: Session,
    *,
    bimtek: BimtekSession,
    starts_at: datetime,
    registration_deadline: datetime,
    now: datetime,
) -> BimtekSession:
    """Move the session; reminders follow the new time (their keys carry the version)."""
    if bimtek.status != BimtekStatus.OPEN:
        raise InvalidSchedule("session_cancelled")
    starts_at, deadline = _checked_schedule(starts_at, registration_deadline, now)
    previous = _iso(bimtek.starts_at)
    _withdraw_reminders(session, bimtek)  # those of the old time; new ones follow it
    bimtek.schedule_version += 1
    bimtek.starts_at = starts_at
    bimtek.registration_deadline = deadline
    bimtek.updated_at = now
    session.flush()
    params = session_params(bimtek)
    supersede(session, kind="bimtek.rescheduled", params=params)  # invitations of the old time
    for registration in _registrations(session, bimtek, ACTIVE):
        enqueue(
            session,
            person_id=registration.person_id,
            key=(
                f"bimtek:{bimtek.id}:v{bimtek.schedule_version}"
                f":rescheduled:person:{registration.person_id}"
            ),
            template="bimtek.rescheduled",
            params={**params, "previous_starts_at": previous, "status": registration.status},
            now=now,
        )
    return bimtek


def cancel_session(session: Session, *, bimtek: BimtekSession, now: datetime) -> int:
    """Cancel the session and tell those registered or waiting; returns how many were told."""
    if bimtek.status == BimtekStatus.CANCELLED:
        return 0
    bimtek.status = BimtekStatus.CANCELLED
    bimtek.updated_at = now
    session.flush()
    _withdraw_reminders(session, bimtek)
    params = session_params(bimtek)
    supersede(session, kind="bimtek.cancelled", params=params)  # also if nobody registered
    return _tell(
        session,
        _registrations(session, bimtek, ACTIVE),
        template="bimtek.cancelled",
        key=lambda reg: f"bimtek:{bimtek.id}:cancelled:person:{reg.person_id}",
        params=params,
        now=now,
    )


def close_registrations(session: Session, *, now: datetime) -> int:
    """Tell the still-waitlisted of sessions past their deadline (once); returns how many.

    They stay waitlisted: a seat freed before the start still promotes them.
    """
    closed = session.exec(
        select(BimtekSession).where(
            BimtekSession.status == BimtekStatus.OPEN,
            BimtekSession.registration_deadline <= now,
            BimtekSession.starts_at > now,
        )
    )
    told = 0
    for bimtek in closed:
        told += _tell(
            session,
            _registrations(session, bimtek, [RegistrationStatus.WAITLISTED]),
            template="bimtek.closed_waitlist",
            key=lambda reg, sid=bimtek.id: f"bimtek:{sid}:closed:person:{reg.person_id}",
            params=session_params(bimtek),
            now=now,
        )
    return told


def upcoming_for(
    session: Session, *, ikm: IkmProfile, now: datetime
) -> list[tuple[BimtekSession, int]]:
    """Sessions this IKM can still join, or has joined, soonest first, with seats left."""
    mine = set(
        session.exec(
            select(BimtekRegistration.session_id).where(
                BimtekRegistration.ikm_id == ikm.id, BimtekRegistration.status.in_(ACTIVE)
            )
        )
    )
    candidates = session.exec(
        select(BimtekSession)
        .where(BimtekSession.status == BimtekStatus.OPEN, BimtekSession.starts_at > now)
        .order_by(BimtekSession.starts_at, BimtekSession.id)
    )
    shown = [
        bimtek
        for bimtek in candidates
        if bimtek.id in mine or (registration_open(bimtek, now) and eligible(bimtek, ikm))
    ]
    taken = _registered_counts(session, [bimtek.id for bimtek in shown])
    return [(bimtek, max(0, bimtek.quota - taken.get(bimtek.id, 0))) for bimtek in shown]


def sessions_for_dinas(
    session: Session, *, now: datetime
) -> list[tuple[BimtekSession, dict[str, int]]]:
    """Upcoming sessions and those started in the last 7 days (cancelled ones too)."""
    sessions = list(
        session.exec(
            select(BimtekSession)
            .where(BimtekSession.starts_at >= now - RECENT)
            .order_by(BimtekSession.starts_at, BimtekSession.id)
        )
    )
    if not sessions:
        return []
    counts = {bimtek.id: {"registered": 0, "waitlisted": 0, "attended": 0} for bimtek in sessions}
    rows = session.execute(
        select(
            BimtekRegistration.session_id,
            BimtekRegistration.status,
            sa.func.count(),
            sa.func.count(BimtekRegistration.attended_at),
        )
        .where(BimtekRegistration.session_id.in_(list(counts)))
        .group_by(BimtekRegistration.session_id, BimtekRegistration.status)
    )
    for session_id, status, total, attended in rows:
        if status in ACTIVE:
            counts[session_id][status] = total
        counts[session_id]["attended"] += attended
    return [(bimtek, counts[bimtek.id]) for bimtek in sessions]


# --- registrations --------------------------------------------------------------------


def register(
    session: Session,
    *,
    bimtek: BimtekSession,
    ikm: IkmProfile,
    now: datetime,
    tz: ZoneInfo,
    waitlist_if_full: bool = False,
) -> RegisterResult:
    """Take a seat, or a place on the waitlist when asked; a cancelled row is reused."""
    lock_for_count(session, bimtek)  # seats are counted, then taken
    existing = session.exec(
        select(BimtekRegistration).where(
            BimtekRegistration.session_id == bimtek.id, BimtekRegistration.ikm_id == ikm.id
        )
    ).first()
    if existing is not None and existing.status in ACTIVE:
        return RegisterResult("already", existing)
    if not registration_open(bimtek, now):
        return RegisterResult("closed", None)
    if not eligible(bimtek, ikm):
        return RegisterResult("not_eligible", None)
    if seats_left(session, bimtek) > 0:
        status = RegistrationStatus.REGISTERED
    elif waitlist_if_full:
        status = RegistrationStatus.WAITLISTED
    else:
        return RegisterResult("full", None)
    registration = existing or BimtekRegistration(
        session_id=bimtek.id,
        ikm_id=ikm.id,
        person_id=ikm.person_id,
        checkin_code=new_code(_taken_codes(session, bimtek)),
        registered_at=now,
    )
    registration.status = status
    registration.registered_at = now  # a comeback queues behind those already waiting
    registration.cancelled_at = None
    registration.attended_at = None
    session.add(registration)
    session.flush()
    if status == RegistrationStatus.REGISTERED:
        enqueue_due_reminders(session, now=now, tz=tz, bimtek=bimtek)
    return RegisterResult(status.value, registration)


def cancel_registration(
    session: Session, *, registration: BimtekRegistration, now: datetime, tz: ZoneInfo
) -> BimtekRegistration | None:
    """Cancel; a freed seat before the start goes to the first waiting. Returns who got it."""
    bimtek = session.get(BimtekSession, registration.session_id)
    lock_for_count(session, bimtek)  # the seats left and the first waiting are counted
    session.refresh(registration)  # as it is now that no one else changes it
    if registration.status == RegistrationStatus.CANCELLED:
        return None
    freed = registration.status == RegistrationStatus.REGISTERED
    registration.status = RegistrationStatus.CANCELLED
    registration.cancelled_at = now
    session.flush()
    _withdraw_reminders(session, bimtek, registration.person_id)
    if not freed or bimtek.status != BimtekStatus.OPEN or now >= as_utc(bimtek.starts_at):
        return None
    return _promote_first_waiting(session, bimtek=bimtek, now=now, tz=tz)


def _promote_first_waiting(
    session: Session, *, bimtek: BimtekSession, now: datetime, tz: ZoneInfo
) -> BimtekRegistration | None:
    if seats_left(session, bimtek) <= 0:
        return None
    waiting = session.exec(
        select(BimtekRegistration)
        .where(
            BimtekRegistration.session_id == bimtek.id,
            BimtekRegistration.status == RegistrationStatus.WAITLISTED,
        )
        .order_by(BimtekRegistration.registered_at, BimtekRegistration.id)
    ).first()
    if waiting is None:
        return None
    waiting.status = RegistrationStatus.REGISTERED
    session.flush()
    # A row is promoted at most once per stay on the waitlist, and each stay starts
    # at a new registered_at: the key is unique per promotion, and stable on a retry.
    stay = as_utc(waiting.registered_at).strftime("%Y%m%dT%H%M%S%f")
    enqueue(
        session,
        person_id=waiting.person_id,
        key=f"bimtek:{bimtek.id}:promoted:registration:{waiting.id}:{stay}",
        template="bimtek.promoted",
        params={**session_params(bimtek), "checkin_code": waiting.checkin_code},
        now=now,
    )
    enqueue_due_reminders(session, now=now, tz=tz, bimtek=bimtek)
    return waiting


def active_registrations(
    session: Session, *, ikm: IkmProfile, now: datetime
) -> list[tuple[BimtekRegistration, BimtekSession]]:
    """Seats and waitlist places of this IKM in sessions still to come, soonest first."""
    rows = session.exec(
        select(BimtekRegistration, BimtekSession)
        .join(BimtekSession, BimtekSession.id == BimtekRegistration.session_id)
        .where(
            BimtekRegistration.ikm_id == ikm.id,
            BimtekRegistration.status.in_(ACTIVE),
            BimtekSession.status == BimtekStatus.OPEN,
            BimtekSession.starts_at > now,
        )
        .order_by(BimtekSession.starts_at, BimtekSession.id)
    )
    return [(registration, bimtek) for registration, bimtek in rows]


def _withdraw_reminders(
    session: Session, bimtek: BimtekSession, person_id: int | None = None
) -> int:
    """Reminders queued but not yet sent (say, waiting in an inbox) no longer apply."""
    return outbox_withdraw(
        session,
        kind="bimtek.reminder",
        key_prefix=f"bimtek:{bimtek.id}:",
        key_suffix=f":person:{person_id}" if person_id is not None else "",
    )


def release_seats(session: Session, *, ikm: IkmProfile, now: datetime, tz: ZoneInfo) -> int:
    """Cancel every coming seat and waitlist place of this IKM (e.g. before its data is
    deleted), so the first waiting IKM move up and are told. Returns how many."""
    active = active_registrations(session, ikm=ikm, now=now)
    for registration, _ in active:
        cancel_registration(session, registration=registration, now=now, tz=tz)
    return len(active)


# --- reminders ------------------------------------------------------------------------


def enqueue_due_reminders(
    session: Session, *, now: datetime, tz: ZoneInfo, bimtek: BimtekSession | None = None
) -> int:
    """Queue the reminders whose time has come (all open sessions, or one); returns how many.

    Safe to run as often as wanted: each reminder's key is unique per schedule version.
    """
    query = select(BimtekSession).where(
        BimtekSession.status == BimtekStatus.OPEN,
        BimtekSession.starts_at > now,
        BimtekSession.starts_at <= now + REMINDER_HORIZON,
    )
    if bimtek is not None:
        query = query.where(BimtekSession.id == bimtek.id)
    queued = 0
    for due_session in session.exec(query):
        queued += _enqueue_session_reminders(session, due_session, now=now, tz=tz)
    return queued


def _enqueue_session_reminders(
    session: Session, bimtek: BimtekSession, *, now: datetime, tz: ZoneInfo
) -> int:
    times = reminder_times(bimtek, tz)
    due = [which for which, at in times.items() if at <= now]
    if "H-2h" in due:
        due = ["H-2h"]  # the later reminder says it all; two at once would be noise
    if not due:
        return 0
    params = session_params(bimtek)
    # Registered late, the "day before" reminder may go out on the day itself.
    same_day = now.astimezone(tz).date() == as_utc(bimtek.starts_at).astimezone(tz).date()
    queued = 0
    for registration in _registrations(session, bimtek, [RegistrationStatus.REGISTERED]):
        pid = registration.person_id
        for which in due:
            queued += enqueue(
                session,
                person_id=pid,
                key=f"bimtek:{bimtek.id}:v{bimtek.schedule_version}:reminder:{which}:person:{pid}",
                template="bimtek.reminder",
                params={
                    **params,
                    "which": which,
                    "same_day": same_day,
                    "checkin_code": registration.checkin_code,
                },
                now=now,
            )
    return queued


# --- check-in -------------------------------------------------------------------------
# One code story. Each participant has an attendance code ("kode hadir"), told to them at
# registration, on promotion and in every reminder. The officer types it: checked in by
# the officer. The participant may type it (`hadir K7M2QX`, or `hadir` and then the code),
# or the venue code shown at the session: checked in by themselves, marked so in the
# roster and CSV, and only within the check-in window (someone sent the venue code at home
# can use it only while the session runs, and is still marked as such).


def checkin_window(bimtek: BimtekSession, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """When participants may check in themselves: from two hours before the start (the
    last reminder) until the end of that day, local time; in UTC."""
    starts_at = as_utc(bimtek.starts_at)
    next_day = starts_at.astimezone(tz).date() + timedelta(days=1)
    closes = datetime.combine(next_day, time(0), tzinfo=tz).astimezone(UTC)
    return starts_at - CHECKIN_OPENS, closes


def check_in(
    session: Session, *, bimtek: BimtekSession, code: str, now: datetime
) -> BimtekRegistration:
    """The officer enters a participant's code; checking in twice keeps the first time."""
    registration = session.exec(
        select(BimtekRegistration).where(
            BimtekRegistration.session_id == bimtek.id,
            BimtekRegistration.checkin_code == normalize_code(code),
        )
    ).first()
    if registration is None:
        raise UnknownCode()
    return _attend(session, registration, now, via=AttendedVia.OFFICER)


def self_check_in(
    session: Session, *, ikm: IkmProfile, code: str, now: datetime, tz: ZoneInfo
) -> tuple[BimtekSession, BimtekRegistration]:
    """The IKM types its own attendance code or the venue code, within the window."""
    typed = normalize_code(code)
    rows = session.exec(
        select(BimtekRegistration, BimtekSession)
        .join(BimtekSession, BimtekSession.id == BimtekRegistration.session_id)
        .where(
            BimtekRegistration.ikm_id == ikm.id,
            BimtekSession.status == BimtekStatus.OPEN,
            sa.or_(BimtekRegistration.checkin_code == typed, BimtekSession.checkin_code == typed),
        )
    ).all()
    if not rows:
        raise NotRegistered() if _is_venue_code(session, typed) else UnknownCode()
    now_open = [row for row in rows if _within(checkin_window(row[1], tz), now)]
    if not now_open:
        _, nearest = min(rows, key=lambda row: abs(as_utc(row[1].starts_at) - now))
        raise CheckInClosed(nearest, checkin_window(nearest, tz), now)
    now_open.sort(key=lambda row: row[0].status != RegistrationStatus.REGISTERED)
    registration, bimtek = now_open[0]
    return bimtek, _attend(session, registration, now, via=AttendedVia.SELF)


def _is_venue_code(session: Session, typed: str) -> bool:
    return (
        session.exec(
            select(BimtekSession.id).where(
                BimtekSession.checkin_code == typed, BimtekSession.status == BimtekStatus.OPEN
            )
        ).first()
        is not None
    )


def _within(window: tuple[datetime, datetime], now: datetime) -> bool:
    opens, closes = window
    return opens <= now < closes


def _attend(
    session: Session, registration: BimtekRegistration, now: datetime, *, via: AttendedVia
) -> BimtekRegistration:
    if registration.status != RegistrationStatus.REGISTERED:
        raise NotRegistered()
    if registration.attended_at is None:
        registration.attended_at = now
        registration.attended_via = via
    elif via == AttendedVia.OFFICER:
        registration.attended_via = via  # the officer has now seen them: confirmed
    session.flush()
    return registration


# --- roster ---------------------------------------------------------------------------


def roster(session: Session, *, bimtek: BimtekSession) -> list[RosterLine]:
    """Everyone who signed up: registered, then waitlisted in queue order, then cancelled."""
    rows = session.exec(
        select(BimtekRegistration, IkmProfile, Person)
        .join(IkmProfile, IkmProfile.id == BimtekRegistration.ikm_id)
        .outerjoin(Person, Person.id == BimtekRegistration.person_id)  # None: data erased
        .where(BimtekRegistration.session_id == bimtek.id)
    )
    ordered = sorted(
        rows,
        key=lambda row: (ROSTER_ORDER[row[0].status], as_utc(row[0].registered_at), row[0].id),
    )
    return [
        RosterLine(
            business_name=ikm.business_name,
            owner_name=ikm.owner_name,
            phone=person.phone if person else None,
            kecamatan=ikm.kecamatan,
            status=registration.status,
            checkin_code=registration.checkin_code,
            registered_at=as_utc(registration.registered_at),
            attended_at=as_utc(registration.attended_at),
            attended_via=registration.attended_via,
        )
        for registration, ikm, person in ordered
    ]


def roster_table(
    lines: Iterable[RosterLine],
    *,
    header: Sequence[str],
    status_label: Callable[[str], str],
    via_label: Callable[[str], str],
) -> Table:
    """The roster as values for a spreadsheet (times in UTC; the writer shows them local).

    The words (column names, statuses, who checked in) come from the caller, in the
    reader's language.
    """
    rows = [
        (
            number,
            line.business_name,
            line.owner_name,
            line.phone or "",
            line.kecamatan,
            status_label(line.status),
            line.checkin_code,
            line.registered_at,
            line.attended_at,
            via_label(line.attended_via) if line.attended_via else "",
        )
        for number, line in enumerate(lines, start=1)
    ]
    return Table("roster", tuple(header), rows)


def roster_csv(
    lines: Iterable[RosterLine],
    tz: ZoneInfo,
    *,
    header: Sequence[str],
    status_label: Callable[[str], str],
    via_label: Callable[[str], str],
) -> str:
    """`roster_table` as CSV, times in local time ("YYYY-MM-DD HH:MM")."""
    table = roster_table(lines, header=header, status_label=status_label, via_label=via_label)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow(_csv_value(value, tz) for value in row)
    return out.getvalue()


def _csv_value(value: object, tz: ZoneInfo) -> object:
    if isinstance(value, datetime) or value is None:
        return _local(value, tz)
    # Names are typed by people: a leading = + - @ would run as a spreadsheet formula.
    if isinstance(value, str) and value[:1] in _FORMULA_STARTS and not _NUMBER.fullmatch(value):
        return f"'{value}"
    return value


_FORMULA_STARTS = ("=", "+", "-", "@")
_NUMBER = re.compile(r"\+?\d+")  # a phone number is data, not a formula


def _local(moment: datetime | None, tz: ZoneInfo) -> str:
    return "" if moment is None else as_utc(moment).astimezone(tz).strftime("%Y-%m-%d %H:%M")


# --- helpers --------------------------------------------------------------------------


def _checked_schedule(
    starts_at: datetime, deadline: datetime, now: datetime
) -> tuple[datetime, datetime]:
    starts_at, deadline = _to_utc(starts_at), _to_utc(deadline)
    if starts_at <= now:
        raise InvalidSchedule("start_in_past")
    if deadline > starts_at:
        raise InvalidSchedule("deadline_after_start")
    if deadline <= now:
        raise InvalidSchedule("deadline_in_past")
    return starts_at, deadline


def _to_utc(moment: datetime) -> datetime:
    return as_utc(moment).astimezone(UTC)


def _iso(moment: datetime) -> str:
    return _to_utc(moment).isoformat()


def _target_people(session: Session, bimtek: BimtekSession) -> list[int]:
    query = (
        select(IkmProfile.person_id)
        .where(IkmProfile.person_id.is_not(None))  # an erased IKM's records hear nothing
        .where(registry.not_opted_out(session, IkmProfile.person_id))  # said "berhenti"
        .order_by(IkmProfile.person_id)
    )
    if bimtek.sectors:
        query = query.where(IkmProfile.sector.in_(bimtek.sectors))
    if bimtek.kecamatan:
        query = query.where(IkmProfile.kecamatan.in_(bimtek.kecamatan))
    return list(session.exec(query))


def _registrations(
    session: Session, bimtek: BimtekSession, statuses: Iterable[str]
) -> list[BimtekRegistration]:
    return list(
        session.exec(
            select(BimtekRegistration)
            .where(
                BimtekRegistration.session_id == bimtek.id,
                BimtekRegistration.status.in_(list(statuses)),
                BimtekRegistration.person_id.is_not(None),  # erased: nobody left to tell
            )
            .order_by(BimtekRegistration.registered_at, BimtekRegistration.id)
        )
    )


def _registered_count(session: Session, session_id: int) -> int:
    return _registered_counts(session, [session_id]).get(session_id, 0)


def _registered_counts(session: Session, session_ids: list[int]) -> dict[int, int]:
    if not session_ids:
        return {}
    rows = session.execute(
        select(BimtekRegistration.session_id, sa.func.count())
        .where(
            BimtekRegistration.session_id.in_(session_ids),
            BimtekRegistration.status == RegistrationStatus.REGISTERED,
        )
        .group_by(BimtekRegistration.session_id)
    )
    return dict(rows.all())


def _taken_codes(session: Session, bimtek: BimtekSession) -> set[str]:
    # The session's own code too, so a participant's code is never mistaken for it.
    codes = set(
        session.exec(
            select(BimtekRegistration.checkin_code).where(
                BimtekRegistration.session_id == bimtek.id
            )
        )
    )
    return codes | {bimtek.checkin_code}


def _tell(
    session: Session,
    registrations: Iterable[BimtekRegistration],
    *,
    template: str,
    key: Callable[[BimtekRegistration], str],
    params: dict,
    now: datetime,
) -> int:
    told = 0
    for registration in registrations:
        told += enqueue(
            session,
            person_id=registration.person_id,
            key=key(registration),
            template=template,
            params=params,
            now=now,
        )
    return told
