"""Fixtures for the xapi tests: databases (SQLite and PostgreSQL), a live embedded LRS, events."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.serving import BaseWSGIServer, make_server

from xapi import events as ev
from xapi.client import BasicCredentials, LrsClient, LrsConfig
from xapi.db import create_xapi_tables
from xapi.lrs import create_lrs_blueprint
from xapi.statements import StatementBuilder
from xapi.vocabulary import InteractionType, Vocabulary

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TOOL_BASE = "https://review.example.org"
ISSUER = "https://moodle.example.edu"
TENANTS = {("tenant-a", "secret-a"): "a", ("tenant-b", "secret-b"): "b"}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path) -> Iterator[Engine]:
    """A fresh database with the xapi tables: a SQLite file, or a throwaway PostgreSQL schema."""
    if request.param == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path}/xapi.db", connect_args={"timeout": 30})
        create_xapi_tables(engine)
        yield engine
        engine.dispose()
        return
    schema = f"xapi_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError:
        admin.dispose()
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    engine = create_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    create_xapi_tables(engine)
    yield engine
    engine.dispose()
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    """Session factory on the test database."""
    return sessionmaker(engine, expire_on_commit=False)


class LiveLrs:
    """The embedded LRS served over real HTTP on 127.0.0.1; can be stopped and restarted."""

    def __init__(self, sessions: sessionmaker[Session]):
        self.app = Flask("test-lrs")
        self.app.register_blueprint(
            create_lrs_blueprint(sessions, lambda user, pw: TENANTS.get((user, pw))),
            url_prefix="/xapi",
        )
        self.port = 0
        self.server: BaseWSGIServer | None = None
        self.thread: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        """The xAPI endpoint URL."""
        return f"http://127.0.0.1:{self.port}/xapi/"

    def start(self) -> None:
        """Serve (again) on the same port."""
        self.server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self.port = self.server.server_port
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def stop(self) -> None:
        """Stop serving; connections are refused until start()."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def client(self, tenant: str = "tenant-a", password: str = "secret-a", **kw) -> LrsClient:
        """A client of this LRS with a tenant's credentials."""
        return LrsClient(LrsConfig(self.endpoint, BasicCredentials(tenant, password), **kw))


@pytest.fixture
def live_lrs(sessions: sessionmaker[Session]) -> Iterator[LiveLrs]:
    """The embedded LRS on 127.0.0.1:<free port>."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    lrs = LiveLrs(sessions)
    lrs.start()
    yield lrs
    lrs.stop()


@pytest.fixture
def lrs_client(live_lrs: LiveLrs) -> Iterator[LrsClient]:
    """A client of the live embedded LRS (tenant a)."""
    with live_lrs.client() as client:
        yield client


@pytest.fixture
def vocabulary() -> Vocabulary:
    """The tool's vocabulary under a test base URL."""
    return Vocabulary(TOOL_BASE)


@pytest.fixture
def builder(vocabulary: Vocabulary) -> StatementBuilder:
    """A statement builder with default privacy settings."""
    return StatementBuilder(vocabulary)


@pytest.fixture
def placement() -> ev.Placement:
    """A learner's placement in a Moodle course module."""
    instructor = ev.Actor(issuer=ISSUER, sub="teacher-1", name="Ada Teacher")
    return ev.Placement(
        course=ev.ActivityRef("course-7", "Forklift safety"),
        module=ev.ActivityRef("module-2", "Loading dock"),
        registration=uuid.UUID("6f1c1a52-3b0e-4d4e-9a51-4f2a0d4c6b10"),
        lti=ev.LtiContext(
            deployment_id="dep-1",
            context_id="ctx-42",
            resource_link_id="rl-9",
            roles=("http://purl.imsglobal.org/vocab/lis/v2/membership#Learner",),
            platform="Moodle 4.5",
            instructor=instructor,
        ),
    )


@pytest.fixture
def learner() -> ev.Actor:
    """A learner known by LTI issuer and subject."""
    return ev.Actor(issuer=ISSUER, sub="learner-17", name="Lee Learner", email="lee@example.edu")


@pytest.fixture
def choice_card() -> ev.CardInteraction:
    """A multiple-choice card."""
    return ev.CardInteraction(
        card_id="card-1",
        title="Load limit",
        prompt="What is the rated load of the dock forklift?",
        interaction_type=InteractionType.CHOICE,
        correct_responses=("b",),
        choices=(ev.Component("a", "1 t"), ev.Component("b", "2.5 t"), ev.Component("c", "5 t")),
    )


@pytest.fixture
def make_answer(
    learner: ev.Actor, placement: ev.Placement, choice_card: ev.CardInteraction
) -> Callable[..., ev.CardAnswered]:
    """Builds CardAnswered events (fresh id each call)."""

    def make(success: bool = True, **overrides) -> ev.CardAnswered:
        values = {
            "actor": learner,
            "placement": placement,
            "card": choice_card,
            "unit": ev.ActivityRef("unit-3", "Checking the load plate", critical=True),
            "result": ev.AnswerResult(
                response="b" if success else "a",
                success=success,
                duration=timedelta(seconds=7.25),
                score_scaled=1.0 if success else 0.0,
            ),
            "memory": ev.MemoryState(0.93, 11.2, datetime(2026, 2, 1, 9, 0, tzinfo=UTC)),
            "occurred_at": datetime(2026, 1, 20, 8, 30, 15, 123456, tzinfo=UTC),
        }
        values.update(overrides)
        return ev.CardAnswered(**values)

    return make
