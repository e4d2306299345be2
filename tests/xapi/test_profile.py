"""The tool's xAPI Profile document and the pages its own IRIs resolve to."""

from __future__ import annotations

import json

import pytest
from flask import Flask

from xapi import vocabulary as v
from xapi.lrs.profile_views import create_profile_blueprint
from xapi.profile import build_profile, describe_html


@pytest.fixture
def profile_client(vocabulary):
    """A Flask test client serving the profile blueprint."""
    app = Flask("profile")
    app.register_blueprint(create_profile_blueprint(vocabulary))
    return app.test_client()


def test_profile_declares_every_extension_under_the_tool_base(vocabulary):
    """Each extension of the vocabulary is a concept of the profile with a JSON schema."""
    profile = build_profile(vocabulary)
    assert profile["@context"] == v.PROFILES_CONTEXT
    assert profile["id"] == "https://review.example.org/xapi/profile"
    concepts = {c["id"]: c for c in profile["concepts"]}
    for spec in v.EXTENSIONS:
        concept = concepts[vocabulary.extension(spec)]
        assert concept["id"].startswith("https://review.example.org/xapi/profile/extensions/")
        assert concept["type"] == spec.kind.value
        assert json.loads(concept["inlineSchema"])["type"] == spec.json_type


def test_profile_templates_reference_only_patterns_and_templates_it_defines(vocabulary):
    """Pattern members resolve to templates or patterns of the same profile."""
    profile = build_profile(vocabulary)
    known = {t["id"] for t in profile["templates"]} | {p["id"] for p in profile["patterns"]}
    for pattern in profile["patterns"]:
        members = pattern.get("sequence") or pattern.get("alternates") or []
        members += [pattern[k] for k in ("zeroOrMore", "optional") if k in pattern]
        assert set(members) <= known


def test_profile_url_serves_json_ld_or_html(profile_client):
    """The profile IRI gives JSON-LD to machines and a page to people."""
    machine = profile_client.get("/xapi/profile", headers={"Accept": "application/ld+json"})
    assert machine.status_code == 200
    assert machine.json["type"] == "Profile"
    person = profile_client.get("/xapi/profile", headers={"Accept": "text/html"})
    assert b"Microreview xAPI Profile" in person.data


def test_each_extension_iri_resolves_to_a_page(profile_client, vocabulary):
    """Every custom extension IRI resolves to an HTML page describing it."""
    for spec in v.EXTENSIONS:
        path = vocabulary.extension(spec).removeprefix(vocabulary.base_url)
        page = profile_client.get(path, headers={"Accept": "text/html"})
        assert page.status_code == 200
        assert spec.label.encode() in page.data


def test_unknown_profile_iri_is_not_found(profile_client, vocabulary):
    """An IRI the profile does not define answers 404."""
    assert profile_client.get("/xapi/profile/extensions/nope").status_code == 404
    assert describe_html(vocabulary, vocabulary.profile + "/nope") is None
