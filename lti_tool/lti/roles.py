"""Map LTI role URIs (context, institution, system; full and short forms) to the tool's roles."""

from __future__ import annotations

import enum
from collections.abc import Iterable

_MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
_INSTITUTION = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#"
_SYSTEM = "http://purl.imsglobal.org/vocab/lis/v2/system/person#"

_INSTRUCTOR_NAMES = {"Instructor", "ContentDeveloper", "TeachingAssistant", "Mentor", "Manager"}
_ADMIN_NAMES = {"Administrator", "SysAdmin", "AccountAdmin"}
_LEARNER_NAMES = {"Learner", "Student"}


class Role(enum.IntEnum):
    """The tool's own roles, ordered so that a higher one can do what a lower one can."""

    NONE = 0
    LEARNER = 1
    INSTRUCTOR = 2
    ADMIN = 3


def _role_name(uri: str) -> tuple[str, str]:
    """Split a role into (scope, name); short forms ('Instructor') count as context roles."""
    for prefix, scope in (
        (_MEMBERSHIP, "context"),
        (_INSTITUTION, "institution"),
        (_SYSTEM, "system"),
    ):
        if uri.startswith(prefix):
            # Sub-roles look like membership/Instructor#TeachingAssistant: the main role is first.
            return scope, uri[len(prefix) :]
    if uri.startswith("http://purl.imsglobal.org/vocab/lis/v2/membership/"):
        rest = uri.rsplit("/", 1)[-1]
        return "context", rest.split("#", 1)[0]
    if "#" in uri or "/" in uri:
        return "unknown", uri.rsplit("#", 1)[-1]
    return "context", uri


def map_roles(roles: Iterable[str]) -> Role:
    """The highest tool role any of the LTI roles grants; unknown roles grant nothing."""
    best = Role.NONE
    for uri in roles:
        scope, name = _role_name(str(uri))
        if scope in ("institution", "system") and name in _ADMIN_NAMES:
            best = max(best, Role.ADMIN)
        elif scope == "context" and name in (_ADMIN_NAMES | _INSTRUCTOR_NAMES):
            best = max(best, Role.INSTRUCTOR)
        elif scope in ("context", "institution") and name in _LEARNER_NAMES:
            best = max(best, Role.LEARNER)
    return best
