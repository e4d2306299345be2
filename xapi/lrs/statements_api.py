"""The Statement resource: PUT, POST and GET (single, filtered, `more` pages, attachments)."""

from __future__ import annotations

import json
from typing import Any

from flask import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from xapi.db import utcnow
from xapi.lrs import formats, output
from xapi.lrs.agents import actor_key, parse_agent_param
from xapi.lrs.exceptions import BadRequest, NotFound
from xapi.lrs.http import XapiRequest, check_json_or_multipart, json_response, parse_bool
from xapi.lrs.models import LrsActivity, LrsAttachment
from xapi.lrs.multipart import match_attachments, parse_statement_request
from xapi.lrs.query import StatementQuery, find_statements, get_statement
from xapi.lrs.signatures import check_signatures
from xapi.lrs.store import store_statements
from xapi.vocabulary import CONSISTENT_THROUGH_HEADER

_GET_PARAMS = {
    "statementId",
    "voidedStatementId",
    "agent",
    "verb",
    "activity",
    "registration",
    "related_activities",
    "related_agents",
    "since",
    "until",
    "limit",
    "format",
    "attachments",
    "ascending",
    "more",
}
_SINGLE_ALLOWED = {"statementId", "voidedStatementId", "format", "attachments"}
_FORMATS = {"exact", "ids", "canonical"}


def authority_for(xreq: XapiRequest, home_page: str) -> dict[str, Any]:
    """The authority agent of the credentials that sent the request."""
    return {"objectType": "Agent", "account": {"homePage": home_page, "name": xreq.username}}


def _read_statements(xreq: XapiRequest) -> tuple[Any, dict[str, tuple[str, bytes]]]:
    check_json_or_multipart(xreq)
    if xreq.content_type == "multipart/mixed":
        return parse_statement_request(xreq.body, xreq.headers.get("content-type", ""))
    return xreq.json(), {}


def put_statement(session: Session, xreq: XapiRequest, home_page: str) -> Response:
    """PUT /statements?statementId=...: store one statement under the given id."""
    xreq.only_args({"statementId"})
    statement_id = xreq.arg("statementId")
    if statement_id is None:
        raise BadRequest("PUT /statements needs the statementId parameter")
    formats.parse_uuid(statement_id, "statementId")
    statement, attachments = _read_statements(xreq)
    if not isinstance(statement, dict):
        raise BadRequest("PUT /statements takes one statement object")
    if "id" in statement and str(statement["id"]).lower() != statement_id.lower():
        raise BadRequest("the statement id differs from the statementId parameter")
    statement["id"] = statement_id
    _write(session, xreq, [statement], attachments, home_page)
    return Response(status=204)


def post_statements(session: Session, xreq: XapiRequest, home_page: str) -> Response:
    """POST /statements: store one statement or a batch; answers the ids in order."""
    xreq.only_args(set())
    body, attachments = _read_statements(xreq)
    statements = body if isinstance(body, list) else [body]
    if not statements:
        raise BadRequest("the batch is empty")
    ids = _write(session, xreq, statements, attachments, home_page)
    return json_response(ids)


def _write(
    session: Session,
    xreq: XapiRequest,
    statements: list[Any],
    attachments: dict[str, tuple[str, bytes]],
    home_page: str,
) -> list[str]:
    if not all(isinstance(statement, dict) for statement in statements):
        raise BadRequest("each statement must be a JSON object")
    match_attachments(statements, attachments)
    check_signatures(statements, attachments)
    return store_statements(
        session,
        xreq.tenant,
        statements,
        authority=authority_for(xreq, home_page),
        version=xreq.version,
        attachments=attachments,
    )


def get_statements(session: Session, xreq: XapiRequest, more_path: str) -> Response:
    """GET /statements: one statement by id, or a StatementResult page with a `more` link."""
    xreq.only_args(_GET_PARAMS)
    consistent = formats.format_stored(utcnow())
    if "statementId" in xreq.args or "voidedStatementId" in xreq.args:
        response = _single(session, xreq)
    else:
        response = _many(session, xreq, more_path)
    response.headers[CONSISTENT_THROUGH_HEADER] = consistent
    return response


