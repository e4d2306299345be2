"""End-to-end import benchmark: the largest fixtures through ``run_import`` into PostgreSQL.

Target (issue 3): importing the largest fixture end to end in < 10 s. "End to end" here is the
service path a real import takes: read, split, make cards, then persist units, cards and figures
in one PostgreSQL transaction, with progress commits. The baseline, measured in the same run, is
the pure ``import_course`` (no database). A re-import of the same file (everything unchanged)
is timed too. Prints medians and writes the ``## import-e2e`` section of benchmarks/RESULTS.md.

Run: ``.venv/bin/python -m benchmarks.import_e2e_bench [--runs N]`` (PostgreSQL on
127.0.0.1:5432, or set MICROREVIEW_BENCH_PG to an admin URL; a throwaway database is used).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: find benchmarks/

from benchmarks.results import write_section
from lti_tool.course_import import create_import, run_import
from lti_tool.db import Database
from lti_tool.ingest.importer import import_course
from lti_tool.models import Context, Platform
from lti_tool.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(
    os.environ.get("MICROREVIEW_FIXTURES") or REPO_ROOT.parent / "shared" / "fixtures" / "courses"
)
PG_ADMIN_URL = os.environ.get(
    "MICROREVIEW_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
COURSES = {
    "largest by words (18F handbook, Markdown)": "text-18f-handbook",
    "largest by bytes (Moodle course with PDFs)": "moodle-real-course-real-numbers",
    "OpenStax book (CNXML)": "text-openstax-business-ethics",
}


@contextmanager
def throwaway_database() -> Iterator[Database]:
    """A fresh PostgreSQL database with the schema, dropped afterwards."""
    name = f"mr_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    db = Database(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
    try:
        db.create_all()
        yield db
    finally:
        db.engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def new_course(db: Database, platform_id: int) -> int:
    """An empty course to import into."""
    with db.session() as session:
        context = Context(platform_id=platform_id, context_id=uuid.uuid4().hex)
        session.add(context)
        session.flush()
        return context.id


def service_import(db: Database, settings: Settings, context_id: int, path: Path) -> Any:
    """One import through the service, as the background job runs it."""
    with db.session() as session:
        import_id = create_import(session, context_id, path).id
    row = run_import(db, settings, import_id)
    if row.status != "done":
        raise RuntimeError(f"import of {path.name} failed: {row.message}")
    return row


def interleaved(fns: dict[str, Callable[[], Any]], runs: int) -> dict[str, tuple[float, Any]]:
    """Median wall time and last result of each function, run in turn so load drifts hit all."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    results: dict[str, Any] = {}
    for _ in range(runs):
        for name, fn in fns.items():
            start = time.perf_counter()
            results[name] = fn()
            times[name].append(time.perf_counter() - start)
    return {name: (statistics.median(times[name]), results[name]) for name in fns}


def measure(db: Database, settings: Settings, platform_id: int, path: Path, runs: int) -> str:
    """Baseline, first import and re-import of one fixture, as one result line."""
    reimport_into = new_course(db, platform_id)
    service_import(db, settings, reimport_into, path)
    timed = interleaved(
        {
            "pure": lambda: import_course(path),
            "first": lambda: service_import(db, settings, new_course(db, platform_id), path),
            "again": lambda: service_import(db, settings, reimport_into, path),
        },
        runs,
    )
    (pure_s, _), (first_s, row), (again_s, again) = timed["pure"], timed["first"], timed["again"]
    s = row.summary
    unchanged = again.changes["cards"]["unchanged"]
    return (
        f"**{first_s:.2f} s** (target < 10 s) -> {s['units']} units, {s['minutes']:.0f} min, "
        f"{s['cards']} cards, {s['assets']} figure(s); pure import (no DB) {pure_s:.2f} s, "
        f"ratio {first_s / pure_s:.2f}x; re-import of the same file {again_s:.2f} s "
        f"({unchanged} cards unchanged)"
    )


def main() -> None:
    """Run the benchmark, print the figures and update RESULTS.md."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (median)")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, like import_bench
    lines = []
    with throwaway_database() as db, tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            env="test", database_url=db.url, huey_sqlite_path=str(Path(tmp) / "huey.db")
        )
        with db.session() as session:
            lms = Platform(
                name="bench", issuer="https://bench.example", client_id="bench",
                auth_login_url="https://bench.example/auth",
                auth_token_url="https://bench.example/token",
                key_set_url="https://bench.example/jwks",
            )  # fmt: skip
            session.add(lms)
            session.flush()
            platform_id = lms.id
        for label, name in COURSES.items():
            line = f"- {label}: " + measure(db, settings, platform_id, FIXTURES / name, args.runs)
            print(line, flush=True)
            lines.append(line)
    lines.insert(
        0, f"- Through `run_import` into PostgreSQL; one core; median of {args.runs} runs."
    )
    lines.append(
        f"- Machine: {platform.machine()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} cores (shared); {time.strftime('%Y-%m-%d')}."
    )
    write_section("import-e2e", "\n".join(lines))


if __name__ == "__main__":
    main()
