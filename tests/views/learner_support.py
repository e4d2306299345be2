"""Support for learner view tests: the live tool with the xAPI tables, and a demo course's cards."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from bs4 import BeautifulSoup
from sqlalchemy import select

from lti_tool.demo import platform as demo
from lti_tool.models import Context, Unit
from tests.lti.lms import TestLms
from tests.scheduling.builders import add_card, clear_xapi_tables
from xapi.db import create_xapi_tables

LEARNER = demo.USERS[1]
INSTRUCTOR = demo.USERS[0]


@pytest.fixture
def lms(live: Any) -> Iterator[TestLms]:
    """The in-test LMS against the live tool, with the xAPI outbox tables in place."""
    create_xapi_tables(live.db.engine)
    yield TestLms(live)
    clear_xapi_tables(live.settings.database_url)


def publish_cards(
    live: Any, units: int = 2, per_unit: int = 2, critical: bool = False
) -> list[int]:
    """Units and published single-choice cards in the demo course (after a first launch)."""
    ids = []
    with live.db.session() as session:
        context = session.scalars(
            select(Context).where(Context.context_id == demo.CONTEXT_ID)
        ).one()
        for u in range(units):
            unit = Unit(
                context_id=context.id,
                key=f"unit-{u}",
                position=u,
                title=f"Lockout step {u}",
                body_html=f"<p>How to do step {u} safely.</p>",
                critical=critical,
            )
            session.add(unit)
            session.flush()
            for c in range(per_unit):
                ids.append(add_card(session, context.id, unit.id, f"u{u}c{c}").id)
    return ids


def page(response: requests.Response) -> BeautifulSoup:
    """The parsed HTML of a response."""
    return BeautifulSoup(response.text, "html.parser")


def answer_form(html: BeautifulSoup) -> tuple[str, dict[str, str]]:
    """The answer form's action and hidden fields."""
    form = html.find("form", id="answer-form")
    assert form is not None, html.get_text()[:500]
    fields = {i["name"]: i.get("value", "") for i in form.find_all("input", type="hidden")}
    return str(form["action"]), fields
