"""What a reminder says: per course, a signed review link and an LMS link; rendered in bulk.

Everything a batch of reminders needs is read in a few set-based queries (courses once per
sweep, placements once per batch), so rendering a message touches no database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from jinja2 import Environment, FileSystemLoader, Template, select_autoescape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_tool.models import Context, Placement, Platform
from lti_tool.models.review import CourseSchedule, ReviewSession
from lti_tool.scheduling.bulk import among
from lti_tool.scheduling.course_settings import LinkSecrets
from lti_tool.scheduling.links import SessionLink
from lti_tool.scheduling.mailer import Mail
from lti_tool.settings import PROJECT_ROOT

if TYPE_CHECKING:
    from lti_tool.scheduling.reminders import Recipient, ReminderConfig

CHUNK = 900  # stays under SQLite's bound-parameter limit

# Mail templates ship with the code: no need to stat them for changes on every message.
templates = Environment(
    loader=FileSystemLoader(str(PROJECT_ROOT / "templates")),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,
)


@dataclass(frozen=True)
class CourseInfo:
    """A course as reminders name it: its title and where it lives in the LMS."""

    title: str
    course_url: str


@dataclass(frozen=True)
class CourseLink:
    """One course in a reminder: its title, what is due, and where to go."""

    title: str
    count: int
    session_url: str
    course_url: str


def course_infos(session: Session, context_ids: Iterable[int]) -> dict[int, CourseInfo]:
    """Title and LMS address of each course (one query per chunk of courses)."""
    ids = sorted(set(context_ids))
    found: dict[int, CourseInfo] = {}
    for start in range(0, len(ids), CHUNK):
        rows = session.execute(
            select(
                Context.id,
                Context.title,
                Context.label,
                CourseSchedule.course_url,
                Context.lms_url,
                Platform.issuer,
            )
            .outerjoin(CourseSchedule, CourseSchedule.context_id == Context.id)
            .outerjoin(Platform, Platform.id == Context.platform_id)
            .where(Context.id.in_(ids[start : start + CHUNK]))
        )
        for context_id, title, label, course_url, lms_url, issuer in rows:
            name = title or label or "your course"
            # The instructor's address wins over the one read from launches.
            found[context_id] = CourseInfo(name, course_url or lms_url or issuer or "")
    return found


def placements_of(
    session: Session, user_ids: list[int], context_ids: Iterable[int]
) -> dict[tuple[int, int], int | None]:
    """Each learner's placement per course: of their latest session, else the course's first."""
    found: dict[tuple[int, int], int | None] = {}
    review = ReviewSession
    latest = (
        select(func.max(review.id))
        .where(among(session, review.user_id, user_ids), review.placement_id.is_not(None))
        .group_by(review.user_id, review.context_id)
    )
    rows = session.execute(
        select(review.user_id, review.context_id, review.placement_id).where(review.id.in_(latest))
    )
    found.update(((user_id, context_id), placement) for user_id, context_id, placement in rows)
    firsts = session.execute(
        select(Placement.context_id, func.min(Placement.id))
        .where(Placement.context_id.in_(sorted(set(context_ids))))
        .group_by(Placement.context_id)
    )
    for context_id, placement in firsts:
        found[(0, context_id)] = placement
    return found


class ReminderWriter:
    """Renders reminder emails from what a batch has loaded."""

    def __init__(self, config: ReminderConfig, courses: dict[int, CourseInfo]):
        self.config = config
        self.courses = courses
        self._text: Template = templates.get_template("email/reminder.txt")
        self._html: Template = templates.get_template("email/reminder.html")

    def links(
        self,
        recipient: Recipient,
        generation: int,
        placements: dict[tuple[int, int], int | None],
    ) -> list[CourseLink]:
        """A signed review link and an LMS link for each course with due reviews."""
        links = []
        for course in recipient.courses:
            info = self.courses.get(course.context_id)
            if info is None:
                continue
            placement = placements.get(
                (recipient.user_id, course.context_id), placements.get((0, course.context_id))
            )
            link = SessionLink(recipient.user_id, course.context_id, placement, generation)
            token = self.config.signer.session_token(link)
            links.append(
                CourseLink(
                    title=info.title,
                    count=course.count,
                    session_url=f"{self.config.base_url}/reminders/open/{token}",
                    course_url=info.course_url,
                )
            )
        return links

    def mail(self, recipient: Recipient, secrets: LinkSecrets, links: list[CourseLink]) -> Mail:
        """The reminder email of one learner: HTML and plain text, with unsubscribe and calendar."""
        base = self.config.base_url
        token = self.config.signer.unsubscribe_token(recipient.user_id)
        unsubscribe = f"{base}/reminders/unsubscribe/{token}"
        total = sum(link.count for link in links)
        values = {
            "courses": links,
            "total": total,
            "unsubscribe_url": unsubscribe,
            "calendar_url": f"{base}/reminders/calendar/{secrets.feed_secret}.ics",
        }
        return Mail(
            to=recipient.email,
            subject=f"{total} review{'s' if total != 1 else ''} due today",
            text=self._text.render(values),
            html=self._html.render(values),
            headers={
                "List-Unsubscribe": f"<{unsubscribe}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        )
