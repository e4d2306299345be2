"""Batch statements of constant text: insert-if-absent and membership, on both databases."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Table, select

from lti_tool.models.review import ReminderPreference
from lti_tool.scheduling.bulk import among, insert_new
from tests.scheduling.builders import T0, build_course

TABLE: Table = ReminderPreference.__table__  # type: ignore[assignment]


def preference(user_id: int, zone: str) -> dict[str, object]:
    """A default preferences row (no local hour: a NULL in every row of the batch)."""
    return {
        "user_id": user_id,
        "email": "",
        "time_zone": zone,
        "local_hour": None,
        "unsubscribed": False,
        "feed_secret": f"secret-{user_id}-{zone}",
        "link_generation": 1,
        "updated_at": T0,
    }


def test_insert_new_skips_existing_rows_and_returns_the_inserted_ones(db):
    """Rows that clash are left as they were; only the new ones come back."""
    with db.session() as s:
        ids = build_course(s, learners=3).learner_ids
    with db.session() as s:
        made = insert_new(s, TABLE, [preference(ids[0], "UTC")], [TABLE.c.user_id]).scalars()
        assert list(made) == [ids[0]]
        rows = [preference(user_id, "Europe/Paris") for user_id in ids]
        returned = insert_new(s, TABLE, rows, [TABLE.c.user_id, TABLE.c.time_zone]).all()
        assert sorted(returned) == [(ids[1], "Europe/Paris"), (ids[2], "Europe/Paris")]
    with db.session() as s:
        kept = {u: z for u, z in s.execute(select(TABLE.c.user_id, TABLE.c.time_zone))}
        assert kept == {ids[0]: "UTC", ids[1]: "Europe/Paris", ids[2]: "Europe/Paris"}
        assert s.get(ReminderPreference, ids[1]).local_hour is None
        assert s.get(ReminderPreference, ids[1]).updated_at == T0


def test_among_matches_a_list_of_values_and_none_for_an_empty_list(db):
    """`among` selects the rows whose column is one of the values."""
    with db.session() as s:
        ids = build_course(s, learners=3).learner_ids
    with db.session() as s:
        insert_new(s, TABLE, [preference(user_id, "UTC") for user_id in ids], [TABLE.c.user_id])
    with db.session() as s:
        column = ReminderPreference.user_id
        found = s.scalars(select(column).where(among(s, column, [ids[0], ids[2], -1])))
        assert sorted(found) == [ids[0], ids[2]]
        assert s.scalars(select(column).where(among(s, column, []))).all() == []
        stamp = ReminderPreference.updated_at
        assert len(s.scalars(select(column).where(among(s, stamp, [T0]))).all()) == 3
        assert s.scalars(select(column).where(among(s, stamp, [T0 + timedelta(1)]))).all() == []