def _single(session: Session, xreq: XapiRequest) -> Response:
    extra = set(xreq.args) - _SINGLE_ALLOWED
    if extra or ("statementId" in xreq.args and "voidedStatementId" in xreq.args):
        raise BadRequest(f"statementId/voidedStatementId cannot be combined with {sorted(extra)}")
    voided = "voidedStatementId" in xreq.args
    raw_id = xreq.arg("voidedStatementId" if voided else "statementId")
    formats.parse_uuid(raw_id, "statementId")
    fmt = _format(xreq)
    payload = get_statement(session, xreq.tenant, str(raw_id), voided=voided)
    if payload is None:
        raise NotFound(f"no statement {raw_id}")
    statement = _shape(session, xreq, [json.loads(payload)], fmt)[0]
    return _last_modified(_respond(session, xreq, statement, [statement]), [statement])


def _format(xreq: XapiRequest) -> str:
    fmt = xreq.arg("format") or "exact"
    if fmt not in _FORMATS:
        raise BadRequest("format must be ids, exact or canonical")
    return fmt


def _many(session: Session, xreq: XapiRequest, more_path: str) -> Response:
    token = xreq.arg("more")
    query = StatementQuery.from_cursor(token) if token else _parse_query(xreq)
    payloads, next_query = find_statements(session, xreq.tenant, query)
    statements = _shape(session, xreq, [json.loads(p) for p in payloads], query.format)
    more = f"{more_path}?more={next_query.cursor()}" if next_query else ""
    result = {"statements": statements, "more": more}
    if query.attachments:
        response = _respond(session, xreq, result, statements, force_multipart=True)
    else:
        response = json_response(result)
    return _last_modified(response, statements)


def _last_modified(response: Response, statements: list[dict[str, Any]]) -> Response:
    """Last-Modified: the latest `stored` among the statements returned (xAPI 2.0)."""
    stored = [s["stored"] for s in statements if "stored" in s]
    if stored:
        latest = max(formats.parse_timestamp(value, "stored") for value in stored)
        response.last_modified = latest
    return response


def _parse_query(xreq: XapiRequest) -> StatementQuery:
    agent = xreq.arg("agent")
    registration = xreq.arg("registration")
    if registration is not None:
        formats.parse_uuid(registration, "registration")
    for name in ("verb", "activity"):
        value = xreq.arg(name)
        if value is not None and not formats.is_iri(value):
            raise BadRequest(f"{name} must be an IRI")
    since, until = xreq.arg("since"), xreq.arg("until")
    for name, value in (("since", since), ("until", until)):
        if value is not None:
            formats.parse_timestamp(value, name)
    limit = xreq.arg("limit") or "0"
    if not limit.isdigit():
        raise BadRequest("limit must be a non-negative integer")
    return StatementQuery(
        agent_key=actor_key(parse_agent_param(agent)) if agent is not None else None,
        verb=xreq.arg("verb"),
        activity=xreq.arg("activity"),
        registration=registration.lower() if registration else None,
        related_activities=parse_bool(xreq.arg("related_activities"), "related_activities"),
        related_agents=parse_bool(xreq.arg("related_agents"), "related_agents"),
        since=since,
        until=until,
        limit=int(limit),
        ascending=parse_bool(xreq.arg("ascending"), "ascending"),
        format=_format(xreq),
        attachments=parse_bool(xreq.arg("attachments"), "attachments"),
    )


def _shape(
    session: Session, xreq: XapiRequest, statements: list[dict[str, Any]], fmt: str
) -> list[dict[str, Any]]:
    if fmt == "ids":
        return [output.ids_format(statement) for statement in statements]
    if fmt == "canonical":
        ids = output.activity_ids(statements)
        definitions = {
            row.iri: json.loads(row.definition)
            for row in session.scalars(
                select(LrsActivity).where(
                    LrsActivity.tenant == xreq.tenant, LrsActivity.iri.in_(ids)
                )
            )
        }
        accepted = output.accepted_languages(xreq.headers.get("accept-language"))
        return [output.canonical_format(s, accepted, definitions) for s in statements]
    return statements


def _respond(
    session: Session,
    xreq: XapiRequest,
    document: Any,
    statements: list[dict[str, Any]],
    *,
    force_multipart: bool = False,
) -> Response:
    if not (force_multipart or parse_bool(xreq.arg("attachments"), "attachments")):
        return json_response(document)
    hashes = output.attachment_hashes(statements)
    rows = session.scalars(
        select(LrsAttachment).where(
            LrsAttachment.tenant == xreq.tenant, LrsAttachment.sha2.in_(hashes)
        )
    ).all()
    body, content_type = output.multipart_body(
        document, ((row.sha2, row.content_type, row.content) for row in rows)
    )
    return Response(body, status=200, content_type=content_type)
