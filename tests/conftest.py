"""Shared fixtures: a migrated SQLite database per test, a fixed clock, scripted chats."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import App, build_app
from bot.config import Settings, load_settings
from bot.core.clock import FixedClock
from models.db import upgrade
from tests.chat import Chat

# Sunday 22 November 2026, 10:00 WIB.
START = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
ADMIN_PHONE = "+6281100000001"


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One database migrated by Alembic, copied for each test (migrating is the slow part)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def database_url(tmp_path: Path, migrated_template: Path) -> str:
    path = tmp_path / "sinergi.db"
    shutil.copy(migrated_template, path)
    return f"sqlite:///{path}"


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
