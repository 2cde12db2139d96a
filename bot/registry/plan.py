"""What importing the parsed rows would do, decided without writing anything.

Each row is matched to a registry record by NIB, then by phone (either of the row's numbers
against either of the record's), then by business name and desa. A match by name only is
"to confirm": shown in the report and applied only when the officer accepts name matches.
A matched row changes the fields whose value differs from what was last imported; a row
with no such difference is unchanged, so importing the same file twice changes nothing.

A row is skipped when it has no business name, repeats an earlier row of the file (same
NIB or phone), belongs to an IKM already registered in the chat (its person's phone or its
NIB), or matches a registry record by phone whose NIB is another one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from sqlmodel import Session, col, select

from bot.parsing.fuzzy import normalise
from bot.registry.cells import FIELDS, ParsedRow, Problem
from models import IkmProfile, Person, RegistryRecord

_LOAD_CHUNK = 500


class Action(StrEnum):
    NEW = "new"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    CONFIRM = "confirm"  # matched by name and desa only: not applied unless accepted
    SKIP = "skip"


@dataclass(frozen=True, slots=True)
class RowPlan:
    row: int
    action: Action
    values: Mapping[str, object]
    problems: tuple[Problem, ...] = ()
    record_id: int | None = None
    changes: Mapping[str, object] = field(default_factory=dict)  # field -> newly imported value

    @property
    def business_name(self) -> str | None:
        return self.values.get("business_name")  # type: ignore[return-value]


@dataclass(frozen=True)
class Plan:
    rows: tuple[RowPlan, ...]
    ignored: int = 0  # blank and total rows

    def count(self, action: Action) -> int:
        return sum(1 for row in self.rows if row.action is action)

    def attention(self) -> list[RowPlan]:
        """Rows the Dinas should look at, in the file's order."""
        return [row for row in self.rows if row.problems]

    def reasons(self) -> Counter[str]:
        return Counter(problem.reason for row in self.rows for problem in row.problems)

    def to_apply(self) -> list[RowPlan]:
        return [row for row in self.rows if row.action in (Action.NEW, Action.UPDATE)]


@dataclass(frozen=True, slots=True)
class _Known:
    """A registry record as far as matching needs it."""

    id: int
    nib: str | None


@dataclass
class _Index:
    by_nib: dict[str, _Known] = field(default_factory=dict)
    by_phone: dict[str, _Known] = field(default_factory=dict)
    by_name: dict[str, _Known] = field(default_factory=dict)
    ikm_phones: set[str] = field(default_factory=set)
    ikm_nibs: set[str] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class _Match:
    record: _Known
    by_name: bool


def plan_import(
    session: Session,
    rows: Sequence[ParsedRow],
    *,
    ignored: int = 0,
    accept_name_matches: bool = False,
) -> Plan:
    """What importing `rows` would do to the registry as it stands; writes nothing."""
    index = _load_index(session)
    decided: list[RowPlan | tuple[ParsedRow, _Match]] = []
    first_row: dict[str, int] = {}  # "nib:..." / "phone:..." / "record:<id>" -> row
    for row in rows:
        decision = _decide(row, index, first_row)
        decided.append(decision)
        if not isinstance(decision, RowPlan) or decision.action is not Action.SKIP:
            for key in _keys(row, decision):
                first_row.setdefault(key, row.row)
    plans: list[RowPlan | None] = [d if isinstance(d, RowPlan) else None for d in decided]
    matched = [(position, d) for position, d in enumerate(decided) if not isinstance(d, RowPlan)]
    # Compared a chunk at a time: 100,000 records' imported values at once would not fit
    # the memory an import may take.
    for start in range(0, len(matched), _LOAD_CHUNK):
        chunk = matched[start : start + _LOAD_CHUNK]
        imported = _imported_values(session, {match.record.id for _, (_, match) in chunk})
        for position, (row, match) in chunk:
            plans[position] = _against(row, match, imported, accept_name_matches)
    return Plan(tuple(plan for plan in plans if plan is not None), ignored)


def _decide(
    row: ParsedRow, index: _Index, first_row: Mapping[str, int]
) -> RowPlan | tuple[ParsedRow, _Match]:
    values = row.values
    if any(problem.reason == "no_name" for problem in row.problems):
        return _skip(row)
    earlier = next((first_row[key] for key in _keys(row, None) if key in first_row), None)
    if earlier is not None:
        return _skip(row, Problem("duplicate_row", str(earlier)))
    match = _match(row, index)
    if match is not None and not match.by_name:
        if values["nib"] and match.record.nib and match.record.nib != values["nib"]:
            return _skip(row, Problem("duplicate_record", f"NIB {match.record.nib}"))
        if f"record:{match.record.id}" in first_row:
            return _skip(row, Problem("duplicate_row", str(first_row[f"record:{match.record.id}"])))
    if match is None or match.by_name:
        registered = _registered_ikm(row, index)
        if registered is not None:
            return _skip(row, registered)
    if match is None:
        return RowPlan(row.row, Action.NEW, values, row.problems)
    return row, match


