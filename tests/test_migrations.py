"""Alembic migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from lti_tool import migrations


def test_upgrade_head_matches_models(tmp_path):
    """`microreview init`'s migrations leave no difference from the models (SQLite)."""
    url = f"sqlite:///{tmp_path / 'm.db'}"
    migrations.upgrade(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), migrations.target_metadata())
    engine.dispose()
    assert diff == []


def test_upgrade_head_matches_models_on_postgresql(pg_database):
    """The same on PostgreSQL, in a schema of its own."""
    admin = create_engine(pg_database, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS migcheck CASCADE"))
        conn.execute(text("CREATE SCHEMA migcheck"))
    url = pg_database + "?options=-csearch_path%3Dmigcheck"
    try:
        migrations.upgrade(url)
        engine = create_engine(url)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), migrations.target_metadata())
        engine.dispose()
        assert diff == []
    finally:
        with admin.connect() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS migcheck CASCADE"))
        admin.dispose()
