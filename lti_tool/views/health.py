"""Health check for load balancers and operators."""

from __future__ import annotations

from flask import Blueprint
from sqlalchemy import text

from lti_tool.lti.keys import active_key
from lti_tool.runtime import db_session

bp = Blueprint("health", __name__)


@bp.get("/health")
def health():  # type: ignore[no-untyped-def]
    """200 when the database answers and a signing key exists, else 503 saying which."""
    session = db_session()
    try:
        session.execute(text("SELECT 1"))
    except Exception:
        return {"status": "error", "database": "unreachable"}, 503
    if active_key(session, required=False) is None:
        return {
            "status": "error",
            "database": "ok",
            "signing_key": "missing: run microreview init",
        }, 503
    return {"status": "ok", "database": "ok", "signing_key": "present"}
