"""xAPI benchmarks on PostgreSQL: forwarder throughput, filtered GET over 1M statements, enqueue.

Runs in a throwaway schema (dropped at the end), serves the embedded LRS on 127.0.0.1 the way
production does (gunicorn, 2 sync workers) and, for comparison, with the Werkzeug dev server; prints
medians of several runs and ratios against baselines measured in the same run, and writes the
`## xapi` section of benchmarks/RESULTS.md (with the load average, as the machine is shared).

    .venv/bin/python benchmarks/xapi_bench.py [--statements 1000000] [--forward 10000] [--runs 3]

`--only forward` runs just the forwarder throughput and rewrites only its rows of the section.
`--baseline-code DIR` (a copy of an older tree holding `xapi/`) measures that code's forwarder
and LRS too, interleaved with this tree's runs, for an A/B ratio on a machine whose load moves.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from flask import Flask
from gunicorn.app.base import BaseApplication
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.serving import make_server

REPO_ROOT = Path(__file__).resolve().parents[1]
# The code under test: this tree, or an older copy when measuring a baseline (--baseline-code).
CODE_ROOT = Path(os.environ.get("XAPI_BENCH_CODE", REPO_ROOT))
sys.path.insert(0, str(CODE_ROOT))

sys.path.insert(1, str(REPO_ROOT))  # this tree's benchmarks/ even when measuring a baseline
from benchmarks.results import write_section  # noqa: E402
from xapi import events as ev  # noqa: E402
from xapi.client import BasicCredentials, LrsClient, LrsConfig  # noqa: E402
from xapi.db import create_xapi_tables  # noqa: E402
from xapi.lrs import create_lrs_blueprint  # noqa: E402
from xapi.lrs.agents import actor_key  # noqa: E402
from xapi.lrs.models import LrsStatement  # noqa: E402
from xapi.outbox import Forwarder, enqueue  # noqa: E402
from xapi.statements import StatementBuilder, statement_dict  # noqa: E402
from xapi.vocabulary import VERB_ANSWERED, VERB_DISPLAY, InteractionType, Vocabulary  # noqa: E402

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
RESULTS = REPO_ROOT / "benchmarks" / "RESULTS.md"
TENANT, USER, PASSWORD = "bench", "bench", "bench-secret"
ISSUER = "https://moodle.example.edu"
SERVERS = ("gunicorn", "werkzeug")
VOCAB = Vocabulary("https://review.example.org")
BUILDER = StatementBuilder(VOCAB)
PLACEMENT = ev.Placement(
    course=ev.ActivityRef("course-1", "Forklift safety"),
    module=ev.ActivityRef("module-1", "Loading dock"),
    registration=uuid.uuid4(),
    lti=ev.LtiContext("dep-1", "ctx-1", "rl-1", ("Learner",), "Moodle 4.5"),
)
CARD = ev.CardInteraction(
    "card-1",
    "Load limit",
    "Rated load?",
    InteractionType.CHOICE,
    ("b",),
    choices=(ev.Component("a", "1 t"), ev.Component("b", "2.5 t")),
)


def answer(sub: str, when: datetime | None = None) -> ev.CardAnswered:
    """A realistic answered event for learner `sub`."""
    return ev.CardAnswered(
        actor=ev.Actor(ISSUER, sub),
        placement=PLACEMENT,
        card=CARD,
        unit=ev.ActivityRef("unit-1", "Load plate", critical=True),
        result=ev.AnswerResult("b", True, timedelta(seconds=6.5), score_scaled=1.0),
        memory=ev.MemoryState(0.9, 12.0, datetime(2026, 3, 1, tzinfo=UTC)),
        occurred_at=when or datetime.now(UTC),
    )


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@contextmanager
def pg_schema() -> Iterator[Engine]:
    """A throwaway PostgreSQL schema with the xapi tables."""
    schema = f"xapi_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_engine(
        PG_URL,
        pool_size=10,
        connect_args={"options": f"-csearch_path={schema}", "application_name": "xapi_bench"},
    )
    create_xapi_tables(engine)
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _lrs_app(url: str, schema: str) -> Flask:
    """The embedded LRS as its own WSGI app (one engine per process)."""
    # Named, so that the database's CPU per side can be told apart on a shared server.
    options = {"options": f"-csearch_path={schema}", "application_name": "xapi_bench_lrs"}
    engine = create_engine(url, pool_size=10, connect_args=options)
    app = Flask("bench-lrs")
    app.register_blueprint(
        create_lrs_blueprint(
            sessionmaker(engine), lambda u, p: TENANT if (u, p) == (USER, PASSWORD) else None
        ),
        url_prefix="/xapi",
    )
    return app


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    """gunicorn in-process: 2 sync workers, each building its own app after the fork."""

    def __init__(self, factory: Callable[[], Flask], port: int):
        self.factory = factory
        self.port = port
        super().__init__()

    def load_config(self) -> None:
        """Production-like settings, quiet logs."""
        for key, value in {
            "bind": f"127.0.0.1:{self.port}",
            "workers": 2,
            "worker_class": "sync",
            "loglevel": "warning",
            "accesslog": None,
            "timeout": 120,
        }.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        """The app of one worker."""
        return self.factory()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _serve(server: str, url: str, schema: str, port: int) -> None:
    """Child process: the embedded LRS, as a web worker would run it."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    if server == "gunicorn":
        _Gunicorn(lambda: _lrs_app(url, schema), port).run()
        return
    make_server("127.0.0.1", port, _lrs_app(url, schema), threaded=True).serve_forever()


