"""Keep bearer values out of logs: launch tokens, id_tokens, OIDC state and nonces in URLs."""

from __future__ import annotations

import logging
import re

_SECRET_PARAMS = re.compile(r"\b(lt|id_token|state|nonce|token|JWT|registration_token)=[^&\s\"']+")


def redact(text: str) -> str:
    """The text with the values of secret-bearing URL parameters replaced."""
    return _SECRET_PARAMS.sub(lambda m: f"{m.group(1)}=[redacted]", text)


class RedactSecrets(logging.Filter):
    """A logging filter that redacts secret URL parameters from every record it sees."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message in place; never drops a record."""
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def install() -> None:
    """Redact on the root handlers and on werkzeug's request log (which logs full URLs)."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactSecrets) for f in handler.filters):
            handler.addFilter(RedactSecrets())
    werkzeug = logging.getLogger("werkzeug")
    if not any(isinstance(f, RedactSecrets) for f in werkzeug.filters):
        werkzeug.addFilter(RedactSecrets())
