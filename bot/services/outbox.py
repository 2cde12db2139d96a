"""The outbox's bookkeeping: enqueue with an idempotency key, claim what is due, record outcomes.

No chat text here: a message is a template name and its parameters; it is rendered in
the person's language when it is sent (handlers/notifications.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from models import ChannelAccount, DeliveryStatus, Person
from models.base import as_utc
from models.outbox import OutboxMessage, OutboxState

# Channels whose messages wait for the person instead of being pushed.
PULL_CHANNELS = frozenset({"console"})
# Channels where a message may wait for the person's next word (WhatsApp's 24-hour window).
WINDOW_CHANNELS = frozenset({"whatsapp"})
ERROR_LIMIT = 300


@dataclass(frozen=True)
class Reach:
    """How long one kind of message stays worth sending, and what a later one makes untrue.

    A message that cannot go at once (the person is outside WhatsApp's window, the sender
    was down) is dropped rather than delivered late once `worth` has passed since it was
    written, or once the time in its parameter `until` has (a call's deadline, a session's
    start). `subject` names what it is about, from its parameters ("bimtek:{id}").
    When it is written, the unsent messages of the kinds in `replaces` are dropped as
    superseded: those about the same subject for everyone (a cancelled session's
    invitations), or to the same person when the kind has no subject; of its own kind
    only the same person's (a second nudge replaces the first, not another person's).
    `template`: worth an approved template where a platform allows nothing else (WhatsApp
    outside its 24-hour window); False leaves the message waiting for the person's word.
    """

    worth: timedelta
    until: str | None = None
    subject: str | None = None
    replaces: frozenset[str] = frozenset()
    template: bool = True


DAY = timedelta(days=1)
_SESSION_NEWS = frozenset({"bimtek.announced", "bimtek.reminder", "bimtek.rescheduled"})
# Every kind of outbox message, in one place (a test holds the renderers and config.toml to it).
REACH: dict[str, Reach] = {
    "announcement": Reach(worth=14 * DAY),
    # An invitation is worth its while until registration closes, however long that is.
    "bimtek.announced": Reach(worth=90 * DAY, until="registration_deadline", subject="bimtek:{id}"),
    "bimtek.reminder": Reach(
        worth=DAY, until="starts_at", subject="bimtek:{id}", replaces=frozenset({"bimtek.reminder"})
    ),
    "bimtek.promoted": Reach(worth=14 * DAY, until="starts_at", subject="bimtek:{id}"),
    "bimtek.rescheduled": Reach(
        worth=30 * DAY, until="starts_at", subject="bimtek:{id}", replaces=_SESSION_NEWS
    ),
    "bimtek.cancelled": Reach(
        worth=30 * DAY,
        until="starts_at",
        subject="bimtek:{id}",
        replaces=_SESSION_NEWS | {"bimtek.promoted", "bimtek.closed_waitlist"},
    ),
    # Only that registration has closed and they still wait: a seat freed later says more.
    "bimtek.closed_waitlist": Reach(
        worth=3 * DAY, until="starts_at", subject="bimtek:{id}", template=False
    ),
    # The claimant typed a number someone else proved: they hear it when they next write,
    # the only time the chat can ask them for their own number again.
    "identity.claim_dropped": Reach(worth=30 * DAY, template=False),
    "company.waiting": Reach(
        worth=30 * DAY, subject="company:{id}", replaces=frozenset({"company.waiting"})
    ),
    "company.verified": Reach(
        worth=60 * DAY, replaces=frozenset({"company.verified", "company.rejected"})
    ),
    "company.rejected": Reach(
        worth=60 * DAY, replaces=frozenset({"company.verified", "company.rejected"})
    ),
    "ikm.nudge": Reach(worth=30 * DAY, replaces=frozenset({"ikm.nudge"})),
    "registry.invite": Reach(worth=30 * DAY),
    "need.call": Reach(worth=14 * DAY, until="deadline", subject="need:{id}"),
    "need.digest": Reach(worth=3 * DAY),
    "need.extended": Reach(
        worth=14 * DAY, until="deadline", subject="need:{id}", replaces=frozenset({"need.extended"})
    ),
    "need.closed": Reach(
        worth=14 * DAY, subject="need:{id}", replaces=frozenset({"need.call", "need.extended"})
    ),
    "need.cancelled": Reach(
        worth=14 * DAY,
        subject="need:{id}",
        replaces=frozenset({"need.call", "need.extended", "need.closed"}),
    ),
    "need.summary": Reach(worth=30 * DAY, subject="need:{id}"),
    "offer.received": Reach(worth=14 * DAY, subject="need:{id}"),
    "offer.question": Reach(worth=14 * DAY, subject="need:{id}"),
    "offer.answer": Reach(worth=14 * DAY, subject="need:{id}"),
    "offer.not_chosen": Reach(worth=30 * DAY, subject="need:{id}"),
    "offer.withdrawn_erased": Reach(worth=14 * DAY, subject="need:{id}"),
    "award.won": Reach(worth=90 * DAY, subject="need:{id}"),
    "award.partner": Reach(worth=90 * DAY, subject="need:{id}"),
}
# A kind written by a newer version: kept a month, made untrue by nothing.
UNKNOWN_REACH = Reach(worth=30 * DAY)


def reach_of(kind: str) -> Reach:
    return REACH.get(kind, UNKNOWN_REACH)


def subject_of(kind: str, params: dict) -> str | None:
    """What a message is about, e.g. "bimtek:4"."""
    pattern = reach_of(kind).subject
    try:
        return pattern.format(**params) if pattern else None
    except (KeyError, IndexError):
        return None


def expires_at(kind: str, params: dict, now: datetime) -> datetime:
    """When a message written now stops being worth sending."""
    reach = reach_of(kind)
    expiry = now + reach.worth
    if reach.until and params.get(reach.until):
        expiry = min(expiry, as_utc(datetime.fromisoformat(params[reach.until])))
    return expiry


def reachable_account(session: Session, person_id: int) -> ChannelAccount | None:
    """Where to reach a person: their most recently used account that has not blocked us."""
    accounts = session.exec(
        select(ChannelAccount).where(
            ChannelAccount.person_id == person_id, ChannelAccount.blocked == sa.false()
        )
    ).all()
    if not accounts:
        return None
    never = datetime.min.replace(tzinfo=UTC)
    return max(accounts, key=lambda a: (as_utc(a.last_inbound_at) or never, a.id))


_ENQUEUE = sa.text(
    "INSERT INTO outbox_message (idempotency_key, person_id, channel, account_id, kind, batch,"
    " content, language, state, attempts, next_attempt_at, created_at, subject, expires_at)"
    " VALUES (:key, :person_id, :channel, :account_id, :kind, :batch, :content, :language,"
    " :state, 0, :now, :now, :subject, :expires_at)"
    " ON CONFLICT (idempotency_key) DO NOTHING"
).bindparams(
    sa.bindparam("content", type_=sa.JSON),
    sa.bindparam("now", type_=sa.DateTime(timezone=True)),
    sa.bindparam("expires_at", type_=sa.DateTime(timezone=True)),
)


def enqueue(
    session: Session,
    *,
    person_id: int,
    key: str,
    template: str,
    params: dict,
    now: datetime,
    batch: str | None = None,
) -> bool:
    """Queue one message; False if that key was queued before or the person is unreachable.

    `key` makes it idempotent: e.g. "bimtek:4:v1:reminder:H-1:person:7" is sent once
    however often the job that found it due runs. What it makes untrue (its kind's
    `replaces`) is dropped when it is first written.
    """
    account = reachable_account(session, person_id)
    if account is None:
        return False
    language = session.execute(select(Person.language).where(Person.id == person_id)).scalar_one()
    state = OutboxState.WAITING if account.channel in PULL_CHANNELS else OutboxState.PENDING
    result = session.execute(
        _ENQUEUE,
        {
            "key": key,
            "person_id": person_id,
            "channel": account.channel,
            "account_id": account.external_id,
            "kind": template,
            "batch": batch,
            "content": {"template": template, "params": params},
            "language": language,
            "state": state.value,
            "now": now,
            "subject": subject_of(template, params),
            "expires_at": expires_at(template, params, now),
        },
    )
    if result.rowcount != 1:
        return False
    _supersede(session, kind=template, params=params, person_id=person_id, except_key=key)
    return True


@dataclass(frozen=True)
class Queued:
    """One message of `enqueue_many`: to whom, under which key, with what."""

    person_id: int
    key: str
    params: dict


def enqueue_many(
    session: Session, queued: Sequence[Queued], *, template: str, now: datetime
) -> int:
    """`enqueue` for many people at once, in a few set-based statements; how many were new.

    Writes exactly what `enqueue` would, one by one, for a kind without a subject (what it
    supersedes is the same person's). Keys already queued are left alone.
    """
    if reach_of(template).subject is not None:
        raise ValueError(f"{template}: enqueue_many is for kinds without a subject")
    person_ids = [item.person_id for item in queued]
    accounts = reachable_accounts(session, person_ids)
    languages = dict(
        session.execute(select(Person.id, Person.language).where(Person.id.in_(person_ids))).all()
    )
    rows = [
        _enqueue_values(item, accounts[item.person_id], languages[item.person_id], template, now)
        for item in queued
        if item.person_id in accounts
    ]
    if not rows:
        return 0
    written = session.execute(_ENQUEUE, rows).rowcount
    _supersede_many(session, kind=template, rows=rows)
    return written


def reachable_accounts(session: Session, person_ids: Sequence[int]) -> dict[int, ChannelAccount]:
    """`reachable_account` for many people in one query: those with none are left out."""
    never = datetime.min.replace(tzinfo=UTC)
    best: dict[int, ChannelAccount] = {}
    for account in session.exec(
        select(ChannelAccount).where(
            ChannelAccount.person_id.in_(person_ids), ChannelAccount.blocked == sa.false()
        )
    ):
        rank = (as_utc(account.last_inbound_at) or never, account.id)
        current = best.get(account.person_id)
        if current is None or rank > (as_utc(current.last_inbound_at) or never, current.id):
            best[account.person_id] = account
    return best


def _enqueue_values(
    item: Queued, account: ChannelAccount, language: str, template: str, now: datetime
) -> dict:
    state = OutboxState.WAITING if account.channel in PULL_CHANNELS else OutboxState.PENDING
    return {
        "key": item.key,
        "person_id": item.person_id,
        "channel": account.channel,
        "account_id": account.external_id,
        "kind": template,
        "batch": None,
        "content": {"template": template, "params": item.params},
        "language": language,
        "state": state.value,
        "now": now,
        "subject": None,
        "expires_at": expires_at(template, item.params, now),
    }


def _supersede_many(session: Session, *, kind: str, rows: list[dict]) -> int:
    """What `_supersede` does for each row, for kinds without a subject, in one statement."""
    replaces = reach_of(kind).replaces
    if not replaces:
        return 0
    people = [row["person_id"] for row in rows]
    others = OutboxMessage.kind.in_(replaces - {kind})
    which = others
    if kind in replaces:
        keys = [row["key"] for row in rows]
        same_kind = sa.and_(OutboxMessage.kind == kind, OutboxMessage.idempotency_key.not_in(keys))
        which = sa.or_(same_kind, others)
    return _mark_superseded(session, kind, OutboxMessage.person_id.in_(people), which)


_UNSENT = (OutboxState.PENDING, OutboxState.WAITING)


def supersede(session: Session, *, kind: str, params: dict) -> int:
    """An event of `kind` happened (say, a session was cancelled): the unsent messages about
    its subject that it makes untrue are dropped, also when nobody is told of the event."""
    subject = subject_of(kind, params)
    others = reach_of(kind).replaces - {kind}
    if subject is None or not others:
        return 0
    return _mark_superseded(
        session, kind, OutboxMessage.subject == subject, OutboxMessage.kind.in_(others)
    )


def _supersede(
    session: Session, *, kind: str, params: dict, person_id: int, except_key: str
) -> int:
    replaces = reach_of(kind).replaces
    if not replaces:
        return 0
    subject = subject_of(kind, params)
    about = OutboxMessage.subject == subject if subject else OutboxMessage.person_id == person_id
    same_person_same_kind = sa.and_(
        OutboxMessage.kind == kind,
        OutboxMessage.person_id == person_id,
        OutboxMessage.idempotency_key != except_key,
    )
    others = OutboxMessage.kind.in_(replaces - {kind})
    which = sa.or_(same_person_same_kind, others) if kind in replaces else others
    return _mark_superseded(session, kind, about, which)


def _mark_superseded(session: Session, kind: str, *conditions: sa.ColumnElement) -> int:
    return session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.state.in_(_UNSENT), *conditions)
        .values(state=OutboxState.SUPERSEDED, last_error=f"superseded by {kind}")
    ).rowcount


def claim_due(
    session: Session,
    *,
    channels: list[str],
    now: datetime,
    limit: int,
    lease: timedelta,
) -> list[sa.Row]:
    """Take up to `limit` due messages for sending; several senders never take the same row.

    One UPDATE … RETURNING: on PostgreSQL its subquery skips rows another sender has
    locked (SKIP LOCKED); on SQLite the statement holds the write lock from its start,
    so senders in several processes queue instead of reading the same rows. A row left
    in `sending` longer than `lease` belonged to a sender that died: it is taken again,
    so a crash loses nothing (and resends at most what was in flight). A chosen row no
    longer worth sending (past `expires_at`) is marked expired instead, and not returned.

    A claim is not an attempt: `attempts` counts tries whose outcome was written, so a
    sender killed again and again before it reached a message does not use up its tries.
    """
    due = sa.or_(
        sa.and_(OutboxMessage.state == OutboxState.PENDING, OutboxMessage.next_attempt_at <= now),
        sa.and_(OutboxMessage.state == OutboxState.SENDING, OutboxMessage.claimed_at < now - lease),
    )
    chosen = (
        select(OutboxMessage.id)
        .where(OutboxMessage.channel.in_(channels), due)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        chosen = chosen.with_for_update(skip_locked=True)
    claim = (
        sa.update(OutboxMessage)
        .where(OutboxMessage.id.in_(chosen.scalar_subquery()))
        .values(
            state=sa.case((_stale(now), OutboxState.EXPIRED), else_=OutboxState.SENDING),
            claimed_at=now,
        )
        .returning(
            OutboxMessage.id,
            OutboxMessage.state,
            OutboxMessage.channel,
            OutboxMessage.account_id,
            OutboxMessage.content,
            OutboxMessage.language,
            OutboxMessage.attempts,
        )
    )
    rows = session.execute(claim, execution_options={"synchronize_session": False}).all()
    return sorted((row for row in rows if row.state == OutboxState.SENDING), key=lambda r: r.id)


def _stale(now: datetime) -> sa.ColumnElement[bool]:
    """No longer worth sending at `now` (rows written before expiry existed never are)."""
    return sa.and_(OutboxMessage.expires_at.is_not(None), OutboxMessage.expires_at <= now)


# Outcomes are written once per message sent, so the statements are built once. Only a
# row still claimed is updated: a broadcast stopped meanwhile stays cancelled. Each one
# counts the try it records.
def _outcome(assignments: str) -> sa.TextClause:
    statement = sa.text(
        f"UPDATE outbox_message SET attempts = attempts + 1, {assignments}"
        " WHERE id = :id AND state = 'sending'"
    )
    if ":at" in assignments:
        statement = statement.bindparams(sa.bindparam("at", type_=sa.DateTime(timezone=True)))
    return statement


_MARK_SENT = _outcome(
    "state = 'sent', sent_at = :at, last_error = NULL, platform_message_id = :platform_id"
)
_MARK_RETRY = _outcome("state = 'pending', next_attempt_at = :at, last_error = :error")
_MARK_FAILED = _outcome("state = 'failed', last_error = :error")
_MARK_WAITING = _outcome("state = 'waiting', last_error = :error")


def mark_sent(session: Session, sent: Sequence[tuple[int, datetime, str | None]]) -> None:
    """Many messages sent: (message id, sent at, platform message id). The platform may have
    reported one failed already (its webhook came before this commit): that one is failed.
    The platform ids are held first (`hold_platform_ids`)."""
    if not sent:
        return
    identified = [pid for _, _, pid in sent if pid]
    hold_platform_ids(session, identified)
    session.execute(
        _MARK_SENT, [{"id": id_, "at": at, "platform_id": pid} for id_, at, pid in sent]
    )
    fail_reported(session, identified, held=True)


def fail_reported(session: Session, platform_ids: list[str], *, held: bool = False) -> int:
    """Messages the platform accepted and then reported failed (the recorded status says
    so): failed, with the platform's code and words, not sent. An announcement's progress
    then counts them as failed, or blocked for a number that cannot be reached."""
    if not platform_ids:
        return 0
    if not held:
        hold_platform_ids(session, platform_ids)
    return session.execute(_FAILED_BY_STATUS, {"platform_ids": platform_ids}).rowcount


# PostgreSQL: a status webhook and the sender's record of the same message, one after the
# other (each would miss what the other has not committed yet, and a failure reported
# meanwhile would be lost). Two-key advisory locks: a key space apart from the people's.
_PLATFORM_ID_LOCKS = 1
_HOLD_PLATFORM_IDS = sa.text(
    "SELECT pg_advisory_xact_lock(:space, hashtext(platform_id))"
    " FROM (SELECT DISTINCT unnest(CAST(:ids AS text[])) AS platform_id ORDER BY 1) AS held"
)


def hold_platform_ids(session: Session, platform_ids: list[str]) -> None:
    """Until the transaction ends; in one order everywhere, so two holders never deadlock.
    SQLite needs nothing: one writer at a time."""
    if platform_ids and session.get_bind().dialect.name == "postgresql":
        session.execute(_HOLD_PLATFORM_IDS, {"space": _PLATFORM_ID_LOCKS, "ids": platform_ids})


def _failed_by_status() -> sa.Update:
    failure = (
        sa.select(
            sa.func.coalesce(
                sa.cast(DeliveryStatus.error_code, sa.String) + " " + DeliveryStatus.error_title,
                sa.cast(DeliveryStatus.error_code, sa.String),
                DeliveryStatus.error_title,
                "failed after sending",
            )
        )
        .where(
            DeliveryStatus.channel == OutboxMessage.channel,
            DeliveryStatus.platform_message_id == OutboxMessage.platform_message_id,
            DeliveryStatus.status == "failed",
        )
        .scalar_subquery()
    )
    return (
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.platform_message_id.in_(sa.bindparam("platform_ids", expanding=True)),
            OutboxMessage.state == OutboxState.SENT,
            failure.is_not(None),
        )
        .values(state=OutboxState.FAILED, last_error=failure)
    )


_FAILED_BY_STATUS = _failed_by_status()


def mark_retry(session: Session, message_id: int, *, at: datetime, error: str) -> None:
    session.execute(_MARK_RETRY, {"id": message_id, "at": at, "error": error[:ERROR_LIMIT]})


def mark_failed(session: Session, message_id: int, *, error: str) -> None:
    session.execute(_MARK_FAILED, {"id": message_id, "error": error[:ERROR_LIMIT]})


def mark_waiting(session: Session, message_id: int, *, error: str) -> None:
    session.execute(_MARK_WAITING, {"id": message_id, "error": error[:ERROR_LIMIT]})


def change_language(session: Session, *, person_id: int, language: str) -> int:
    """What waits for the person is rendered in the language they just chose (a message
    already on its way stays as it is)."""
    result = session.execute(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.person_id == person_id,
            OutboxMessage.state.in_([OutboxState.PENDING, OutboxState.WAITING]),
        )
        .values(language=language)
    )
    return result.rowcount


def skip_blocked(session: Session, *, channel: str, account_id: str, error: str) -> int:
    """The account blocked us: what still waits for it will not be sent."""
    result = session.execute(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.channel == channel,
            OutboxMessage.account_id == account_id,
            OutboxMessage.state.in_([OutboxState.PENDING, OutboxState.WAITING]),
        )
        .values(state=OutboxState.FAILED, last_error=error[:ERROR_LIMIT])
    )
    return result.rowcount


def take_inbox(
    session: Session, *, channel: str, account_id: str, now: datetime
) -> list[tuple[dict, str]]:
    """Messages waiting for this account (oldest first), now delivered: (content, language).
    Those no longer worth it are marked expired and left out."""
    rows = list(
        session.exec(
            select(OutboxMessage)
            .where(
                OutboxMessage.channel == channel,
                OutboxMessage.account_id == account_id,
                OutboxMessage.state == OutboxState.WAITING,
            )
            .order_by(OutboxMessage.id)
        )
    )
    delivered = []
    for row in rows:
        if row.expires_at is not None and as_utc(row.expires_at) <= now:
            row.state = OutboxState.EXPIRED
            continue
        row.state = OutboxState.SENT
        row.sent_at = now
        delivered.append((row.content, row.language))
    session.flush()
    return delivered


def batch_counts(session: Session, batch: str) -> Counter[str]:
    rows = session.execute(
        select(OutboxMessage.state, sa.func.count())
        .where(OutboxMessage.batch == batch)
        .group_by(OutboxMessage.state)
    )
    return Counter({state: count for state, count in rows})


def cancel_batch(session: Session, batch: str) -> int:
    """Stop a broadcast: what has not gone yet will not go."""
    result = session.execute(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.batch == batch,
            OutboxMessage.state.in_([OutboxState.PENDING, OutboxState.WAITING]),
        )
        .values(state=OutboxState.CANCELLED)
    )
    return result.rowcount


def waiting_count(session: Session) -> int:
    """Messages waiting for their person (console inbox, or outside WhatsApp's window)."""
    return session.execute(
        select(sa.func.count()).where(OutboxMessage.state == OutboxState.WAITING)
    ).scalar_one()


_RELEASE_WAITING = sa.text(
    "UPDATE outbox_message SET state = 'pending' WHERE channel = :channel"
    " AND account_id = :account_id AND state = 'waiting'"
)


def release_waiting(session: Session, *, channel: str, account_id: str) -> int:
    """The person wrote again (their window reopened): what waited for them goes now,
    oldest first (by when it was first due); the sender drops what is no longer worth it."""
    if channel not in WINDOW_CHANNELS:
        return 0
    return session.execute(
        _RELEASE_WAITING, {"channel": channel, "account_id": account_id}
    ).rowcount


def expire_waiting(session: Session, *, now: datetime, limit: int) -> int:
    """Up to `limit` messages that waited for their person (WhatsApp's window, the console's
    inbox) past their worth: expired, as the sender would find them had the person written.
    They stay out of every "still waiting" count."""
    stale_ids = (
        select(OutboxMessage.id)
        .where(OutboxMessage.state == OutboxState.WAITING, _stale(now))
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    doomed = list(session.exec(stale_ids))
    if not doomed:
        return 0
    session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id.in_(doomed), OutboxMessage.state == OutboxState.WAITING)
        .values(state=OutboxState.EXPIRED, last_error="no longer worth sending")
    )
    return len(doomed)


def requeue_waiting(session: Session, *, channel: str, platform_message_id: str) -> int:
    """A sent message the platform later refused (outside the window): it waits again."""
    if not platform_message_id:
        return 0
    return session.execute(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.channel == channel,
            OutboxMessage.platform_message_id == platform_message_id,
        )
        .values(state=OutboxState.WAITING, last_error="outside the 24-hour window")
    ).rowcount


def withdraw(session: Session, *, kind: str, key_prefix: str, key_suffix: str = "") -> int:
    """Take back messages not sent yet (e.g. reminders of a cancelled or moved session)."""
    return session.execute(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.kind == kind,
            OutboxMessage.idempotency_key.startswith(key_prefix, autoescape=True),
            OutboxMessage.idempotency_key.endswith(key_suffix, autoescape=True),
            OutboxMessage.state.in_([OutboxState.PENDING, OutboxState.WAITING]),
        )
        .values(state=OutboxState.CANCELLED, last_error="withdrawn")
    ).rowcount


def recently_sent(
    session: Session, *, person_id: int, since: datetime, limit: int = 10
) -> list[tuple[dict, str]]:
    """What was sent to a person since `since`, newest first: (content, language)."""
    rows = session.exec(
        select(OutboxMessage.content, OutboxMessage.language)
        .where(
            OutboxMessage.person_id == person_id,
            OutboxMessage.state == OutboxState.SENT,
            OutboxMessage.sent_at >= since,
        )
        .order_by(OutboxMessage.sent_at.desc(), OutboxMessage.id.desc())
        .limit(limit)
    )
    return [(content, language) for content, language in rows]
