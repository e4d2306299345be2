"""Batch statements whose SQL text does not grow with the batch.

With one placeholder per value, a statement over a few hundred rows costs more to render
(SQLAlchemy) and to parse (psycopg) than to run. On PostgreSQL a batch therefore travels as one
array per column (`unnest`, `= ANY`), in a statement of constant text; SQLite keeps multi-row
VALUES and IN lists, which cost it little.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, CursorResult, Table, any_, bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import QueryableAttribute, Session
from sqlalchemy.sql.elements import ColumnClause


def is_postgresql(session: Session) -> bool:
    """True when the session talks to PostgreSQL."""
    return session.get_bind().dialect.name == "postgresql"


def insert_new(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    returning: Sequence[ColumnClause[Any]],
) -> CursorResult[*tuple[Any, ...]]:
    """Insert rows in one statement, skipping any that clash with an existing row.

    Returns `returning` of the rows inserted. Every row must have the same keys (columns left
    out get their defaults); rows go in the order given (callers sort them, so that concurrent
    writers lock rows in one order).
    """
    names = list(rows[0])
    if is_postgresql(session):
        arrays = [
            bindparam(f"new_{n}", [row[n] for row in rows], type_=postgresql.ARRAY(table.c[n].type))
            for n in names
        ]
        new = func.unnest(*arrays).table_valued(*names).render_derived(name="new")
        statement = (
            postgresql.insert(table)
            .from_select(names, select(*new.c))
            .on_conflict_do_nothing()
            .returning(*returning)
        )
        return session.connection().execute(statement)
    # A list of parameters: SQLAlchemy sends multi-row VALUES and compiles the statement once.
    statement = sqlite.insert(table).on_conflict_do_nothing().returning(*returning)
    return session.connection().execute(statement, list(rows))


def among(
    session: Session, column: ColumnElement[Any] | QueryableAttribute[Any], values: Sequence[Any]
) -> ColumnElement[bool]:
    """`column IN (values)`; on PostgreSQL `column = ANY(array)`, one parameter for them all."""
    if is_postgresql(session):
        return column == any_(bindparam(None, list(values), type_=postgresql.ARRAY(column.type)))
    return column.in_(values)
