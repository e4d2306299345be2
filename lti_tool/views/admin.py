"""Admin pages: the launching platform's deployments and LRS, managed from inside the LMS."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from lti_tool.exceptions import PlatformError
from lti_tool.lrs_connections import connection, lrs_config, set_embedded, set_external
from lti_tool.lrs_connections import test_connection as check_lrs
from lti_tool.lti.roles import Role
from lti_tool.models import Platform
from lti_tool.platforms import approve_deployment
from lti_tool.runtime import db_session, runtime
from lti_tool.views.access import current_identity, launch_token, require_role
from xapi.exceptions import LrsError

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _platform() -> Platform:
    platform = db_session().get(Platform, current_identity().platform_id)
    assert platform is not None
    return platform


def _page(**extra: object) -> str:
    session, rt = db_session(), runtime()
    platform = _platform()
    lrs = connection(session, platform.id, rt.box)
    session.commit()
    endpoint = lrs_config(lrs, rt.settings.base_url, rt.box, rt.settings.http_timeout).endpoint
    return render_template(
        "admin/home.html",
        platform=platform,
        lrs=lrs,
        lrs_endpoint=endpoint,
        lt=launch_token(),
        **extra,
    )


@bp.get("/")
@require_role(Role.ADMIN)
def home() -> str:
    """This platform's registration, deployments and LRS (never another platform's)."""
    return _page()


@bp.post("/deployments/approve")
@require_role(Role.ADMIN)
def approve() -> Response:
    """Approve a pending deployment of this platform."""
    session, platform = db_session(), _platform()
    approve_deployment(
        session, platform.issuer, platform.client_id, request.form.get("deployment_id", "")
    )
    session.commit()
    return redirect(url_for("admin.home", lt=launch_token()), code=303)


@bp.post("/lrs")
@require_role(Role.ADMIN)
def save_lrs() -> Response | tuple[str, int]:
    """Send this platform's statements to an external LRS, or back to the embedded one."""
    session, rt, form = db_session(), runtime(), request.form
    try:
        if form.get("mode") == "embedded":
            set_embedded(session, _platform(), rt.box)
        else:
            set_external(
                session,
                _platform(),
                rt.box,
                endpoint=form.get("endpoint", "").strip(),
                auth=form.get("auth", "basic"),
                username=form.get("username", ""),
                secret=form.get("secret", ""),
                token_url=form.get("token_url", ""),
                version=form.get("version", "1.0.3"),
            )
    except PlatformError as exc:
        session.rollback()
        return _page(lrs_error=str(exc).replace("--", "")), 400
    session.commit()
    return redirect(url_for("admin.home", lt=launch_token()), code=303)


@bp.post("/lrs/test")
@require_role(Role.ADMIN)
def test_lrs() -> str:
    """Check the LRS: About, write a test statement, read it back."""
    session, rt = db_session(), runtime()
    row = connection(session, _platform().id, rt.box)
    config = lrs_config(row, rt.settings.base_url, rt.box, rt.settings.http_timeout)
    session.commit()
    try:
        return _page(lrs_steps=check_lrs(config))
    except LrsError as exc:
        return _page(lrs_error=f"The LRS check failed: {exc}")
