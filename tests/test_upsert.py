"""One-statement upserts on both backends."""

from sqlalchemy import select

from lti_tool.db import Database, utcnow
from lti_tool.models import Platform, UsedNonce
from lti_tool.upsert import insert_once, upsert


def test_insert_once_reports_only_the_first_insert(database_url):
    """The second insert of the same key is refused and reported as such."""
    db = Database(database_url)
    row = {"issuer": "https://lms", "nonce": "n-1", "expires_at": utcnow()}
    with db.session() as s:
        assert insert_once(s, UsedNonce, row) is True
    with db.session() as s:
        assert insert_once(s, UsedNonce, row) is False
    db.engine.dispose()


def test_upsert_inserts_then_updates_the_same_row(database_url):
    """Upsert returns the same id and applies the new values."""
    db = Database(database_url)
    keys = {"issuer": "https://lms", "client_id": "c"}
    urls = {"auth_login_url": "a", "auth_token_url": "t", "key_set_url": "k"}
    with db.session() as s:
        first = upsert(s, Platform, keys, {"name": "One"}, {**urls, "created_at": utcnow()})
    with db.session() as s:
        second = upsert(s, Platform, keys, {"name": "Two"}, {**urls, "created_at": utcnow()})
        assert first == second
        assert s.scalars(select(Platform.name)).one() == "Two"
    db.engine.dispose()
