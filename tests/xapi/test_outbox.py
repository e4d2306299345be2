"""Transactional outbox and forwarder: delivery, 409, dead letters, outages, crashes, races."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from xapi.client import BasicCredentials, LrsClient, LrsConfig
from xapi.outbox import (
    Forwarder,
    OutboxEntry,
    OutboxStatus,
    enqueue,
    queue_stats,
    retry,
)
from xapi.statements import statement_dict

LRS_KEY = "tenant-a"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    """A manual clock."""
    return Clock()


@pytest.fixture
def forwarder(sessions, lrs_client, clock):
    """A forwarder into the live embedded LRS with small batches and short backoff."""
    return Forwarder(
        sessions,
        lambda key: lrs_client,
        batch_size=10,
        backoff_base=1.0,
        backoff_max=30.0,
        clock=clock,
        rng=random.Random(7),
    )


def _enqueue_answers(sessions, builder, make_answer, count, clock=None, **kw) -> list[str]:
    ids = []
    with sessions() as session, session.begin():
        for _ in range(count):
            statement = builder.build(make_answer(**kw))
            enqueue(session, statement, LRS_KEY, now=clock() if clock else None)
            ids.append(str(statement.id))
    return ids


def _lrs_ids(lrs_client) -> Counter:
    return Counter(s["id"] for s in lrs_client.iter_statements(limit=100))


def _statuses(sessions) -> Counter:
    with sessions() as session:
        return Counter(session.scalars(select(OutboxEntry.status)))


def test_enqueue_only_adds_to_the_callers_transaction(sessions, builder, make_answer):
    """A rolled-back answer leaves no outbox row; a committed one leaves exactly one."""
    with sessions() as session:
        session.begin()
        enqueue(session, builder.build(make_answer()), LRS_KEY)
        session.rollback()
    assert _statuses(sessions) == Counter()
    _enqueue_answers(sessions, builder, make_answer, 1)
    assert _statuses(sessions) == Counter({OutboxStatus.PENDING.value: 1})


def test_forwarder_delivers_every_statement_once(
    sessions, forwarder, lrs_client, builder, make_answer, clock
):
    """25 statements in batches of 10 all arrive under their own ids."""
    ids = _enqueue_answers(sessions, builder, make_answer, 25, clock)
    report = forwarder.drain()
    assert report.sent == 25
    assert _lrs_ids(lrs_client) == Counter(ids)
    assert _statuses(sessions) == Counter({OutboxStatus.SENT.value: 25})


def test_statement_already_in_the_lrs_counts_as_delivered(
    sessions, forwarder, lrs_client, builder, make_answer, clock
):
    """A known id (409) is delivered, even inside a batch: no dead letter, no second copy."""
    ids = _enqueue_answers(sessions, builder, make_answer, 5, clock)
    with sessions() as session:
        known = session.scalars(select(OutboxEntry.body).order_by(OutboxEntry.id)).first()
    different = json.loads(known)
    different["result"]["success"] = not different["result"]["success"]
    lrs_client.put_statement(different)  # same id, other content: the LRS answers 409 to ours
    report = forwarder.drain()
    assert (report.sent, report.dead) == (5, 0)
    assert _lrs_ids(lrs_client) == Counter(ids)


def test_invalid_statement_goes_to_dead_letters_with_the_lrs_message(
    sessions, forwarder, lrs_client, builder, make_answer, clock
):
    """A 400 moves only the bad statement to dead letters; the rest of the batch arrives."""
    good = _enqueue_answers(sessions, builder, make_answer, 4, clock)
    bad = statement_dict(builder.build(make_answer()))
    bad["result"]["score"]["scaled"] = 7
    with sessions() as session, session.begin():
        enqueue(session, bad, LRS_KEY, now=clock())
    report = forwarder.drain()
    assert (report.sent, report.dead) == (4, 1)
    assert _lrs_ids(lrs_client) == Counter(good)
    with sessions() as session:
        dead = session.scalars(
            select(OutboxEntry).where(OutboxEntry.status == OutboxStatus.DEAD.value)
        ).one()
    assert str(dead.statement_id) == bad["id"]
    assert "scaled" in (dead.last_error or "")


def test_outage_mid_run_then_restart_delivers_each_statement_exactly_once(
    sessions, forwarder, live_lrs, lrs_client, builder, make_answer, clock
):
    """LRS stopped mid-run: rows back off and wait; after restart every id arrives once."""
    ids = _enqueue_answers(sessions, builder, make_answer, 30, clock)
    assert forwarder.forward_once().sent == 10
    live_lrs.stop()
    failed = forwarder.forward_once()
    assert (failed.sent, failed.retried) == (0, 10)
    assert "unreachable" in failed.errors[LRS_KEY]
    clock.advance(0.1)
    assert forwarder.forward_once().retried == 10  # the other due rows fail too
    assert forwarder.forward_once().handled == 0  # nothing due: all backing off
    for _ in range(3):  # outage continues; backoff grows
        clock.advance(60)
        forwarder.drain()
    live_lrs.start()
    clock.advance(60)
    forwarder.drain()
    assert _lrs_ids(lrs_client) == Counter(ids)
    assert _statuses(sessions) == Counter({OutboxStatus.SENT.value: 30})


class Killed(BaseException):
    """Stands for SIGKILL between sending a batch and recording it."""


def test_forwarder_killed_mid_batch_resends_under_the_same_ids(
    sessions, forwarder, lrs_client, builder, make_answer, clock, monkeypatch
):
    """Rows a dead forwarder sent but never marked go again after the lease, same ids, once."""
    ids = _enqueue_answers(sessions, builder, make_answer, 10, clock)

    def die(*_args, **_kwargs):
        raise Killed

    monkeypatch.setattr(forwarder, "_record", die)
    with pytest.raises(Killed):
        forwarder.forward_once()
    assert _lrs_ids(lrs_client) == Counter(ids)  # sent before the "kill"
    monkeypatch.undo()
    assert forwarder.forward_once().handled == 0  # still leased to the dead worker
    clock.advance(forwarder.lease.total_seconds() + 1)
    assert forwarder.drain().sent == 10
    assert _lrs_ids(lrs_client) == Counter(ids)
    assert _statuses(sessions) == Counter({OutboxStatus.SENT.value: 10})


def test_wrong_endpoint_or_credentials_are_retried_not_dead_lettered(
    sessions, live_lrs, builder, make_answer, clock
):
    """404 (misconfigured endpoint) and 401 keep rows pending with the error, never dead."""
    _enqueue_answers(sessions, builder, make_answer, 3, clock)
    wrong_path = LrsClient(
        LrsConfig(live_lrs.endpoint + "nope/", BasicCredentials("tenant-a", "secret-a"))
    )
    wrong_secret = live_lrs.client("tenant-a", "wrong")
    for client in (wrong_path, wrong_secret):
        with client:
            report = Forwarder(sessions, lambda key, c=client: c, clock=clock).forward_once()
        assert (report.sent, report.dead, report.retried) == (0, 0, 3)
        clock.advance(3600)
    assert _statuses(sessions) == Counter({OutboxStatus.PENDING.value: 3})


def test_backoff_is_exponential_with_jitter_and_capped(sessions, lrs_client):
    """Delays double per attempt, stay within [half, full] of the step, never exceed the cap."""
    forwarder = Forwarder(sessions, lambda key: lrs_client, backoff_base=2, backoff_max=60)
    for attempts, ceiling in [(1, 2), (2, 4), (3, 8), (6, 60), (20, 60)]:
        delays = [forwarder.backoff(attempts) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1


def test_two_forwarders_never_claim_the_same_row(sessions, lrs_client, builder, make_answer):
    """Concurrent claims (SKIP LOCKED on PostgreSQL) split the due rows without overlap."""
    _enqueue_answers(sessions, builder, make_answer, 40)
    workers = [Forwarder(sessions, lambda key: lrs_client, batch_size=15) for _ in range(2)]
    claims: list[list[int]] = [[], []]
    barrier = threading.Barrier(2)

    def claim(index: int) -> None:
        barrier.wait()
        for _ in range(3):
            claims[index] += [item.id for item in workers[index].claim()]

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not set(claims[0]) & set(claims[1])
    assert len(claims[0]) + len(claims[1]) == 40


def test_queue_stats_and_retry_of_dead_letters(sessions, forwarder, builder, make_answer, clock):
    """Status shows depth, dead letters and last error; retry --dead makes them pending again."""
    bad = statement_dict(builder.build(make_answer()))
    bad["verb"]["id"] = "not an iri"
    with sessions() as session, session.begin():
        enqueue(session, bad, LRS_KEY, now=clock())
    _enqueue_answers(sessions, builder, make_answer, 2, clock)
    forwarder.forward_once()
    with sessions() as session:
        (stats,) = queue_stats(session)
    assert (stats.lrs_key, stats.pending, stats.dead) == (LRS_KEY, 0, 1)
    assert "verb" in (stats.last_error or "")
    with sessions() as session, session.begin():
        assert retry(session, dead=True) == 1
    with sessions() as session:
        pending = session.scalar(
            select(func.count()).where(OutboxEntry.status == OutboxStatus.PENDING.value)
        )
    assert pending == 1


CHILD = """
import sys, time, pathlib
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker
from xapi.client import BasicCredentials, LrsClient, LrsConfig
from xapi.outbox import Forwarder

