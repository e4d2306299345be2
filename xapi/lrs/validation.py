"""Statement validation against the xAPI 1.0.3 / 2.0.0 data rules; every failure is a 400."""

from __future__ import annotations

import re
from typing import Any

from xapi.lrs import formats
from xapi.lrs.agents import IFIS, check_actor, check_agent, check_group
from xapi.lrs.exceptions import BadRequest

_VERSION_1 = re.compile(r"^1\.0(\.\d+)?$")
_VERSION_ANY = re.compile(r"^(1|2)\.0(\.\d+)?$")
INTERACTION_TYPES = {
    "true-false",
    "choice",
    "fill-in",
    "long-fill-in",
    "matching",
    "performance",
    "sequencing",
    "likert",
    "numeric",
    "other",
}
_COMPONENT_LISTS = {
    "choices": {"choice", "sequencing"},
    "scale": {"likert"},
    "source": {"matching"},
    "target": {"matching"},
    "steps": {"performance"},
}
_STATEMENT_KEYS = {
    "id",
    "actor",
    "verb",
    "object",
    "result",
    "context",
    "timestamp",
    "stored",
    "authority",
    "version",
    "attachments",
}
_SUB_KEYS = {
    "objectType",
    "actor",
    "verb",
    "object",
    "result",
    "context",
    "timestamp",
    "attachments",
}
_DEFINITION_KEYS = {
    "name",
    "description",
    "type",
    "moreInfo",
    "extensions",
    "interactionType",
    "correctResponsesPattern",
    *_COMPONENT_LISTS,
}
_CONTEXT_KEYS = {
    "registration",
    "instructor",
    "team",
    "contextActivities",
    "revision",
    "platform",
    "language",
    "statement",
    "extensions",
}
_CONTEXT_KEYS_2 = _CONTEXT_KEYS | {"contextAgents", "contextGroups"}
_ACTIVITY_KEYS = {"objectType", "id", "definition"}
_CONTEXT_ACTIVITY_KEYS = {"parent", "grouping", "category", "other"}
_RESULT_KEYS = {"score", "success", "completion", "response", "duration", "extensions"}
_ATTACHMENT_KEYS = {
    "usageType",
    "display",
    "description",
    "contentType",
    "length",
    "sha2",
    "fileUrl",
}


def obj(value: Any, path: str, allowed: set[str]) -> dict[str, Any]:
    """Require a JSON object with only `allowed` keys."""
    if not isinstance(value, dict):
        raise BadRequest(f"{path} must be a JSON object")
    if not allowed.issuperset(value):
        raise BadRequest(f"{path} has unknown properties {sorted(set(value) - allowed)}")
    return value


def iri(value: Any, path: str) -> None:
    """Require an absolute IRI."""
    if not formats.is_iri(value):
        raise BadRequest(f"{path} must be an IRI with a scheme")


def language_map(value: Any, path: str) -> None:
    """Require a language map: RFC 5646 tags to strings."""
    if not isinstance(value, dict):
        raise BadRequest(f"{path} must be a language map")
    for tag, text in value.items():
        if not formats.is_language_tag(tag):
            raise BadRequest(f"{path} has an invalid language tag {tag!r}")
        if not isinstance(text, str):
            raise BadRequest(f"{path}[{tag}] must be a string")


def extensions(value: Any, path: str) -> None:
    """Require an extensions object keyed by IRIs."""
    if not isinstance(value, dict):
        raise BadRequest(f"{path} must be an object")
    for key in value:
        iri(key, f"{path} key")


def _boolean(value: Any, path: str) -> None:
    if not isinstance(value, bool):
        raise BadRequest(f"{path} must be true or false")


def _string(value: Any, path: str) -> None:
    if not isinstance(value, str):
        raise BadRequest(f"{path} must be a string")


Seen = dict[Any, Any]
"""Parts already validated in this batch (activities by id, verbs, contexts): an equal one
needs no second check. Equality is safe here: every leaf these checks look at must be a string,
and only a string equals a string (unlike True == 1)."""


def _seen_equal(seen: Seen, key: Any, value: Any) -> bool:
    known = seen.get(key)
    return known is not None and known == value


