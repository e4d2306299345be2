"""Bulk inserts for statement batches: COPY on PostgreSQL, executemany elsewhere."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from xapi.lrs.models import LrsStatement


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def insert_statements(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Insert statement rows; returns their primary keys in order."""
    if not _is_postgres(session):
        result = session.execute(
            insert(LrsStatement).returning(LrsStatement.pk, sort_by_parameter_order=True), rows
        )
        return list(result.scalars())
    # Take the keys from the sequence first so COPY can carry them (COPY returns nothing).
    sequence = func.pg_get_serial_sequence(LrsStatement.__tablename__, "pk")
    pks = list(
        session.scalars(
            select(func.nextval(sequence)).select_from(func.generate_series(1, len(rows)))
        )
    )
    copy_rows(
        session,
        LrsStatement.__table__,
        [dict(row, pk=pk) for row, pk in zip(rows, pks, strict=True)],
    )
    return pks


def insert_rows(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert plain rows (no keys needed back)."""
    if not rows:
        return
    if _is_postgres(session):
        copy_rows(session, table, rows)
    else:
        session.execute(insert(table), rows)


def copy_rows(session: Session, table: Any, rows: Sequence[dict[str, Any]]) -> None:
    """COPY rows into a PostgreSQL table inside the session's transaction."""
    columns = list(rows[0])
    raw: Any = session.connection().connection.dbapi_connection
    names = ", ".join(f'"{name}"' for name in columns)
    with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([row[name] for name in columns])
