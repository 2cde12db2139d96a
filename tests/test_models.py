"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import models  # noqa: F401 - registers the tables
from models.db import current_revision, make_engine, upgrade


def test_migrations_match_the_models(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert diff == []
    assert current_revision(engine) is not None
    engine.dispose()


def test_upgrade_is_idempotent_and_sqlite_uses_wal(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'twice.db'}"
    upgrade(url)
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as connection:
        assert connection.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


def test_postgres_schema_matches_the_models(postgres_url) -> None:
    """On PostgreSQL ($TEST_DATABASE_URL) the same migrations build the same schema."""
    if not postgres_url:
        pytest.skip("TEST_DATABASE_URL is not set: the suite runs on SQLite")
    engine = make_engine(postgres_url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    engine.dispose()
    assert diff == []
