"""The statement write path's fast parts give what the plain ones gave: values, keys, checks."""

from __future__ import annotations

import gc
import json
import math
import random
import threading
import uuid

import httpx
import pytest

from xapi import vocabulary as v
from xapi.lrs import jsontext
from xapi.lrs.agents import agent_key
from xapi.lrs.gcpause import gc_paused
from xapi.statements import statement_dict

AUTH = ("tenant-a", "secret-a")
HEADERS = {v.VERSION_HEADER: "1.0.3"}

ODD_BODIES = [
    b'{"a":123456789012345678901234567890,"b":-9223372036854775809,"c":18446744073709551615}',
    b'{"a":NaN,"b":-Infinity,"c":1e400}',
    b'{"a":"\\ud800","b":"\\udfff\\ud800"}',
    '\ufeff{"a":"é"}'.encode(),
    '{"a":[1,2.5]}'.encode("utf-16"),
    b'[1.5e-7,0.1,-0.0,1E+2,5e-324,"\\u0000","\\ud83d\\ude00","\xc3\xa9"]',
    b'{"a":1,"a":2}',
]


@pytest.mark.parametrize("body", ODD_BODIES)
def test_json_reads_and_writes_the_values_the_standard_library_does(body):
    """orjson is used only where it gives json.loads' values; the text written reads back so."""
    expected = json.loads(body)
    value = jsontext.loads(body)
    assert ascii(value) == ascii(expected)  # ascii(): NaN and lone surrogates compare too
    assert ascii(json.loads(jsontext.dumps(value))) == ascii(expected)


@pytest.mark.parametrize("body", [b"", b"nope", b"\xff", b"[1,]", b'{"a":01}', b'"\x01"'])
def test_json_refuses_what_the_standard_library_refuses(body):
    """Not JSON: ValueError, as from json.loads."""
    with pytest.raises(ValueError):
        json.loads(body)
    with pytest.raises(ValueError):
        jsontext.loads(body)


def test_json_floats_read_exactly_as_the_standard_library_reads_them():
    """Random doubles in several notations parse to the same float both ways."""
    rng = random.Random(5)
    for _ in range(20_000):
        number = rng.uniform(-1e6, 1e6) * 10 ** rng.randrange(-300, 300)
        if not math.isfinite(number):
            continue
        for text in (repr(number), f"{number:.17g}", f"{number:.6e}"):
            data = f"[{text}]".encode()
            assert jsontext.loads(data) == json.loads(data)


def test_account_keys_are_the_json_text_they_always_were():
    """Actor keys are stored and queried: the fast path must write json.dumps' exact text."""
    rng = random.Random(9)
    alphabet = [chr(code) for code in range(0, 130)] + ['"', "\\", "é", "\u2028", "\ud800"]
    for _ in range(5_000):
        home = "".join(rng.choice(alphabet) for _ in range(rng.randrange(6)))
        name = "".join(rng.choice(alphabet) for _ in range(rng.randrange(6)))
        key = agent_key({"account": {"homePage": home, "name": name}})
        assert key == "account:" + json.dumps([home, name])


def test_gc_pause_nests_across_threads_and_restores_the_collector():
    """The collector is off while any request holds the pause, and back on after the last."""
    assert gc.isenabled()
    inside = threading.Event()
    release = threading.Event()

    def other() -> None:
        with gc_paused():
            inside.set()
            release.wait(5)

    thread = threading.Thread(target=other)
    with gc_paused():
        thread.start()
        assert inside.wait(5)
        assert not gc.isenabled()
    assert not gc.isenabled()  # the other request still holds it
    release.set()
    thread.join(5)
    assert gc.isenabled()


@pytest.fixture
def http(live_lrs) -> httpx.Client:
    """A raw HTTP client of the embedded LRS (tenant a)."""
    with httpx.Client(base_url=live_lrs.endpoint, auth=AUTH, headers=HEADERS) as client:
        yield client


