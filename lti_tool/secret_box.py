"""Encryption at rest for credentials the tool keeps (LRS secrets), keyed by SECRET_KEY."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from lti_tool.exceptions import ConfigError


class SecretBox:
    """Fernet (AES-128-CBC + HMAC) with a key derived from the app's secret key."""

    def __init__(self, secret_key: str):
        key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=b"microreview", info=b"credentials-at-rest"
        ).derive(secret_key.encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def seal(self, plaintext: str) -> str:
        """The encrypted, authenticated form of plaintext."""
        return self._fernet.encrypt(plaintext.encode()).decode()

    def open(self, sealed: str) -> str:
        """The plaintext of a sealed value; ConfigError if the secret key changed."""
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken as exc:
            raise ConfigError(
                "a stored credential cannot be decrypted: MICROREVIEW_SECRET_KEY changed since it "
                "was saved; set the LRS credentials again (`microreview xapi lrs set ...`)"
            ) from exc