def check_statements(statements: list[Any], version: str) -> None:
    """Validate a batch; activities repeated across it (course, module...) are checked once."""
    seen: Seen = {}
    for statement in statements:
        check_statement(statement, version, seen)


def check_statement(statement: Any, version: str, seen: Seen | None = None) -> dict[str, Any]:
    """Validate one statement as received; returns it."""
    statement = obj(statement, "statement", _STATEMENT_KEYS)
    if "id" in statement and not formats.is_uuid(statement["id"]):
        raise BadRequest("statement.id must be a UUID")
    _statement_core(statement, "statement", version, {} if seen is None else seen)
    if "stored" in statement:
        formats.parse_timestamp(statement["stored"], "statement.stored")
    if "authority" in statement:
        _authority(statement["authority"])
    if "version" in statement:
        _version(statement["version"], version)
    return statement


def _statement_core(statement: dict[str, Any], path: str, version: str, seen: Seen) -> None:
    for key in ("actor", "verb", "object"):
        if key not in statement:
            raise BadRequest(f"{path}.{key} is required")
    check_actor(statement["actor"], f"{path}.actor")
    verb = statement["verb"]
    verb_id = verb.get("id") if isinstance(verb, dict) else None
    verb_key = ("verb", verb_id if isinstance(verb_id, str) else None)
    if not _seen_equal(seen, verb_key, verb):
        _verb(verb, f"{path}.verb")
        seen[verb_key] = verb
    _object(statement["object"], f"{path}.object", version, seen, sub=path != "statement")
    if "result" in statement:
        _result(statement["result"], f"{path}.result")
    if "context" in statement:
        _checked_context(statement, path, version, seen)
    if "timestamp" in statement:
        formats.parse_timestamp(statement["timestamp"], f"{path}.timestamp")
    if "attachments" in statement:
        _attachments(statement["attachments"], f"{path}.attachments")
    if statement["verb"].get("id") == "http://adlnet.gov/expapi/verbs/voided":
        target = statement["object"]
        if not isinstance(target, dict) or target.get("objectType") != "StatementRef":
            raise BadRequest("a voiding statement's object must be a StatementRef")


def _checked_context(statement: dict[str, Any], path: str, version: str, seen: Seen) -> None:
    """Validate the context, unless an equal one with the same kind of object already was."""
    context, target = statement["context"], statement["object"]
    not_activity = isinstance(target, dict) and target.get("objectType", "Activity") != "Activity"
    registration = context.get("registration") if isinstance(context, dict) else None
    key = ("context", registration if isinstance(registration, str) else None, not_activity)
    if not _seen_equal(seen, key, context):
        _context(context, f"{path}.context", target, version, seen)
        seen[key] = context


def _version(value: Any, header_version: str) -> None:
    if not isinstance(value, str):
        raise BadRequest("statement.version must be a string")
    major = header_version.split(".")[0]
    pattern = _VERSION_1 if major == "1" else _VERSION_ANY
    if not pattern.match(value):
        raise BadRequest(f"statement.version {value!r} is not a supported xAPI version")


def _authority(value: Any) -> None:
    if not isinstance(value, dict):
        raise BadRequest("statement.authority must be an Agent or Group")
    if value.get("objectType") == "Group":
        check_group(value, "statement.authority")
        if any(key in value for key in IFIS):
            raise BadRequest("an authority group must be anonymous (OAuth client and user)")
        if len(value.get("member", [])) != 2:
            raise BadRequest("an OAuth authority group must have exactly two members")
    else:
        check_agent(value, "statement.authority")


def _verb(value: Any, path: str) -> None:
    verb = obj(value, path, {"id", "display"})
    iri(verb.get("id"), f"{path}.id")
    if "display" in verb:
        language_map(verb["display"], f"{path}.display")


def _object(value: Any, path: str, version: str, seen: Seen, *, sub: bool) -> None:
    if not isinstance(value, dict):
        raise BadRequest(f"{path} must be a JSON object")
    kind = value.get("objectType", "Activity")
    if kind == "Activity":
        activity(value, path, seen)
    elif kind == "Agent":
        check_agent(value, path, object_type_required=True)
    elif kind == "Group":
        check_group(value, path)
    elif kind == "StatementRef":
        statement_ref(value, path)
    elif kind == "SubStatement" and not sub:
        _substatement(value, path, version, seen)
    else:
        raise BadRequest(f"{path}.objectType {kind!r} is not allowed here")


