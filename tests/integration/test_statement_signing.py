"""Signed statements end to end: the tool signs at delivery, `xapi verify` checks them."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

from click.testing import CliRunner
from sqlalchemy import select

from lti_tool.cli import main
from lti_tool.db import utcnow
from lti_tool.demo import platform as demo
from lti_tool.jobs import run_xapi_forwarding
from lti_tool.lrs_connections import connection, lrs_config, lrs_key, set_external
from lti_tool.lti.keys import generate_key_pair, retire_keys, rotate_key
from lti_tool.models import Context, Platform, ToolKey
from tests.lti.lms import TestLms
from xapi import events as xev
from xapi.client import LrsClient
from xapi.lrs.models import LrsStatement
from xapi.outbox import enqueue
from xapi.signing import StatementSigner, signed_request
from xapi.statements import StatementBuilder, statement_dict
from xapi.vocabulary import InteractionType, Vocabulary


def _launch(live) -> tuple[int, Platform]:
    """A learner launch: creates the course and one `launched` statement in the outbox."""
    TestLms(live).launch(user=demo.USERS[1])
    with live.db.session() as s:
        context = s.scalars(select(Context)).one()
        platform = s.get(Platform, context.platform_id)
        s.expunge(platform)
    return context.id, platform


def _answers(live, course_pk: int, platform: Platform, count: int) -> list[dict]:
    """Answer statements for the course, written through the outbox as the tool does."""
    builder = StatementBuilder(Vocabulary(live.url))
    bodies = []
    with live.db.session() as s:
        for index in range(count):
            event = xev.CardAnswered(
                actor=xev.Actor(issuer=platform.issuer, sub=f"learner-{index % 3}"),
                placement=xev.Placement(
                    course=xev.ActivityRef(id=str(course_pk), title="Safety"),
                    registration=uuid.uuid4(),
                    lti=xev.LtiContext(deployment_id=demo.DEPLOYMENT_ID),
                ),
                occurred_at=utcnow() - timedelta(minutes=index),
                card=xev.CardInteraction(
                    card_id=f"c{index}",
                    title="Lockout",
                    prompt="Locked out?",
                    interaction_type=InteractionType.TRUE_FALSE,
                    correct_responses=("true",),
                ),
                unit=xev.ActivityRef(id="u1", title="Lockout procedure", critical=True),
                result=xev.AnswerResult(
                    response="true", success=True, duration=timedelta(seconds=4.5)
                ),
                memory=xev.MemoryState(0.9, 10.0, utcnow() + timedelta(days=5)),
            )
            body = statement_dict(builder.build(event))
            enqueue(s, body, lrs_key(platform.id))
            bodies.append(body)
    return bodies


def _forward(live, *, signed: bool) -> int:
    settings = live.settings.model_copy(update={"xapi_sign_statements": signed})
    return run_xapi_forwarding(live.db, settings).handled


def _verify(live, *args: str):
    env = {
        "MICROREVIEW_DATABASE_URL": live.settings.database_url,
        "MICROREVIEW_BASE_URL": live.url,
        "MICROREVIEW_SECRET_KEY": live.settings.secret_key,
    }
    return CliRunner().invoke(main, ["xapi", "verify", *args], env=env, catch_exceptions=False)


def _client(live, platform: Platform) -> LrsClient:
    box = live.app.extensions["microreview"].box
    with live.db.session() as s:
        return LrsClient(lrs_config(connection(s, platform.id, box), live.url, box, 5))


def test_signed_statements_verify_and_a_tampered_one_is_reported(live):
    """Signing on: launch and answers verify; one altered in the LRS's table fails, exit 1."""
    course_pk, platform = _launch(live)
    _answers(live, course_pk, platform, 4)
    assert _forward(live, signed=True) == 5
    out = _verify(live, "--issuer", platform.issuer)
    assert out.exit_code == 0, out.output
    assert out.output == "5 statement(s) checked: 5 signed and valid, 0 unsigned, 0 invalid\n"
    course = _verify(live, "--issuer", platform.issuer, "--context-id", demo.CONTEXT_ID)
    assert course.output.startswith("5 statement(s) checked: 5 signed and valid")

    with live.db.session() as s:
        row = s.scalars(select(LrsStatement).where(LrsStatement.verb.like("%answered"))).first()
        statement = json.loads(row.payload)
        statement["result"]["response"] = "false"
        statement["result"]["success"] = False
        row.payload = json.dumps(statement)
        tampered = str(row.statement_id)
    out = _verify(live, "--format", "json")
    assert out.exit_code == 1
    report = json.loads(out.output)
    assert (report["checked"], report["valid"], report["invalid"]) == (5, 4, 1)
    assert report["invalid_statements"] == [
        {"id": tampered, "reason": "statement differs from its signed payload in: result"}
    ]
    text = _verify(live)
    assert text.exit_code == 1
    assert f"invalid {tampered}: statement differs" in text.output


