"""Signed statements: the forwarder signs at delivery, the verifier checks what the LRS returns."""

from __future__ import annotations

import base64
import hashlib
import json

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select

from lti_tool.lti.keys import generate_key_pair
from xapi.lrs.models import LrsStatement
from xapi.outbox import Forwarder, OutboxEntry, enqueue
from xapi.signing import (
    SIGNATURE_CONTENT_TYPE,
    SIGNATURE_USAGE,
    StatementSigner,
    multipart_statements,
    signing_certificate,
)
from xapi.statements import statement_dict
from xapi.verify import comparable, public_keys, verify_lrs, verify_statement

LRS_KEY = "tenant-a"


@pytest.fixture(scope="module")
def tool_key() -> tuple[StatementSigner, dict[str, str]]:
    """A signer and its public JWK (RSA-2048 generation is slow: once per module)."""
    pem, public = generate_key_pair()
    return StatementSigner.from_pem(pem, public["kid"]), public


def _enqueue(sessions, builder, make_answer, count: int) -> dict[str, str]:
    """Enqueue answers; returns {statement id: outbox body}."""
    bodies = {}
    with sessions() as session, session.begin():
        for index in range(count):
            body = statement_dict(builder.build(make_answer(success=index % 2 == 0)))
            enqueue(session, body, LRS_KEY)
    with sessions() as session:
        for entry in session.scalars(select(OutboxEntry)):
            bodies[str(entry.statement_id)] = entry.body
    return bodies


def test_forwarder_signs_every_statement_of_a_batch_and_they_verify(
    sessions, lrs_client, builder, make_answer, tool_key
):
    """Batches go as multipart/mixed; each statement carries a JWS of exactly its outbox body."""
    signer, public = tool_key
    loads = []

    def load_signer() -> StatementSigner:
        loads.append(1)
        return signer

    bodies = _enqueue(sessions, builder, make_answer, 12)
    forwarder = Forwarder(sessions, lambda key: lrs_client, batch_size=5, signer=load_signer)
    report = forwarder.drain()
    assert (report.sent, report.dead) == (12, 0)
    assert len(loads) == 4  # once per pass (3 batches and the empty pass), not per statement
    result = verify_lrs(lrs_client, public_keys([public]))
    assert (result.valid, result.unsigned, result.invalid) == (12, [], [])
    assert result.by_kid == {public["kid"]: 12}

    stored = lrs_client.get_statement(next(iter(bodies)))
    (attachment,) = stored["attachments"]
    assert attachment["usageType"] == SIGNATURE_USAGE
    assert attachment["contentType"] == SIGNATURE_CONTENT_TYPE
    assert attachment["display"] and attachment["length"] > 0
    response = lrs_client.request(
        "GET", "statements", params={"statementId": stored["id"], "attachments": "true"}
    )
    token = response.content.split(b"X-Experience-API-Hash: ")[1].split(b"\r\n\r\n")[1]
    token = token.split(b"\r\n")[0]
    assert hashlib.sha256(token).hexdigest() == attachment["sha2"]
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256" and header["kid"] == public["kid"]
    assert (header["jwk"]["n"], header["jwk"]["e"]) == (public["n"], public["e"])
    certified = x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0])).public_key()
    assert certified.public_numbers() == public_keys([public])[public["kid"]].public_numbers()
    payload = base64.urlsafe_b64decode(token.split(b".")[1] + b"==")
    assert payload == bodies[stored["id"]].encode()  # the statement as the event recorded it


def test_a_single_statement_is_signed_on_the_put_path(
    sessions, lrs_client, builder, make_answer, tool_key
):
    """A lone statement goes by PUT, also multipart with its signature."""
    signer, public = tool_key
    _enqueue(sessions, builder, make_answer, 1)
    assert Forwarder(sessions, lambda key: lrs_client, signer=lambda: signer).drain().sent == 1
    result = verify_lrs(lrs_client, public_keys([public]))
    assert (result.valid, result.checked) == (1, 1)


def test_statement_altered_in_the_lrs_database_is_invalid(
    sessions, lrs_client, builder, make_answer, tool_key
):
    """Tamper: flip one answer's success in the LRS's own table; only that statement fails."""
    signer, public = tool_key
    _enqueue(sessions, builder, make_answer, 3)
    Forwarder(sessions, lambda key: lrs_client, signer=lambda: signer).drain()
    with sessions() as session, session.begin():
        row = session.scalars(select(LrsStatement).order_by(LrsStatement.pk)).first()
        statement = json.loads(row.payload)
        statement["result"]["success"] = not statement["result"]["success"]
        row.payload = json.dumps(statement)
        tampered = str(row.statement_id)
    result = verify_lrs(lrs_client, public_keys([public]))
    assert result.valid == 2
    (verdict,) = result.invalid
    assert verdict.statement_id == tampered
    assert verdict.reason == "statement differs from its signed payload in: result"
    assert not result.ok()


