"""The compliance report, built from LRS statements alone (not from the tool's own tables).

Per learner and unit (critical units by default): when they last answered and last showed
mastery, their success rate, and their predicted retention now from the FSRS memory numbers
the answers carry.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from fsrs.scheduler import FSRS_DEFAULT_DECAY

from xapi import vocabulary as v

_FACTOR = 0.9 ** (-1 / FSRS_DEFAULT_DECAY) - 1


def retention(stability_days: float, elapsed_days: float) -> float:
    """FSRS forgetting curve: the chance of recall after elapsed_days at this stability."""
    if stability_days <= 0:
        return 0.0
    return float((1 + _FACTOR * max(elapsed_days, 0.0) / stability_days) ** -FSRS_DEFAULT_DECAY)


@dataclass
class _Tally:
    title: str = ""
    critical: bool = False
    answers: int = 0
    correct: int = 0
    last_answered: datetime | None = None
    last_mastered: datetime | None = None
    cards: dict[str, tuple[datetime, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class ReportRow:
    """One learner on one unit."""

    learner: str
    unit: str
    unit_title: str
    critical: bool
    last_answered: str | None
    last_mastered: str | None
    answers: int
    success_rate: float | None
    predicted_retention: float | None


def _time(statement: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(statement["timestamp"].replace("Z", "+00:00"))


def _learner(statement: dict[str, Any]) -> str | None:
    account = statement.get("actor", {}).get("account") or {}
    return f"{account.get('homePage')}|{account.get('name')}" if account.get("name") else None


def _unit_info(activity: dict[str, Any], vocab: v.Vocabulary) -> tuple[str, str, bool]:
    definition = activity.get("definition") or {}
    title = next(iter((definition.get("name") or {}).values()), activity["id"])
    critical = bool((definition.get("extensions") or {}).get(vocab.extension(v.EXT_CRITICAL)))
    return activity["id"], str(title), critical


def _tally(
    statements: Iterable[dict[str, Any]], vocab: v.Vocabulary
) -> dict[tuple[str, str], _Tally]:
    tallies: dict[tuple[str, str], _Tally] = defaultdict(_Tally)
    stability_key = vocab.extension(v.EXT_STABILITY)
    unit_prefix = vocab.activity(v.ActivityKind.UNIT, "")
    for st in statements:
        learner, verb = _learner(st), st.get("verb", {}).get("id")
        if learner is None:
            continue
        if verb == v.VERB_ANSWERED:
            parents = st.get("context", {}).get("contextActivities", {}).get("parent") or []
            unit = next((p for p in parents if p.get("id", "").startswith(unit_prefix)), None)
            if unit is None:
                continue
            unit_id, title, critical = _unit_info(unit, vocab)
            t = tallies[(learner, unit_id)]
            t.title, t.critical = title, t.critical or critical
            when = _time(st)
            t.answers += 1
            t.correct += 1 if st.get("result", {}).get("success") else 0
            t.last_answered = max(filter(None, (t.last_answered, when)))
            stability = (st.get("result", {}).get("extensions") or {}).get(stability_key)
            card = st["object"]["id"]
            if stability is not None and (card not in t.cards or t.cards[card][0] < when):
                t.cards[card] = (when, float(stability))
        elif verb == v.VERB_MASTERED:
            unit_id, title, critical = _unit_info(st["object"], vocab)
            t = tallies[(learner, unit_id)]
            t.title, t.critical = t.title or title, t.critical or critical
            t.last_mastered = max(filter(None, (t.last_mastered, _time(st))))
    return tallies


def build_report(
    statements: Iterable[dict[str, Any]],
    vocab: v.Vocabulary,
    now: datetime,
    critical_only: bool = True,
) -> list[ReportRow]:
    """Rows per learner and unit, from the statements of one course."""
    rows = []
    for (learner, unit), t in sorted(_tally(statements, vocab).items()):
        if critical_only and not t.critical:
            continue
        recall = [
            retention(s, (now - when).total_seconds() / 86400) for when, s in t.cards.values()
        ]
        rows.append(
            ReportRow(
                learner=learner,
                unit=unit,
                unit_title=t.title,
                critical=t.critical,
                last_answered=t.last_answered.isoformat() if t.last_answered else None,
                last_mastered=t.last_mastered.isoformat() if t.last_mastered else None,
                answers=t.answers,
                success_rate=round(t.correct / t.answers, 4) if t.answers else None,
                predicted_retention=round(sum(recall) / len(recall), 4) if recall else None,
            )
        )
    return rows


def render(rows: list[ReportRow], fmt: str) -> str:
    """The report as CSV or JSON text."""
    if fmt == "json":
        return json.dumps([asdict(r) for r in rows], indent=2)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(ReportRow.__dataclass_fields__))
    writer.writeheader()
    for row in rows:
        writer.writerow(asdict(row))
    return out.getvalue()
