"""Statement output formats (exact, ids, canonical) and multipart/mixed bodies with attachments."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from xapi.lrs.agents import IFIS

_LANGUAGE_MAPS = ("name", "description", "display")
Definitions = Callable[[list[str]], Mapping[str, dict[str, Any]]]


def _ids_agent(agent: dict[str, Any]) -> dict[str, Any]:
    result = {key: agent[key] for key in ("objectType", *IFIS) if key in agent}
    if agent.get("objectType") == "Group" and not any(key in agent for key in IFIS):
        result["member"] = [_ids_agent(member) for member in agent.get("member", [])]
    return result


def _walk_statement(
    statement: dict[str, Any],
    activity: Callable[[Any], Any],
    agent: Callable[[Any], Any],
    verb: Callable[[Any], Any],
) -> dict[str, Any]:
    result = dict(statement)
    result["actor"] = agent(statement["actor"])
    result["verb"] = verb(statement["verb"])
    target = statement["object"]
    kind = target.get("objectType", "Activity")
    if kind == "Activity":
        result["object"] = activity(target)
    elif kind in ("Agent", "Group"):
        result["object"] = agent(target)
    elif kind == "SubStatement":
        result["object"] = _walk_statement(target, activity, agent, verb)
    if "authority" in statement:
        result["authority"] = agent(statement["authority"])
    if "context" in statement:
        result["context"] = _walk_context(statement["context"], activity, agent)
    return result


def _walk_context(
    context: dict[str, Any], activity: Callable[[Any], Any], agent: Callable[[Any], Any]
) -> dict[str, Any]:
    result = dict(context)
    for key in ("instructor", "team"):
        if key in context:
            result[key] = agent(context[key])
    if "contextActivities" in context:
        result["contextActivities"] = {
            key: [activity(item) for item in (value if isinstance(value, list) else [value])]
            for key, value in context["contextActivities"].items()
        }
    return result


def ids_format(statement: dict[str, Any]) -> dict[str, Any]:
    """Only what identifies agents, groups, activities and verbs."""
    return _walk_statement(
        statement,
        activity=lambda item: {"id": item["id"]},
        agent=_ids_agent,
        verb=lambda item: {"id": item["id"]},
    )


def pick_language(language_map: Mapping[str, str], accepted: list[str]) -> dict[str, str]:
    """One entry of a language map: the first accepted language present, else the first entry."""
    if not language_map:
        return {}
    lowered = {tag.lower(): tag for tag in language_map}
    for wanted in accepted:
        wanted = wanted.lower()
        for tag_lower, tag in lowered.items():
            if tag_lower == wanted or tag_lower.split("-")[0] == wanted:
                return {tag: language_map[tag]}
    first = next(iter(language_map))
    return {first: language_map[first]}


def _one_language(item: dict[str, Any], accepted: list[str]) -> dict[str, Any]:
    result = dict(item)
    for key in _LANGUAGE_MAPS:
        if isinstance(result.get(key), dict):
            result[key] = pick_language(result[key], accepted)
    return result


def canonical_format(
    statement: dict[str, Any], accepted: list[str], definitions: Mapping[str, dict[str, Any]]
) -> dict[str, Any]:
    """Canonical activity definitions and verb displays, one language each."""

    def activity(item: dict[str, Any]) -> dict[str, Any]:
        result = dict(item)
        definition = definitions.get(item["id"], item.get("definition"))
        if definition:
            result["definition"] = _one_language(definition, accepted)
        return result

    return _walk_statement(
        statement,
        activity=activity,
        agent=lambda item: item,
        verb=lambda item: _one_language(item, accepted),
    )


def accepted_languages(header: str | None) -> list[str]:
    """Language tags of an Accept-Language header, best first."""
    if not header:
        return []
    weighted = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and tag != "*":
            weighted.append((-quality, index, tag))
    return [tag for _q, _i, tag in sorted(weighted)]


def activity_ids(statements: Iterable[dict[str, Any]]) -> list[str]:
    """Every activity id that appears in the statements (for canonical lookups)."""
    found: list[str] = []

    def collect(item: dict[str, Any]) -> dict[str, Any]:
        found.append(item["id"])
        return item

    for statement in statements:
        _walk_statement(statement, activity=collect, agent=lambda a: a, verb=lambda v: v)
    return list(dict.fromkeys(found))


def attachment_hashes(statements: Iterable[dict[str, Any]]) -> list[str]:
    """sha2 of every attachment (statement and sub-statement) without a fileUrl-only link."""
    hashes: list[str] = []
    for statement in statements:
        for holder in (statement, statement.get("object", {})):
            for attachment in holder.get("attachments", []) or []:
                hashes.append(attachment["sha2"])
    return list(dict.fromkeys(hashes))


def multipart_body(
    document: Any, attachments: Iterable[tuple[str, str, bytes]]
) -> tuple[bytes, str]:
    """A multipart/mixed body: the JSON document first, then each (sha2, type, content)."""
    boundary = uuid.uuid4().hex
    parts = [
        f"--{boundary}\r\nContent-Type: application/json\r\n\r\n".encode()
        + json.dumps(document).encode()
        + b"\r\n"
    ]
    for sha2, content_type, content in attachments:
        head = (
            f"--{boundary}\r\nContent-Type: {content_type}\r\n"
            f"Content-Transfer-Encoding: binary\r\nX-Experience-API-Hash: {sha2}\r\n\r\n"
        )
        parts.append(head.encode() + content + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--".encode()
    return body, f"multipart/mixed; boundary={boundary}"
