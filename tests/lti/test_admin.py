"""Admin pages: approve a pending deployment from inside the LMS; others are refused."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from sqlalchemy import select

from lti_tool.demo import platform as demo
from lti_tool.lti import claims
from lti_tool.models import Deployment, DeploymentStatus

ADMIN = demo.DemoUser("site-admin", "Sita Admin", "sita@demo.example", (demo.ROLE_ADMIN,))


def test_admin_approves_a_pending_deployment_then_launch_succeeds(lms, live):
    """A pending deployment is approved on the admin page; the next launch from it works."""
    assert lms.launch(**{claims.DEPLOYMENT_ID: "copy-77"}).status_code == 403
    browser, token = lms.open_as(ADMIN)
    page = browser.get(live.url + "/admin/", params={"lt": token})
    assert page.status_code == 200 and "copy-77" in page.text and "pending" in page.text
    done = browser.post(
        live.url + "/admin/deployments/approve", data={"lt": token, "deployment_id": "copy-77"}
    )
    assert done.status_code == 200 and "active" in done.text
    with live.db.session() as s:
        row = s.scalars(select(Deployment).where(Deployment.deployment_id == "copy-77")).one()
        assert row.status == DeploymentStatus.ACTIVE
    assert lms.launch(**{claims.DEPLOYMENT_ID: "copy-77"}).status_code == 303


def test_instructor_and_learner_cannot_use_admin_pages(lms, live):
    """Admin pages refuse instructors and learners (403), and forms without a token (401)."""
    for user in (demo.USERS[0], demo.USERS[1]):
        browser, token = lms.open_as(user)
        assert browser.get(live.url + "/admin/", params={"lt": token}).status_code == 403
        assert (
            browser.post(
                live.url + "/admin/deployments/approve", data={"lt": token, "deployment_id": "x"}
            ).status_code
            == 403
        )
    assert (
        browser.post(
            live.url + "/admin/deployments/approve", data={"deployment_id": "x"}
        ).status_code
        == 401
    )


def test_canvas_style_login_parameters_are_accepted(lms, live):
    """Canvas sends deployment_id, canvas_region and lti_storage_target at login: all fine."""
    import requests

    params = lms.platform.login_params(demo.USERS[1], {"message": "resource"})
    params.pop("lti_deployment_id")
    params.update(
        deployment_id=demo.DEPLOYMENT_ID,
        canvas_region="us-east-1",
        lti_storage_target="post_message_forwarding",
    )
    page = requests.get(live.url + "/lti/login", params=params)
    assert page.status_code == 200
    assert "lti.put_data" in page.text and "post_message_forwarding" in page.text


def test_moodle_json_message_hint_reaches_the_platform_unchanged(lms, live):
    """Moodle's lti_message_hint is JSON: the tool passes it back to the auth endpoint as is."""
    import requests

    hint = '{"cmid":7,"launchid":"ltilaunch1_1234","course":"2"}'
    params = lms.platform.login_params(demo.USERS[1], {"message": "resource"})
    params["lti_message_hint"] = hint
    answer = requests.get(live.url + "/lti/login", params=params, allow_redirects=False)
    assert answer.status_code == 302
    query = parse_qs(urlparse(answer.headers["Location"]).query)
    assert query["lti_message_hint"] == [hint]


def test_admin_sees_administration_link_on_course_page(lms, live):
    """An institution administrator launching from a course gets a link to the admin page."""
    browser, token = lms.open_as(ADMIN)
    page = browser.get(live.url + "/instructor/", params={"lt": token})
    assert "Administration" in page.text
    learner_browser, learner_token = lms.open_as(demo.USERS[0])
    assert (
        "Administration"
        not in learner_browser.get(live.url + "/instructor/", params={"lt": learner_token}).text
    )


def test_admin_sets_tests_and_resets_the_platform_lrs(lms, live):
    """Test connection against the embedded LRS works; a bad external endpoint is refused."""
    browser, token = lms.open_as(ADMIN)
    tested = browser.post(live.url + "/admin/lrs/test", data={"lt": token})
    assert tested.status_code == 200 and "Read back" in tested.text
    bad = browser.post(
        live.url + "/admin/lrs",
        data={
            "lt": token,
            "mode": "external",
            "endpoint": "lrs.example/xapi",
            "username": "k",
            "secret": "s",
        },
    )
    assert bad.status_code == 400 and "endpoint must be" in bad.text
    saved = browser.post(
        live.url + "/admin/lrs",
        data={
            "lt": token,
            "mode": "external",
            "endpoint": "http://127.0.0.1:9/xapi/",
            "username": "k",
            "secret": "s",
            "version": "2.0.0",
        },
    )
    assert saved.status_code == 200 and "external LRS" in saved.text
    failed = browser.post(live.url + "/admin/lrs/test", data={"lt": token})
    assert "The LRS check failed" in failed.text
    back = browser.post(live.url + "/admin/lrs", data={"lt": token, "mode": "embedded"})
    assert "embedded LRS" in back.text
