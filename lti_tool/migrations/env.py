"""Alembic environment: runs migrations on the configured database."""

from __future__ import annotations

from alembic import context

from lti_tool.db import make_engine
from lti_tool.migrations import target_metadata


def run() -> None:
    """Run migrations online with the tool's own engine settings."""
    url = context.config.get_main_option("sqlalchemy.url")
    assert url
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata(),
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run()
