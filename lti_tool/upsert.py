"""One-statement upserts (INSERT ... ON CONFLICT) on PostgreSQL and SQLite.

A launch records course, person, membership and placement on every request; doing each as a
single prebuilt statement keeps launches fast (no per-call statement building) and safe when
two workers race on the same rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Table, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

from lti_tool.db import Base


def _insert(dialect: str) -> Any:
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def upsert_insert(
    dialect: str,
    table: Table,
    conflict: Sequence[str],
    columns: Sequence[str],
    refresh: Sequence[str],
    *,
    prefix: str = "",
    fixed: Mapping[str, Any] | None = None,
) -> Insert:
    """`INSERT ... ON CONFLICT (conflict) DO UPDATE SET refresh ... RETURNING id`.

    Each of `columns` gets a bound parameter (named `prefix_column` when a prefix keeps several
    upserts of one statement apart); `fixed` columns take the given SQL expressions instead.
    """
    names = {n: bindparam(f"{prefix}_{n}" if prefix else n, type_=table.c[n].type) for n in columns}
    statement = _insert(dialect)(table).values({**(fixed or {}), **names})
    # With nothing to refresh, "update" a key column to itself so RETURNING still gives the id.
    update = {name: statement.excluded[name] for name in refresh or conflict[:1]}
    return statement.on_conflict_do_update(  # type: ignore[no-any-return]
        index_elements=list(conflict), set_=update
    ).returning(table.c.id)


@lru_cache(maxsize=256)
def _upsert_statement(
    dialect: str,
    table: Table,
    keys: tuple[str, ...],
    values: tuple[str, ...],
    on_insert: tuple[str, ...],
) -> Insert:
    return upsert_insert(dialect, table, keys, keys + values + on_insert, values)


@lru_cache(maxsize=64)
def _insert_once_statement(dialect: str, table: Table, columns: tuple[str, ...]) -> Insert:
    statement = _insert(dialect)(table).values(
        {name: bindparam(name, type_=table.c[name].type) for name in columns}
    )
    # RETURNING, not rowcount: drivers disagree on rowcount for ON CONFLICT DO NOTHING.
    return statement.on_conflict_do_nothing().returning(  # type: ignore[no-any-return]
        table.primary_key.columns[0]
    )


def upsert(
    session: Session,
    model: type[Base],
    keys: dict[str, Any],
    values: dict[str, Any],
    on_insert: dict[str, Any] | None = None,
) -> int:
    """Insert keys+values (+on_insert), or update values where keys exist; returns the row id."""
    on_insert = on_insert or {}
    statement = _upsert_statement(
        session.get_bind().dialect.name,
        model.__table__,  # type: ignore[arg-type]
        tuple(keys),
        tuple(values),
        tuple(on_insert),
    )
    return int(session.execute(statement, {**keys, **values, **on_insert}).scalar_one())


def insert_once(session: Session, model: type[Base], row: dict[str, Any]) -> bool:
    """Insert a row unless its primary key exists; True if this call inserted it."""
    statement = _insert_once_statement(
        session.get_bind().dialect.name,
        model.__table__,
        tuple(row),  # type: ignore[arg-type]
    )
    return session.execute(statement, row).first() is not None
