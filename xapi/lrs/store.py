"""Writing statements into the embedded LRS: ids, stored time, authority, voiding, index rows."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from xapi.db import one_of, utcnow
from xapi.lrs import formats, jsontext
from xapi.lrs.agents import actor_key, agent_key
from xapi.lrs.bulk import insert_relations, insert_statements
from xapi.lrs.exceptions import BadRequest, Conflict
from xapi.lrs.models import LrsActivity, LrsAttachment, LrsStatement
from xapi.lrs.validation import check_statements
from xapi.vocabulary import VERB_VOIDED

_CONTEXT_ACTIVITY_KEYS = ("parent", "grouping", "category", "other")


_LRS_FIELDS = ("id", "stored", "authority", "version")


def _dumps(value: Any) -> bytes:
    return jsontext.dumps_bytes(value, sort_keys=True)


def content_hash(statement: Mapping[str, Any]) -> str:
    """Hash of what the client sent (not what the LRS adds), to tell duplicates from conflicts."""
    return _hash_and_text(_significant(statement))[0]


def _significant(statement: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in statement.items() if key not in _LRS_FIELDS}


def _hash_and_text(significant: dict[str, Any]) -> tuple[str, str]:
    # Serialised once, in the order received: sorting keys would cost more than the rest of
    # preparing a statement. A known id whose hash differs is compared by content instead
    # (`_same_content`), so key order (or hashes of older versions) never makes a false 409.
    text = jsontext.dumps_bytes(significant)
    return hashlib.sha256(text).hexdigest(), text.decode()


def _same_content(stored: dict[str, Any], significant: dict[str, Any]) -> bool:
    """Whether a stored statement holds what a client sent again (ignoring the LRS's fields)."""
    old = _significant(stored)
    if "timestamp" not in significant and old.get("timestamp") == stored.get("stored"):
        del old["timestamp"]  # the LRS filled it in from `stored`
    return _dumps(old) == _dumps(significant)


@dataclass
class Prepared:
    """A statement ready to insert: its stored JSON, index columns and relation rows."""

    row: dict[str, Any]
    significant: dict[str, Any] = field(default_factory=dict)
    relations: list[tuple[str, str]] = field(default_factory=list)
    definitions: dict[str, dict[str, Any]] = field(default_factory=dict)


def _activities(statement: Mapping[str, Any]) -> Iterator[tuple[dict[str, Any], bool]]:
    """Every activity in a statement, with True for the statement's own object."""
    target = statement.get("object", {})
    if target.get("objectType", "Activity") == "Activity":
        yield target, True
    if target.get("objectType") == "SubStatement":
        for activity, _primary in _activities(target):
            yield activity, False
    activities = statement.get("context", {}).get("contextActivities", {})
    for key in _CONTEXT_ACTIVITY_KEYS:
        entry = activities.get(key, [])
        for activity in entry if isinstance(entry, list) else [entry]:
            yield activity, False


def _related_agents(statement: Mapping[str, Any], *, sub: bool = False) -> Iterator[str]:
    """Agent keys beyond the actor and object columns (instructor, team, sub-parts).

    The authority is the same for a whole request, so `Batch` adds it once, not per statement.
    """
    context = statement.get("context", {})
    candidates = [context.get("instructor"), context.get("team")]
    candidates += [item.get("agent") for item in context.get("contextAgents", [])]
    candidates += [item.get("group") for item in context.get("contextGroups", [])]
    target = statement.get("object", {})
    if sub:
        candidates += [statement.get("actor"), target]
    for candidate in candidates:
        if isinstance(candidate, dict):
            key = agent_key(candidate)
            if key:
                yield key
    if target.get("objectType") == "SubStatement":
        yield from _related_agents(target, sub=True)


def _normalise_context_activities(statement: dict[str, Any]) -> None:
    """Context activities are always returned as arrays (also inside a SubStatement)."""
    for holder in (statement, statement.get("object", {})):
        activities = holder.get("context", {}).get("contextActivities")
        if isinstance(activities, dict):
            for key, value in activities.items():
                if not isinstance(value, list):
                    activities[key] = [value]


@dataclass
class Batch:
    """What every statement of one request shares: tenant, authority, stored time, version.

    The shared parts are serialised once per request, not once per statement.
    """

    tenant: str
    authority: dict[str, Any]
    stored: datetime
    version: str

    def __post_init__(self) -> None:
        self.stored_text = formats.format_stored(self.stored)
        self.default_version = "2.0.0" if self.version.startswith("2.") else "1.0.0"
        self.authority_key = agent_key(self.authority)
        # The LRS's fields go after the client's, in sorted order like the rest of the payload.
        self._authority_json = jsontext.dumps(self.authority, sort_keys=True)

    def prepare(self, statement: dict[str, Any]) -> Prepared:
        """Complete a validated statement (id, stored, authority, version); derive index rows."""
        _normalise_context_activities(statement)
        timestamp = statement.get("timestamp")
        if self.version.startswith("2.") and timestamp and not timestamp.endswith("Z"):
            statement["timestamp"] = formats.format_stored(formats.parse_timestamp(timestamp))
        significant = _significant(statement)
        received_hash, text = _hash_and_text(significant)
        statement_id = str(statement.get("id") or uuid.uuid4()).lower()
        lrs_fields = self._lrs_fields(statement, statement_id, add_timestamp=not timestamp)
        statement.update(lrs_fields)
        prepared = Prepared(self._row(statement, statement_id, received_hash), significant)
        prepared.row["payload"] = text[:-1] + "," + self._lrs_json(lrs_fields)
        for activity, primary in _activities(statement):
            if not primary:
                prepared.relations.append(("activity", activity["id"]))
            if "definition" in activity:
                prepared.definitions[activity["id"]] = activity["definition"]
        prepared.relations += [("agent", key) for key in _related_agents(statement)]
        if self.authority_key:
            prepared.relations.append(("agent", self.authority_key))
        return prepared

    def _lrs_fields(
        self, statement: dict[str, Any], statement_id: str, *, add_timestamp: bool
    ) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "id": statement_id,
            "stored": self.stored_text,
            "authority": self.authority,
            "version": statement.get("version") or self.default_version,
        }
        if add_timestamp:
            fields["timestamp"] = self.stored_text
        return fields

    def _lrs_json(self, fields: dict[str, Any]) -> str:
        """The LRS's fields as JSON members (closing the object), the authority's JSON reused."""
        rest = {key: value for key, value in fields.items() if key != "authority"}
        return '"authority":' + self._authority_json + "," + jsontext.dumps(rest)[1:]

    def _row(self, statement: dict[str, Any], statement_id: str, digest: str) -> dict[str, Any]:
        target = statement["object"]
        kind = target.get("objectType", "Activity")
        registration = statement.get("context", {}).get("registration")
        return {
            "tenant": self.tenant,
            "statement_id": uuid.UUID(statement_id),
            "stored": self.stored,
            "verb": statement["verb"]["id"],
            "actor_key": actor_key(statement["actor"]),
            "object_activity": target["id"] if kind == "Activity" else None,
            "object_agent_key": actor_key(target) if kind in ("Agent", "Group") else None,
            "object_ref": uuid.UUID(target["id"]) if kind == "StatementRef" else None,
            "registration": uuid.UUID(registration) if registration else None,
            "voided": False,
            "content_hash": digest,
        }


