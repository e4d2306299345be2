"""Outgoing mail over SMTP (plain, STARTTLS or implicit TLS), HTML with a plain-text part."""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid
from types import TracebackType

from lti_tool.scheduling.exceptions import MailError
from lti_tool.settings import Settings

log = logging.getLogger(__name__)


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


def build_message(sender: str, mail: Mail) -> EmailMessage:
    """A multipart/alternative message: plain text first, HTML second."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Message-ID"] = make_msgid(domain="microreview")
    for name, value in mail.headers.items():
        message[name] = value
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    return message


class Mailer:
    """An SMTP connection reused for a batch of messages (use as a context manager)."""

    def __init__(self, config: SmtpConfig):
        self.config = config
        self._smtp: smtplib.SMTP | None = None

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
        try:
            self._smtp.send_message(build_message(self.config.sender, mail))
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise MailError(f"the mail server refused a message: {exc}") from exc

    def close(self) -> None:
        """Close the connection, if open."""
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                log.debug("SMTP connection already closed")
            self._smtp = None
