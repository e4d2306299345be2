"""The embedded LRS over HTTP: headers, voiding, filters, documents and concurrency, tenants."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from xapi import events as ev
from xapi import vocabulary as v
from xapi.exceptions import LrsHttpError
from xapi.statements import statement_dict

AUTH = ("tenant-a", "secret-a")
HEADERS = {v.VERSION_HEADER: "1.0.3"}


@pytest.fixture
def http(live_lrs) -> httpx.Client:
    """A raw HTTP client of the embedded LRS (tenant a)."""
    with httpx.Client(base_url=live_lrs.endpoint, auth=AUTH, headers=HEADERS) as client:
        yield client


def _post(lrs_client, builder, make_answer, count=1, **kw) -> list[dict]:
    bodies = [statement_dict(builder.build(make_answer(**kw))) for _ in range(count)]
    lrs_client.post_statements(bodies)
    return bodies


def test_requests_without_version_header_are_refused_except_about(live_lrs):
    """X-Experience-API-Version is required (400) everywhere but About."""
    with httpx.Client(base_url=live_lrs.endpoint, auth=AUTH) as client:
        assert client.get("statements").status_code == 400
        about = client.get("about")
    assert about.status_code == 200
    assert about.headers[v.VERSION_HEADER] == "1.0.3"


def test_statement_get_carries_consistent_through_and_version(http):
    """GET /statements answers with the consistent-through and version headers."""
    response = http.get("statements")
    assert response.status_code == 200
    assert response.headers[v.CONSISTENT_THROUGH_HEADER].endswith("Z")
    assert response.headers[v.VERSION_HEADER] == "1.0.3"
    assert response.json() == {"statements": [], "more": ""}


def test_missing_credentials_are_refused(live_lrs):
    """No Basic credentials: 401."""
    with httpx.Client(base_url=live_lrs.endpoint, headers=HEADERS) as client:
        assert client.get("statements").status_code == 401


def test_voided_statement_is_only_fetchable_by_voided_statement_id(
    lrs_client, builder, make_answer, learner
):
    """After voiding, statementId gives 404 and voidedStatementId returns the statement."""
    (body,) = _post(lrs_client, builder, make_answer)
    event = ev.StatementVoided(actor=learner, target_id=uuid.UUID(body["id"]))
    voiding = statement_dict(builder.build(event))
    lrs_client.post_statements([voiding])
    with pytest.raises(LrsHttpError) as missing:
        lrs_client.get_statement(body["id"])
    assert missing.value.status == 404
    assert lrs_client.get_statement(body["id"], voided=True)["id"] == body["id"]
    listed = [s["id"] for s in lrs_client.iter_statements(verb=v.VERB_ANSWERED)]
    assert body["id"] not in listed


def test_since_and_ascending_filter_on_stored_time(lrs_client, builder, make_answer):
    """since is exclusive on stored time; ascending returns oldest first."""
    first = _post(lrs_client, builder, make_answer)[0]
    stored = lrs_client.get_statement(first["id"])["stored"]
    later = _post(lrs_client, builder, make_answer, count=2)
    page = lrs_client.get_statements(ascending=True)
    assert page.statements[0]["id"] == first["id"]
    after = lrs_client.get_statements(since=stored).statements
    assert {s["id"] for s in after} <= {b["id"] for b in later}


def test_related_activities_finds_statements_by_parent_unit(
    lrs_client, builder, make_answer, vocabulary
):
    """activity + related_activities matches context parents (the unit of a card)."""
    (body,) = _post(lrs_client, builder, make_answer)
    unit = vocabulary.activity(v.ActivityKind.UNIT, "unit-3")
    assert lrs_client.get_statements(activity=unit).statements == []
    related = lrs_client.get_statements(activity=unit, related_activities=True).statements
    assert [s["id"] for s in related] == [body["id"]]


def test_registration_filter_selects_one_enrolment(lrs_client, builder, make_answer, placement):
    """registration filter returns the statements of that enrolment."""
    (body,) = _post(lrs_client, builder, make_answer)
    found = lrs_client.get_statements(registration=str(placement.registration)).statements
    assert [s["id"] for s in found] == [body["id"]]
    assert lrs_client.get_statements(registration=str(uuid.uuid4())).statements == []


def test_format_ids_strips_definitions(lrs_client, builder, make_answer):
    """format=ids leaves only identifiers of activities and verbs."""
    (body,) = _post(lrs_client, builder, make_answer)
    (stored,) = lrs_client.get_statements(format="ids").statements
    assert stored["object"] == {"id": body["object"]["id"]}
    assert stored["verb"] == {"id": v.VERB_ANSWERED}


def test_unknown_parameter_is_refused(http):
    """Parameters the resource does not define give 400 (names are case-sensitive)."""
    assert http.get("statements", params={"Verb": v.VERB_ANSWERED}).status_code == 400


def test_batch_with_one_bad_statement_stores_nothing(lrs_client, builder, make_answer):
    """A batch is atomic: one invalid statement rejects the whole POST."""
    bodies = [statement_dict(builder.build(make_answer())) for _ in range(3)]
    bodies[2]["actor"] = {"name": "no identifier"}
    with pytest.raises(LrsHttpError):
        lrs_client.post_statements(bodies)
    assert lrs_client.get_statements().statements == []


AGENT = json.dumps({"mbox": "mailto:lee@example.edu"})
ACTIVITY = "https://review.example.org/xapi/activity/unit/u1"


def test_profile_put_honours_etags(http):
    """Activity profile writes need If-None-Match to create and the current ETag to replace."""
    params = {"activityId": ACTIVITY, "profileId": "p1"}
    assert http.put("activities/profile", params=params, json={"a": 1}).status_code == 400
    created = http.put(
        "activities/profile", params=params, json={"a": 1}, headers={"If-None-Match": "*"}
    )
    assert created.status_code == 204
    current = http.get("activities/profile", params=params)
    etag = current.headers["ETag"]
    assert http.put("activities/profile", params=params, json={"a": 2}).status_code == 409
    stale = http.put(
        "activities/profile", params=params, json={"a": 3}, headers={"If-Match": '"x"'}
    )
    assert stale.status_code == 412
    fresh = http.put("activities/profile", params=params, json={"a": 4}, headers={"If-Match": etag})
    assert fresh.status_code == 204
    assert http.get("activities/profile", params=params).json() == {"a": 4}


def test_state_post_merges_json_documents(http):
    """POST to a JSON state merges top-level keys; GET lists ids; DELETE removes them."""
    params = {"activityId": ACTIVITY, "agent": AGENT, "stateId": "s1"}
    assert http.put("activities/state", params=params, json={"a": 1, "b": 1}).status_code == 204
    assert http.post("activities/state", params=params, json={"b": 2, "c": 3}).status_code == 204
    assert http.get("activities/state", params=params).json() == {"a": 1, "b": 2, "c": 3}
    listing = {"activityId": ACTIVITY, "agent": AGENT}
    assert http.get("activities/state", params=listing).json() == ["s1"]
    assert http.delete("activities/state", params=listing).status_code == 204
    assert http.get("activities/state", params=params).status_code == 404


def test_documents_are_isolated_per_tenant(live_lrs, http):
    """Another tenant cannot read a tenant's agent profile."""
    params = {"agent": AGENT, "profileId": "prefs"}
    http.put("agents/profile", params=params, json={"x": 1}, headers={"If-None-Match": "*"})
    with httpx.Client(
        base_url=live_lrs.endpoint, auth=("tenant-b", "secret-b"), headers=HEADERS
    ) as other:
        assert other.get("agents/profile", params=params).status_code == 404


