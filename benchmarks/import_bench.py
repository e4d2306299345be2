"""Import benchmark: split + card a ~500,000-word course, and import the largest fixtures.

Targets (issue 3): 500k words split and carded in < 20 s on one core and < 1 GiB; the largest
fixture imported end to end in < 10 s. Prints medians and writes the ``## import`` section of
benchmarks/RESULTS.md. Run: ``.venv/bin/python benchmarks/import_bench.py [--runs N]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: find benchmarks/

from benchmarks.results import write_section
from lti_tool.ingest.importer import build_result, import_course, read_course
from lti_tool.ingest.splitter import split_course
from lti_tool.ingest.tree import Course

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(
    os.environ.get("MICROREVIEW_FIXTURES") or REPO_ROOT.parent / "shared" / "fixtures" / "courses"
)
TARGET_WORDS = 500_000
SOURCES = ["text-openstax-business-ethics", "text-18f-handbook"]
LARGEST = {
    "largest by words (18F handbook, Markdown)": "text-18f-handbook",
    "largest by bytes (Moodle course with PDFs)": "moodle-real-course-real-numbers",
    "OpenStax book (CNXML)": "text-openstax-business-ethics",
}


def big_course() -> Course:
    """A course of at least TARGET_WORDS words: the two long texts, repeated."""
    parts = [read_course(FIXTURES / name) for name in SOURCES]
    course = Course("Benchmark course", "markdown")
    while course.word_count() < TARGET_WORDS:
        for part in parts:
            course.modules.extend(part.modules)
    return course


def timed(fn, runs: int) -> tuple[float, object]:
    """Median wall time of ``fn()`` over ``runs`` runs, and the last result."""
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def peak_mib(fn) -> float:
    """Peak Python heap while running ``fn()``, in MiB (tracemalloc)."""
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    """Run the benchmark, print the figures and update RESULTS.md."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (median)")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the target says
    course = big_course()
    words = course.word_count()
    split_s, _ = timed(lambda: split_course(course), args.runs)
    full_s, result = timed(lambda: build_result(course), args.runs)
    heap = peak_mib(lambda: build_result(course))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines = [
        f"- Course: {words:,} words ({len(course.modules)} modules, fixtures {', '.join(SOURCES)}"
        " repeated); one core; median of "
        f"{args.runs} runs.",
        f"- Split + cards: **{full_s:.2f} s** (target < 20 s) -> {result.summary.units} units, "
        f"{result.summary.cards} cards; baseline split only {split_s:.2f} s "
        f"(ratio {full_s / split_s:.1f}x).",
        f"- Memory: peak Python heap {heap:.0f} MiB (tracemalloc), process max RSS {rss:.0f} MiB "
        "(target < 1 GiB).",
    ]
    for label, name in LARGEST.items():
        seconds, imported = timed(lambda n=name: import_course(FIXTURES / n), args.runs)
        s = imported.summary
        lines.append(
            f"- End to end, {label}: **{seconds:.2f} s** (target < 10 s) -> {s.units} units, "
            f"{s.minutes:.0f} min, {s.cards} cards, {s.words:,} words."
        )
    lines.append(
        f"- Machine: {platform.machine()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} cores; {time.strftime('%Y-%m-%d')}."
    )
    print("\n".join(lines))
    write_section("import", "\n".join(lines))


if __name__ == "__main__":
    main()