def test_stored_statement_keeps_big_integers_unicode_and_odd_floats(http, builder, make_answer):
    """Values orjson cannot carry survive storage: what GET returns equals what was sent."""
    body = statement_dict(builder.build(make_answer()))
    extensions = {
        "https://example.org/x/big": 2**70,
        "https://example.org/x/text": "Grüße \u2028 \\ \t end",
        "https://example.org/x/small": 1.5e-7,
        "https://example.org/x/surrogate": "\ud800",
    }
    body["result"]["extensions"] = extensions
    content = json.dumps(body)  # ensure_ascii: the lone surrogate travels as \ud800
    posted = http.post("statements", content=content, headers={"Content-Type": "application/json"})
    assert posted.status_code == 200, posted.text
    stored = json.loads(http.get("statements", params={"statementId": body["id"]}).content)
    assert ascii(stored["result"]["extensions"]) == ascii(extensions)
    again = http.put(
        "statements",
        params={"statementId": body["id"]},
        content=content,
        headers={"Content-Type": "application/json"},
    )
    assert again.status_code == 204  # the same content again is no conflict


def test_agent_keys_with_copy_escapes_are_found_by_related_agents(http, builder, make_answer):
    """Relation keys holding backslashes, tabs and newlines are stored (COPY) and found again."""
    body = statement_dict(builder.build(make_answer()))
    instructor = {"account": {"homePage": "https://lms.example.org", "name": "a\\b\tc\nd\re"}}
    body["context"]["instructor"] = instructor
    assert http.post("statements", json=[body]).status_code == 200
    found = http.get(
        "statements", params={"agent": json.dumps(instructor), "related_agents": "true"}
    ).json()["statements"]
    assert [s["id"] for s in found] == [body["id"]]


def test_a_repeated_context_is_checked_again_when_it_differs(http, builder, make_answer):
    """Contexts equal to one already checked are skipped; one that differs is still refused."""
    first = statement_dict(builder.build(make_answer()))
    second = statement_dict(builder.build(make_answer()))
    assert first["context"] == second["context"]
    assert http.post("statements", json=[first, second]).status_code == 200
    third = statement_dict(builder.build(make_answer()))
    fourth = statement_dict(builder.build(make_answer()))
    fourth["context"]["language"] = "not a language tag!"
    assert http.post("statements", json=[third, fourth]).status_code == 400
    fifth = statement_dict(builder.build(make_answer()))
    ref = {"objectType": "StatementRef", "id": str(uuid.uuid4())}
    sixth = dict(statement_dict(builder.build(make_answer())), object=ref)
    # Same context, but `platform` is only allowed when the object is an Activity.
    assert fifth["context"] == sixth["context"] and "platform" in sixth["context"]
    assert http.post("statements", json=[fifth, sixth]).status_code == 400
    voided = dict(statement_dict(builder.build(make_answer())))
    voided["verb"] = dict(voided["verb"], display={"en-US": 5})
    assert http.post("statements", json=[third, voided]).status_code == 400


@pytest.mark.parametrize("attachments", [1.5, 7, True, {"sha2": "x"}])
def test_attachments_that_are_no_array_are_a_bad_request(http, builder, make_answer, attachments):
    """A malformed attachments property is refused with 400 (it once raised a 500)."""
    body = dict(statement_dict(builder.build(make_answer())), attachments=attachments)
    assert http.post("statements", json=[body]).status_code == 400


def test_gc_still_collects_when_paused_requests_overlap_without_end(monkeypatch):
    """Back-to-back overlapping requests never release the pause: collections still happen."""
    from xapi.lrs import gcpause

    calls = []
    monkeypatch.setattr(gcpause, "MAX_PAUSE", 0.0)
    monkeypatch.setattr(gcpause.gc, "collect", lambda *a: calls.append(a) or 0)
    with gc_paused():
        with gc_paused():
            pass
        assert calls  # an inner exit while the outer one holds the pause
    assert gc.isenabled()
