"""LRS client against the embedded LRS over real HTTP, plus transport failures and OAuth2."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from flask import Flask, jsonify, request
from werkzeug.serving import make_server

from xapi import vocabulary as v
from xapi.client import LrsClient, LrsConfig, OAuth2Credentials
from xapi.exceptions import LrsAuthError, LrsConflictError, LrsRejectedError, LrsTransportError
from xapi.statements import statement_dict


def _body(builder, make_answer, **kw) -> dict:
    return statement_dict(builder.build(make_answer(**kw)))


def test_about_lists_both_versions(lrs_client):
    """About answers the versions the embedded LRS speaks."""
    assert set(lrs_client.about()["version"]) == {"1.0.3", "2.0.0"}


def test_posted_batch_reads_back_by_id(lrs_client, builder, make_answer):
    """A POSTed batch is stored under the ids the events fixed."""
    bodies = [_body(builder, make_answer) for _ in range(3)]
    ids = lrs_client.post_statements(bodies)
    assert ids == [b["id"] for b in bodies]
    stored = lrs_client.get_statement(bodies[1]["id"])
    assert stored["verb"]["id"] == v.VERB_ANSWERED
    assert stored["authority"]["account"]["name"] == "tenant-a"


def test_put_of_the_same_statement_twice_is_idempotent(lrs_client, builder, make_answer):
    """PUT with the same id and body twice leaves one statement."""
    body = _body(builder, make_answer)
    lrs_client.put_statement(body)
    lrs_client.put_statement(body)
    page = lrs_client.get_statements(verb=v.VERB_ANSWERED)
    assert [s["id"] for s in page.statements] == [body["id"]]


def test_put_of_another_body_under_a_known_id_is_a_conflict(lrs_client, builder, make_answer):
    """A different statement under a known id raises LrsConflictError (409)."""
    body = _body(builder, make_answer)
    lrs_client.put_statement(body)
    other = dict(body, result={"success": False})
    with pytest.raises(LrsConflictError):
        lrs_client.put_statement(other)


def test_invalid_statement_is_rejected_with_the_lrs_message(lrs_client, builder, make_answer):
    """A 400 raises LrsRejectedError carrying the LRS's explanation."""
    body = _body(builder, make_answer)
    body["result"]["score"]["scaled"] = 7
    with pytest.raises(LrsRejectedError) as caught:
        lrs_client.post_statements([body])
    assert "scaled" in caught.value.message


def test_filters_and_more_paging_return_every_match_once(lrs_client, builder, make_answer, learner):
    """agent+verb filters with limit follow `more` links to all matches, newest first."""
    bodies = [_body(builder, make_answer) for _ in range(7)]
    lrs_client.post_statements(bodies)
    agent = {"account": {"homePage": learner.issuer, "name": learner.sub}}
    first = lrs_client.get_statements(agent=agent, verb=v.VERB_ANSWERED, limit=3)
    assert len(first.statements) == 3
    assert first.more.startswith("/xapi/statements?more=")
    found = [
        s["id"] for s in lrs_client.iter_statements(agent=agent, verb=v.VERB_ANSWERED, limit=3)
    ]
    assert sorted(found) == sorted(b["id"] for b in bodies)
    assert len(found) == len(set(found))


def test_tenants_never_see_each_others_statements(live_lrs, builder, make_answer):
    """Statements are isolated per tenant credentials."""
    body = _body(builder, make_answer)
    with live_lrs.client() as a, live_lrs.client("tenant-b", "secret-b") as b:
        a.post_statements([body])
        assert b.get_statements().statements == []
        assert [s["id"] for s in a.get_statements().statements] == [body["id"]]


def test_wrong_credentials_raise_auth_error(live_lrs):
    """401 becomes LrsAuthError."""
    with live_lrs.client("tenant-a", "wrong") as client, pytest.raises(LrsAuthError):
        client.get_statements()


def test_unreachable_lrs_raises_transport_error(live_lrs):
    """A stopped LRS gives LrsTransportError, not an OS exception."""
    live_lrs.stop()
    with live_lrs.client() as client, pytest.raises(LrsTransportError):
        client.about()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A socket that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    yield server.getsockname()[1]
    server.close()


def test_silent_lrs_times_out_instead_of_hanging(silent_port):
    """Every request has a timeout (tincan has none)."""
    config = LrsConfig(f"http://127.0.0.1:{silent_port}/xapi", timeout=0.3)
    with LrsClient(config) as client, pytest.raises(LrsTransportError, match="timed out"):
        client.about()


def test_version_header_follows_the_configured_version(live_lrs, builder, make_answer):
    """A 2.0.0 client sends 2.0 bodies (contextAgents) that the LRS stores as 2.0.0."""
    body = statement_dict(builder.build(make_answer()), v.XAPI_VERSION_2)
    with live_lrs.client(version=v.XAPI_VERSION_2) as client:
        client.post_statements([body])
        stored = client.get_statement(body["id"])
    assert stored["version"] == "2.0.0"
    assert stored["context"]["contextAgents"][0]["objectType"] == "contextAgent"


@pytest.fixture
def oauth_lrs() -> Iterator[tuple[str, list[str]]]:
    """A tiny OAuth2-protected LRS: /token (client credentials) and /xapi/about (Bearer)."""
    app = Flask("oauth-lrs")
    issued: list[str] = []

    @app.post("/token")
    def token():
        if request.authorization is None or request.authorization.password != "cs":
            return jsonify(error="invalid_client"), 401
        issued.append(f"tok-{len(issued)}")
        return jsonify(access_token=issued[-1], token_type="Bearer", expires_in=3600)

    @app.get("/xapi/about")
    def about():
        if request.headers.get("Authorization") != f"Bearer {issued[-1] if issued else ''}":
            return jsonify(error="bad token"), 401
        return jsonify(version=[request.headers.get(v.VERSION_HEADER)])

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", issued
    server.shutdown()


def test_oauth2_client_credentials_fetch_a_token_once_and_reuse_it(oauth_lrs):
    """The client fetches one bearer token and reuses it while it is valid."""
    base, issued = oauth_lrs
    creds = OAuth2Credentials(f"{base}/token", "client", "cs")
    with LrsClient(LrsConfig(f"{base}/xapi", creds)) as client:
        assert client.about() == {"version": ["1.0.3"]}
        assert client.about() == {"version": ["1.0.3"]}
    assert issued == ["tok-0"]


def test_oauth2_refused_client_raises_auth_error(oauth_lrs):
    """A refused client secret is an LrsAuthError."""
    base, _issued = oauth_lrs
    creds = OAuth2Credentials(f"{base}/token", "client", "wrong")
    with LrsClient(LrsConfig(f"{base}/xapi", creds)) as client, pytest.raises(LrsAuthError):
        client.about()
