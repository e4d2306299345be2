"""The tool's xAPI Profile (JSON-LD) and an HTML page for each of its own IRIs."""

from __future__ import annotations

import json
from datetime import datetime
from html import escape
from typing import Any

from xapi import vocabulary as v
from xapi.statements import format_timestamp

PROFILE_NAME = "Microreview xAPI Profile"
PROFILE_DEFINITION = (
    "Statements Microreview sends: LTI launches, spaced review sessions (cmi5-like: initialized "
    "first, terminated last), card answers as cmi.interactions, units experienced and mastered, "
    "with FSRS memory estimates and LTI placement ids as extensions."
)
# Stable generation time of profile version v1 (changes only with a new version).
PROFILE_V1_TIME = datetime.fromisoformat("2026-01-01T00:00:00+00:00")

_JSON_SCHEMAS = {
    "string": {"type": "string"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "array": {"type": "array", "items": {"type": "string"}},
}

_TEMPLATES: tuple[tuple[str, str, str, str, list[str]], ...] = (
    ("launched", v.VERB_LAUNCHED, v.ACTIVITY_TYPE_COURSE, "The learner launched the tool.", []),
    ("initialized", v.VERB_INITIALIZED, v.ACTIVITY_TYPE_COURSE, "A review session started.", []),
    (
        "answered",
        v.VERB_ANSWERED,
        v.ACTIVITY_TYPE_INTERACTION,
        "The learner answered a card.",
        ["$.result.success", "$.result.response", "$.result.duration"],
    ),
    ("experienced", v.VERB_EXPERIENCED, v.ACTIVITY_TYPE_LESSON, "The learner read a unit.", []),
    (
        "mastered",
        v.VERB_MASTERED,
        v.ACTIVITY_TYPE_LESSON,
        "Every card of the unit reached the retention target.",
        ["$.result.success"],
    ),
    (
        "completed",
        v.VERB_COMPLETED,
        v.ACTIVITY_TYPE_COURSE,
        "The learner finished the planned cards.",
        ["$.result.duration"],
    ),
    (
        "terminated",
        v.VERB_TERMINATED,
        v.ACTIVITY_TYPE_COURSE,
        "A review session ended.",
        ["$.result.duration"],
    ),
)


def _lang(text: str) -> dict[str, str]:
    return {v.LANGUAGE: text}


def _concept(vocab: v.Vocabulary, spec: v.ExtensionSpec) -> dict[str, Any]:
    concept: dict[str, Any] = {
        "id": vocab.extension(spec),
        "type": spec.kind.value,
        "inScheme": vocab.profile_version,
        "prefLabel": _lang(spec.label),
        "definition": _lang(spec.definition),
        "inlineSchema": json.dumps(_JSON_SCHEMAS[spec.json_type]),
    }
    if spec.kind is v.ExtensionKind.ACTIVITY:
        concept["recommendedActivityTypes"] = [v.ACTIVITY_TYPE_LESSON]
    return concept


def _template(vocab: v.Vocabulary, entry: tuple[str, str, str, str, list[str]]) -> dict[str, Any]:
    name, verb, activity_type, definition, required = entry
    rules = [{"location": "$.context.registration", "presence": "included"}]
    rules += [{"location": location, "presence": "included"} for location in required]
    return {
        "id": f"{vocab.profile}/templates/{name}",
        "type": "StatementTemplate",
        "inScheme": vocab.profile_version,
        "prefLabel": _lang(name),
        "definition": _lang(definition),
        "verb": verb,
        "objectActivityType": activity_type,
        "contextCategoryActivityType": [v.ACTIVITY_TYPE_PROFILE],
        "rules": rules,
    }


def _patterns(vocab: v.Vocabulary) -> list[dict[str, Any]]:
    base = f"{vocab.profile}/patterns"
    template = f"{vocab.profile}/templates"
    common = {"type": "Pattern", "inScheme": vocab.profile_version}
    return [
        {
            "id": f"{base}/review-session",
            **common,
            "primary": True,
            "prefLabel": _lang("review session"),
            "definition": _lang("initialized first, then activity, completed, terminated last."),
            "sequence": [
                f"{template}/initialized",
                f"{base}/session-activity",
                f"{base}/optional-completed",
                f"{template}/terminated",
            ],
        },
        {
            "id": f"{base}/session-activity",
            **common,
            "prefLabel": _lang("session activity"),
            "definition": _lang("Any number of answers, experiences and masteries."),
            "zeroOrMore": f"{base}/activity-choice",
        },
        {
            "id": f"{base}/activity-choice",
            **common,
            "prefLabel": _lang("one session event"),
            "definition": _lang("One answer, experience or mastery."),
            "alternates": [
                f"{template}/{name}" for name in ("answered", "experienced", "mastered")
            ],
        },
        {
            "id": f"{base}/optional-completed",
            **common,
            "prefLabel": _lang("completion"),
            "definition": _lang("Completed, when the learner finished the planned cards."),
            "optional": f"{template}/completed",
        },
    ]


def build_profile(vocab: v.Vocabulary) -> dict[str, Any]:
    """The tool's xAPI Profile as a JSON-LD document."""
    return {
        "@context": v.PROFILES_CONTEXT,
        "id": vocab.profile,
        "type": "Profile",
        "conformsTo": v.PROFILES_CONFORMS_TO,
        "prefLabel": _lang(PROFILE_NAME),
        "definition": _lang(PROFILE_DEFINITION),
        "author": {"type": "Organization", "name": "Microreview"},
        "versions": [
            {"id": vocab.profile_version, "generatedAtTime": format_timestamp(PROFILE_V1_TIME)}
        ],
        "concepts": [_concept(vocab, spec) for spec in v.EXTENSIONS],
        "templates": [_template(vocab, entry) for entry in _TEMPLATES],
        "patterns": _patterns(vocab),
    }


def find_concept(vocab: v.Vocabulary, iri: str) -> dict[str, Any] | None:
    """The concept, template or pattern with this IRI (or the profile itself)."""
    profile = build_profile(vocab)
    if iri in (vocab.profile, vocab.profile_version):
        return profile
    for key in ("concepts", "templates", "patterns"):
        for item in profile[key]:
            if item["id"] == iri:
                return dict(item)
    return None


def describe_html(vocab: v.Vocabulary, iri: str) -> str | None:
    """A small HTML page describing one of the tool's IRIs, or None if it is not ours."""
    item = find_concept(vocab, iri)
    if item is None:
        return None
    label = item["prefLabel"][v.LANGUAGE]
    rows = [
        ("IRI", f"<code>{escape(item['id'])}</code>"),
        ("Type", escape(item["type"])),
        ("Definition", escape(item["definition"][v.LANGUAGE])),
    ]
    if "inlineSchema" in item:
        rows.append(("Value (JSON Schema)", f"<code>{escape(item['inlineSchema'])}</code>"))
    if "verb" in item:
        rows.append(("Verb", f"<code>{escape(item['verb'])}</code>"))
    body = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in rows)
    profile_link = f'<a href="{escape(vocab.profile)}">{escape(PROFILE_NAME)}</a>'
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(label)}</title></head><body><main><h1>{escape(label)}</h1>"
        f"<dl>{body}</dl><p>Part of the {profile_link}.</p></main></body></html>"
    )
