"""Run the ADL LRS conformance suite against the embedded LRS served on 127.0.0.1.

The suite is not part of the project: install it yourself outside the repo and point
LRS_CONFORMANCE_DIR at it (the directory holding bin/console_runner.js, after `npm install`).
This script fetches and installs nothing. It serves a fresh embedded LRS (SQLite temp file by
default, or --db postgresql+psycopg://... in a throwaway schema), runs the suite under `timeout`,
prints the pass count and writes the `## lrs-conformance` section of benchmarks/RESULTS.md.

    LRS_CONFORMANCE_DIR=/work/tools/lrs-conformance .venv/bin/python benchmarks/lrs_conformance.py
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker
from werkzeug.serving import make_server

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from xapi.db import create_xapi_tables  # noqa: E402
from xapi.lrs import create_lrs_blueprint  # noqa: E402

RESULTS = REPO_ROOT / "benchmarks" / "RESULTS.md"
SECTION = "## lrs-conformance"
USER, PASSWORD = "conformance", "conformance-secret"


@contextmanager
def database(url: str | None) -> Iterator[Engine]:
    """A fresh database: a SQLite temp file, or a throwaway PostgreSQL schema."""
    if not url:
        with tempfile.TemporaryDirectory() as tmp:
            engine = create_engine(f"sqlite:///{tmp}/lrs.db", connect_args={"timeout": 30})
            yield engine
            engine.dispose()
        return
    schema = f"conformance_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def serve(engine: Engine, version: str) -> Iterator[str]:
    """Serve the embedded LRS on 127.0.0.1 (free port) in a thread; yields the endpoint."""
    create_xapi_tables(engine)
    app = Flask("lrs-conformance")
    lookup = {(USER, PASSWORD): "conformance"}
    app.register_blueprint(
        create_lrs_blueprint(
            sessionmaker(engine), lambda u, p: lookup.get((u, p)), default_version=version
        ),
        url_prefix="/xapi",
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/xapi"
    finally:
        server.shutdown()


def run_suite(
    suite: Path, endpoint: str, args: argparse.Namespace
) -> tuple[dict[str, Any], Path | None]:
    """Run the suite; returns its last summary and the log file it wrote."""
    command = [
        "timeout",
        str(args.timeout),
        "node",
        "bin/console_runner.js",
        "-e",
        endpoint,
        "-a",
        "-u",
        USER,
        "-p",
        PASSWORD,
        "-x",
        args.xapi_version,
        "-z",
    ]
    if args.grep:
        command += ["-g", args.grep]
    process = subprocess.run(command, cwd=suite, capture_output=True, text=True, check=False)
    summary: dict[str, Any] = {}
    log_path = None
    for line in process.stdout.splitlines():
        if line.startswith("{") and '"total"' in line:
            summary = json.loads(line)
        match = re.search(r"Full run log written to (.+)$", line)
        if match:
            log_path = Path(match.group(1).strip())
    if process.returncode == 124:
        summary["timed_out"] = True
    return summary, log_path


def failures(log_path: Path | None) -> list[tuple[str, str, str]]:
    """(suite, test title, error) of every failed leaf test in the suite's error log."""
    if log_path is None or not log_path.exists():
        return []
    found: list[tuple[str, str, str]] = []

    def walk(node: dict[str, Any] | None, parents: list[str]) -> None:
        if not node:
            return
        children = node.get("tests") or []
        if not children and node.get("status") == "failed":
            suite = parents[1] if len(parents) > 1 else ""
            found.append((suite, node.get("title", ""), str(node.get("error", ""))[:300]))
        for child in children:
            walk(child, [*parents, node.get("title", "")])

    walk(json.loads(log_path.read_text()).get("log"), [])
    return found


def _section_rows(current: str) -> dict[tuple[str, str], str]:
    """Rows of the runs table already in RESULTS.md, keyed by (xAPI version, database)."""
    match = re.search(rf"^{re.escape(SECTION)}\n(.*?)(?=^## |\Z)", current, re.S | re.M)
    rows = {}
    for line in (match.group(1) if match else "").splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) == 5 and re.match(r"^\d\.\d\.\d$", cells[0]):
            rows[(cells[0], cells[1])] = line
    return rows


def write_section(row_key: tuple[str, str], row: str, failures_text: str) -> None:
    """Update this run's row (keeping the other runs) and the failure list of RESULTS.md."""
    current = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    rows = _section_rows(current)
    rows[row_key] = row
    body = "\n".join(
        [
            "ADL LRS conformance suite (adlnet/lrs-conformance-test-suite, installed outside the "
            "repo) against the embedded LRS on 127.0.0.1, run by `benchmarks/lrs_conformance.py`.",
            "",
            "| xAPI | database | passed | failed | run (UTC) |",
            "|---|---|---|---|---|",
            *[rows[key] for key in sorted(rows)],
            "",
            "Reference: Learning Locker's statements service passes 1231 of 1365 (1.0.3).",
            failures_text,
        ]
    )
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.S | re.M)
    block = f"{SECTION}\n{body.rstrip()}\n\n"
    if pattern.search(current):
        RESULTS.write_text(pattern.sub(lambda _m: block, current))
    else:
        RESULTS.write_text(current.rstrip() + "\n\n" + block)


def report(
    summary: dict[str, Any], failed: list[tuple[str, str, str]], args: argparse.Namespace
) -> tuple[tuple[str, str], str, str]:
    """(row key, table row, failure text) for RESULTS.md."""
    total, passed = summary.get("total", 0), summary.get("passed", 0)
    database = "PostgreSQL" if args.db else "SQLite"
    timed_out = " (timed out)" if summary.get("timed_out") else ""
    row = (
        f"| {args.xapi_version} | {database} | {passed} / {total}{timed_out} "
        f"| {summary.get('failed', 0)} | {datetime.now(UTC):%Y-%m-%d %H:%M} |"
    )
    by_suite = Counter(suite for suite, _title, _error in failed)
    text = ""
    if by_suite:
        text = f"\nFailures of the {args.xapi_version}/{database} run by suite:\n\n"
        text += "\n".join(f"- {suite}: {count}" for suite, count in by_suite.most_common())
    return (args.xapi_version, database), row, text


def main() -> int:
    """Command-line entry point."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="PostgreSQL URL (default: a SQLite temp file)")
    parser.add_argument("--xapi-version", default="1.0.3")
    parser.add_argument(
        "--timeout", type=int, default=3600, help="seconds before the suite is killed"
    )
    parser.add_argument("--grep", help="only tests matching this pattern (no RESULTS.md update)")
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    args = parser.parse_args()
    suite_dir = os.environ.get("LRS_CONFORMANCE_DIR")
    if not suite_dir or not (Path(suite_dir) / "bin" / "console_runner.js").exists():
        print("Set LRS_CONFORMANCE_DIR to an installed adlnet/lrs-conformance-test-suite checkout.")
        return 2
    with database(args.db) as engine, serve(engine, args.xapi_version) as endpoint:
        summary, log_path = run_suite(Path(suite_dir), endpoint, args)
    failed = failures(log_path)
    for suite, title, error in failed:
        print(f"FAIL [{suite}] {title}\n     {error}")
    key, row, failures_text = report(summary, failed, args)
    print(row + failures_text)
    if not (args.grep or args.no_write):
        write_section(key, row, failures_text)
    return 0 if summary.get("total") else 1


if __name__ == "__main__":
    sys.exit(main())
