"""Document resources (State, Activity and Agent Profile), and the Activities and Agents ones."""

from __future__ import annotations

import json

from flask import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from xapi.lrs import documents as docs
from xapi.lrs import formats
from xapi.lrs.agents import actor_key, parse_agent_param, person
from xapi.lrs.exceptions import BadRequest, NotFound, PreconditionRequired
from xapi.lrs.http import XapiRequest, json_response
from xapi.lrs.models import LrsActivity
from xapi.vocabulary import XAPI_VERSION_2

_RESOURCES: dict[docs.DocumentKind, tuple[str, set[str]]] = {
    docs.DocumentKind.STATE: (
        "stateId",
        {"activityId", "agent", "registration", "stateId", "since"},
    ),
    docs.DocumentKind.ACTIVITY_PROFILE: ("profileId", {"activityId", "profileId", "since"}),
    docs.DocumentKind.AGENT_PROFILE: ("profileId", {"agent", "profileId", "since"}),
}


def _key(xreq: XapiRequest, kind: docs.DocumentKind) -> docs.DocumentKey:
    activity = agent = registration = ""
    if kind in (docs.DocumentKind.STATE, docs.DocumentKind.ACTIVITY_PROFILE):
        activity = xreq.arg("activityId") or ""
        if not formats.is_iri(activity):
            raise BadRequest("activityId is required and must be an IRI")
    if kind in (docs.DocumentKind.STATE, docs.DocumentKind.AGENT_PROFILE):
        agent = actor_key(parse_agent_param(xreq.arg("agent")))
    if kind is docs.DocumentKind.STATE and xreq.arg("registration") is not None:
        registration = str(formats.parse_uuid(xreq.arg("registration"), "registration"))
    return docs.DocumentKey(xreq.tenant, kind, activity, agent, registration)


def _preconditions(xreq: XapiRequest, kind: docs.DocumentKind) -> docs.Preconditions:
    profile = kind is not docs.DocumentKind.STATE
    v2 = xreq.version == XAPI_VERSION_2
    missing_on_new = None
    if profile:
        missing_on_new = PreconditionRequired.status if v2 else BadRequest.status
    return docs.Preconditions(
        if_match=xreq.headers.get("if-match"),
        if_none_match=xreq.headers.get("if-none-match"),
        # 1.0.3 asks this of the profile resources; 2.0 of the State resource too.
        required=xreq.method == "PUT" and (profile or v2),
        missing_on_new=missing_on_new,
    )


def _document_response(document: docs.LrsDocument) -> Response:
    response = Response(document.content, status=200, content_type=document.content_type)
    response.headers["ETag"] = f'"{document.etag}"'
    response.headers["Last-Modified"] = document.updated.strftime("%a, %d %b %Y %H:%M:%S GMT")
    return response


def handle_document(session: Session, xreq: XapiRequest, kind: docs.DocumentKind) -> Response:
    """GET, PUT, POST or DELETE on a document resource."""
    id_param, allowed = _RESOURCES[kind]
    xreq.only_args(allowed)
    key = _key(xreq, kind)
    doc_id = xreq.arg(id_param)
    if xreq.method in ("GET", "HEAD"):
        return _get(session, xreq, key, doc_id)
    if xreq.arg("since") is not None:
        raise BadRequest("since is only allowed when listing documents")
    if xreq.method == "DELETE":
        if doc_id is None and kind is not docs.DocumentKind.STATE:
            raise BadRequest(f"DELETE needs the {id_param} parameter")
        docs.delete_documents(session, key, doc_id, _preconditions(xreq, kind))
        return Response(status=204)
    if doc_id is None:
        raise BadRequest(f"the {id_param} parameter is required")
    content_type = xreq.headers.get("content-type") or "application/octet-stream"
    write = docs.put_document if xreq.method == "PUT" else docs.merge_document
    document = write(session, key, doc_id, xreq.body, content_type, _preconditions(xreq, kind))
    response = Response(status=204)
    response.headers["ETag"] = f'"{document.etag}"'
    return response


def _get(
    session: Session, xreq: XapiRequest, key: docs.DocumentKey, doc_id: str | None
) -> Response:
    if doc_id is not None:
        if xreq.arg("since") is not None:
            raise BadRequest("since cannot be combined with a document id")
        document = docs.get_document(session, key, doc_id)
        if document is None:
            raise NotFound("no such document")
        return _document_response(document)
    since = xreq.arg("since")
    if since is not None:
        formats.parse_timestamp(since, "since")
    response = json_response(docs.list_ids(session, key, since))
    modified = docs.last_modified(session, key)
    if modified is not None:
        response.headers["Last-Modified"] = modified.strftime("%a, %d %b %Y %H:%M:%S GMT")
    return response


def get_activity(session: Session, xreq: XapiRequest) -> Response:
    """GET /activities?activityId=...: the activity with its canonical definition."""
    xreq.only_args({"activityId"})
    activity_id = xreq.arg("activityId")
    if not formats.is_iri(activity_id):
        raise BadRequest("activityId is required and must be an IRI")
    row = session.scalar(
        select(LrsActivity).where(LrsActivity.tenant == xreq.tenant, LrsActivity.iri == activity_id)
    )
    activity: dict[str, object] = {"objectType": "Activity", "id": activity_id}
    if row is not None and row.definition not in ("", "{}"):
        activity["definition"] = json.loads(row.definition)
    return json_response(activity)


def get_agents(xreq: XapiRequest) -> Response:
    """GET /agents?agent=...: the Person object for an agent."""
    xreq.only_args({"agent"})
    agent = parse_agent_param(xreq.arg("agent"))
    if agent.get("objectType") == "Group":
        raise BadRequest("the agents resource takes an Agent, not a Group")
    return json_response(person(agent))
