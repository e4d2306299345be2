"""Alembic migrations of the tool's schema; `microreview init` runs them."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData

HERE = Path(__file__).resolve().parent


def alembic_config(database_url: str) -> Config:
    """An Alembic configuration pointing at these migrations and this database."""
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Create or upgrade the schema to revision."""
    command.upgrade(alembic_config(database_url), revision)


def target_metadata() -> list[MetaData]:
    """Every table the migrations manage: the tool's, the demo LMS's and the xAPI outbox/LRS."""
    import lti_tool.demo.models  # the demo LMS keeps its tables in the same database
    import lti_tool.models  # noqa: F401
    from lti_tool.db import Base
    from xapi.db import xapi_metadata

    return [Base.metadata, xapi_metadata()]