def test_activities_resource_returns_the_canonical_definition(
    lrs_client, http, builder, make_answer
):
    """GET /activities returns the definition merged from stored statements."""
    (body,) = _post(lrs_client, builder, make_answer)
    activity = http.get("activities", params={"activityId": body["object"]["id"]}).json()
    assert activity["definition"]["interactionType"] == "choice"


def test_agents_resource_returns_a_person(http):
    """GET /agents returns a Person object with array-valued identifiers."""
    person = http.get("agents", params={"agent": AGENT}).json()
    assert person == {"objectType": "Person", "mbox": ["mailto:lee@example.edu"]}


def _reordered(value):
    """The same JSON value with every object's keys in reverse order."""
    if isinstance(value, dict):
        return {key: _reordered(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [_reordered(item) for item in value]
    return value


def test_statement_sent_again_in_other_key_order_is_a_duplicate_not_a_conflict(
    http, builder, make_answer
):
    """A known id with the same content (any key order, no timestamp) is 204; other content 409."""
    body = statement_dict(builder.build(make_answer()))
    del body["timestamp"]  # the LRS fills it in; sending it again without one is no change
    params = {"statementId": body["id"]}
    assert http.put("statements", params=params, json=body).status_code == 204
    assert http.put("statements", params=params, json=_reordered(body)).status_code == 204
    assert http.post("statements", json=[_reordered(body)]).status_code == 200
    changed = dict(body, result=dict(body["result"], success=not body["result"]["success"]))
    assert http.put("statements", params=params, json=changed).status_code == 409
    score = dict(body["result"]["score"], scaled=int(body["result"]["score"]["scaled"]))
    other_number = dict(body, result=dict(body["result"], score=score))
    assert http.put("statements", params=params, json=other_number).status_code == 409
    assert http.get("statements", params=params).json()["result"] == body["result"]