def _wait_for(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"the LRS did not start on port {port}")


@contextmanager
def served_lrs(engine: Engine, server: str = "gunicorn") -> Iterator[LrsClient]:
    """The embedded LRS in its own process(es) on 127.0.0.1, and a client of it."""
    with engine.connect() as conn:
        schema = conn.execute(text("select current_schema()")).scalar_one()
    port = _free_port()
    process = multiprocessing.get_context("fork").Process(
        target=_serve, args=(server, PG_URL, schema, port), daemon=False
    )
    process.start()
    _wait_for(port)
    config = LrsConfig(
        f"http://127.0.0.1:{port}/xapi", BasicCredentials(USER, PASSWORD), timeout=60
    )
    try:
        with LrsClient(config) as client:
            yield client
    finally:
        process.terminate()  # gunicorn's arbiter stops its workers on SIGTERM
        process.join(30)


def bench_forwarder(
    sessions: sessionmaker[Session],
    client: LrsClient,
    count: int,
    runs: int,
    *,
    one_by_one: bool = True,
) -> dict[str, list[float]]:
    """Statements/s delivered: 1 and 2 forwarders (batch 500) vs one PUT per statement."""

    def load(n: int) -> None:
        with sessions() as session, session.begin():
            for i in range(n):
                enqueue(session, BUILDER.build_body(answer(f"fwd-{i % 500}")), "bench")

    def drain(workers: int, batch: int) -> int:
        forwarders = [
            Forwarder(sessions, lambda _k: client, batch_size=batch) for _ in range(workers)
        ]
        sent = [0] * workers

        def work(index: int) -> None:
            sent[index] = forwarders[index].drain().sent

        threads = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return sum(sent)

    results: dict[str, list[float]] = {"1 worker": [], "2 workers": [], "one by one": []}
    plan = [("one by one", 1, 1, 200)] if one_by_one else []
    for _ in range(runs):
        plan += [("1 worker", 1, 500, count), ("2 workers", 2, 500, count)]
    for label, workers, batch, n in plan:
        load(n)
        start = time.perf_counter()
        sent = drain(workers, batch)
        elapsed = time.perf_counter() - start
        assert sent == n, (sent, n)
        results[label].append(n / elapsed)
        print(f"  forwarder {label} (batch {batch}): {n} in {elapsed:.2f}s = {n / elapsed:.0f}/s")
    return results