def store_statements(
    session: Session,
    tenant: str,
    statements: list[Any],
    *,
    authority: dict[str, Any],
    version: str,
    attachments: Mapping[str, tuple[str, bytes]] | None = None,
) -> list[str]:
    """Validate and store a batch atomically; known identical ids are skipped, others 409."""
    check_statements(statements, version)
    ids = [str(s["id"]).lower() for s in statements if "id" in s]
    if len(ids) != len(set(ids)):
        raise BadRequest("the batch contains the same statement id twice")
    now = utcnow()
    # Stored time is exposed with millisecond precision; keep the column identical so that
    # `since` given a returned `stored` value excludes that statement.
    stored = now.replace(microsecond=now.microsecond // 1000 * 1000)
    shared = Batch(tenant, authority, stored, version)
    batch = [shared.prepare(s) for s in statements]
    fresh = _drop_known(session, tenant, batch)
    _check_voiding(session, tenant, fresh)
    _insert(session, tenant, fresh)
    _store_attachments(session, tenant, attachments or {})
    return [str(p.row["statement_id"]) for p in batch]


def _drop_known(session: Session, tenant: str, batch: list[Prepared]) -> list[Prepared]:
    wanted = [p.row["statement_id"] for p in batch]
    rows = session.execute(
        select(LrsStatement.statement_id, LrsStatement.content_hash).where(
            LrsStatement.tenant == tenant, one_of(session, LrsStatement.statement_id, wanted)
        )
    )
    known = {statement_id: digest for statement_id, digest in rows}
    differing = [
        p
        for p in batch
        if known.get(p.row["statement_id"], p.row["content_hash"]) != p.row["content_hash"]
    ]
    if differing:
        _check_same_content(session, tenant, differing)
    return [p for p in batch if p.row["statement_id"] not in known]


def _check_same_content(session: Session, tenant: str, batch: list[Prepared]) -> None:
    """409 unless each statement equals the stored one with its id (same content, other text)."""
    ids = [p.row["statement_id"] for p in batch]
    rows = session.execute(
        select(LrsStatement.statement_id, LrsStatement.payload).where(
            LrsStatement.tenant == tenant, one_of(session, LrsStatement.statement_id, ids)
        )
    )
    stored = {statement_id: payload for statement_id, payload in rows}
    for prepared in batch:
        if not _same_content(
            jsontext.loads(stored[prepared.row["statement_id"]]), prepared.significant
        ):
            raise Conflict(f"statement {prepared.row['statement_id']} exists with other content")


def _check_voiding(session: Session, tenant: str, batch: list[Prepared]) -> None:
    """Mark the targets of voiding statements voided (a voiding statement itself never is)."""
    targets = [p.row["object_ref"] for p in batch if p.row["verb"] == VERB_VOIDED]
    if not targets:
        return
    in_batch = {p.row["statement_id"]: p for p in batch}
    for target in targets:
        if target in in_batch and in_batch[target].row["verb"] != VERB_VOIDED:
            in_batch[target].row["voided"] = True
    session.execute(
        update(LrsStatement)
        .where(
            LrsStatement.tenant == tenant,
            LrsStatement.statement_id.in_(targets),
            LrsStatement.verb != VERB_VOIDED,
        )
        .values(voided=True),
        execution_options={"synchronize_session": False},
    )


def _insert(session: Session, tenant: str, batch: list[Prepared]) -> None:
    if not batch:
        return
    pks = insert_statements(session, [p.row for p in batch])
    relations = [
        (pk, tenant, kind, key)
        for pk, prepared in zip(pks, batch, strict=True)
        for kind, key in dict.fromkeys(prepared.relations)
    ]
    insert_relations(session, relations)
    definitions: dict[str, dict[str, Any]] = {}
    for prepared in batch:
        for iri, definition in prepared.definitions.items():
            if definitions.get(iri) != definition:  # most batches repeat the same definitions
                definitions[iri] = merge_definition(definitions.get(iri, {}), definition)
    _upsert_activities(session, tenant, definitions)


def merge_definition(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Canonical definition: newer values win, language maps merge per language."""
    merged = dict(old)
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def _upsert_activities(
    session: Session, tenant: str, definitions: dict[str, dict[str, Any]]
) -> None:
    if not definitions:
        return
    existing = {
        row.iri: row
        for row in session.scalars(
            select(LrsActivity).where(
                LrsActivity.tenant == tenant, LrsActivity.iri.in_(list(definitions))
            )
        )
    }
    for iri, definition in definitions.items():
        row = existing.get(iri)
        if row is None:
            session.add(LrsActivity(tenant=tenant, iri=iri, definition=json.dumps(definition)))
            continue
        merged = merge_definition(json.loads(row.definition), definition)
        text = json.dumps(merged)
        if text != row.definition:
            row.definition = text


def _store_attachments(
    session: Session, tenant: str, attachments: Mapping[str, tuple[str, bytes]]
) -> None:
    if not attachments:
        return
    known = set(
        session.scalars(
            select(LrsAttachment.sha2).where(
                LrsAttachment.tenant == tenant, LrsAttachment.sha2.in_(list(attachments))
            )
        )
    )
    for sha2, (content_type, content) in attachments.items():
        if sha2 not in known:
            session.add(
                LrsAttachment(tenant=tenant, sha2=sha2, content_type=content_type, content=content)
            )
