"""Health check for load balancers and operators."""

from __future__ import annotations

from flask import Blueprint
from sqlalchemy import select

from lti_tool.models import ToolKey
from lti_tool.runtime import db_session

bp = Blueprint("health", __name__)
_HAS_KEY = select(ToolKey.id).where(ToolKey.active.is_(True)).limit(1)


@bp.get("/health")
def health():  # type: ignore[no-untyped-def]
    """200 when the database answers and a signing key exists, else 503 saying which."""
    try:
        # One round trip answers both questions: the database replies, and with a key or not.
        has_key = db_session().scalar(_HAS_KEY) is not None
    except Exception:
        return {"status": "error", "database": "unreachable"}, 503
    if not has_key:
        return {
            "status": "error",
            "database": "ok",
            "signing_key": "missing: run microreview init",
        }, 503
    return {"status": "ok", "database": "ok", "signing_key": "present"}
