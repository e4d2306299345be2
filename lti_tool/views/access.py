"""Access rules for views: the launch token identifies the caller, roles gate the pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, request

from lti_tool.exceptions import Forbidden, LaunchError
from lti_tool.lti.launch_token import LaunchIdentity
from lti_tool.lti.roles import Role
from lti_tool.runtime import runtime

F = TypeVar("F", bound=Callable[..., Any])
TOKEN_FIELD = "lt"
TOKEN_HEADER = "X-Launch-Token"


def current_identity() -> LaunchIdentity:
    """The verified identity of this request's launch token."""
    if "identity" not in g:
        token = request.headers.get(TOKEN_HEADER) or request.form.get(TOKEN_FIELD)
        if not token and request.method in ("GET", "HEAD"):
            token = request.args.get(TOKEN_FIELD)
        if not token:
            raise LaunchError(
                "this page needs a launch from your course",
                advice="Open Microreview from your course in the LMS.",
            )
        g.identity = runtime().tokens.verify(token)
        g.launch_token = token
    return g.identity  # type: ignore[no-any-return]


def require_role(role: Role) -> Callable[[F], F]:
    """Refuse (403) callers whose launch role is below role."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            identity = current_identity()
            if identity.role < role:
                raise Forbidden(f"this page needs the {role.name.lower()} role")
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def launch_token() -> str:
    """The launch token of this request, for links and forms the page renders."""
    current_identity()
    return g.launch_token  # type: ignore[no-any-return]
