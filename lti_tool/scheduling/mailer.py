"""Outgoing mail over SMTP (plain, STARTTLS or implicit TLS), HTML with a plain-text part.

Messages are written straight to their wire form: the `email` package's object model costs
several milliseconds a message, far more than the SMTP exchange, which matters in a sweep
that sends thousands.
"""

from __future__ import annotations

import binascii
import logging
import smtplib
import ssl
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.header import Header
from email.utils import formataddr, formatdate, getaddresses, make_msgid, parseaddr
from types import TracebackType

from lti_tool.scheduling.exceptions import MailError
from lti_tool.settings import Settings

log = logging.getLogger(__name__)
CRLF = "\r\n"
MAX_LINE = 998  # RFC 5322 hard limit on a line, CRLF excluded
ADDRESS_HEADERS = frozenset({"from", "to", "cc", "reply-to"})


@dataclass(frozen=True)
class Mail:
    """One message to one recipient."""

    to: str
    subject: str
    text: str
    html: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to send mail."""

    host: str
    port: int
    tls: str = "none"
    user: str = ""
    password: str = ""
    sender: str = "Microreview <no-reply@localhost>"
    timeout: float = 10.0

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpConfig:
        """The SMTP configuration of an installation."""
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            tls=settings.smtp_tls,
            user=settings.smtp_user,
            password=settings.smtp_password,
            sender=settings.mail_sender,
            timeout=settings.smtp_timeout,
        )


def _header(name: str, value: str) -> str:
    value = " ".join(value.splitlines())  # a line break in a value would inject headers
    if value.isascii() and len(name) + len(value) + 2 <= MAX_LINE:
        return f"{name}: {value}{CRLF}"
    if name.lower() in ADDRESS_HEADERS:
        encoded = ", ".join(formataddr(pair, charset="utf-8") for pair in getaddresses([value]))
    else:
        encoded = Header(value, "utf-8", header_name=name).encode(linesep=CRLF)
    return f"{name}: {encoded}{CRLF}"


def _part(boundary: str, subtype: str, body: str) -> bytes:
    lines = body.replace(CRLF, "\n").encode("utf-8")
    # Quoted-printable keeps every line short and 7-bit, whatever the server supports.
    encoded = binascii.b2a_qp(lines, istext=True).replace(b"\n", CRLF.encode())
    head = (
        f'--{boundary}{CRLF}Content-Type: text/{subtype}; charset="utf-8"{CRLF}'
        f"Content-Transfer-Encoding: quoted-printable{CRLF}{CRLF}"
    )
    return head.encode("ascii") + encoded + CRLF.encode()


def wire_message(sender: str, mail: Mail) -> bytes:
    """A multipart/alternative message (plain text first, HTML second) as sent over SMTP."""
    boundary = f"=_mr_{uuid.uuid4().hex}"
    headers = {
        "From": sender,
        "To": mail.to,
        "Subject": mail.subject,
        "Date": formatdate(localtime=False),
        "Message-ID": make_msgid(domain="microreview"),
        "MIME-Version": "1.0",
        **mail.headers,
        "Content-Type": f'multipart/alternative; boundary="{boundary}"',
    }
    head = "".join(_header(name, value) for name, value in headers.items()) + CRLF
    return (
        head.encode("ascii")
        + _part(boundary, "plain", mail.text)
        + _part(boundary, "html", mail.html)
        + f"--{boundary}--{CRLF}".encode("ascii")
    )


@dataclass
class BatchOutcome:
    """What happened to each message of a batch, by the caller's key."""

    sent: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    # Never handed to the server (it is unreachable, or the batch stopped): safe to try again.
    unsent: list[str] = field(default_factory=list)
    unreachable: MailError | None = None
    crashed: Exception | None = None


class Mailer:
    """An SMTP connection reused for a batch of messages (use as a context manager)."""

    def __init__(self, config: SmtpConfig):
        self.config = config
        self._smtp: smtplib.SMTP | None = None
        self._envelope_sender = parseaddr(config.sender)[1] or config.sender

    def __enter__(self) -> Mailer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        try:
            if c.tls == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    c.host, c.port, timeout=c.timeout, context=ssl.create_default_context()
                )
            else:
                smtp = smtplib.SMTP(c.host, c.port, timeout=c.timeout)
                if c.tls == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
            if c.user:
                smtp.login(c.user, c.password)
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(
                f"cannot reach the mail server {c.host}:{c.port}: {exc}", connected=False
            ) from exc
        return smtp

    def send(self, mail: Mail) -> None:
        """Send one message; raises MailError when the server refuses or is unreachable."""
        if self._smtp is None:
            self._smtp = self._connect()
        recipient = parseaddr(mail.to)[1] or mail.to
        try:
            self._smtp.sendmail(
                self._envelope_sender, [recipient], wire_message(self.config.sender, mail)
            )
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise MailError(f"the mail server refused a message: {exc}") from exc

    def send_all(self, batch: Sequence[tuple[str, Mail]]) -> BatchOutcome:
        """Send keyed messages in order over this connection; stops when the server is gone.

        Never raises: an unexpected error is returned in `crashed`, with the message in flight
        neither sent nor unsent (it may or may not have left) and the rest unsent.
        """
        outcome = BatchOutcome()
        for index, (key, mail) in enumerate(batch):
            try:
                self.send(mail)
            except MailError as exc:
                if exc.connected:
                    outcome.refused[key] = str(exc)
                    continue
                outcome.unreachable = exc
                outcome.unsent.extend(k for k, _ in batch[index:])
                return outcome
            except Exception as exc:  # reported to the caller's thread, which re-raises it
                outcome.crashed = exc
                outcome.unsent.extend(k for k, _ in batch[index + 1 :])
                return outcome
            outcome.sent.append(key)
        return outcome

    def close(self) -> None:
        """Close the connection, if open."""
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                log.debug("SMTP connection already closed")
            self._smtp = None
