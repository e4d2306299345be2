"""The demo course's content, so a newcomer's first launch shows a real review.

On first start in demo mode the demo course gets five micro-units (split from
sample_course.md by the normal import pipeline, with its drafted cloze and recall cards left
as drafts for the instructor to review) and ten published question cards written by hand.
It runs once: a course that already has units is left alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.course_content import add_manual_card
from lti_tool.course_import import persist
from lti_tool.db import utcnow
from lti_tool.demo.platform import CONTEXT_ID, CONTEXT_TITLE, DEPLOYMENT_ID
from lti_tool.ingest import importer
from lti_tool.ingest.cards import CardKind
from lti_tool.ingest.splitter import SplitOptions
from lti_tool.models import CardStatus, Context, Deployment, Platform, Unit
from lti_tool.upsert import upsert

SOURCE = Path(__file__).with_name("sample_course.md")
# Short sections, one unit each: the demo shows several units in a few minutes of reading.
_SPLIT = SplitOptions(min_minutes=0.3, max_minutes=1.5, target_minutes=1.0)

# (unit title, kind, prompt, [(choice, correct)], why)
QUESTIONS: list[tuple[str, CardKind, str, list[tuple[str, bool]], str]] = [
    (
        "Report every near miss",
        CardKind.SINGLE_CHOICE,
        "A box falls from a shelf where a colleague stood a minute earlier. What do you do?",
        [
            ("Report it as a near miss before the end of your shift", True),
            ("Nothing: nobody was hurt", False),
            ("Report the colleague who stacked the shelf", False),
        ],
        "Near misses are free lessons: report the hazard, not the person, the same shift.",
    ),
    (
        "Report every near miss",
        CardKind.TRUE_FALSE,
        "A near-miss report should name the colleague who caused it.",
        [("True", False), ("False", True)],
        "The report is about the hazard. Blame stops people from reporting.",
    ),
    (
        "Lift and carry safely",
        CardKind.SINGLE_CHOICE,
        "Above which weight does a load need two people or a lifting aid?",
        [("10 kg", False), ("25 kg", True), ("40 kg", False)],
        "Anything above 25 kg: use a second person, a trolley or a pallet truck.",
    ),
    (
        "Lift and carry safely",
        CardKind.SINGLE_CHOICE,
        "You need to turn while carrying a load. How?",
        [
            ("Move your feet", True),
            ("Twist at the waist, keeping your feet still", False),
            ("Lift the load higher first", False),
        ],
        "Twisting with a load is how most back injuries happen: turn with your feet.",
    ),
    (
        "Fire: raise the alarm first",
        CardKind.SINGLE_CHOICE,
        "You discover a fire. What comes first?",
        [
            ("Raise the alarm at the nearest call point", True),
            ("Fetch an extinguisher", False),
            ("Collect your belongings", False),
        ],
        "Alarm first, then the emergency number, then leave by the nearest safe exit.",
    ),
    (
        "Fire: raise the alarm first",
        CardKind.TRUE_FALSE,
        "A water extinguisher is fine on a burning computer.",
        [("True", False), ("False", True)],
        "Never use water on electrical fires: use carbon dioxide.",
    ),
    (
        "Lock out before maintenance",
        CardKind.SINGLE_CHOICE,
        "Three people will clear a jam in one machine. How many padlocks go on it?",
        [("One, the supervisor's", False), ("Three, one each", True), ("None if it is off", False)],
        "Everyone fits their own lock: the machine restarts only when the last lock is off.",
    ),
    (
        "Lock out before maintenance",
        CardKind.SINGLE_CHOICE,
        "The machine is switched off and locked. What do you do before touching it?",
        [
            ("Try to start it with its normal controls", True),
            ("Nothing more: it is safe", False),
            ("Unplug your padlock to check the key", False),
        ],
        "Test before you touch: prove the isolation, then set the controls back to off.",
    ),
    (
        "Spills, slips and trips",
        CardKind.SINGLE_CHOICE,
        "You see a spill in a corridor but you are in a hurry. What do you do?",
        [
            ("Stay with it or sign it, then clean it up or report it", True),
            ("Step around it and mention it later", False),
            ("Leave it: cleaning is someone else's job", False),
        ],
        "Never walk past a spill: slips cause more injuries than any machine.",
    ),
    (
        "Spills, slips and trips",
        CardKind.TRUE_FALSE,
        "Slips and trips cause more workplace injuries than machines do.",
        [("True", True), ("False", False)],
        "Wet floors, trailing cables and clutter are the usual causes.",
    ),
]


def seed_sample_course(session: Session, platform: Platform) -> bool:
    """Give the demo course its units and cards unless it has some; True if it seeded."""
    deployment = session.scalars(
        select(Deployment).where(
            Deployment.platform_id == platform.id, Deployment.deployment_id == DEPLOYMENT_ID
        )
    ).one()
    context_id = upsert(
        session,
        Context,
        {"platform_id": platform.id, "context_id": CONTEXT_ID},
        {"deployment_id": deployment.id, "title": CONTEXT_TITLE},
        {"created_at": utcnow()},
    )
    if session.scalar(select(Unit.id).where(Unit.context_id == context_id).limit(1)):
        return False
    options = importer.ImportOptions(split=_SPLIT)
    persist(
        session, context_id, importer.build_result(importer.read_course(SOURCE, options), options)
    )
    units = {u.title: u for u in session.scalars(select(Unit).where(Unit.context_id == context_id))}
    for title, kind, prompt, choices, why in QUESTIONS:
        card = add_manual_card(
            session, context_id, units[title], kind, f"<p>{prompt}</p>", _data(choices)
        )
        card.feedback_html = f"<p>{why}</p>"
        card.status = CardStatus.PUBLISHED
    session.flush()
    return True


def _data(choices: list[tuple[str, bool]]) -> dict[str, Any]:
    letters = "abcdefgh"
    return {
        "choices": [
            {"ident": letters[i], "text": text, "correct": correct}
            for i, (text, correct) in enumerate(choices)
        ]
    }
