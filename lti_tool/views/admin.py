"""Admin pages: the launching platform's deployments, approved from inside the LMS."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from lti_tool.lti.roles import Role
from lti_tool.models import Platform
from lti_tool.platforms import approve_deployment
from lti_tool.runtime import db_session
from lti_tool.views.access import current_identity, launch_token, require_role

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/")
@require_role(Role.ADMIN)
def home() -> str:
    """This platform's registration and deployments (never another platform's)."""
    platform = db_session().get(Platform, current_identity().platform_id)
    return render_template("admin/home.html", platform=platform, lt=launch_token())


@bp.post("/deployments/approve")
@require_role(Role.ADMIN)
def approve() -> Response:
    """Approve a pending deployment of this platform."""
    session = db_session()
    platform = session.get(Platform, current_identity().platform_id)
    assert platform is not None
    approve_deployment(
        session, platform.issuer, platform.client_id, request.form.get("deployment_id", "")
    )
    session.commit()
    return redirect(url_for("admin.home", lt=launch_token()), code=303)