def test_unknown_key_and_unsigned_statements(sessions, lrs_client, builder, make_answer, tool_key):
    """Signed by a key the verifier does not trust: invalid; sent without signing: unsigned."""
    _, public = tool_key
    other_pem, other_public = generate_key_pair()
    stranger = StatementSigner.from_pem(other_pem, other_public["kid"])
    _enqueue(sessions, builder, make_answer, 2)
    Forwarder(sessions, lambda key: lrs_client, signer=lambda: stranger).drain()
    plain = statement_dict(builder.build(make_answer()))
    lrs_client.put_statement(plain)
    result = verify_lrs(lrs_client, public_keys([public]))
    assert result.valid == 0 and result.unsigned == [plain["id"]]
    assert {v.reason for v in result.invalid} == {
        f"signed by an unknown key (kid {other_public['kid']})"
    }
    assert result.ok() is False
    trusting = verify_lrs(lrs_client, public_keys([public, other_public]))
    assert (trusting.valid, len(trusting.unsigned)) == (2, 1)
    assert trusting.ok() and not trusting.ok(require_signed=True)


def _signed(signer: StatementSigner, body: dict) -> tuple[dict, dict[str, bytes]]:
    """A statement as an LRS returns it, and its attachment contents by sha2."""
    item = signer.sign(json.dumps(body))
    statement = json.loads(item.statement)
    statement.update(
        stored="2026-01-20T08:31:00.000Z",
        version="1.0.0",
        authority={"objectType": "Agent", "account": {"homePage": "https://lrs", "name": "k"}},
    )
    return statement, {item.sha2: item.jws}


def test_verification_ignores_what_an_lrs_may_change_and_nothing_else(
    builder, make_answer, tool_key
):
    """stored/authority/version and timestamp serialization are ignored; content changes are not."""
    signer, public = tool_key
    keys = public_keys([public])
    body = statement_dict(builder.build(make_answer()))
    statement, parts = _signed(signer, body)
    assert verify_statement(statement, parts, keys).status == "valid"
    statement["timestamp"] = "2026-01-20T09:30:15.123+01:00"  # same instant, another zone
    assert verify_statement(statement, parts, keys).status == "valid"
    statement["timestamp"] = "2026-01-20T09:30:15.124+01:00"
    assert "timestamp" in verify_statement(statement, parts, keys).reason
    statement, parts = _signed(signer, body)
    statement["verb"]["display"] = {"en-US": "guessed"}
    assert verify_statement(statement, parts, keys).reason.endswith("in: verb")


def test_signature_moved_to_another_statement_or_corrupted_is_invalid(
    builder, make_answer, tool_key
):
    """A valid signature of statement A attached to B fails on the id; bad bytes fail on sha2."""
    signer, public = tool_key
    keys = public_keys([public])
    first, first_parts = _signed(signer, statement_dict(builder.build(make_answer())))
    second, _ = _signed(signer, statement_dict(builder.build(make_answer())))
    second["attachments"] = first["attachments"]
    verdict = verify_statement(second, first_parts, keys)
    assert verdict.status == "invalid" and "id" in verdict.reason
    sha2 = first["attachments"][0]["sha2"]
    corrupted = {sha2: first_parts[sha2][:-2] + b"AA"}
    assert "sha2" in verify_statement(first, corrupted, keys).reason
    assert "did not return" in verify_statement(first, {}, keys).reason


def test_comparable_drops_the_id_only_when_the_payload_has_none():
    """An LRS may assign the id of a statement signed without one (xAPI Data 2.3.1)."""
    statement = {"id": "x", "actor": {}, "stored": "s", "result": {"duration": "PT7.254S"}}
    assert comparable(statement, keep_id=False) == {"actor": {}, "result": {"duration": "PT7.25S"}}
    assert comparable(statement)["id"] == "x"


def test_multipart_request_layout(tool_key):
    """Statements first (application/json), then one binary part per signature with its hash."""
    signer, _ = tool_key
    signed = [signer.sign('{"id":"a"}'), signer.sign('{"id":"b"}')]
    body, content_type = multipart_statements(signed, batch=True)
    boundary = content_type.split("boundary=")[1]
    parts = body.split(f"--{boundary}".encode())
    assert parts[-1] == b"--\r\n" and len(parts) == 5
    assert parts[1].startswith(b"\r\nContent-Type: application/json\r\n\r\n[{")
    for part, item in zip(parts[2:4], signed, strict=True):
        assert f"X-Experience-API-Hash: {item.sha2}".encode() in part
        assert b"Content-Transfer-Encoding: binary" in part
        assert part.endswith(item.jws + b"\r\n")
    with pytest.raises(ValueError):
        multipart_statements(signed, batch=False)


def test_a_certificate_of_another_key_in_the_header_is_invalid(builder, make_answer, tool_key):
    """The x5c certificate must be of the signing key: a swapped one is reported invalid."""
    signer, public = tool_key
    pem, other_public = generate_key_pair()
    other = serialization.load_pem_private_key(pem.encode(), password=None)
    swapped = StatementSigner(
        signer._key, public["kid"], certificate=signing_certificate(other, other_public["kid"])
    )
    body = json.dumps(statement_dict(builder.build(make_answer(success=True))))
    signed = swapped.sign(body)
    verdict = verify_statement(
        json.loads(signed.statement), {signed.sha2: signed.jws}, public_keys([public])
    )
    assert verdict.status == "invalid" and "x5c" in verdict.reason
