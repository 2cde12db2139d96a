"""The periodic jobs. Each one only finds what is due and enqueues; none sends.

There are none yet: bimtek reminders, deadlines and digests arrive with their features.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from apscheduler.triggers.base import BaseTrigger

from bot.app import App


@dataclass(frozen=True)
class Job:
    id: str
    trigger: BaseTrigger
    run: Callable[[App], Awaitable[None]]


def jobs() -> list[Job]:
    return []