def _skip(row: ParsedRow, problem: Problem | None = None) -> RowPlan:
    problems = (*row.problems, problem) if problem else row.problems
    return RowPlan(row.row, Action.SKIP, row.values, problems)


def _keys(row: ParsedRow, decision: RowPlan | tuple[ParsedRow, _Match] | None) -> Iterator[str]:
    values = row.values
    if values["nib"]:
        yield f"nib:{values['nib']}"
    for phone in (values["phone"], values["phone_alt"]):
        if phone:
            yield f"phone:{phone}"
    if isinstance(decision, tuple):
        yield f"record:{decision[1].record.id}"


def _match(row: ParsedRow, index: _Index) -> _Match | None:
    values = row.values
    if values["nib"] and values["nib"] in index.by_nib:
        return _Match(index.by_nib[values["nib"]], by_name=False)
    for phone in (values["phone"], values["phone_alt"]):
        if phone and phone in index.by_phone:
            return _Match(index.by_phone[phone], by_name=False)
    named = index.by_name.get(name_key(values["business_name"], values["desa"]))
    return _Match(named, by_name=True) if named else None


def _registered_ikm(row: ParsedRow, index: _Index) -> Problem | None:
    values = row.values
    if values["nib"] and values["nib"] in index.ikm_nibs:
        return Problem("duplicate_ikm", f"NIB {values['nib']}")
    for phone in (values["phone"], values["phone_alt"]):
        if phone and phone in index.ikm_phones:
            return Problem("duplicate_ikm", str(phone))
    return None


def _against(
    row: ParsedRow,
    match: _Match,
    imported: Mapping[int, Mapping[str, object]],
    accept_name_matches: bool,
) -> RowPlan:
    """The row compared with what was last imported for its record."""
    changes = changed_fields(row.values, imported.get(match.record.id, {}))
    problems = row.problems
    if not changes:
        action = Action.UNCHANGED
    elif match.by_name:
        problems = (*problems, Problem("name_match", str(match.record.id)))
        action = Action.UPDATE if accept_name_matches else Action.CONFIRM
    else:
        action = Action.UPDATE
    return RowPlan(row.row, action, row.values, problems, match.record.id, changes)


def changed_fields(
    values: Mapping[str, object], imported: Mapping[str, object]
) -> dict[str, object]:
    """Fields whose value in the file differs from what was last imported. A blank cell
    changes nothing: a list that lost a column must not wipe what the last one gave."""
    return {
        name: values[name]
        for name in FIELDS
        if values.get(name) is not None and values[name] != imported.get(name)
    }


def name_key(business_name: object, desa: object) -> str:
    return f"{normalise(str(business_name or ''))}|{normalise(str(desa or ''))}"


def _load_index(session: Session) -> _Index:
    index = _Index()
    records = session.exec(
        select(
            RegistryRecord.id,
            RegistryRecord.nib,
            RegistryRecord.phone,
            RegistryRecord.phone_alt,
            RegistryRecord.business_name,
            RegistryRecord.desa,
        )
        .order_by(RegistryRecord.id)
        .execution_options(yield_per=_LOAD_CHUNK)  # streamed, not 100,000 rows at once
    )
    for record_id, nib, phone, phone_alt, business_name, desa in records:
        known = _Known(record_id, nib)
        if nib:
            index.by_nib.setdefault(nib, known)
        for number in (phone, phone_alt):
            if number:
                index.by_phone.setdefault(number, known)
        index.by_name.setdefault(name_key(business_name, desa), known)
    claimed = select(RegistryRecord.ikm_id).where(col(RegistryRecord.ikm_id).is_not(None))
    profiles = session.exec(
        select(IkmProfile.nib, Person.phone)
        .join(Person, Person.id == IkmProfile.person_id, isouter=True)
        .where(col(IkmProfile.id).not_in(claimed))
    )
    for nib, phone in profiles:
        if nib:
            index.ikm_nibs.add(nib)
        if phone:
            index.ikm_phones.add(phone)
    return index


def _imported_values(session: Session, ids: set[int]) -> dict[int, Mapping[str, object]]:
    rows = session.exec(
        select(RegistryRecord.id, RegistryRecord.imported_values).where(
            col(RegistryRecord.id).in_(sorted(ids))
        )
    )
    return {record_id: values or {} for record_id, values in rows}
