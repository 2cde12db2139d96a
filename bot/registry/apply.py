"""Carrying out an import plan: new records inserted and matched ones updated, a few hundred
rows per transaction, and the file remembered by its content hash.

An update never overwrites what was changed since the last import: a field is set only
where its current value still equals the value last imported (for a claimed record, its
IKM profile's field under the same rule: the owner's corrections in the chat stay). The
value last imported is updated either way, so the same file again changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.registry.cells import FIELDS
from bot.registry.plan import Action, Plan, RowPlan
from models import IkmProfile, RegistryImport, RegistryRecord
from models.db import transaction

BATCH_SIZE = 500
# The registry's fields an IKM profile has too (a profile's kecamatan and sector are never
# emptied: `changed_fields` holds only values the file gives).
PROFILE_FIELDS = (
    "business_name",
    "owner_name",
    "desa",
    "kecamatan",
    "sector",
    "kbli_code",
    "nib",
    "workers",
)


@dataclass(frozen=True)
class ImportFile:
    """The file an import came from: its content hash, its name, and the source text kept
    on each record (what the person is told their data came from)."""

    file_hash: str
    file_name: str
    source: str


@dataclass(frozen=True)
class Applied:
    created: int
    updated: int
    kept: int  # fields left as they were because they had been changed since


def was_imported(session: Session, file_hash: str) -> bool:
    """Whether a file with these contents was imported before (dry runs do not count)."""
    found = session.exec(
        select(RegistryImport.id).where(RegistryImport.file_hash == file_hash).limit(1)
    )
    return found.first() is not None


def apply_plan(
    engine: Engine,
    plan: Plan,
    *,
    file: ImportFile,
    now: datetime,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> Applied:
    """Write the plan's new and updated rows, one transaction per batch, then log the file."""
    rows = plan.to_apply()
    created = updated = kept = 0
    for start in range(0, len(rows), batch_size):
        batch = rows[start : start + batch_size]
        with transaction(engine) as session:
            created += _insert(session, [r for r in batch if r.action is Action.NEW], file, now)
            done, left = _update(
                session, [r for r in batch if r.action is Action.UPDATE], file, now
            )
            updated, kept = updated + done, kept + left
        if progress is not None:
            progress(start + len(batch))
    with transaction(engine) as session:
        session.add(_log(plan, file, now, created, updated))
    return Applied(created, updated, kept)


def _insert(session: Session, rows: Sequence[RowPlan], file: ImportFile, now: datetime) -> int:
    if not rows:
        return 0
    # A Core INSERT of many rows (executemany), not ORM objects: a tenth of the time for a
    # list of 100,000, and nothing kept in the session.
    session.connection().execute(
        sa.insert(RegistryRecord.__table__),
        [
            {
                **{name: row.values.get(name) for name in FIELDS},
                "source": file.source,
                "source_row": row.row,
                "imported_values": {name: row.values.get(name) for name in FIELDS},
                "invitations": 0,
                "created_at": now,
                "updated_at": now,
            }
            for row in rows
        ],
    )
    return len(rows)


def _update(
    session: Session, rows: Sequence[RowPlan], file: ImportFile, now: datetime
) -> tuple[int, int]:
    """(records updated, fields kept because they were changed since the last import)."""
    if not rows:
        return 0, 0
    ids = [row.record_id for row in rows]
    records = {
        record.id: record
        for record in session.exec(select(RegistryRecord).where(col(RegistryRecord.id).in_(ids)))
    }
    profiles = _profiles(session, [r.ikm_id for r in records.values() if r.ikm_id is not None])
    kept = 0
    for row in rows:
        record = records.get(row.record_id)
        if record is None:  # erased since the plan was made
            continue
        last = dict(record.imported_values or {})
        kept += _set_unchanged(record, row.changes, last, FIELDS)
        profile = profiles.get(record.ikm_id) if record.ikm_id is not None else None
        if profile is not None:
            kept += _set_unchanged(profile, row.changes, last, PROFILE_FIELDS)
            profile.updated_at = now
        record.imported_values = {**last, **row.changes}
        record.source, record.source_row, record.updated_at = file.source, row.row, now
    return len(rows), kept


def _set_unchanged(
    target: RegistryRecord | IkmProfile,
    changes: Mapping[str, object],
    last_imported: Mapping[str, object],
    names: Sequence[str],
) -> int:
    """Set each changed field still holding its last imported value; count those kept."""
    kept = 0
    for name, value in changes.items():
        if name not in names:
            continue
        if getattr(target, name) == last_imported.get(name):
            setattr(target, name, value)
        else:
            kept += 1
    return kept


def _profiles(session: Session, ids: list[int]) -> dict[int, IkmProfile]:
    if not ids:
        return {}
    found = session.exec(select(IkmProfile).where(col(IkmProfile.id).in_(ids)))
    return {profile.id: profile for profile in found}


def _log(plan: Plan, file: ImportFile, now: datetime, created: int, updated: int) -> RegistryImport:
    return RegistryImport(
        file_hash=file.file_hash,
        file_name=file.file_name[:255],
        source=file.source[:160],
        rows_read=len(plan.rows),
        created=created,
        updated=updated,
        unchanged=plan.count(Action.UNCHANGED),
        attention=len(plan.attention()),
        imported_at=now,
    )
