"""State, Activity Profile and Agent Profile documents: storage, JSON merge, ETag checks."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from xapi.db import utcnow
from xapi.lrs import formats
from xapi.lrs.exceptions import BadRequest, Conflict, PreconditionFailed, PreconditionRequired
from xapi.lrs.models import LrsDocument

JSON_TYPE = "application/json"


class DocumentKind(StrEnum):
    """The three document resources."""

    STATE = "state"
    ACTIVITY_PROFILE = "activity_profile"
    AGENT_PROFILE = "agent_profile"


@dataclass(frozen=True)
class DocumentKey:
    """Where a document lives; parts a resource does not use are ""."""

    tenant: str
    kind: DocumentKind
    activity: str = ""
    agent_key: str = ""
    registration: str = ""

    def where(self) -> list[Any]:
        """SQL conditions selecting this key's documents."""
        return [
            LrsDocument.tenant == self.tenant,
            LrsDocument.kind == self.kind.value,
            LrsDocument.activity == self.activity,
            LrsDocument.agent_key == self.agent_key,
            LrsDocument.registration == self.registration,
        ]


@dataclass(frozen=True)
class Preconditions:
    """If-Match / If-None-Match of a write, and whether the resource demands one of them."""

    if_match: str | None = None
    if_none_match: str | None = None
    required: bool = False
    # Status for creating a document without either header: 400 (1.0.3 profiles),
    # 428 (2.0 profiles) or None (allowed).
    missing_on_new: int | None = None


def etag_of(content: bytes) -> str:
    """The SHA-1 hex ETag of a document."""
    return hashlib.sha1(content, usedforsecurity=False).hexdigest()


def _tags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/").strip('"') for tag in header.split(",")}


def check_preconditions(current: LrsDocument | None, pre: Preconditions) -> None:
    """Apply RFC 7232 If-Match / If-None-Match; 409 when a required header is missing."""
    if pre.if_match is not None:
        tags = _tags(pre.if_match)
        if current is None or ("*" not in tags and current.etag not in tags):
            raise PreconditionFailed("If-Match does not match the current document")
    if pre.if_none_match is not None:
        tags = _tags(pre.if_none_match)
        if current is not None and ("*" in tags or current.etag in tags):
            raise PreconditionFailed("If-None-Match: the document already exists")
    if not pre.required or pre.if_match is not None or pre.if_none_match is not None:
        return
    if current is not None:
        raise Conflict(
            "the document exists: send If-Match with its ETag (or If-None-Match: *) to write"
        )
    if pre.missing_on_new == PreconditionRequired.status:
        raise PreconditionRequired("send If-None-Match: * to create this document")
    if pre.missing_on_new is not None:
        raise BadRequest("send If-None-Match: * to create this document, or If-Match to replace it")


def get_document(session: Session, key: DocumentKey, doc_id: str) -> LrsDocument | None:
    """One document, or None."""
    return session.scalar(select(LrsDocument).where(*key.where(), LrsDocument.doc_id == doc_id))


def list_ids(session: Session, key: DocumentKey, since: str | None) -> list[str]:
    """Ids of the documents under a key, optionally only those updated after `since`."""
    query = select(LrsDocument.doc_id).where(*key.where())
    if since:
        query = query.where(LrsDocument.updated > formats.parse_timestamp(since, "since"))
    return list(session.scalars(query.order_by(LrsDocument.doc_id)))


def last_modified(session: Session, key: DocumentKey) -> datetime | None:
    """Latest update among a key's documents."""
    rows = session.scalars(select(LrsDocument.updated).where(*key.where()))
    return max(rows, default=None)


def _is_json(content_type: str) -> bool:
    return content_type.split(";")[0].strip().lower() == JSON_TYPE


def put_document(
    session: Session,
    key: DocumentKey,
    doc_id: str,
    content: bytes,
    content_type: str,
    pre: Preconditions,
) -> LrsDocument:
    """Create or replace a document."""
    current = get_document(session, key, doc_id)
    check_preconditions(current, pre)
    if _is_json(content_type):
        _parse_json(content)
    return _save(session, key, doc_id, current, content, content_type)


def merge_document(
    session: Session,
    key: DocumentKey,
    doc_id: str,
    content: bytes,
    content_type: str,
    pre: Preconditions,
) -> LrsDocument:
    """POST: merge a JSON object into an existing JSON object document (or create it)."""
    current = get_document(session, key, doc_id)
    check_preconditions(current, pre)
    if current is None:
        if _is_json(content_type):
            _require_object(_parse_json(content))
        return _save(session, key, doc_id, None, content, content_type)
    if not (_is_json(content_type) and _is_json(current.content_type)):
        raise BadRequest("POST merges JSON objects only: both documents must be application/json")
    old = _require_object(_parse_json(current.content))
    new = _require_object(_parse_json(content))
    merged = json.dumps({**old, **new}).encode()
    return _save(session, key, doc_id, current, merged, JSON_TYPE)


def _parse_json(content: bytes) -> Any:
    try:
        return json.loads(content)
    except ValueError as exc:
        raise BadRequest("the document is declared application/json but is not JSON") from exc


def _require_object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadRequest("POST merges JSON objects only: the document is not a JSON object")
    return value


def _save(
    session: Session,
    key: DocumentKey,
    doc_id: str,
    current: LrsDocument | None,
    content: bytes,
    content_type: str,
) -> LrsDocument:
    now = utcnow()
    if current is None:
        current = LrsDocument(
            tenant=key.tenant,
            kind=key.kind.value,
            activity=key.activity,
            agent_key=key.agent_key,
            registration=key.registration,
            doc_id=doc_id,
        )
        session.add(current)
    current.content = content
    current.content_type = content_type
    current.etag = etag_of(content)
    current.updated = now
    return current


def delete_documents(
    session: Session, key: DocumentKey, doc_id: str | None, pre: Preconditions
) -> None:
    """Delete one document (with preconditions) or, without an id, every document under the key."""
    if doc_id is None:
        session.execute(delete(LrsDocument).where(*key.where()))
        return
    current = get_document(session, key, doc_id)
    check_preconditions(current, Preconditions(pre.if_match, pre.if_none_match))
    if current is not None:
        session.delete(current)