def statement_ref(value: Any, path: str) -> None:
    """Validate a StatementRef."""
    ref = obj(value, path, {"objectType", "id"})
    if ref.get("objectType") != "StatementRef":
        raise BadRequest(f"{path}.objectType must be 'StatementRef'")
    if not formats.is_uuid(ref.get("id")):
        raise BadRequest(f"{path}.id must be a UUID")


def _substatement(value: dict[str, Any], path: str, version: str, seen: Seen) -> None:
    obj(value, path, _SUB_KEYS)
    _statement_core(value, path, version, seen)


def activity(value: Any, path: str, seen: Seen | None = None) -> None:
    """Validate an Activity object (skipped when `seen` holds an equal, valid one)."""
    if seen is not None and isinstance(value, dict) and isinstance(value.get("id"), str):
        known = seen.get(value["id"])
        if known is not None and known == value:
            return
    act = obj(value, path, _ACTIVITY_KEYS)
    if act.get("objectType", "Activity") != "Activity":
        raise BadRequest(f"{path}.objectType must be 'Activity'")
    iri(act.get("id"), f"{path}.id")
    if "definition" in act:
        _definition(act["definition"], f"{path}.definition")
    if seen is not None:
        seen[act["id"]] = act


def _definition(value: Any, path: str) -> None:
    definition = obj(value, path, _DEFINITION_KEYS)
    for key in ("name", "description"):
        if key in definition:
            language_map(definition[key], f"{path}.{key}")
    for key in ("type", "moreInfo"):
        if key in definition:
            iri(definition[key], f"{path}.{key}")
    if "extensions" in definition:
        extensions(definition["extensions"], f"{path}.extensions")
    _interaction(definition, path)


def _interaction(definition: dict[str, Any], path: str) -> None:
    kind = definition.get("interactionType")
    uses = [key for key in ("correctResponsesPattern", *_COMPONENT_LISTS) if key in definition]
    if kind is None:
        if uses:
            raise BadRequest(f"{path}: {uses[0]} needs an interactionType")
        return
    if not isinstance(kind, str) or kind not in INTERACTION_TYPES:
        raise BadRequest(f"{path}.interactionType {kind!r} is not a known interaction type")
    if "correctResponsesPattern" in definition:
        pattern = definition["correctResponsesPattern"]
        if not isinstance(pattern, list) or not all(isinstance(p, str) for p in pattern):
            raise BadRequest(f"{path}.correctResponsesPattern must be an array of strings")
    for key, kinds in _COMPONENT_LISTS.items():
        if key not in definition:
            continue
        if kind not in kinds:
            raise BadRequest(f"{path}.{key} is not allowed for a {kind} interaction")
        _components(definition[key], f"{path}.{key}")


def _components(value: Any, path: str) -> None:
    if not isinstance(value, list):
        raise BadRequest(f"{path} must be an array")
    seen: set[str] = set()
    for index, component in enumerate(value):
        item = obj(component, f"{path}[{index}]", {"id", "description"})
        _string(item.get("id"), f"{path}[{index}].id")
        if item["id"] in seen:
            raise BadRequest(f"{path} has a duplicate id {item['id']!r}")
        seen.add(item["id"])
        if "description" in item:
            language_map(item["description"], f"{path}[{index}].description")


def _result(value: Any, path: str) -> None:
    result = obj(value, path, _RESULT_KEYS)
    for key in ("success", "completion"):
        if key in result:
            _boolean(result[key], f"{path}.{key}")
    if "response" in result:
        _string(result["response"], f"{path}.response")
    if "duration" in result and not formats.is_duration(result["duration"]):
        raise BadRequest(f"{path}.duration must be an ISO 8601 duration")
    if "extensions" in result:
        extensions(result["extensions"], f"{path}.extensions")
    if "score" in result:
        _score(result["score"], f"{path}.score")


