"""Exceptions of the scheduling services; the tool's error pages map them to HTTP answers."""

from __future__ import annotations

from lti_tool.exceptions import MicroreviewError, NotFound


class SchedulingError(MicroreviewError):
    """Raised when a scheduling request cannot be carried out as asked."""


class InvalidSettingsError(SchedulingError):
    """Raised when an instructor's scheduling settings are out of range."""

    status = 400
    title = "These settings cannot be saved"
    advice = "Correct the highlighted values and save again."


class SessionNotFoundError(NotFound):
    """Raised when a review session does not exist for the caller."""


class StaleAnswerError(SchedulingError):
    """Raised when an answer is for a card the session has not reached."""

    status = 409
    title = "This answer is out of step"
    advice = "Go back to your review; it continues where you left off."


class InvalidLinkError(MicroreviewError):
    """Raised when a signed reminder or unsubscribe link is tampered, expired or revoked."""

    status = 403
    title = "This link no longer works"
    advice = "Open Microreview from your course in the LMS; new reminders carry fresh links."


class MailError(SchedulingError):
    """Raised when the SMTP server refuses or cannot be reached."""

    def __init__(self, reason: str, connected: bool = True):
        super().__init__(reason)
        # False when no message could have left: the send may safely be tried again later.
        self.connected = connected
