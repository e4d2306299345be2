"""Launch: a valid launch lands by role; every Security Framework violation is refused."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlparse

from sqlalchemy import func, select

from lti_tool.demo import platform as demo
from lti_tool.lti import claims
from lti_tool.models import Context, Deployment, DeploymentStatus, Membership, Placement, User
from tests.lti.lms import other_key


def test_learner_launch_lands_on_learner_page_and_records_course(lms, live):
    """A learner's valid launch redirects to the learner page and stores course, user, placement."""
    response = lms.launch(user=demo.USERS[1])
    assert response.status_code == 303
    assert urlparse(response.headers["Location"]).path == "/learner/"
    with live.db.session() as s:
        assert s.scalar(select(Context.title)) == demo.CONTEXT_TITLE
        user = s.scalars(select(User).where(User.sub == "demo-learner-1")).one()
        assert user.name == "Lin Learner"
        assert s.scalar(select(func.count()).select_from(Membership)) == 1
        placement = s.scalars(select(Placement)).one()
        assert placement.lineitem_url and placement.lineitem_url.startswith(live.url + "/demo/ags/")


def test_instructor_launch_lands_on_instructor_page(lms):
    """An instructor's launch goes to the instructor course page, which renders."""
    browser, token = lms.open_as(demo.USERS[0])
    page = browser.get(lms.live.url + "/instructor/", params={"lt": token})
    assert page.status_code == 200
    assert "instructor view" in page.text


def test_launch_rejects_replayed_id_token(lms):
    """Posting the same id_token twice is refused the second time."""
    login = lms.login()
    token = lms.sign(lms.claims(login.nonce))
    assert lms.post_launch(login, token).status_code == 303
    assert lms.post_launch(login, token).status_code == 401


def test_launch_rejects_replayed_nonce_with_fresh_state(lms):
    """An id_token replayed against a new login (new state) fails on the nonce."""
    first = lms.login()
    token = lms.sign(lms.claims(first.nonce))
    assert lms.post_launch(first, token).status_code == 303
    second = lms.login()
    assert lms.post_launch(second, token).status_code == 401


def _refused(lms, status=401, **overrides):
    login = lms.login()
    body = lms.claims(login.nonce, **overrides)
    response = lms.post_launch(login, lms.sign(body))
    assert response.status_code == status, response.text
    return response


def test_launch_rejects_bad_signature(lms):
    """A token signed by a key the platform never published is refused."""
    login = lms.login()
    token = lms.sign(lms.claims(login.nonce), key_pem=other_key())
    assert lms.post_launch(login, token).status_code == 401


def test_launch_rejects_unknown_kid(lms):
    """A kid absent from the platform JWKS (even after a refetch) is refused."""
    login = lms.login()
    response = lms.post_launch(login, lms.sign(lms.claims(login.nonce), kid="no-such-kid"))
    assert response.status_code == 401
    assert "unknown kid" in response.text


def test_launch_rejects_missing_kid(lms):
    """A token without a kid is refused."""
    login = lms.login()
    assert lms.post_launch(login, lms.sign(lms.claims(login.nonce), kid=None)).status_code == 401


def test_launch_rejects_alg_none_and_hs256(lms):
    """Unsigned and HMAC-signed tokens are refused (RS256 only)."""
    for algorithm in ("none", "HS256"):
        login = lms.login()
        token = lms.sign(lms.claims(login.nonce), algorithm=algorithm)
        response = lms.post_launch(login, token)
        assert response.status_code == 401, algorithm
        assert "not allowed" in response.text


def test_launch_rejects_wrong_issuer(lms):
    """An iss other than the platform that started the login is refused."""
    _refused(lms, iss="https://evil.example")


def test_launch_rejects_audience_without_client_id(lms):
    """An aud that does not contain our client id is refused."""
    _refused(lms, aud="someone-else", azp=None)


def test_launch_rejects_wrong_azp(lms):
    """An azp that is not our client id is refused."""
    _refused(lms, azp="someone-else")


def test_launch_rejects_multiple_audiences_without_azp(lms):
    """Several audiences without azp are refused; with the right azp they pass."""
    _refused(lms, aud=[demo.CLIENT_ID, "other"], azp=None)
    login = lms.login()
    body = lms.claims(login.nonce, aud=["other", demo.CLIENT_ID], azp=demo.CLIENT_ID)
    assert lms.post_launch(login, lms.sign(body)).status_code == 303


def test_launch_rejects_expired_token(lms):
    """An exp in the past (beyond the skew) is refused."""
    _refused(lms, exp=int(time.time()) - 600)


def test_launch_rejects_iat_in_future_or_too_old(lms):
    """iat far in the future or older than the window is refused."""
    _refused(lms, iat=int(time.time()) + 3600, exp=int(time.time()) + 7200)
    _refused(lms, iat=int(time.time()) - 7200)


def test_launch_rejects_state_mismatch(lms):
    """A state the tool never issued is refused."""
    login = lms.login()
    token = lms.sign(lms.claims(login.nonce))
    response = login.browser.post(
        lms.live.url + "/lti/launch",
        data={"id_token": token, "state": "forged"},
        allow_redirects=False,
    )
    assert response.status_code == 401


