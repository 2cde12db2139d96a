"""Wiring: settings in, a ready engine out. Nothing is built at import time."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from bot.config import Settings
from bot.core.clock import Clock, SystemClock
from bot.core.engine import Engine
from bot.core.i18n import Catalog
from handlers import build_registry
from models.db import make_engine


@dataclass
class App:
    settings: Settings
    database: sa.Engine
    engine: Engine
    catalog: Catalog

    def close(self) -> None:
        self.engine.boundary.close()
        self.database.dispose()


def build_app(settings: Settings, *, clock: Clock | None = None) -> App:
    database = make_engine(settings.database.url, echo=settings.database.echo)
    catalog = Catalog.load()
    engine = Engine(
        database=database,
        registry=build_registry(),
        catalog=catalog,
        settings=settings,
        clock=clock or SystemClock(),
    )
    return App(settings=settings, database=database, engine=engine, catalog=catalog)