def bulk_load(engine: Engine, count: int, learners: int) -> None:
    """COPY `count` answered/experienced statements (180 days, `learners` agents) into the LRS."""
    verbs = [VERB_ANSWERED, *[v for v in VERB_DISPLAY if v != VERB_ANSWERED][:5]]
    template = statement_dict(BUILDER.build(answer("x")))
    now = datetime.now(UTC)
    rng = random.Random(42)
    table = cast(Table, LrsStatement.__table__)
    columns = (
        "tenant, statement_id, stored, verb, actor_key, object_activity, registration, "
        "voided, content_hash, payload"
    )
    raw = engine.raw_connection()
    try:
        driver: Any = raw.driver_connection
        with driver.cursor() as cur:
            for index in table.indexes:
                cur.execute(f"DROP INDEX IF EXISTS {index.name}")
            with cur.copy(f"COPY xapi_lrs_statement ({columns}) FROM STDIN") as copy:
                for i in range(count):
                    sub = f"learner-{rng.randrange(learners)}"
                    verb = verbs[0] if rng.random() < 0.5 else rng.choice(verbs)
                    stored = now - timedelta(seconds=rng.uniform(0, 180 * 86400))
                    sid = uuid.UUID(int=rng.getrandbits(128), version=4)
                    body = dict(template, id=str(sid), stored=stored.isoformat())
                    body["actor"] = {"account": {"homePage": ISSUER, "name": sub}}
                    body["verb"] = {"id": verb}
                    agent = actor_key(body["actor"])
                    copy.write_row(
                        (
                            TENANT,
                            sid,
                            stored,
                            verb,
                            agent,
                            body["object"]["id"],
                            PLACEMENT.registration,
                            False,
                            "-",
                            json.dumps(body),
                        )
                    )
                    if i and i % 200_000 == 0:
                        print(f"  loaded {i}")
        raw.commit()
    finally:
        raw.close()
    with engine.begin() as conn:
        for index in table.indexes:
            index.create(conn)
        conn.execute(text("ANALYZE xapi_lrs_statement"))


def bench_query(client: LrsClient, learners: int, runs: int) -> dict:
    """p50/p95 of GET agent+verb+since (30 days) vs an unfiltered GET of 10, same run."""
    rng = random.Random(7)
    since = datetime.now(UTC) - timedelta(days=30)
    timings: dict[str, list[float]] = {"agent+verb+since": [], "unfiltered limit 10": []}
    sizes = []
    for _ in range(runs):
        agent = {"account": {"homePage": ISSUER, "name": f"learner-{rng.randrange(learners)}"}}
        start = time.perf_counter()
        page = client.get_statements(agent=agent, verb=VERB_ANSWERED, since=since)
        timings["agent+verb+since"].append((time.perf_counter() - start) * 1000)
        sizes.append(len(page.statements))
        start = time.perf_counter()
        client.get_statements(limit=10)
        timings["unfiltered limit 10"].append((time.perf_counter() - start) * 1000)
    result = {k: (statistics.median(v), pct(v, 0.95)) for k, v in timings.items()}
    for label, (p50, p95) in result.items():
        print(f"GET {label}: p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    print(f"  statements per filtered page: median {statistics.median(sizes):.0f}")
    result["page"] = (statistics.median(sizes), 0.0)
    return result


def bench_enqueue(engine: Engine, sessions: sessionmaker[Session], runs: int) -> dict:
    """Median cost of an answer transaction alone, and with the outbox row (both builders)."""
    answers = Table(
        "bench_answer", MetaData(), Column("id", Integer, primary_key=True), Column("r", String(10))
    )
    answers.create(engine)
    builders: dict[str, Callable[[ev.CardAnswered], object]] = {
        "answer + outbox": BUILDER.build_body,
        "answer + outbox (tincan)": BUILDER.build,
    }
    timings: dict[str, list[float]] = {"answer only": [], "build": [], "build (tincan)": []}
    timings.update({label: [] for label in builders})
    for i in range(runs):
        for label in ("answer only", *builders):
            start = time.perf_counter()
            with sessions() as session, session.begin():
                session.execute(insert(answers).values(r="good"))
                if label != "answer only":
                    build = time.perf_counter()
                    statement = builders[label](answer(f"enq-{i}"))
                    key = "build (tincan)" if "tincan" in label else "build"
                    timings[key].append((time.perf_counter() - build) * 1000)
                    enqueue(session, statement, "lrs")  # type: ignore[arg-type]
            timings[label].append((time.perf_counter() - start) * 1000)
    with engine.begin() as conn:  # the forwarder benchmark counts only its own rows
        conn.execute(text("DELETE FROM xapi_outbox"))
    result = {k: statistics.median(v) for k, v in timings.items()}
    result["added"] = result["answer + outbox"] - result["answer only"]
    result["added (tincan)"] = result["answer + outbox (tincan)"] - result["answer only"]
    for label, value in result.items():
        print(f"enqueue {label}: median {value:.3f} ms")
    return result


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f} / {five:.1f} / {fifteen:.1f}"


