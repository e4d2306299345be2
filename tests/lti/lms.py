"""The in-test LMS: drives logins and launches against the live tool like a browser and LMS."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlparse

import jwt
import requests
from bs4 import BeautifulSoup

from lti_tool.demo import platform as demo
from lti_tool.demo.platform import DemoPlatform
from lti_tool.lti.keys import generate_key_pair


@dataclass
class Login:
    """A login the tool started: the browser that holds its cookie, and its state and nonce."""

    browser: requests.Session
    state: str
    nonce: str
    auth_url: str


class TestLms:
    """A real LMS for tests: the demo platform's keys and claims, driven from the test."""

    __test__ = False

    def __init__(self, live: Any):
        self.live = live
        self.platform = DemoPlatform(live.url)

    def login(self, browser: requests.Session | None = None, **params: str) -> Login:
        """Start an OIDC login at the tool; returns the state and nonce it sent to the LMS."""
        browser = browser or requests.Session()
        query = self.platform.login_params(demo.USERS[1], {"message": "resource"})
        query.update(params)
        response = browser.get(self.live.url + "/lti/login", params=query, allow_redirects=False)
        assert response.status_code == 302, response.text
        location = response.headers["Location"]
        args = {k: v[0] for k, v in parse_qs(urlparse(location).query).items()}
        return Login(browser, args["state"], args["nonce"], location)

    def claims(
        self,
        login_nonce: str,
        /,
        user: demo.DemoUser | None = None,
        message: str = "resource",
        **overrides: Any,
    ) -> dict[str, Any]:
        """Valid id_token claims, with overrides (a value of None removes the claim)."""
        with self.live.db.session() as session:
            body = self.platform.claims_for(
                session, user or demo.USERS[1], {"message": message}, login_nonce, _now()
            )
        for key, value in overrides.items():
            if value is None:
                body.pop(key, None)
            else:
                body[key] = value
        return body

    def sign(
        self,
        body: dict[str, Any],
        *,
        key_pem: str | None = None,
        kid: str | None = "",
        algorithm: str = "RS256",
        secret: str | None = None,
    ) -> str:
        """Sign claims with the LMS key (or another), choosing kid and algorithm."""
        with self.live.db.session() as session:
            key = self.platform.key(session)
        headers: dict[str, Any] = {}
        if kid == "":
            headers["kid"] = key.kid
        elif kid is not None:
            headers["kid"] = kid
        if algorithm == "none":
            return jwt.encode(body, None, algorithm="none", headers=headers)  # type: ignore[arg-type]
        if algorithm.startswith("HS"):
            return jwt.encode(body, secret or "k" * 32, algorithm=algorithm, headers=headers)
        return jwt.encode(body, key_pem or key.private_pem, algorithm=algorithm, headers=headers)

    def post_launch(self, login: Login, id_token: str, **extra: str) -> requests.Response:
        """POST the id_token to the tool's launch endpoint from the login's browser."""
        data = {"id_token": id_token, "state": login.state, **extra}
        return login.browser.post(self.live.url + "/lti/launch", data=data, allow_redirects=False)

    def launch(
        self, user: demo.DemoUser | None = None, message: str = "resource", **overrides: Any
    ) -> requests.Response:
        """A complete valid launch; returns the tool's answer to the id_token POST."""
        login = self.login()
        token = self.sign(self.claims(login.nonce, user=user, message=message, **overrides))
        return self.post_launch(login, token)

    def open_as(
        self, user: demo.DemoUser, message: str = "resource"
    ) -> tuple[requests.Session, str]:
        """Launch and follow to the landing page; returns the browser and the launch token."""
        login = self.login()
        token = self.sign(self.claims(login.nonce, user=user, message=message))
        response = self.post_launch(login, token)
        assert response.status_code == 303, response.text
        location = response.headers["Location"]
        lt = parse_qs(urlparse(location).query)["lt"][0]
        return login.browser, lt


def other_key() -> str:
    """A private key the LMS never published."""
    return generate_key_pair()[0]


def form_fields(html: str) -> dict[str, str]:
    """The hidden fields of the first form on a page."""
    form = BeautifulSoup(html, "html.parser").find("form")
    assert form is not None
    return {i["name"]: i.get("value", "") for i in form.find_all("input") if i.get("name")}


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(time.time(), UTC)
