"""Shared fixtures: databases (SQLite and real PostgreSQL), a live app, and the in-test LMS."""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from werkzeug.serving import make_server

from lti_tool import create_app
from lti_tool.db import Base, Database
from lti_tool.settings import Settings
from xapi.db import xapi_metadata

REPO_ROOT = Path(__file__).resolve().parent.parent
# Real course exports live beside the repository (../shared), never inside it; a checkout
# elsewhere points at them with MICROREVIEW_FIXTURES.
FIXTURES = Path(
    os.environ.get("MICROREVIEW_FIXTURES") or REPO_ROOT.parent / "shared" / "fixtures" / "courses"
)
PG_ADMIN_URL = os.environ.get(
    "MICROREVIEW_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A throwaway PostgreSQL database for this test run."""
    name = f"mr_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # pragma: no cover - only when the server is missing
        pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc}. Start it (see README).")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    db = Database(url)
    db.create_all()
    db.engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database on each backend in turn."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'microreview.db'}"
        db = Database(url)
        db.create_all()
        db.engine.dispose()
        yield url
        return
    url = request.getfixturevalue("pg_database")
    yield url
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = [*Base.metadata.sorted_tables, *xapi_metadata().sorted_tables]
        names = ", ".join(f'"{t.name}"' for t in tables)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


class LiveServer:
    """The app served over real HTTP on a free loopback port, in a thread."""

    def __init__(self, database_url: str, base_url: str | None = None, **overrides: object):
        from werkzeug.serving import BaseWSGIServer

        probe: BaseWSGIServer = make_server("127.0.0.1", 0, lambda e, s: [])
        port = probe.server_port
        probe.server_close()
        self.url = f"http://127.0.0.1:{port}"
        settings = Settings(
            env="test",
            base_url=base_url or self.url,
            database_url=database_url,
            secret_key="test-secret-" + "x" * 32,
            **overrides,  # type: ignore[arg-type]
        )
        self.app = create_app(settings)
        self.settings = settings
        self.db: Database = self.app.extensions["microreview"].db
        self.server = make_server("127.0.0.1", port, self.app, threaded=True)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def stop(self) -> None:
        """Stop serving and release the database."""
        self.server.shutdown()
        self.server.server_close()
        self.db.engine.dispose()


@pytest.fixture
def live(database_url: str) -> Iterator[LiveServer]:
    """The tool (with its demo LMS) live on loopback, signing key and demo platform ready."""
    from lti_tool.demo.platform import DemoPlatform
    from lti_tool.lti.keys import ensure_key

    server = LiveServer(database_url)
    with server.db.session() as session:
        ensure_key(session)
        DemoPlatform(server.url).ensure_registered(session)
    yield server
    server.stop()


# --- headless Chromium (Debian's), one per test worker, shared by every browser test ---------
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """A headless Chromium for the whole session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies) and page."""
    context = chromium.new_context()
    page = context.new_page()
    yield page
    context.close()
