"""Learner pages: the course home a learner lands on after a launch."""

from __future__ import annotations

from flask import Blueprint, render_template

from lti_tool.lti.roles import Role
from lti_tool.models import Context, User
from lti_tool.runtime import db_session
from lti_tool.views.access import current_identity, require_role

bp = Blueprint("learner", __name__, url_prefix="/learner")


@bp.get("/")
@require_role(Role.NONE)
def home() -> str:
    """The learner's landing page in this course."""
    identity, session = current_identity(), db_session()
    context = session.get(Context, identity.context_id)
    user = session.get(User, identity.user_id) if identity.user_id else None
    return render_template("learner/home.html", context=context, user=user, identity=identity)
