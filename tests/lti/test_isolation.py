"""Launch tokens and tenant isolation; replays across two workers."""

from __future__ import annotations

import threading
import time

import requests
from sqlalchemy import select

from lti_tool.demo import platform as demo
from lti_tool.lti import claims
from lti_tool.lti.launch_token import LaunchTokens
from lti_tool.models import Context, Deployment, Platform
from tests.conftest import LiveServer


def test_tampered_launch_token_is_refused(lms, live):
    """Changing one character of the launch token makes every page refuse it."""
    browser, token = lms.open_as(demo.USERS[0])
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert browser.get(live.url + "/instructor/", params={"lt": forged}).status_code == 401


def test_expired_launch_token_is_refused(lms, live):
    """A launch token older than its lifetime is refused with advice to relaunch."""
    _, token = lms.open_as(demo.USERS[0])
    tokens = LaunchTokens(live.settings.secret_key, ttl=60)
    identity = tokens.verify(token)
    stale = LaunchTokens(live.settings.secret_key, ttl=60)
    real_time = time.time
    try:
        time.time = lambda: real_time() - 7200  # type: ignore[assignment]
        old_token = stale.issue(identity)
    finally:
        time.time = real_time  # type: ignore[assignment]
    response = requests.get(live.url + "/instructor/", params={"lt": old_token})
    assert response.status_code == 401
    assert "expired" in response.text


def _second_platform(live) -> str:
    with live.db.session() as s:
        p = Platform(
            name="B",
            issuer="https://lms-b.example",
            client_id="b-client",
            auth_login_url=live.url + "/demo/auth",
            auth_token_url=live.url + "/demo/token",
            key_set_url=live.url + "/demo/jwks.json",
        )
        s.add(p)
        s.flush()
        s.add(Deployment(platform_id=p.id, deployment_id="b-dep"))
    return "https://lms-b.example"


def test_same_course_id_on_two_platforms_stays_two_tenants(lms, live):
    """Platform B's course with A's context id is a separate course; B's instructor sees only B."""
    lms.open_as(demo.USERS[1])  # a learner of A's course
    issuer = _second_platform(live)
    login = lms.login(iss=issuer, client_id="b-client")
    body = lms.claims(
        login.nonce,
        user=demo.USERS[0],
        iss=issuer,
        aud="b-client",
        azp="b-client",
        sub="b-teacher",
        **{claims.DEPLOYMENT_ID: "b-dep", claims.NRPS: None},
    )
    body["name"] = "Bea B-Teacher"
    response = lms.post_launch(login, lms.sign(body))
    assert response.status_code == 303
    page = login.browser.get(live.url + response.headers["Location"])
    assert "Bea B-Teacher" in page.text
    assert "Lin Learner" not in page.text
    with live.db.session() as s:
        assert (
            len(s.scalars(select(Context).where(Context.context_id == demo.CONTEXT_ID)).all()) == 2
        )


def test_token_signed_with_another_secret_is_refused(lms, live):
    """A token for another course signed with anything but this tool's secret is refused."""
    _, token = lms.open_as(demo.USERS[0])
    identity = LaunchTokens(live.settings.secret_key, ttl=3600).verify(token)
    from dataclasses import replace

    forged = LaunchTokens("attacker-secret-" + "y" * 32, ttl=3600).issue(
        replace(identity, context_id=identity.context_id + 1)
    )
    response = requests.get(live.url + "/instructor/", params={"lt": forged})
    assert response.status_code == 401


def test_same_nonce_replayed_to_two_workers_is_accepted_once(lms, live, database_url):
    """Two app workers on one database: a replay posted to both at once succeeds only once."""
    other = LiveServer(database_url, base_url=live.url)  # a second worker behind the same URL
    try:
        login = lms.login()
        token = lms.sign(lms.claims(login.nonce))
        cookies = login.browser.cookies
        results: list[int] = []

        def post(base: str) -> None:
            r = requests.post(
                base + "/lti/launch",
                data={"id_token": token, "state": login.state},
                cookies=cookies,
                allow_redirects=False,
            )
            results.append(r.status_code)

        threads = [threading.Thread(target=post, args=(u,)) for u in (live.url, other.url) * 2]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results) == [303, 401, 401, 401]
    finally:
        other.stop()


def test_removed_platform_cannot_launch_even_while_logins_are_cached(lms, live):
    """A login may still redirect for a few seconds after removal; the launch is refused."""
    from lti_tool.platforms import remove_platform

    issuer = _second_platform(live)
    first = lms.login(iss=issuer, client_id="b-client")  # caches the registration
    assert first.state
    with live.db.session() as s:
        remove_platform(s, issuer, "b-client")
    login = lms.login(iss=issuer, client_id="b-client")
    body = lms.claims(
        login.nonce, iss=issuer, aud="b-client", azp="b-client", **{claims.DEPLOYMENT_ID: "b-dep"}
    )
    response = lms.post_launch(login, lms.sign(body))
    assert response.status_code == 401
    assert "removed" in response.text
