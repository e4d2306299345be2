"""LTI endpoints: OIDC login, launch, JWKS, Dynamic Registration, Canvas JSON, Deep Linking."""

from __future__ import annotations

from flask import Blueprint, Response, make_response, redirect, render_template, request, url_for

from lti_tool import learning_events
from lti_tool.db import utcnow
from lti_tool.exceptions import CookiesBlockedError, LaunchError, PendingDeploymentError
from lti_tool.lti import canvas, deep_linking, registration
from lti_tool.lti.keys import public_jwks
from lti_tool.lti.launch import LaunchChecks, ToolMessageLaunch
from lti_tool.lti.launch_token import LaunchIdentity
from lti_tool.lti.login import origin_of, secret_digest, start_login
from lti_tool.lti.provision import launch_writes, record_launch
from lti_tool.lti.roles import Role
from lti_tool.runtime import db_session, runtime
from lti_tool.views.access import current_identity, launch_token, require_role

bp = Blueprint("lti", __name__, url_prefix="/lti")


def _checks() -> LaunchChecks:
    s = runtime().settings
    return LaunchChecks(s.base_url, s.iat_max_age, s.clock_skew, s.jwks_default_ttl, s.http_timeout)


def _secure() -> bool:
    return runtime().settings.base_url.startswith("https://")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response:
    """OIDC initiation: sign state and nonce, then send the browser to the platform."""
    rt, session = runtime(), db_session()
    params = {k: v for k, v in request.values.items() if isinstance(v, str)}
    start = start_login(session, rt.states, params, rt.settings.base_url)
    session.rollback()  # a login only reads
    if start.login.storage_target:
        response = make_response(render_template("lti/login_storage.html", start=start))
    else:
        response = make_response(redirect(start.redirect_url, code=302))
    response.set_cookie(
        start.login.cookie_name,
        secret_digest(start.login.nonce)[:24],
        max_age=rt.settings.login_state_ttl,
        secure=_secure(),
        httponly=True,
        samesite="None" if _secure() else "Lax",
        path="/lti/",
    )
    return response


@bp.post("/launch")
def launch() -> Response:
    """Verify the id_token, bind it to this browser, record the launch, route by role."""
    rt, session = runtime(), db_session()
    form = {k: v for k, v in request.form.items()}
    message = ToolMessageLaunch(form, session, rt.http, _checks(), rt.states, utcnow())
    try:
        message.validate()
    except PendingDeploymentError:
        session.commit()  # keep the pending deployment for the admin to approve
        raise
    assert message.login is not None and message.platform is not None
    if not message.browser_is_bound(
        request.cookies.get(message.login.cookie_name), form.get("storage_secret")
    ):
        session.commit()  # the JWKS cache may have been filled
        if message.login.storage_target and "storage_secret" not in form:
            return make_response(
                render_template(
                    "lti/launch_storage.html",
                    login=message.login,
                    form=form,
                    auth_origin=origin_of(message.platform.auth_login_url),
                )
            )
        error = CookiesBlockedError(
            "this browser did not keep the tool's sign-in cookie",
            advice="Open the tool in a new window, where the browser allows its cookie.",
        )
        error.new_window_url = url_for("lti.login") + "?" + message.login.login_query
        raise error
    assert message.deployment is not None
    writes = launch_writes(message.platform, message.deployment, message.body, message.nonce_row())
    identity = record_launch(session, message.platform, message.deployment, message.body, writes)
    if identity is None:
        raise LaunchError("id_token nonce was already used (replayed launch)")
    if identity.user_id is not None:  # anonymous launches leave no learning record
        learning_events.launched(
            session,
            rt.settings.base_url,
            message.platform,
            message.deployment,
            identity.context_id,
            identity.user_id,
            message.body,
            utcnow(),
        )
    session.commit()
    response = make_response(redirect(_landing(identity, rt.tokens.issue(identity)), code=303))
    response.delete_cookie(message.login.cookie_name, path="/lti/")
    return response


def _landing(identity: LaunchIdentity, token: str) -> str:
    if identity.deep_link:
        return url_for("lti.deep_link_picker", lt=token)
    if identity.role >= Role.INSTRUCTOR:
        return url_for("instructor.home", lt=token)
    return url_for("learner.home", lt=token)


@bp.get("/jwks.json")
def jwks() -> Response:
    """The tool's public keys, for platforms to verify what the tool signs."""
    response = make_response(public_jwks(db_session()))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/canvas.json")
def canvas_json() -> Response:
    """The Canvas developer-key JSON (paste or point Canvas at this URL)."""
    return make_response(canvas.developer_key(runtime().settings.base_url))


@bp.get("/register")
def register() -> str:
    """LTI Dynamic Registration: register with the platform that opened this page."""
    rt, session = runtime(), db_session()
    config_url = request.args.get("openid_configuration", "")
    reg_token = request.args.get("registration_token")
    result = registration.register(session, rt.http, rt.settings, config_url, reg_token)
    session.commit()
    return render_template("lti/registered.html", result=result)


@bp.get("/deep-link")
@require_role(Role.INSTRUCTOR)
def deep_link_picker() -> str:
    """The Deep Linking picker: what the instructor can place in the course."""
    identity = current_identity()
    if not identity.deep_link:
        raise CookiesBlockedError("this page is only reachable from a Deep Linking launch")
    return render_template("lti/deep_link.html", choices=deep_linking.CHOICES, lt=launch_token())


@bp.post("/deep-link")
@require_role(Role.INSTRUCTOR)
def deep_link_return() -> str:
    """Sign the Deep Linking response and post it back to the platform."""
    identity, session = current_identity(), db_session()
    choice = request.form.get("choice", deep_linking.DAILY_REVIEW)
    response = deep_linking.build_response(
        session, runtime().settings.base_url, identity, choice, utcnow()
    )
    return render_template("lti/deep_link_return.html", response=response)
