"""Fixtures for course-material tests: a course in the database, a live tool, course builders."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from lti_tool.db import Database
from lti_tool.demo import platform as demo
from lti_tool.jobs import create_jobs
from lti_tool.lti import claims
from lti_tool.models import Context, Platform
from lti_tool.settings import Settings
from lti_tool.views.course_content import JOBS_KEY
from tests.conftest import FIXTURES, LiveServer
from tests.lti.lms import TestLms

INSTRUCTOR, LEARNER = demo.USERS[0], demo.USERS[1]
TOPICS = {
    "lockout": ("lockout", "energy isolation", "padlock", "maintenance crew", "conveyor"),
    "forklift": ("forklift", "load capacity", "mast", "pedestrian aisle", "pallet"),
    "chemicals": ("solvent", "safety data sheet", "fume hood", "spill kit", "respirator"),
    "firstaid": ("first aid", "tourniquet", "bleeding", "casualty", "defibrillator"),
}
SENTENCES = (
    "Before any work on the {0}, the supervisor checks that the {1} procedure was followed.",
    "Every {2} is labelled with the name of the person who applied it to the {4}.",
    "The {3} reviews the {1} steps at the start of each shift and records the result.",
    "A missing {2} is reported at once, because the {0} may start without warning.",
    "Training on the {0} covers the {1} rules, the {3} duties and the care of the {4}.",
    "Visitors never approach the {4} while the {3} is working on the {0}.",
)


@dataclass
class Course:
    """A course row to import into, and the database it lives in."""

    db: Database
    settings: Settings
    context_id: int


@pytest.fixture
def fixtures() -> Path:
    """Folder of the real course exports shared beside the repository."""
    if not FIXTURES.is_dir():
        pytest.skip(f"course fixtures not found at {FIXTURES} (set MICROREVIEW_FIXTURES)")
    return FIXTURES


@pytest.fixture
def course(database_url: str, tmp_path: Path) -> Iterator[Course]:
    """A platform with one course (context), on each database backend."""
    settings = Settings(
        env="test",
        database_url=database_url,
        secret_key="s" * 40,
        huey_sqlite_path=str(tmp_path / "instance" / "huey.db"),
    )
    db = Database(database_url)
    with db.session() as session:
        platform = Platform(
            name="LMS",
            issuer="https://lms.example",
            client_id="c-1",
            auth_login_url="https://lms.example/auth",
            auth_token_url="https://lms.example/token",
            key_set_url="https://lms.example/jwks",
        )
        session.add(platform)
        session.flush()
        context = Context(platform_id=platform.id, context_id="SAFE-101", title="Safety")
        session.add(context)
        session.flush()
        context_id = context.id
    yield Course(db, settings, context_id)
    db.engine.dispose()


def topic_page(name: str, words: int = 700, variant: str = "") -> str:
    """A Markdown page about one topic of roughly ``words`` words (``variant`` changes it)."""
    terms = TOPICS[name]
    body, count, i = [f"# {terms[0].title()} {variant}".strip(), ""], 0, 0
    while count < words:
        paragraph = " ".join(SENTENCES[(i + j) % len(SENTENCES)].format(*terms) for j in range(4))
        if variant:
            paragraph += f" In the {variant} edition the {terms[2]} check happens twice a day."
        body += [paragraph, ""]
        count += len(paragraph.split())
        i += 1
    return "\n".join(body)


def write_course(folder: Path, pages: dict[str, str]) -> Path:
    """A folder of Markdown pages (file name -> text); returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.md"):
        old.unlink()
    for name, text in pages.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def content_live(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    """The tool live on loopback, with imports run at once (Huey immediate) in the request."""
    from lti_tool.lti.keys import ensure_key

    server = LiveServer(database_url, huey_sqlite_path=str(tmp_path / "instance" / "huey.db"))
    with server.db.session() as session:
        ensure_key(session)
        demo.DemoPlatform(server.url).ensure_registered(session)
    server.app.extensions[JOBS_KEY] = create_jobs(server.settings, immediate=True)
    yield server
    server.stop()


@pytest.fixture
def lms(content_live: LiveServer) -> TestLms:
    """The in-test LMS, registered with the live tool."""
    return TestLms(content_live)


def launch(lms: TestLms, user: demo.DemoUser, context: str = "") -> tuple[requests.Session, str]:
    """Launch as ``user`` into the demo course, or into another course ``context`` of the LMS."""
    login = lms.login()
    overrides: dict[str, object] = {}
    if context:
        overrides = {
            claims.CONTEXT: {"id": context, "title": f"Course {context}"},
            claims.NRPS: None,
        }
    response = lms.post_launch(login, lms.sign(lms.claims(login.nonce, user=user, **overrides)))
    assert response.status_code == 303, response.text
    token = parse_qs(urlparse(response.headers["Location"]).query)["lt"][0]
    return login.browser, token