def test_launch_rejects_browser_without_state_cookie(lms):
    """A launch posted from a browser that did not start the login is refused with advice."""
    import requests

    login = lms.login()
    token = lms.sign(lms.claims(login.nonce))
    response = requests.post(
        lms.live.url + "/lti/launch",
        data={"id_token": token, "state": login.state},
        allow_redirects=False,
    )
    assert response.status_code == 401
    assert "Open Microreview in a new window" in response.text


def test_launch_rejects_nonce_mismatch(lms):
    """A nonce other than the login's is refused."""
    _refused(lms, nonce="other-nonce")


def test_launch_rejects_missing_deployment(lms):
    """A token without deployment_id is refused with 400."""
    _refused(lms, status=400, **{claims.DEPLOYMENT_ID: None})


def test_unknown_deployment_is_recorded_pending(lms, live):
    """A known platform's new deployment is stored as pending and the user told so (403)."""
    response = _refused(lms, status=403, **{claims.DEPLOYMENT_ID: "copied-course-9"})
    assert "waiting for approval" in response.text
    with live.db.session() as s:
        row = s.scalars(
            select(Deployment).where(Deployment.deployment_id == "copied-course-9")
        ).one()
        assert row.status == DeploymentStatus.PENDING


def test_launch_rejects_missing_core_claims(lms):
    """Missing message_type, version, roles or resource_link are refused with 400."""
    for claim in (claims.MESSAGE_TYPE, claims.VERSION, claims.ROLES, claims.RESOURCE_LINK):
        _refused(lms, status=400, **{claim: None})
    _refused(lms, status=400, **{claims.VERSION: "1.1"})


def test_launch_rejects_foreign_target_link_uri(lms):
    """A target_link_uri that is not this tool is refused."""
    _refused(lms, status=400, **{claims.TARGET_LINK_URI: "https://elsewhere.example/launch"})


def test_login_for_unknown_platform_is_refused(lms, live):
    """A login from an unregistered issuer gets a 400 page that says to register the tool."""
    import requests

    response = requests.get(
        live.url + "/lti/login",
        params={
            "iss": "https://unknown.example",
            "login_hint": "x",
            "target_link_uri": live.url + "/lti/launch",
        },
    )
    assert response.status_code == 400
    assert "register" in response.text


def test_certification_style_valid_launches_are_accepted(lms):
    """Multiple, short, unknown or no roles; email or names only; no PII; no context: all pass."""
    variants = [
        {claims.ROLES: ["Instructor", "Learner"]},
        {
            claims.ROLES: [
                "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner",
                "http://example.com/unknown#Role",
            ]
        },
        {claims.ROLES: []},
        {"name": None, "given_name": None, "family_name": None},
        {"email": None, "given_name": "Ada", "family_name": "L"},
        {"name": None, "email": None},
        {claims.CONTEXT: None},
    ]
    for overrides in variants:
        assert lms.launch(**overrides).status_code == 303, overrides


def test_anonymous_launch_without_sub_is_accepted(lms):
    """A launch without sub (anonymous) lands on the learner page saying progress is not saved."""
    response = lms.launch(sub=None)
    assert response.status_code == 303
    page = lms.live and __import__("requests").get(lms.live.url + response.headers["Location"])
    assert "anonymously" in page.text


def test_moodle_style_full_role_uris_map_to_instructor(lms):
    """Moodle's institution Administrator and membership Instructor URIs reach instructor pages."""
    response = lms.launch(
        **{
            claims.ROLES: [
                "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator",
                "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor",
            ]
        }
    )
    assert urlparse(response.headers["Location"]).path == "/instructor/"
    token = parse_qs(urlparse(response.headers["Location"]).query)["lt"][0]
    assert token


def test_repeat_launch_refreshes_rows_instead_of_adding_them(lms, live):
    """A second launch updates the person, course, membership and placement it recorded first."""
    assert lms.launch(user=demo.USERS[1]).status_code == 303
    changed = {
        "name": "Lin Renamed",
        claims.ROLES: ["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"],
        claims.CONTEXT: {"id": demo.CONTEXT_ID, "title": "Renamed course", "label": "RC"},
        claims.RESOURCE_LINK: {"id": demo.DEFAULT_LINK_ID, "title": "Renamed link"},
    }
    assert lms.launch(user=demo.USERS[1], **changed).status_code == 303
    with live.db.session() as s:
        assert s.scalars(select(User.name).where(User.sub == "demo-learner-1")).all() == [
            "Lin Renamed"
        ]
        context = s.scalars(select(Context)).one()
        assert (context.title, context.label) == ("Renamed course", "RC")
        membership = s.scalars(select(Membership)).one()
        assert membership.roles == changed[claims.ROLES]
        placement = s.scalars(select(Placement)).one()
        assert placement.title == "Renamed link"
        assert placement.lineitem_url  # kept: the second launch still carried the AGS claim


def test_deep_linking_launch_records_no_placement(lms, live):
    """A Deep Linking launch records course and person, but no placement (nothing placed yet)."""
    assert lms.launch(user=demo.USERS[0], message="deep_link").status_code == 303
    with live.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Context)) == 1
        assert s.scalar(select(func.count()).select_from(Membership)) == 1
        assert s.scalar(select(func.count()).select_from(Placement)) == 0
