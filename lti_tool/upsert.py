"""One-statement upserts (INSERT ... ON CONFLICT) on PostgreSQL and SQLite.

A launch records course, person, membership and placement on every request; doing each as a
single statement keeps launches fast and safe when two workers race on the same rows.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from lti_tool.db import Base


def upsert(
    session: Session,
    model: type[Base],
    keys: dict[str, Any],
    values: dict[str, Any],
    on_insert: dict[str, Any] | None = None,
) -> int:
    """Insert keys+values (+on_insert), or update values where keys exist; returns the row id."""
    table: Table = model.__table__  # type: ignore[assignment]
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    row = {**keys, **values, **(on_insert or {})}
    # With nothing to update, "update" a key column to itself so RETURNING still gives the id.
    update = values or {next(iter(keys)): keys[next(iter(keys))]}
    statement = (
        insert(table)
        .values(**row)
        .on_conflict_do_update(index_elements=list(keys), set_=update)
        .returning(table.c.id)
    )
    return int(session.execute(statement).scalar_one())


def insert_once(session: Session, model: type[Base], row: dict[str, Any]) -> bool:
    """Insert a row unless its primary key exists; True if this call inserted it."""
    table: Table = model.__table__  # type: ignore[assignment]
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    first_key = table.primary_key.columns[0]
    # RETURNING, not rowcount: drivers disagree on rowcount for ON CONFLICT DO NOTHING.
    inserted = session.execute(
        insert(table).values(**row).on_conflict_do_nothing().returning(first_key)
    ).first()
    return inserted is not None
