"""Delivery into an independent LRS: Learning Locker's statements service (npm xapi-statements)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from lti_tool.lti.keys import generate_key_pair
from xapi import events as ev
from xapi import vocabulary as v
from xapi.client import BasicCredentials, LrsClient, LrsConfig
from xapi.outbox import Forwarder, OutboxEntry, OutboxStatus, enqueue
from xapi.signing import StatementSigner
from xapi.statements import statement_dict
from xapi.verify import VerifyReport, public_keys, statements_with_attachments, verify_statement

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "scripts" / "learning-locker.sh"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LearningLocker:
    """The statements service as a child process on 127.0.0.1 (memory storage)."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        """Its xAPI endpoint."""
        return f"http://127.0.0.1:{self.port}/xAPI/"

    def start(self, wait: float = 120.0) -> None:
        """Start it and wait until About answers (first run also installs it)."""
        self.process = subprocess.Popen(
            ["bash", str(SCRIPT), "run", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                httpx.get(self.endpoint + "about", timeout=1.0)
                return
            except httpx.TransportError:
                if self.process.poll() is not None:
                    raise RuntimeError("Learning Locker exited at start") from None
                time.sleep(0.3)
        raise RuntimeError("Learning Locker did not answer in time")

    def stop(self) -> None:
        """Stop the process group it runs in."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)
        self.process = None

    def client(self) -> LrsClient:
        """A client (the service's test auth accepts any Basic credentials)."""
        return LrsClient(LrsConfig(self.endpoint, BasicCredentials("ll-key", "ll-secret")))


@pytest.fixture(scope="session")
def learning_locker() -> Iterator[LearningLocker]:
    """Learning Locker's statements service, started once for the session."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node/npm not installed: Learning Locker's statements service cannot run")
    service = LearningLocker()
    service.start()
    yield service
    service.stop()


@pytest.fixture
def ll_client(learning_locker: LearningLocker) -> Iterator[LrsClient]:
    """A client of the running Learning Locker."""
    with learning_locker.client() as client:
        yield client


def test_outbox_delivers_a_whole_review_session_into_learning_locker(
    sessions, ll_client, builder, make_answer, learner, placement
):
    """Launch, session, answers, mastery: every statement arrives and reads back by id."""
    session_id = uuid.uuid4()
    unit = ev.ActivityRef("unit-3", "Checking the load plate", critical=True)
    memory = ev.MemoryState(0.92, 30.0, make_answer().occurred_at + timedelta(days=30))
    common = {"actor": learner, "placement": placement}
    events = [
        ev.Launched(**common),
        ev.SessionInitialized(**common, session_id=session_id),
        make_answer(session_id=session_id),
        make_answer(success=False, session_id=session_id),
        ev.UnitMastered(**common, unit=unit, memory=memory, session_id=session_id),
        ev.SessionCompleted(**common, session_id=session_id, duration=timedelta(minutes=3)),
        ev.SessionTerminated(**common, session_id=session_id, duration=timedelta(minutes=3)),
    ]
    with sessions() as session, session.begin():
        for event in events:
            enqueue(session, builder.build(event), "ll")
    report = Forwarder(sessions, lambda key: ll_client, batch_size=4).drain()
    assert (report.sent, report.dead) == (len(events), 0)
    for event in events:
        stored = ll_client.get_statement(str(event.statement_id))
        assert stored["id"] == str(event.statement_id)
    verbs = [ll_client.get_statement(str(e.statement_id))["verb"]["id"] for e in events]
    assert verbs[1] == v.VERB_INITIALIZED and verbs[-1] == v.VERB_TERMINATED


def test_learning_locker_down_at_first_then_up_receives_each_statement_once(
    sessions, builder, make_answer
):
    """Rows wait while the LRS is unreachable and arrive exactly once after it starts."""
    service = LearningLocker()
    ids = []
    with sessions() as session, session.begin():
        for _ in range(12):
            statement = builder.build(make_answer())
            enqueue(session, statement, "ll-late")
            ids.append(str(statement.id))
    with service.client() as client:
        forwarder = Forwarder(sessions, lambda key: client, batch_size=5, backoff_base=0.01)
        down = forwarder.forward_once()
        assert (down.sent, down.retried) == (0, 5)
        service.start()
        try:
            time.sleep(0.05)
            assert forwarder.drain().sent == 12
            found = Counter(
                s["id"] for s in client.iter_statements(verb=v.VERB_ANSWERED, limit=100)
            )
        finally:
            service.stop()
    assert found == Counter(ids)


def test_known_id_in_learning_locker_is_delivered_not_dead(
    sessions, ll_client, builder, make_answer
):
    """A statement Learning Locker already holds is marked sent, as are the rest of its batch."""
    first = builder.build(make_answer())
    ll_client.put_statement(statement_dict(first))
    with sessions() as session, session.begin():
        enqueue(session, first, "ll")
        for _ in range(3):
            enqueue(session, builder.build(make_answer()), "ll")
    report = Forwarder(sessions, lambda key: ll_client, batch_size=10).drain()
    assert (report.sent, report.dead) == (4, 0)
    with sessions() as session:
        statuses = set(session.scalars(select(OutboxEntry.status)))
    assert statuses == {OutboxStatus.SENT.value}


def test_learning_locker_rejection_becomes_a_dead_letter(sessions, ll_client, builder, make_answer):
    """A statement Learning Locker refuses (400) is a dead letter with its message."""
    bad = statement_dict(builder.build(make_answer()))
    bad["verb"]["id"] = "not an iri"
    with sessions() as session, session.begin():
        enqueue(session, bad, "ll")
    report = Forwarder(sessions, lambda key: ll_client).drain()
    assert (report.sent, report.dead) == (0, 1)


def test_learning_locker_accepts_signed_statements_and_returns_them_verifiable(
    sessions, ll_client, builder, make_answer
):
    """Signed batches (multipart/mixed) are stored; read back with attachments=true they verify."""
    pem, public = generate_key_pair()
    signer = StatementSigner.from_pem(pem, public["kid"])
    ids = []
    with sessions() as session, session.begin():
        for _ in range(5):
            statement = builder.build(make_answer())
            enqueue(session, statement, "ll-signed")
            ids.append(str(statement.id))
    forwarder = Forwarder(sessions, lambda key: ll_client, batch_size=3, signer=lambda: signer)
    assert forwarder.drain().sent == 5
    report = VerifyReport()
    for statement, attachments in statements_with_attachments(ll_client, limit=100):
        if statement["id"] in ids:
            report.add(verify_statement(statement, attachments, public_keys([public])))
    assert (report.valid, report.unsigned, report.invalid) == (5, [], [])
