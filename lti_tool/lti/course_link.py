"""Where a course lives in its LMS, worked out from a launch's claims.

Reminder emails link back to the course. LTI has no claim for the course's own address, so each
platform is read the way it shows its courses: Moodle's context id is the course id; Canvas'
launch_presentation.return_url sits under /courses/<id>/ on the tenant's own domain (Canvas'
issuer is shared by every tenant, so it is no address at all). Elsewhere the best we can do is
the LMS's home page. Query strings are never kept: they may carry a user's session key.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from lti_tool.lti import claims

_CANVAS_COURSE = re.compile(r"^/courses/(\d+)(?:/|$)")


def course_link(body: dict[str, Any]) -> str | None:
    """The course's address in the LMS, or None when the claims do not tell."""
    platform = body.get(claims.TOOL_PLATFORM) or {}
    family = str(platform.get("product_family_code") or "").lower()
    context_id = str((body.get(claims.CONTEXT) or {}).get("id") or "")
    issuer = _origin_and_path(str(body.get("iss") or ""))
    if family == "moodle" and issuer and context_id.isdigit():
        return f"{issuer}/course/view.php?id={context_id}"
    return_url = str((body.get(claims.LAUNCH_PRESENTATION) or {}).get("return_url") or "")
    parts = urlsplit(return_url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        return None
    canvas = _CANVAS_COURSE.match(parts.path)
    if canvas:
        return f"{parts.scheme}://{parts.netloc}/courses/{canvas.group(1)}"
    return f"{parts.scheme}://{parts.netloc}/"


def _origin_and_path(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
