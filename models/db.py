"""Database access: the engine, sessions, and schema upgrades through Alembic."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, SQLModel

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
M = TypeVar("M", bound=SQLModel)


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for `url`; SQLite files get WAL mode, foreign keys and BEGIN IMMEDIATE."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, echo=echo, connect_args={"check_same_thread": False})
        sa.event.listen(engine, "connect", _configure_sqlite)
        sa.event.listen(engine, "begin", _begin_immediate)
        return engine
    # No ping before each checkout (a round trip per transaction): a connection that died
    # in the pool fails its first statement, SQLAlchemy then replaces every pooled
    # connection, and the engine handles that message again (`Engine.answer`).
    return sa.create_engine(url, echo=echo, pool_pre_ping=False)


def _configure_sqlite(dbapi_connection, _record) -> None:  # noqa: ANN001 - DBAPI objects
    # The driver would begin a transaction only before an INSERT, UPDATE or DELETE, so
    # what a transaction counted beforehand was read outside it. It begins nothing now;
    # SQLAlchemy's "begin" does (below).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    # 32 MB of pages per connection (SQLite's default is 2 MB): matching reads index pages
    # all over a large catalog, and pages not held here come back from the disk when the
    # OS has let them go (500,000 products: p95 119 ms with 2 MB, 24-30 ms with 32 MB).
    cursor.execute("PRAGMA cache_size=-32768")
    cursor.close()


def _begin_immediate(connection: Connection) -> None:
    # Every transaction takes SQLite's one write lock at its start (waiting up to the busy
    # timeout for it), so what it counts stays true until it writes. A deferred BEGIN is
    # not enough in WAL mode: two readers both count before either writes, and a reader
    # that then writes fails at once (SQLITE_BUSY) if another wrote since it began.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def lock_for_count(session: Session, row: SQLModel) -> None:
    """Re-read `row` locked until the transaction ends, before counting what hangs on it
    (a session's seats, a need's awards and offers).

    On PostgreSQL this is SELECT ... FOR UPDATE: a second writer waits here, then counts
    what the first wrote. SQLite has no row locks (it ignores FOR UPDATE); there every
    transaction already holds the database's write lock from its BEGIN IMMEDIATE.
    """
    session.flush()
    session.refresh(row, with_for_update=True)


def attach(
    session: Session, model: type[M], columns: Sequence[sa.Column], values: Sequence[Any]
) -> M:
    """The `model` instance of a row read as plain `columns`, in `session` as if the ORM had
    loaded it (persistent, nothing to write): what the ORM's own loading does, without its
    per-row machinery. The session must not hold that row's object already."""
    instance = sa.inspect(model).class_manager.new_instance()
    sa.inspect(instance).dict.update(zip((column.key for column in columns), values, strict=True))
    make_transient_to_detached(instance)
    session.add(instance)
    return instance


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One unit of work: commits when the block ends, rolls back on an exception."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def alembic_config(url: str) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the schema at `url` up to `revision` (creating a SQLite file if needed)."""
    command.upgrade(alembic_config(url), revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        inspector = sa.inspect(connection)
        if not inspector.has_table("alembic_version"):
            return None
        return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
