"""Bulk inserts for statement batches: COPY on PostgreSQL, executemany elsewhere."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from xapi.lrs.models import LrsStatement, LrsStatementRelation


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def insert_statements(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Insert statement rows (dicts with the same keys in the same order); returns their keys."""
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
    columns = (*rows[0], "pk")
    values = [(*row.values(), pk) for row, pk in zip(rows, pks, strict=True)]
    copy_rows(session, LrsStatement.__table__, columns, values)
    return pks


def insert_relations(session: Session, rows: list[tuple[int, str, str, str]]) -> None:
    """Insert relation rows: (statement_pk, tenant, kind, key) tuples."""
    if not rows:
        return
    table: Any = LrsStatementRelation.__table__
    columns = ("statement_pk", "tenant", "kind", "key")
    if not _is_postgres(session):
        session.execute(insert(table), [dict(zip(columns, row, strict=True)) for row in rows])
        return
    # Five rows a statement, mostly the same few keys: COPY text built here, with the escaped
    # keys remembered, costs a fraction of psycopg's per-row write_row.
    text = "".join(
        [
            f"{pk}\t{_copy_text(tenant)}\t{_copy_text(kind)}\t{_copy_text(key)}\n"
            for pk, tenant, kind, key in rows
        ]
    )
    raw: Any = session.connection().connection.dbapi_connection
    names = ", ".join(f'"{name}"' for name in columns)
    with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        copy.write(text)


@lru_cache(maxsize=4096)
def _copy_text(value: str) -> str:
    """A string as a field of COPY's text format (backslash escapes)."""
    return (
        value.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    )


def copy_rows(
    session: Session, table: Any, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """COPY rows (in `columns` order) into a PostgreSQL table inside the session's transaction."""
    raw: Any = session.connection().connection.dbapi_connection
    names = ", ".join(f'"{name}"' for name in columns)
    with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(row)
