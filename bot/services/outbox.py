"""The outbox's bookkeeping: enqueue with an idempotency key, claim what is due, record outcomes.

No chat text here: a message is a template name and its parameters; it is rendered in
the person's language when it is sent (handlers/notifications.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from models import ChannelAccount, Person
from models.base import as_utc
from models.outbox import OutboxMessage, OutboxState

# Channels whose messages wait for the person instead of being pushed.
PULL_CHANNELS = frozenset({"console"})
# Channels where a message may wait for the person's next word (WhatsApp's 24-hour window).
WINDOW_CHANNELS = frozenset({"whatsapp"})
ERROR_LIMIT = 300


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
    " content, language, state, attempts, next_attempt_at, created_at)"
    " VALUES (:key, :person_id, :channel, :account_id, :kind, :batch, :content, :language,"
    " :state, 0, :now, :now)"
    " ON CONFLICT (idempotency_key) DO NOTHING"
).bindparams(
    sa.bindparam("content", type_=sa.JSON),
    sa.bindparam("now", type_=sa.DateTime(timezone=True)),
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
    however often the job that found it due runs.
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
        },
    )
    return result.rowcount == 1


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
    so a crash loses nothing (and resends at most what was in flight).

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
        .values(state=OutboxState.SENDING, claimed_at=now)
        .returning(
            OutboxMessage.id,
            OutboxMessage.channel,
            OutboxMessage.account_id,
            OutboxMessage.content,
            OutboxMessage.language,
            OutboxMessage.attempts,
        )
    )
    rows = session.execute(claim, execution_options={"synchronize_session": False}).all()
    return sorted(rows, key=lambda row: row.id)


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
    """Many messages sent, in one statement: (message id, sent at, platform message id)."""
    if sent:
        session.execute(
            _MARK_SENT, [{"id": id_, "at": at, "platform_id": pid} for id_, at, pid in sent]
        )


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
    """Messages waiting for this account (oldest first), now delivered: (content, language)."""
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
    for row in rows:
        row.state = OutboxState.SENT
        row.sent_at = now
    session.flush()
    return [(row.content, row.language) for row in rows]


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
    """The person wrote again (their window reopened): what waited for them goes now."""
    if channel not in WINDOW_CHANNELS:
        return 0
    return session.execute(
        _RELEASE_WAITING, {"channel": channel, "account_id": account_id}
    ).rowcount


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
