"""A job over many people, one short transaction at a time."""

from __future__ import annotations

from dataclasses import dataclass

# People looked at per transaction: short enough that a chat message never waits long
# behind a job.
PEOPLE_PER_BATCH = 500


@dataclass(frozen=True)
class Batch:
    """What one transaction of such a job did, and where the next one starts."""

    enqueued: int
    last_person_id: int | None  # None when no one is left
