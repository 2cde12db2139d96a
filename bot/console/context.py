"""What every console page may use, kept on the sub-app: the database behind one boundary."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

import sqlalchemy as sa
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from bot.config import Settings
from bot.core.clock import Clock
from bot.core.i18n import Catalog
from models.db import transaction

T = TypeVar("T")


@dataclass(frozen=True)
class ConsoleContext:
    database: sa.Engine
    settings: Settings
    catalog: Catalog
    clock: Clock

    def now(self) -> datetime:
        return self.clock.now()


def console_context(request: Request) -> ConsoleContext:
    return request.app.state.console


async def in_transaction(request: Request, work: Callable[..., T], /, **values: object) -> T:
    """`work(session=..., **values)` in one transaction on a worker thread: the event loop
    never waits for the database."""
    context = console_context(request)

    def run() -> T:
        with transaction(context.database) as session:
            return work(session=session, **values)

    return await run_in_threadpool(run)
