"""Value formats the xAPI specification defines: IRIs, UUIDs, language tags, times, durations."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_DOWN, Decimal
from functools import lru_cache

from xapi.lrs.exceptions import BadRequest

_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s]*$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_LANGTAG = re.compile(
    r"^(?:"
    r"(?:[a-zA-Z]{2,3}(?:-[a-zA-Z]{3}){0,3}|[a-zA-Z]{4,8})"  # language (+ extlang)
    r"(?:-[a-zA-Z]{4})?"  # script
    r"(?:-(?:[a-zA-Z]{2}|\d{3}))?"  # region
    r"(?:-(?:[a-zA-Z\d]{5,8}|\d[a-zA-Z\d]{3}))*"  # variants
    r"(?:-[0-9a-wy-zA-WY-Z](?:-[a-zA-Z\d]{2,8})+)*"  # extensions
    r"(?:-x(?:-[a-zA-Z\d]{1,8})+)?"  # private use
    r"|x(?:-[a-zA-Z\d]{1,8})+"
    r"|i-[a-zA-Z]{2,8}"
    r")$"
)
_TIMESTAMP = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2}|\d{8})"
    r"(?:T(?P<time>\d{2}(?::?\d{2}(?::?\d{2}(?:[.,]\d+)?)?)?)"
    r"(?P<zone>Z|[+-]\d{2}(?::?\d{2})?)?)?$"
)
_DURATION = re.compile(
    r"^P(?:\d+(?:[.,]\d+)?W$|(?!$)(?:\d+(?:[.,]\d+)?Y)?(?:\d+(?:[.,]\d+)?M)?"
    r"(?:\d+(?:[.,]\d+)?D)?"
    r"(?:T(?=\d)(?:\d+(?:[.,]\d+)?H)?(?:\d+(?:[.,]\d+)?M)?"
    r"(?:\d+(?:[.,]\d+)?S)?)?$)"
)
_FRACTION = re.compile(r"[.,]")
_SHA1 = re.compile(r"^[0-9a-fA-F]{40}$")
_MAILTO = re.compile(r"^mailto:[^@\s]+@[^@\s]+$")


# Statements repeat the same IRIs and language tags (verbs, extension keys, "en-US"):
# remembering recent answers is cheaper than matching the expression again.
@lru_cache(maxsize=4096)
def _iri_text(value: str) -> bool:
    return bool(_IRI.match(value))


@lru_cache(maxsize=256)
def _language_tag_text(value: str) -> bool:
    return bool(_LANGTAG.match(value))


def is_iri(value: object) -> bool:
    """True for a string with a scheme (absolute IRI)."""
    return isinstance(value, str) and _iri_text(value)


def is_uuid(value: object) -> bool:
    """True for a string in the canonical 8-4-4-4-12 UUID form."""
    return isinstance(value, str) and bool(_UUID.match(value))


def is_language_tag(value: object) -> bool:
    """True for an RFC 5646 language tag."""
    return isinstance(value, str) and _language_tag_text(value)


def is_sha1(value: object) -> bool:
    """True for 40 hex digits."""
    return isinstance(value, str) and bool(_SHA1.match(value))


def is_mailto(value: object) -> bool:
    """True for a mailto: IRI holding an address."""
    return isinstance(value, str) and bool(_MAILTO.match(value))


def is_duration(value: object) -> bool:
    """True for an ISO 8601 duration (PnYnMnDTnHnMnS or PnW)."""
    return isinstance(value, str) and bool(_DURATION.match(value))


def parse_timestamp(value: object, what: str = "timestamp") -> datetime:
    """Parse an ISO 8601 timestamp (extended or basic) to aware UTC; 400 on anything else."""
    match = _TIMESTAMP.match(value) if isinstance(value, str) else None
    if match is None:
        raise BadRequest(f"{what} is not an ISO 8601 timestamp: {value!r}")
    zone = match.group("zone")
    if zone and zone.startswith("-") and set(zone[1:].replace(":", "")) == {"0"}:
        raise BadRequest(f"{what} uses the forbidden -00:00 offset")
    try:
        return _to_datetime(match.group("date"), match.group("time") or "00", zone)
    except ValueError as exc:
        raise BadRequest(f"{what} is not a valid date and time: {value!r}") from exc


def _to_datetime(date: str, time: str, zone: str | None) -> datetime:
    digits = date.replace("-", "")
    fraction = ""
    if "." in time or "," in time:
        time, fraction = _FRACTION.split(time, maxsplit=1)
    clock = time.replace(":", "").ljust(6, "0")
    micro = int((fraction + "000000")[:6])
    moment = datetime(
        int(digits[:4]),
        int(digits[4:6]),
        int(digits[6:8]),
        int(clock[:2]),
        int(clock[2:4]),
        int(clock[4:6]),
        micro,
    )
    if not zone or zone == "Z":
        return moment.replace(tzinfo=UTC)
    sign = -1 if zone[0] == "-" else 1
    offset = zone[1:].replace(":", "").ljust(4, "0")
    delta = timedelta(hours=int(offset[:2]), minutes=int(offset[2:4]))
    return moment.replace(tzinfo=timezone(sign * delta)).astimezone(UTC)


def format_stored(value: datetime) -> str:
    """The LRS's own timestamps: UTC, milliseconds, Z."""
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_uuid(value: object, what: str) -> uuid.UUID:
    """A UUID from a parameter or property; 400 when malformed."""
    if not is_uuid(value):
        raise BadRequest(f"{what} must be a UUID")
    return uuid.UUID(str(value))


_DURATION_SECONDS = re.compile(r"(\d+(?:\.\d+)?)S$")


def duration_hundredths(duration: str) -> str:
    """An ISO 8601 duration cut to 0.01 s, as LRSs may store it (xAPI 2.0, 4.2.7): for comparing
    durations that went through an LRS."""
    match = _DURATION_SECONDS.search(duration)
    if match is None:
        return duration
    seconds = Decimal(match.group(1)).quantize(Decimal("0.01"), rounding=ROUND_DOWN).normalize()
    return duration[: match.start(1)] + format(seconds, "f") + "S"
