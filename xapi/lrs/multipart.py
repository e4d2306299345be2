"""multipart/mixed statement requests: the statements part and the attachment parts by hash."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from xapi.lrs import jsontext
from xapi.lrs.exceptions import BadRequest

_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)
HASH_HEADER = "x-experience-api-hash"


@dataclass(frozen=True)
class Part:
    """One part of a multipart body."""

    headers: dict[str, str]
    content: bytes


def split_parts(body: bytes, content_type_header: str) -> list[Part]:
    """Split a multipart body into parts (400 when malformed)."""
    match = _BOUNDARY.search(content_type_header)
    if match is None:
        raise BadRequest("multipart/mixed needs a boundary parameter")
    delimiter = b"--" + match.group(1).encode()
    chunks = body.split(delimiter)
    if len(chunks) < 3:
        raise BadRequest("multipart body has no parts")
    parts = []
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk.removeprefix(b"\r\n").removesuffix(b"\r\n")
        head, separator, content = chunk.partition(b"\r\n\r\n")
        if not separator:
            raise BadRequest("a multipart part has no header/body separator")
        headers = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, _, value = line.partition(":")
            if name.strip():
                headers[name.strip().lower()] = value.strip()
        parts.append(Part(headers, content))
    return parts


def parse_statement_request(
    body: bytes, content_type_header: str
) -> tuple[Any, dict[str, tuple[str, bytes]]]:
    """The statements JSON and {sha2: (content type, bytes)} of a multipart statement request."""
    parts = split_parts(body, content_type_header)
    first = parts[0]
    if first.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise BadRequest("the first multipart part must be the application/json statements")
    try:
        statements = jsontext.loads(first.content)
    except ValueError as exc:
        raise BadRequest("the statements part is not valid JSON") from exc
    attachments: dict[str, tuple[str, bytes]] = {}
    for part in parts[1:]:
        sha2 = part.headers.get(HASH_HEADER)
        if not sha2:
            raise BadRequest(f"every attachment part needs an {HASH_HEADER} header")
        if part.headers.get("content-transfer-encoding", "").lower() != "binary":
            raise BadRequest("attachment parts need Content-Transfer-Encoding: binary")
        attachments[sha2] = (
            part.headers.get("content-type", "application/octet-stream"),
            part.content,
        )
    return statements, attachments


def match_attachments(
    statements: list[dict[str, Any]], attachments: dict[str, tuple[str, bytes]]
) -> None:
    """400 unless each declared attachment without fileUrl has a part and each part is declared."""
    declared: set[str] = set()
    needed: set[str] = set()
    for statement in statements:
        for holder in (statement, statement.get("object") or {}):
            found = holder.get("attachments") if isinstance(holder, dict) else None
            # Anything but an array is left to validation (400), not iterated (a number: 500).
            for attachment in found if isinstance(found, list) else []:
                if not isinstance(attachment, dict):
                    continue
                sha2 = str(attachment.get("sha2"))
                declared.add(sha2)
                if "fileUrl" not in attachment:
                    needed.add(sha2)
    missing = needed - set(attachments)
    if missing:
        raise BadRequest(f"attachment content missing for sha2 {sorted(missing)[0]}")
    extra = set(attachments) - declared
    if extra:
        raise BadRequest(f"attachment part {sorted(extra)[0]} is not declared by any statement")