url, schema, endpoint, marker = sys.argv[1:5]
args = {"options": f"-csearch_path={schema}"} if schema else {}
engine = create_engine(url, connect_args=args)
client = LrsClient(LrsConfig(endpoint, BasicCredentials("tenant-a", "secret-a")))
forwarder = Forwarder(sessionmaker(engine), lambda key: client, batch_size=50)

def hang(*_args):
    pathlib.Path(marker).write_text("sent")
    time.sleep(120)

forwarder._record = hang
forwarder.forward_once()
"""


@pytest.mark.slow
def test_forwarder_process_killed_after_sending_loses_and_duplicates_nothing(
    engine, sessions, live_lrs, lrs_client, builder, make_answer, tmp_path
):
    """SIGKILL between sending and recording: a new worker resends under the same ids, once each."""
    ids = _enqueue_answers(sessions, builder, make_answer, 20)
    schema = ""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            schema = conn.exec_driver_sql("select current_schema()").scalar_one()
    marker = tmp_path / "sent"
    url = engine.url.render_as_string(hide_password=False)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, url, schema, live_lrs.endpoint, str(marker)]
    )
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.05)
    assert marker.exists(), "the child forwarder never sent its batch"
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=10)
    assert _lrs_ids(lrs_client) == Counter(ids)
    later = Clock()
    later.advance(timedelta(minutes=2).total_seconds() + 1)
    survivor = Forwarder(sessions, lambda key: lrs_client, batch_size=50, clock=later)
    assert survivor.drain().sent == 20
    assert _lrs_ids(lrs_client) == Counter(ids)
    assert _statuses(sessions) == Counter({OutboxStatus.SENT.value: 20})
