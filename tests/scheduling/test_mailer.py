"""Outgoing mail: what the wire format carries, and a batch over one connection."""

from __future__ import annotations

from lti_tool.scheduling.mailer import Mail, Mailer, SmtpConfig
from tests.scheduling.smtp import bodies, free_port

TEXT = "Hallo Zoë,\n.a line that starts with a dot\nFrom the start of a line\n" + "x" * 300
HTML = "<p>" + "é" * 1200 + "</p>"


def test_non_ascii_names_subject_and_long_lines_arrive_intact(smtp):
    """Accented names and subject, dot-led and long lines all read back as they were sent."""
    inbox, port = smtp
    mail = Mail(
        to="Zoë Ärger <zoe@example.org>",
        subject="Révision — 3 cards due",
        text=TEXT,
        html=HTML,
        headers={"List-Unsubscribe": "<https://tool.test/u/abc>"},
    )
    config = SmtpConfig("127.0.0.1", port, sender="Microréview <no-reply@tool.test>")
    with Mailer(config) as mailer:
        mailer.send(mail)
    message = inbox.messages[0]
    assert message["To"] == "Zoë Ärger <zoe@example.org>"
    assert message["From"] == "Microréview <no-reply@tool.test>"
    assert message["Subject"] == "Révision — 3 cards due"
    assert message["List-Unsubscribe"] == "<https://tool.test/u/abc>"
    text, html = bodies(message)
    assert text.replace("\r\n", "\n").rstrip("\n") == TEXT
    assert html.replace("\r\n", "\n").rstrip("\n") == HTML


def test_a_header_value_cannot_inject_more_headers(smtp):
    """A line break inside a subject stays inside the subject."""
    inbox, port = smtp
    with Mailer(SmtpConfig("127.0.0.1", port)) as mailer:
        mailer.send(Mail(to="a@example.org", subject="Hi\r\nBcc: x@evil.test", text="t", html="h"))
    assert inbox.messages[0]["Bcc"] is None
    assert "Bcc: x@evil.test" in inbox.messages[0]["Subject"]


def test_a_batch_goes_over_one_connection_and_reports_each_key(smtp):
    """send_all sends every message in order and names each one sent."""
    inbox, port = smtp
    batch = [
        (f"k{i}", Mail(to=f"p{i}@example.org", subject="s", text="t", html="h")) for i in range(5)
    ]
    with Mailer(SmtpConfig("127.0.0.1", port)) as mailer:
        outcome = mailer.send_all(batch)
    assert outcome.sent == [f"k{i}" for i in range(5)]
    assert (outcome.refused, outcome.unsent, outcome.unreachable) == ({}, [], None)
    assert [m["To"] for m in inbox.messages] == [f"p{i}@example.org" for i in range(5)]


def test_an_unreachable_server_leaves_the_whole_batch_unsent():
    """When no connection can be made, every message is reported unsent (safe to retry)."""
    batch = [(f"k{i}", Mail(to="p@example.org", subject="s", text="t", html="h")) for i in range(3)]
    with Mailer(SmtpConfig("127.0.0.1", free_port(), timeout=2)) as mailer:
        outcome = mailer.send_all(batch)
    assert outcome.sent == [] and outcome.unsent == ["k0", "k1", "k2"]
    assert outcome.unreachable is not None and not outcome.unreachable.connected