Rates = dict[str, dict[str, list[float]]]
"""Statements/s per server and setting ("1 worker", "2 workers", "one by one")."""


def _forward_rows(
    args: argparse.Namespace, forward: Rates, baseline: Rates, note: str
) -> list[str]:
    rows = []
    for server, results in forward.items():
        one = statistics.median(results["one by one"])
        for label in ("1 worker", "2 workers"):
            rates = results[label]
            median = statistics.median(rates)
            runs = ", ".join(f"{rate:.0f}" for rate in rates)
            before = baseline.get(server, {}).get(label)
            versus, ratio = "", ""
            if before:
                old = statistics.median(before)
                old_runs = ", ".join(f"{rate:.0f}" for rate in before)
                versus = f"; code before this change, interleaved runs ({old_runs}): {old:.0f}/s"
                ratio = f"; {median / old:.2f}x the code before"
            rows.append(
                f"| forwarder throughput, batches of 500, {label}, {server} "
                f"({args.forward} statements x {len(rates)} runs: {runs}{note}) | {median:.0f}/s "
                f"| >= 2000/s | one PUT per statement ({server}): {one:.0f}/s{versus} "
                f"| {median / one:.1f}x{ratio} |"
            )
    return rows


def _baseline_run(args: argparse.Namespace, server: str) -> dict[str, list[float]]:
    """One interleaved run of the baseline code (its own process, schema and LRS server)."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        command = [
            sys.executable,
            __file__,
            "--only=forward",
            "--runs=1",
            f"--servers={server}",
            f"--forward={args.forward}",
            "--no-one-by-one",
            "--no-write",
            f"--json={out.name}",
        ]
        env = dict(os.environ, XAPI_BENCH_CODE=str(Path(args.baseline_code).resolve()))
        subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
        result: dict[str, list[float]] = json.loads(Path(out.name).read_text())[server]
    return result


def bench_forward_part(
    args: argparse.Namespace, engine: Engine, sessions: sessionmaker[Session]
) -> tuple[Rates, Rates]:
    """Forwarder throughput per server; with --baseline-code, the old code's between runs."""
    forward: Rates = {}
    baseline: Rates = {}
    for server in args.servers.split(","):
        print(f"forwarder into the LRS under {server}")
        forward[server] = {"1 worker": [], "2 workers": [], "one by one": []}
        baseline[server] = {"1 worker": [], "2 workers": []}
        with served_lrs(engine, server) as client:
            for run in range(args.runs):
                if args.baseline_code:
                    old = _baseline_run(args, server)
                    for label in ("1 worker", "2 workers"):
                        baseline[server][label] += old[label]
                        listed = ", ".join(f"{rate:.0f}" for rate in old[label])
                        print(f"  baseline code {label}: {listed}/s")
                first = run == 0 and not args.no_one_by_one
                rates = bench_forwarder(sessions, client, args.forward, 1, one_by_one=first)
                for label, values in rates.items():
                    forward[server][label] += values
    return forward, baseline


