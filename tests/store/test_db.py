"""Storage on both backends: migrations, pragmas, append-only guards, constraints, failures."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from tailor.config import Settings
from tailor.errors import StorageUnavailable
from tailor.review.auth import UserOut
from tailor.review.service import ReviewService
from tailor.schema import Plan
from tailor.store.db import Database, current_revision, ensure_schema, head_revision, run_migrations
from tailor.store.records import AuditRecord, Base, RevisionRecord, append_audit

TABLES = {
    "users",
    "sessions",
    "intakes",
    "hires",
    "plans",
    "plan_revisions",
    "comments",
    "decisions",
    "audit_log",
    "api_tokens",
    "draft_jobs",
    "webhook_endpoints",
    "webhook_deliveries",
    "alembic_version",
}


def test_migrations_create_the_schema_and_match_the_models(service: ReviewService) -> None:
    db = service.db
    assert current_revision(db) == head_revision() is not None
    assert set(inspect(db.engine).get_table_names()) == TABLES
    with db.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diffs == [], "records.py changed without a migration"


def test_ensure_schema_and_upgrade_are_idempotent(db_settings: Settings) -> None:
    db = ensure_schema(db_settings)
    assert ensure_schema(db_settings) is db
    run_migrations(db)  # a second full run is a no-op, not an error
    assert current_revision(db) == head_revision()


def test_sqlite_pragmas(service: ReviewService, db_backend: str) -> None:
    if db_backend != "sqlite":
        pytest.skip("SQLite only")
    with service.db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000


def _seed(service: ReviewService, manager: UserOut, plan: Plan) -> int:
    plan_id = service.import_plan(manager, plan).id
    service.comment(manager, plan_id, "something to audit")
    return plan_id


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET action = 'forged'",
        "DELETE FROM audit_log",
        "UPDATE plan_revisions SET plan_json = '{}'",
        "DELETE FROM plan_revisions",
    ],
)
def test_audit_log_and_revisions_are_append_only_in_the_database(
    service: ReviewService, manager: UserOut, sample_plan: Plan, statement: str
) -> None:
    _seed(service, manager, sample_plan)
    with service.db.read() as s:
        before = (
            s.scalar(select(func.count()).select_from(AuditRecord)),
            s.scalar(select(RevisionRecord.sha256)),
        )
    with pytest.raises(DBAPIError, match="append-only"), service.db.write() as s:
        s.execute(text(statement))
    with service.db.read() as s:
        after = (
            s.scalar(select(func.count()).select_from(AuditRecord)),
            s.scalar(select(RevisionRecord.sha256)),
        )
    assert after == before


def test_postgres_refuses_truncating_the_audit_log(
    service: ReviewService, db_backend: str, manager: UserOut, sample_plan: Plan
) -> None:
    if db_backend != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL only")
    _seed(service, manager, sample_plan)
    with pytest.raises(DBAPIError, match="append-only"), service.db.write() as s:
        s.execute(text("TRUNCATE audit_log CASCADE"))


def test_revision_numbers_are_unique_per_plan(service: ReviewService, manager: UserOut, sample_plan: Plan) -> None:
    """The database backstop of optimistic locking: a second revision 1 cannot exist."""
    plan_id = service.import_plan(manager, sample_plan).id
    with pytest.raises(IntegrityError), service.db.write() as s:
        s.add(
            RevisionRecord(
                plan_id=plan_id,
                number=1,
                author_id=manager.id,
                reason="edited",
                plan_json="{}",
                sha256="0" * 64,
            )
        )
        s.flush()
    assert len(service.get_plan(manager, plan_id).revisions) == 1


def test_check_constraints_guard_statuses(service: ReviewService, manager: UserOut, sample_plan: Plan) -> None:
    plan_id = service.import_plan(manager, sample_plan).id
    with pytest.raises(IntegrityError), service.db.write() as s:
        s.execute(text("UPDATE plans SET status = 'published' WHERE id = :id"), {"id": plan_id})
    assert service.get_plan(manager, plan_id).status == "draft"


def test_timestamps_are_aware_utc(service: ReviewService, manager: UserOut, sample_plan: Plan) -> None:
    before = datetime.now(UTC)
    summary = service.import_plan(manager, sample_plan).summary
    assert summary.created_at.tzinfo is not None
    assert before <= summary.created_at <= datetime.now(UTC)


def test_a_failed_operation_writes_nothing(service: ReviewService) -> None:
    """One transaction per operation: an error after the first write rolls everything back."""
    with service.db.read() as s:
        audits = s.scalar(select(func.count()).select_from(AuditRecord))
    with pytest.raises(IntegrityError), service.db.write() as s:
        append_audit(s, actor=None, action="test.partial", entity_type="test", entity_id=1)
        s.flush()
        s.execute(text("INSERT INTO plan_revisions (plan_id) VALUES (NULL)"))
    with service.db.read() as s:
        assert s.scalar(select(func.count()).select_from(AuditRecord)) == audits


def test_unreachable_postgres_is_storage_unavailable(isolated_settings: object) -> None:
    url = "postgresql+psycopg://tailor:s3cret@127.0.0.1:1/tailor"
    with pytest.raises(StorageUnavailable) as info:
        ReviewService(Settings(database_url=url))
    message = str(info.value)
    assert "cannot reach the database at postgresql+psycopg://tailor:***@127.0.0.1:1/tailor" in message
    assert "s3cret" not in message


def test_unsupported_database_url(isolated_settings: object) -> None:
    with pytest.raises(StorageUnavailable, match="unsupported database"):
        ReviewService(Settings(database_url="mysql://u@localhost/db"))


def test_locked_sqlite_is_storage_unavailable(
    service: ReviewService, db_backend: str, manager: UserOut, sample_plan: Plan
) -> None:
    if db_backend != "sqlite":
        pytest.skip("SQLite only")
    path = service.db.engine.url.database
    assert path
    impatient = ReviewService(service.settings, db=Database(service.db.url, busy_timeout_ms=100))
    blocker = sqlite3.connect(path, isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")  # another process holding the write lock
        with pytest.raises(StorageUnavailable, match="busy"):
            impatient.import_plan(manager, sample_plan)
        # Readers are not blocked by a writer in WAL mode.
        assert impatient.list_plans(manager) == []
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
        impatient.db.dispose()
    assert impatient.import_plan(manager, sample_plan).id == 1