def _number(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadRequest(f"{path} must be a number")
    return float(value)


def _score(value: Any, path: str) -> None:
    score = obj(value, path, {"scaled", "raw", "min", "max"})
    numbers = {key: _number(score[key], f"{path}.{key}") for key in score}
    if "scaled" in numbers and not -1 <= numbers["scaled"] <= 1:
        raise BadRequest(f"{path}.scaled must be between -1 and 1")
    low, high, raw = numbers.get("min"), numbers.get("max"), numbers.get("raw")
    if low is not None and high is not None and low >= high:
        raise BadRequest(f"{path}.min must be less than max")
    if raw is not None and ((low is not None and raw < low) or (high is not None and raw > high)):
        raise BadRequest(f"{path}.raw must lie between min and max")


def _context(value: Any, path: str, target: Any, version: str, seen: Seen) -> None:
    allowed = _CONTEXT_KEYS_2 if version.startswith("2.") else _CONTEXT_KEYS
    context = obj(value, path, allowed)
    if "registration" in context and not formats.is_uuid(context["registration"]):
        raise BadRequest(f"{path}.registration must be a UUID")
    if "instructor" in context:
        check_actor(context["instructor"], f"{path}.instructor")
    if "team" in context:
        check_group(context["team"], f"{path}.team")
    not_activity = isinstance(target, dict) and target.get("objectType", "Activity") != "Activity"
    for key in ("revision", "platform"):
        if key in context:
            _string(context[key], f"{path}.{key}")
            if not_activity:
                raise BadRequest(f"{path}.{key} is only allowed when the object is an Activity")
    if "language" in context and not formats.is_language_tag(context["language"]):
        raise BadRequest(f"{path}.language must be an RFC 5646 language tag")
    if "statement" in context:
        statement_ref(context["statement"], f"{path}.statement")
    if "extensions" in context:
        extensions(context["extensions"], f"{path}.extensions")
    if "contextActivities" in context:
        _context_activities(context["contextActivities"], f"{path}.contextActivities", seen)
    _context_agents(context, path)


def _context_activities(value: Any, path: str, seen: Seen) -> None:
    activities = obj(value, path, _CONTEXT_ACTIVITY_KEYS)
    for key, entry in activities.items():
        items = entry if isinstance(entry, list) else [entry]
        for index, item in enumerate(items):
            activity(item, f"{path}.{key}[{index}]", seen)


def _context_agents(context: dict[str, Any], path: str) -> None:
    for key, kind, check in (
        ("contextAgents", "contextAgent", check_agent),
        ("contextGroups", "contextGroup", check_group),
    ):
        if key not in context:
            continue
        if not isinstance(context[key], list):
            raise BadRequest(f"{path}.{key} must be an array")
        field = "agent" if kind == "contextAgent" else "group"
        for index, item in enumerate(context[key]):
            where = f"{path}.{key}[{index}]"
            entry = obj(item, where, {"objectType", field, "relevantTypes"})
            if entry.get("objectType") != kind:
                raise BadRequest(f"{where}.objectType must be {kind!r}")
            check(entry.get(field), f"{where}.{field}")
            types = entry.get("relevantTypes")
            if types is not None:
                if not isinstance(types, list) or not types:
                    raise BadRequest(f"{where}.relevantTypes must be a non-empty array")
                for type_index, type_iri in enumerate(types):
                    iri(type_iri, f"{where}.relevantTypes[{type_index}]")


def _attachments(value: Any, path: str) -> None:
    if not isinstance(value, list):
        raise BadRequest(f"{path} must be an array")
    for index, item in enumerate(value):
        where = f"{path}[{index}]"
        attachment = obj(item, where, _ATTACHMENT_KEYS)
        for key in ("usageType", "display", "contentType", "length", "sha2"):
            if key not in attachment:
                raise BadRequest(f"{where}.{key} is required")
        iri(attachment["usageType"], f"{where}.usageType")
        language_map(attachment["display"], f"{where}.display")
        if "description" in attachment:
            language_map(attachment["description"], f"{where}.description")
        _string(attachment["contentType"], f"{where}.contentType")
        length = attachment["length"]
        if isinstance(length, bool) or not isinstance(length, int):
            raise BadRequest(f"{where}.length must be an integer")
        _string(attachment["sha2"], f"{where}.sha2")
        if "fileUrl" in attachment:
            iri(attachment["fileUrl"], f"{where}.fileUrl")
