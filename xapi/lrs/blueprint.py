"""Flask blueprint factory of the embedded LRS; mount it at /xapi."""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Blueprint, Response, request, url_for
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from xapi.db import utcnow
from xapi.lrs import documents_api, statements_api
from xapi.lrs.documents import DocumentKind
from xapi.lrs.exceptions import BadRequest, Conflict, LrsRequestError
from xapi.lrs.formats import format_stored
from xapi.lrs.gcpause import gc_paused
from xapi.lrs.http import (
    AuthLookup,
    XapiRequest,
    authenticate,
    error_response,
    from_flask,
    json_response,
    negotiate_version,
)
from xapi.vocabulary import (
    CONSISTENT_THROUGH_HEADER,
    SUPPORTED_VERSIONS,
    VERSION_HEADER,
    XAPI_VERSION_1,
)

logger = logging.getLogger(__name__)

SessionFactory = Callable[[], Session]
_ALL = ["GET", "PUT", "POST", "DELETE"]


def create_lrs_blueprint(
    session_factory: SessionFactory,
    auth_lookup: AuthLookup,
    *,
    name: str = "xapi_lrs",
    default_version: str = XAPI_VERSION_1,
) -> Blueprint:
    """The LRS as a blueprint; `auth_lookup(username, password)` returns a tenant key or None.

    `default_version` is the version announced when a request names none (errors, About).
    """
    bp = Blueprint(name, __name__)

    def run(handler: Callable[[Session, XapiRequest], Response], *, auth: bool = True) -> Response:
        version = default_version
        try:
            xreq = from_flask(request)
            xreq.version = default_version
            if auth:
                authenticate(xreq, auth_lookup)
            negotiate_version(xreq, required=auth)
            version = xreq.version
            response = _in_transaction(session_factory, handler, xreq)
        except LrsRequestError as error:
            return error_response(error, version)
        response.headers[VERSION_HEADER] = version
        return response

    @bp.route("/about", methods=["GET"])
    def about() -> Response:
        """Versions this LRS speaks (no credentials needed)."""
        return run(lambda _s, _x: json_response({"version": list(SUPPORTED_VERSIONS)}), auth=False)

    @bp.route("/statements", methods=["GET", "PUT", "POST"])
    def statements() -> Response:
        """The Statement resource."""
        home = request.host_url.rstrip("/")
        more_path = url_for(f"{name}.statements")

        def handle(session: Session, xreq: XapiRequest) -> Response:
            if xreq.method in ("GET", "HEAD"):
                return statements_api.get_statements(session, xreq, more_path)
            if xreq.method == "PUT":
                return statements_api.put_statement(session, xreq, home)
            if xreq.method == "POST":
                return statements_api.post_statements(session, xreq, home)
            raise BadRequest(f"{xreq.method} is not allowed on /statements")

        with gc_paused():  # batches are large acyclic trees: see xapi.lrs.gcpause
            response = run(handle)
        # Every answer of the Statement resource carries it, errors included.
        response.headers.setdefault(CONSISTENT_THROUGH_HEADER, format_stored(utcnow()))
        return response

    def document_route(kind: DocumentKind) -> Callable[[], Response]:
        def view() -> Response:
            return run(lambda session, xreq: documents_api.handle_document(session, xreq, kind))

        view.__doc__ = f"The {kind.value} document resource."
        return view

    bp.add_url_rule("/activities/state", "state", document_route(DocumentKind.STATE), methods=_ALL)
    bp.add_url_rule(
        "/activities/profile",
        "activity_profile",
        document_route(DocumentKind.ACTIVITY_PROFILE),
        methods=_ALL,
    )
    bp.add_url_rule(
        "/agents/profile", "agent_profile", document_route(DocumentKind.AGENT_PROFILE), methods=_ALL
    )

    @bp.route("/activities", methods=["GET", "POST"])
    def activities() -> Response:
        """The Activities resource (POST only for the alternate request syntax)."""
        return run(lambda session, xreq: documents_api.get_activity(session, _readonly(xreq)))

    @bp.route("/agents", methods=["GET", "POST"])
    def agents() -> Response:
        """The Agents resource (POST only for the alternate request syntax)."""
        return run(lambda _session, xreq: documents_api.get_agents(_readonly(xreq)))

    return bp


def _readonly(xreq: XapiRequest) -> XapiRequest:
    if xreq.method not in ("GET", "HEAD"):
        raise BadRequest(f"{xreq.method} is not allowed on this resource; use GET")
    return xreq


def _in_transaction(
    session_factory: SessionFactory,
    handler: Callable[[Session, XapiRequest], Response],
    xreq: XapiRequest,
) -> Response:
    """Run a handler in one transaction; a lost race on a statement id is retried once."""
    for attempt in range(2):
        try:
            with session_factory() as session, session.begin():
                return handler(session, xreq)
        except IntegrityError:
            if attempt:
                raise Conflict(
                    "a concurrent request wrote the same statement or document"
                ) from None
            logger.info("statement id race lost; retrying once")
    raise AssertionError("unreachable")
