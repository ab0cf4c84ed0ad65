"""Engines, transactions and migrations for SQLite (default) and PostgreSQL.

One ``Database`` per URL and process. Every service operation runs in exactly one
transaction from :meth:`Database.write` or :meth:`Database.read`: it commits as a
whole or not at all, so nothing is ever half-written.

SQLite gets WAL (readers never block the writer), foreign keys and a busy timeout,
and write transactions start with ``BEGIN IMMEDIATE``. The last matters for
correctness, not speed: a deferred transaction that reads and later writes fails
with "database is locked" the moment another process committed in between, while
an immediate one queues for the write lock and then reads fresh data, so the
optimistic-locking checks in the service see the truth. On PostgreSQL the service
locks the plan row (``SELECT ... FOR UPDATE``) for the same effect.

Driver errors that mean "the database is not usable right now" (locked, down,
refused, not a database file) become :class:`tailor.errors.StorageUnavailable` with
the URL minus its password; anything else is a bug and propagates.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from tailor.config import Settings
from tailor.errors import StorageUnavailable

SQLITE_BUSY_TIMEOUT_MS = 5_000
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
ALEMBIC_INI = Path(__file__).resolve().parent / "alembic.ini"
# Any constant will do: it only has to be the same in every process that migrates.
_PG_MIGRATION_LOCK = 0x7A11_0123

_databases: dict[tuple[str, int], Database] = {}
_migrated: set[str] = set()
_lock = threading.Lock()


def redact_url(url: str) -> str:
    """The URL as it may appear in a message: never with its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparseable URL has nothing we can safely show
        return "<invalid database url>"


def storage_error(exc: DBAPIError, url: str) -> StorageUnavailable:
    """Turn a driver error into a one-line message a person can act on."""
    detail = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
    if make_url(url).get_backend_name() == "sqlite":
        if "locked" in detail or "busy" in detail:
            return StorageUnavailable("the database is busy (locked by another process); try again in a moment")
        return StorageUnavailable(f"cannot use the SQLite database {redact_url(url)}: {detail}")
    return StorageUnavailable(
        f"cannot reach the database at {redact_url(url)} ({detail}); check TAILOR_DATABASE_URL "
        "and that the server is running"
    )


def is_unusable(exc: DBAPIError) -> bool:
    """True when a driver error means the database cannot be used now (not a bug in a query)."""
    if isinstance(exc, OperationalError) or exc.connection_invalidated:
        return True
    # sqlite3 raises its base DatabaseError, no subclass, for a file that is not a database
    # or is corrupt ("file is not a database", "database disk image is malformed").
    return type(exc.orig) is sqlite3.DatabaseError


def _sqlite_setup(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy (see the module docstring).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        # NORMAL is durable across application crashes in WAL mode; only an OS crash
        # can lose the last commits, which is the usual trade for a local app.
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = "IMMEDIATE" if conn.get_execution_options().get("tailor_write") else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")


def make_engine(url: str, *, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> Engine:
    """A new engine for ``url`` with the SQLite pragmas or PostgreSQL pool settings applied."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            folder = Path(parsed.database).expanduser().parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageUnavailable(f"cannot create the database folder {folder}: {exc.strerror or exc}") from None
        engine = create_engine(url, connect_args={"timeout": busy_timeout_ms / 1000})
        _sqlite_setup(engine, busy_timeout_ms)
        return engine
    if backend == "postgresql":
        return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5, connect_args={"connect_timeout": 5})
    raise StorageUnavailable(f"unsupported database {redact_url(url)}: use sqlite:///PATH or postgresql+psycopg://...")


class Database:
    """An engine plus the transaction helpers every module uses."""

    def __init__(self, url: str, *, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> None:
        self.url = url
        self.engine = make_engine(url, busy_timeout_ms=busy_timeout_ms)
        self.backend = self.engine.dialect.name
        self._write_engine = self.engine.execution_options(tailor_write=True)
        # SQLite has one writer at a time. This process's threads queue here, woken the moment
        # the writer before them commits; in SQLite's busy handler they would poll with sleeps
        # of up to 100 ms, and under load a waiter can lose every race until its busy timeout
        # runs out. Other processes still wait in the busy handler.
        self._write_lock = threading.RLock() if self.backend == "sqlite" else None
        self._busy_timeout_s = busy_timeout_ms / 1000

    @property
    def is_sqlite(self) -> bool:
        return self.backend == "sqlite"

    @contextmanager
    def _session(self, engine: Engine) -> Iterator[Session]:
        session = Session(bind=engine, expire_on_commit=False, autoflush=True)
        try:
            with session.begin():
                yield session
        except DBAPIError as exc:
            if is_unusable(exc):
                raise storage_error(exc, self.url) from None
            raise
        finally:
            session.close()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One read-write transaction: commit on success, roll back on any error."""
        if self._write_lock is None:
            with self._session(self._write_engine) as session:
                yield session
            return
        if not self._write_lock.acquire(timeout=self._busy_timeout_s):
            raise StorageUnavailable("the database is busy with other writes; try again in a moment")
        try:
            with self._session(self._write_engine) as session:
                yield session
        finally:
            self._write_lock.release()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """One read-only transaction (never takes the SQLite write lock)."""
        with self._session(self.engine) as session:
            yield session

    @contextmanager
    def connect_for_write(self) -> Iterator[Connection]:
        """A Core connection in a write transaction (used by migrations)."""
        try:
            with self._write_engine.connect() as conn, conn.begin():
                yield conn
        except DBAPIError as exc:
            if is_unusable(exc):
                raise storage_error(exc, self.url) from None
            raise

    def dispose(self) -> None:
        self.engine.dispose()


def database_for(url: str, *, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> Database:
    """The process-wide ``Database`` for a URL (engines pool connections, so share them)."""
    key = (url, busy_timeout_ms)
    with _lock:
        db = _databases.get(key)
        if db is None:
            db = _databases[key] = Database(url, busy_timeout_ms=busy_timeout_ms)
        return db


def dispose_database(url: str) -> None:
    """Close every pooled connection to ``url`` and forget it (tests drop their databases)."""
    with _lock:
        for key in [k for k in _databases if k[0] == url]:
            _databases.pop(key).dispose()
        _migrated.discard(url)


def alembic_config(url: str | None = None) -> Any:
    """An Alembic ``Config`` that works from any working directory."""
    from alembic.config import Config

    cfg = Config(str(ALEMBIC_INI)) if ALEMBIC_INI.exists() else Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        # ConfigParser interpolates '%', which URL-encoded passwords contain.
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def run_migrations(db: Database, revision: str = "head") -> None:
    """Upgrade ``db`` to ``revision`` in one transaction, serialised across processes."""
    from alembic import command

    cfg = alembic_config(db.url)
    with db.connect_for_write() as conn:
        if db.backend == "postgresql":
            # Two processes starting on an empty database must not both create tables.
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def current_revision(db: Database) -> str | None:
    from alembic.migration import MigrationContext

    try:
        with db.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except DBAPIError as exc:
        if is_unusable(exc):
            raise storage_error(exc, db.url) from None
        raise


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def ensure_schema(settings: Settings) -> Database:
    """Migrate the configured database to the latest schema (once per process) and return it."""
    url = settings.resolved_database_url
    db = database_for(url)
    if url in _migrated:
        return db
    if current_revision(db) != head_revision():
        run_migrations(db)
    _migrated.add(url)
    return db
