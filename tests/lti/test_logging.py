"""Logs carry reasons, never tokens."""

from __future__ import annotations

import logging

from lti_tool.demo import platform as demo
from lti_tool.log_redaction import redact


def test_launch_logs_contain_no_tokens(lms, live, caplog):
    """A full launch and a refused one log nothing of the id_token, state or launch token."""
    caplog.set_level(logging.DEBUG)
    login = lms.login()
    id_token = lms.sign(lms.claims(login.nonce))
    response = lms.post_launch(login, id_token)
    lt = response.headers["Location"].split("lt=", 1)[1]
    login.browser.get(live.url + response.headers["Location"])
    lms.post_launch(login, id_token)  # replay: refused and logged with its reason
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "refused (401)" in text
    for secret in (id_token, lt, login.state, login.nonce):
        assert secret not in text
    assert demo.USERS[1].email not in text


def test_redact_hides_secret_parameters_only():
    """Only the values of secret-bearing parameters are replaced."""
    line = "GET /learner/?lt=abc.def&page=2 HTTP/1.1 id_token=eyJ x"
    assert redact(line) == "GET /learner/?lt=[redacted]&page=2 HTTP/1.1 id_token=[redacted] x"
