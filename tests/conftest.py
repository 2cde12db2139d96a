"""Shared fixtures: a migrated database per test (SQLite or $TEST_DATABASE_URL), a clock, chats."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel

import models  # noqa: F401 - registers the tables
from bot.app import App, build_app
from bot.config import Settings, load_settings
from bot.core.clock import FixedClock
from models.db import make_engine, upgrade
from tests.chat import Chat

# Sunday 22 November 2026, 10:00 WIB.
START = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
ADMIN_PHONE = "+6281100000001"
TEST_DATABASE_ENV = "TEST_DATABASE_URL"


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One database migrated by Alembic, copied for each test (migrating is the slow part)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str | None]:
    """$TEST_DATABASE_URL (PostgreSQL), migrated once; None runs the suite on SQLite."""
    url = os.environ.get(TEST_DATABASE_ENV)
    if url:
        engine = make_engine(url)
        with engine.begin() as connection:  # start from nothing, as a fresh machine would
            connection.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
        upgrade(url)
    yield url


@pytest.fixture
def database_url(tmp_path: Path, request: pytest.FixtureRequest, postgres_url: str | None) -> str:
    if postgres_url:
        _empty_all_tables(postgres_url)
        return postgres_url
    path = tmp_path / "sinergi.db"
    shutil.copy(request.getfixturevalue("migrated_template"), path)
    return f"sqlite:///{path}"


def _empty_all_tables(url: str) -> None:
    engine = make_engine(url)
    tables = ", ".join(f'"{table.name}"' for table in SQLModel.metadata.sorted_tables)
    with engine.begin() as connection:
        # A session a test forgot to close would make TRUNCATE wait forever: fail instead.
        connection.execute(sa.text("SET LOCAL lock_timeout = '10s'"))
        connection.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[app]\nadmins = ["{ADMIN_PHONE}"]\nconsent_version = "2026-11"\n'
        f'[database]\nurl = "{database_url}"\n',
        encoding="utf-8",
    )
    return load_settings(config, environ={})


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def app(settings: Settings, clock: FixedClock) -> Iterator[App]:
    application = build_app(settings, clock=clock)
    yield application
    application.close()


@pytest.fixture
def chat_as(app: App):
    """`chat_as("+62812...")` is a person chatting through the console channel."""

    def make(phone: str, bot: App | None = None) -> Chat:
        return Chat(bot or app, phone)

    return make
