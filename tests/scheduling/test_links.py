"""Signed reminder links: compact tokens that read back, and tokens of earlier releases too."""

from __future__ import annotations

from itsdangerous import URLSafeTimedSerializer

from lti_tool.scheduling.links import LinkSigner, SessionLink

SECRET = "s" * 40


def test_tokens_read_back_and_earlier_tokens_still_open():
    """Tokens are plain (never zlib-compressed) and equal what itsdangerous itself makes."""
    signer = LinkSigner(SECRET, 3600)
    link = SessionLink(123, 4, 5, 2)
    token = signer.session_token(link)
    assert not token.startswith(".")
    earlier = URLSafeTimedSerializer(SECRET, salt="microreview.session-link.v1")
    assert earlier.loads(token) == [123, 4, 5, 2]
    assert signer._session.loads(earlier.dumps([123, 4, 5, 2])) == [123, 4, 5, 2]
    assert signer.unsubscribe_user(signer.unsubscribe_token(77)) == 77
    compressed = earlier.dumps(["x" * 200])  # long payloads were compressed: still readable
    assert compressed.startswith(".") and signer._session.loads(compressed) == ["x" * 200]
