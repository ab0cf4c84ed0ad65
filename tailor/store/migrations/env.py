"""Alembic environment for tailor.

``tailor.store.db.run_migrations`` passes an open connection already inside a write
transaction (and, on PostgreSQL, holding an advisory lock), so concurrent starts
migrate once. Run by hand (``alembic -c tailor/alembic.ini ...``), this builds the
same connection from tailor's settings.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from tailor.store.records import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things in place; batch mode rebuilds tables instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    from tailor.config import get_settings

    url = config.get_main_option("sqlalchemy.url") or get_settings().resolved_database_url
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from tailor.config import get_settings
    from tailor.store.db import database_for

    url = config.get_main_option("sqlalchemy.url") or get_settings().resolved_database_url
    with database_for(url).connect_for_write() as conn:
        _run(conn)


if context.is_offline_mode():
    run_offline()
else:
    run_online()