def test_statements_signed_before_a_key_rotation_still_verify(live):
    """Old key rotated out and retired from the JWKS: its statements verify by kid from the DB."""
    course_pk, platform = _launch(live)
    _answers(live, course_pk, platform, 2)
    assert _forward(live, signed=True) == 3
    with live.db.session() as s:
        old = s.scalars(select(ToolKey.kid)).one()
        new = rotate_key(s).kid
    with live.db.session() as s:
        assert retire_keys(s) == [old]
    _answers(live, course_pk, platform, 2)
    assert _forward(live, signed=True) == 2
    out = _verify(
        live, "--issuer", platform.issuer, "--client-id", platform.client_id, "--format", "json"
    )
    assert out.exit_code == 0, out.output
    report = json.loads(out.output)
    assert report["valid_by_kid"] == {old: 3, new: 2}


def test_unsigned_statements_are_counted_and_fail_only_when_required(live):
    """Signing off: statements are reported unsigned; --require-signed makes that a failure."""
    course_pk, platform = _launch(live)
    bodies = _answers(live, course_pk, platform, 2)
    assert _forward(live, signed=False) == 3
    out = _verify(live)
    assert out.exit_code == 0, out.output
    assert "0 signed and valid, 3 unsigned, 0 invalid" in out.output
    strict = _verify(live, "--require-signed")
    assert strict.exit_code == 1
    assert all(f"unsigned {body['id']}" in strict.output for body in bodies)


def test_statement_signed_by_an_unknown_key_is_invalid(live):
    """A statement signed with a key the tool never had fails, naming the kid."""
    course_pk, platform = _launch(live)
    assert _forward(live, signed=True) == 1
    pem, public = generate_key_pair()
    (body,) = _answers(live, course_pk, platform, 1)
    content, content_type = signed_request(
        StatementSigner.from_pem(pem, public["kid"]), [json.dumps(body)], batch=False
    )
    with _client(live, platform) as client:
        client.request(
            "PUT",
            "statements",
            params={"statementId": body["id"]},
            content=content,
            headers={"Content-Type": content_type},
        )
    out = _verify(live)
    assert out.exit_code == 1
    assert f"invalid {body['id']}: signed by an unknown key (kid {public['kid']})" in out.output
    assert "1 signed and valid, 0 unsigned, 1 invalid" in out.output


def test_lrs_errors_are_one_line(live):
    """An unreachable LRS or refused credentials: one line saying which LRS, exit non-zero."""
    _, platform = _launch(live)
    box = live.app.extensions["microreview"].box
    # Port 9 refuses connections; the embedded LRS knows no user "nobody" (401).
    for endpoint, username in (("http://127.0.0.1:9/xapi/", "x"), (live.url + "/xapi/", "nobody")):
        with live.db.session() as s:
            set_external(
                s,
                s.get(Platform, platform.id),
                box,
                endpoint=endpoint,
                auth="basic",
                username=username,
                secret="wrong",
            )
        out = _verify(live, "--issuer", platform.issuer)
        assert out.exit_code == 1
        (line,) = out.output.strip().splitlines()
        assert line.startswith(f"Error: cannot read statements from {endpoint}")
    bad = _verify(live, "--since", "yesterday")
    assert bad.exit_code == 2 and "--since" in bad.output
    assert "--context-id needs --issuer" in _verify(live, "--context-id", "c").output