def write_forward_rows(rows: list[str]) -> None:
    """Replace only the forwarder throughput rows of the `## xapi` section."""
    current = RESULTS.read_text()
    lines = current.split("\n")
    marks = [i for i, line in enumerate(lines) if line.startswith("| forwarder throughput")]
    if not marks:
        raise SystemExit("no forwarder rows in the xapi section of RESULTS.md: run the full bench")
    lines[marks[0] : marks[-1] + 1] = rows
    RESULTS.write_text("\n".join(lines))


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=1_000_000)
    parser.add_argument("--learners", type=int, default=5_000)
    parser.add_argument("--forward", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3, help="forwarder runs per setting")
    parser.add_argument("--servers", default=",".join(SERVERS), help="gunicorn,werkzeug")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--enqueues", type=int, default=500)
    parser.add_argument("--only", choices=("all", "forward"), default="all")
    parser.add_argument("--baseline-code", help="a copy of an older tree (holding xapi/) to A/B")
    parser.add_argument("--no-one-by-one", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json", help=argparse.SUPPRESS)  # forwarder rates, for --baseline-code
    parser.add_argument("--no-write", action="store_true")
    return parser.parse_args()


def main() -> int:
    """Run the benchmarks (all three, or the forwarder's only) and record them."""
    args = _parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    load_before = _load()
    with pg_schema() as engine:
        sessions = sessionmaker(engine, expire_on_commit=False)
        if args.only == "forward":
            forward, baseline = bench_forward_part(args, engine, sessions)
        else:
            enq = bench_enqueue(engine, sessions, args.enqueues)
            forward, baseline = bench_forward_part(args, engine, sessions)
            start = time.perf_counter()
            bulk_load(engine, args.statements, args.learners)
            print(f"bulk load: {args.statements} statements in {time.perf_counter() - start:.0f}s")
            with served_lrs(engine, "gunicorn") as client:
                query = bench_query(client, args.learners, args.queries)
    if args.json:  # a baseline run for another process: no rows
        Path(args.json).write_text(json.dumps(forward))
        return 0
    if args.only == "forward":
        note = (
            f"; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average 1/5/15 min "
            f"{load_before} at the start, {_load()} at the end"
        )
        rows = _forward_rows(args, forward, baseline, note)
        print("\n".join(rows))
        if not args.no_write:
            write_forward_rows(rows)
        return 0
    (q50, q95), (_b50, b95) = query["agent+verb+since"], query["unfiltered limit 10"]
    lines = [
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on PostgreSQL 127.0.0.1, 2 cores shared with "
        f"other work (load average 1/5/15 min: {load_before} at the start, {_load()} at the end); "
        "embedded LRS in its own process on 127.0.0.1 under gunicorn (2 sync workers, as in "
        "production) and under the Werkzeug dev server (threaded) for comparison; "
        "`benchmarks/xapi_bench.py`. Throughput figures are medians of the runs listed.",
        "",
        "| measure | result | target | baseline (same run) | ratio |",
        "|---|---|---|---|---|",
        *_forward_rows(args, forward, baseline, ""),
        f"| GET agent+verb+since 30 d over {args.statements:,} stored, gunicorn, p95 "
        f"({args.queries} queries, median page {query['page'][0]:.0f}) | {q95:.1f} ms "
        f"(p50 {q50:.1f}) | < 200 ms | unfiltered GET limit 10: p95 {b95:.1f} ms | "
        f"{q95 / b95:.2f}x |",
        f"| outbox cost added to an answer transaction (median of {args.enqueues}), statement "
        f"built as a dict | {enq['added']:.2f} ms (build {enq['build']:.3f} ms) | < 2 ms "
        f"| answer-only transaction: {enq['answer only']:.2f} ms "
        f"| {enq['answer + outbox'] / enq['answer only']:.2f}x |",
        f"| the same with the statement built by tincan (`StatementBuilder.build`) "
        f"| {enq['added (tincan)']:.2f} ms (build {enq['build (tincan)']:.3f} ms) | < 2 ms "
        f"| answer-only transaction: {enq['answer only']:.2f} ms "
        f"| {enq['answer + outbox (tincan)'] / enq['answer only']:.2f}x |",
    ]
    report = "\n".join(lines)
    print(report)
    if not args.no_write:
        write_section("xapi", report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
