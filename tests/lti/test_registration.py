"""Dynamic Registration, the Canvas developer key, JWKS and key rotation."""

from __future__ import annotations

import threading

import jwt
import pytest
import requests
from flask import Flask, jsonify, request
from sqlalchemy import select, update
from werkzeug.serving import make_server

from lti_tool import create_app
from lti_tool.demo import platform as demo
from lti_tool.lti import claims
from lti_tool.lti.keys import retire_keys, rotate_key
from lti_tool.models import Deployment, DeploymentStatus, Platform, ToolKey
from tests.lti.lms import form_fields


class RegisteringPlatform:
    """An LMS that serves openid-configuration and accepts registrations (like Moodle)."""

    def __init__(self, product: str = "moodle", token: str = "reg-token-1"):
        app = Flask("platform")
        self.received: list[dict] = []
        self.auth_headers: list[str] = []
        self.token = token

        @app.get("/.well-known/openid-configuration")
        def config():  # type: ignore[no-untyped-def]
            return jsonify(
                {
                    "issuer": self.url,
                    "authorization_endpoint": self.url + "/auth",
                    "token_endpoint": self.url + "/token",
                    "jwks_uri": self.url + "/jwks",
                    "registration_endpoint": self.url + "/register",
                    "https://purl.imsglobal.org/spec/lti-platform-configuration": {
                        "product_family_code": product,
                        "version": "4.5",
                        "messages_supported": [
                            {"type": "LtiResourceLinkRequest"},
                            {"type": "LtiDeepLinkingRequest"},
                        ],
                        "claims_supported": [
                            "iss",
                            "sub",
                            "name",
                            "given_name",
                            "family_name",
                            "email",
                        ],
                    },
                }
            )

        @app.post("/register")
        def register():  # type: ignore[no-untyped-def]
            self.auth_headers.append(request.headers.get("Authorization", ""))
            if request.headers.get("Authorization") != f"Bearer {self.token}":
                return jsonify({"error": "invalid token"}), 401
            body = request.get_json()
            self.received.append(body)
            answer = dict(body)
            answer["client_id"] = "dyn-client-7"
            answer[claims.TOOL_CONFIGURATION] = dict(
                body[claims.TOOL_CONFIGURATION], deployment_id="42"
            )
            return jsonify(answer)

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def registering_platform():
    platform = RegisteringPlatform()
    yield platform
    platform.server.shutdown()


def test_dynamic_registration_registers_platform_and_deployment(live, registering_platform):
    """The tool reads the configuration, registers with the token, stores platform, deployment."""
    p = registering_platform
    page = requests.get(
        live.url + "/lti/register",
        params={
            "openid_configuration": p.url + "/.well-known/openid-configuration",
            "registration_token": p.token,
        },
    )
    assert page.status_code == 200, page.text
    assert "dyn-client-7" in page.text and "pending" in page.text  # Moodle needs activation
    assert "org.imsglobal.lti.close" in page.text
    sent = p.received[0]
    assert sent["initiate_login_uri"] == live.url + "/lti/login"
    assert sent["jwks_uri"] == live.url + "/lti/jwks.json"
    assert claims.SCOPE_SCORE in sent["scope"] and claims.SCOPE_NRPS in sent["scope"]
    types = {m["type"] for m in sent[claims.TOOL_CONFIGURATION]["messages"]}
    assert types == {claims.RESOURCE_LINK_REQUEST, claims.DEEP_LINKING_REQUEST}
    with live.db.session() as s:
        platform = s.scalars(select(Platform).where(Platform.client_id == "dyn-client-7")).one()
        assert platform.issuer == p.url and platform.key_set_url == p.url + "/jwks"
        dep = s.scalars(select(Deployment).where(Deployment.platform_id == platform.id)).one()
        assert (dep.deployment_id, dep.status) == ("42", DeploymentStatus.ACTIVE)


def test_dynamic_registration_reports_refusal_clearly(live, registering_platform):
    """A wrong registration token gives a 400 page naming the refusal; nothing is stored."""
    page = requests.get(
        live.url + "/lti/register",
        params={
            "openid_configuration": registering_platform.url + "/.well-known/openid-configuration",
            "registration_token": "wrong",
        },
    )
    assert page.status_code == 400
    assert "refused the registration (HTTP 401)" in page.text
    with live.db.session() as s:
        assert (
            s.scalars(select(Platform).where(Platform.client_id == "dyn-client-7")).first() is None
        )


def test_dynamic_registration_without_configuration_url_explains(live):
    """Opening the registration page directly says to start from the LMS."""
    page = requests.get(live.url + "/lti/register")
    assert page.status_code == 400
    assert "openid_configuration" in page.text


def test_canvas_developer_key_json(live):
    """The Canvas JSON names the login, launch and JWKS URLs, placements and scopes."""
    data = requests.get(live.url + "/lti/canvas.json").json()
    assert data["oidc_initiation_url"] == live.url + "/lti/login"
    assert data["public_jwk_url"] == live.url + "/lti/jwks.json"
    placements = {p["placement"]: p for p in data["extensions"][0]["settings"]["placements"]}
    assert set(placements) == {"course_navigation", "link_selection", "assignment_selection"}
    assert placements["link_selection"]["message_type"] == claims.DEEP_LINKING_REQUEST
    assert claims.SCOPE_SCORE in data["scopes"]


def test_key_rotation_keeps_old_key_published_until_retired(lms, live):
    """After rotation both keys are in the JWKS and new messages use the new kid."""
    old = requests.get(live.url + "/lti/jwks.json").json()["keys"]
    with live.db.session() as s:
        new_kid = rotate_key(s).kid
    jwks = requests.get(live.url + "/lti/jwks.json").json()["keys"]
    assert {k["kid"] for k in jwks} == {old[0]["kid"], new_kid}
    browser, token = lms.open_as(demo.USERS[0], message="deep_link")
    back = browser.post(live.url + "/lti/deep-link", data={"lt": token, "choice": "daily-review"})
    signed = form_fields(back.text)["JWT"]
    assert jwt.get_unverified_header(signed)["kid"] == new_kid
    assert (
        browser.post(live.url + "/demo/deep-link-return", data={"JWT": signed}).status_code == 200
    )
    with live.db.session() as s:
        assert retire_keys(s) == [old[0]["kid"]]
    assert [k["kid"] for k in requests.get(live.url + "/lti/jwks.json").json()["keys"]] == [new_kid]


def test_health_reports_database_and_key(live):
    """Health is 200 with a key; security headers are present."""
    response = requests.get(live.url + "/health")
    assert response.status_code == 200 and response.json()["signing_key"] == "present"
    assert "script-src 'nonce-" in response.headers["Content-Security-Policy"]


def test_health_is_503_without_a_signing_key(live):
    """Without an active key the tool cannot launch: health says so and what to run."""
    with live.db.session() as s:
        s.execute(update(ToolKey).values(active=False))
        s.commit()
    response = requests.get(live.url + "/health")
    assert response.status_code == 503
    assert "microreview init" in response.json()["signing_key"]


def test_health_is_503_when_the_database_is_unreachable():
    """A database that does not answer gives 503 'unreachable', not a crash page."""
    app = create_app(database_url="postgresql+psycopg://nobody@127.0.0.1:9/none", env="development")
    response = app.test_client().get("/health")
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "database": "unreachable"}
