"""The shared platform-key cache: Cache-Control, refetch on an unknown kid, shared by workers."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from lti_tool.db import Database, utcnow
from lti_tool.exceptions import LaunchError
from lti_tool.lti.keys import generate_key_pair
from lti_tool.lti.platform_keys import PlatformKeys, cache_lifetime


class KeyServer:
    """A JWKS endpoint whose keys and Cache-Control the test controls; counts fetches."""

    def __init__(self) -> None:
        self.keys: list[dict] = []
        self.cache_control = "max-age=3600"
        self.hits = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.hits += 1
                body = json.dumps({"keys": owner.keys}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Cache-Control", owner.cache_control)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/jwks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def add_key(self) -> str:
        _, public = generate_key_pair()
        self.keys.append(public)
        return public["kid"]


@pytest.fixture
def key_server():
    server = KeyServer()
    yield server
    server.server.shutdown()


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    yield database
    database.engine.dispose()


def _keys(session):
    return PlatformKeys(session, requests.Session(), default_ttl=300, timeout=5)


def test_keys_are_cached_for_max_age_across_workers(key_server, db):
    """A second worker (another session) finds the key in the shared cache without fetching."""
    kid = key_server.add_key()
    now = utcnow()
    with db.session() as s:
        _keys(s).key_for(key_server.url, kid, now)
    with db.session() as s:
        _keys(s).key_for(key_server.url, kid, now + timedelta(minutes=30))
    assert key_server.hits == 1


def test_no_cache_keys_are_refetched_every_time(key_server, db):
    """A JWKS served with no-cache (Brightspace) is fetched for every launch."""
    kid = key_server.add_key()
    key_server.cache_control = "no-cache"
    for _ in range(3):
        with db.session() as s:
            _keys(s).key_for(key_server.url, kid, utcnow())
    assert key_server.hits == 3


def test_unknown_kid_triggers_one_refetch_then_succeeds(key_server, db):
    """After the platform rotates its key, the new kid is found by refetching once."""
    old = key_server.add_key()
    with db.session() as s:
        _keys(s).key_for(key_server.url, old, utcnow())
    new = key_server.add_key()
    with db.session() as s:
        assert _keys(s).key_for(key_server.url, new, utcnow() + timedelta(seconds=10)) is not None
    assert key_server.hits == 2


def test_bogus_kids_do_not_flood_the_platform(key_server, db):
    """Repeated unknown kids within a few seconds cause no more than one refetch."""
    kid = key_server.add_key()
    now = utcnow()
    with db.session() as s:
        _keys(s).key_for(key_server.url, kid, now)
    for i in range(5):
        with db.session() as s, pytest.raises(LaunchError, match="unknown kid"):
            _keys(s).key_for(key_server.url, f"bogus-{i}", now + timedelta(seconds=10 + i * 0.1))
    assert key_server.hits == 2


def test_cache_lifetime_reads_cache_control():
    """max-age is honoured, no-store and no-cache mean zero, absent means the default."""
    assert cache_lifetime({"Cache-Control": "public, max-age=120"}, 300) == 120
    assert cache_lifetime({"Cache-Control": "no-store"}, 300) == 0
    assert cache_lifetime({}, 300) == 300
