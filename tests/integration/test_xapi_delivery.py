"""Launches and answers reach the platform's LRS over HTTP; operators see and steer delivery."""

from __future__ import annotations

import json

import requests
from click.testing import CliRunner
from sqlalchemy import select

from lti_tool.cli import main
from lti_tool.demo import platform as demo
from lti_tool.jobs import run_xapi_forwarding
from lti_tool.lrs_connections import connection, lrs_config
from lti_tool.models import Platform
from tests.lti.lms import TestLms
from xapi.outbox import OutboxEntry


def _embedded_credentials(live):
    with live.db.session() as s:
        platform = s.scalars(select(Platform)).first()
        config = lrs_config(
            connection(s, platform.id, live.app.extensions["microreview"].box),
            live.url,
            live.app.extensions["microreview"].box,
            5,
        )
    return config.endpoint, (config.credentials.username, config.credentials.password)


def test_launch_statement_is_delivered_to_the_embedded_lrs(live):
    """A learner launch writes 'launched' in the outbox; the forwarder delivers it once."""
    lms = TestLms(live)
    assert lms.launch(user=demo.USERS[1]).status_code == 303
    with live.db.session() as s:
        assert len(s.scalars(select(OutboxEntry)).all()) == 1
    report = run_xapi_forwarding(live.db, live.settings)
    assert report.handled == 1
    assert run_xapi_forwarding(live.db, live.settings).handled == 0
    endpoint, auth = _embedded_credentials(live)
    agent = {
        "objectType": "Agent",
        "account": {"homePage": lms.platform.issuer, "name": demo.USERS[1].sub},
    }
    found = requests.get(
        endpoint + "statements",
        auth=auth,
        headers={"X-Experience-API-Version": "1.0.3"},
        params={"agent": json.dumps(agent)},
    ).json()["statements"]
    assert [st["verb"]["id"] for st in found] == ["http://adlnet.gov/expapi/verbs/launched"]
    assert found[0]["context"]["registration"]
    assert (
        requests.get(
            endpoint + "statements",
            auth=(auth[0], "wrong"),
            headers={"X-Experience-API-Version": "1.0.3"},
        ).status_code
        == 401
    )


def test_anonymous_launch_records_nothing(live):
    """A launch without a user id writes no statement."""
    assert TestLms(live).launch(sub=None).status_code == 303
    with live.db.session() as s:
        assert s.scalars(select(OutboxEntry)).all() == []


def _cli(live, *args):
    env = {
        "MICROREVIEW_DATABASE_URL": live.settings.database_url,
        "MICROREVIEW_BASE_URL": live.url,
        "MICROREVIEW_SECRET_KEY": live.settings.secret_key,
    }
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_operator_commands_show_test_and_switch_the_lrs(live):
    """status, lrs test (real HTTP round trip), lrs set to an unreachable LRS, retry."""
    TestLms(live).launch(user=demo.USERS[1])
    platform = ["--issuer", live.url + "/demo", "--client-id", demo.CLIENT_ID]
    assert "1 pending" in _cli(live, "xapi", "status").output
    tested = _cli(live, "xapi", "lrs", "test", *platform)
    assert tested.exit_code == 0 and "Read back" in tested.output
    switched = _cli(
        live,
        "xapi",
        "lrs",
        "set",
        *platform,
        "--endpoint",
        "http://127.0.0.1:9/xapi/",
        "--username",
        "k",
        "--secret",
        "s",
    )
    assert switched.exit_code == 0
    assert "127.0.0.1:9" in _cli(live, "xapi", "lrs", "show", *platform).output
    failed = _cli(live, "xapi", "lrs", "test", *platform)
    assert failed.exit_code == 1 and "FAILED" in failed.output
    assert run_xapi_forwarding(live.db, live.settings).handled == 1  # tried, kept pending
    status = _cli(live, "xapi", "status", "--json")
    assert json.loads(status.output)[0]["pending"] == 1
    assert _cli(live, "xapi", "lrs", "embedded", *platform).exit_code == 0
    assert "queued" in _cli(live, "xapi", "retry").output
    assert run_xapi_forwarding(live.db, live.settings).handled == 1
    assert "outbox empty" in _cli(live, "xapi", "status").output


def test_lrs_secrets_are_stored_encrypted(live):
    """The stored secret is not the plaintext."""
    from lti_tool.models import LrsConnection

    _, (_, password) = _embedded_credentials(live)
    with live.db.session() as s:
        row = s.scalars(select(LrsConnection)).one()
        assert password not in row.secret_sealed
