"""Exceptions of the tool; each maps to one HTTP answer in errors.py."""


class MicroreviewError(Exception):
    """Base of every error the tool raises on purpose."""

    status = 400
    title = "Something went wrong"
    advice = "Try again, or ask your LMS administrator."


class ConfigError(MicroreviewError):
    """Raised when the settings are missing or unsafe."""


class LaunchError(MicroreviewError):
    """Raised when an LTI login or launch fails a security or protocol check."""

    status = 401
    title = "This launch could not be verified"
    advice = (
        "Launch the tool again from your course. If it keeps failing, your LMS administrator "
        "should check the tool registration (issuer, client id, deployment, key set URL)."
    )

    def __init__(self, reason: str, status: int | None = None, advice: str | None = None):
        super().__init__(reason)
        self.reason = reason
        if status is not None:
            self.status = status
        if advice is not None:
            self.advice = advice


class PendingDeploymentError(LaunchError):
    """Raised when a known platform launches from a deployment an admin has not approved."""

    status = 403
    title = "This deployment is waiting for approval"


class CookiesBlockedError(LaunchError):
    """Raised when the OIDC state cannot be tied to the browser (no cookie, no platform storage)."""

    status = 401
    title = "Your browser blocked the tool's cookie"
    new_window_url: str | None = None


class Forbidden(MicroreviewError):
    """Raised when the launch's role does not allow the page."""

    status = 403
    title = "You do not have access to this page"
    advice = "This page is for instructors of the course. Launch the tool as an instructor."


class NotFound(MicroreviewError):
    """Raised when a thing does not exist in the caller's tenant."""

    status = 404
    title = "Not found"
    advice = "The link may be out of date; launch the tool again from your course."


class RegistrationError(MicroreviewError):
    """Raised when LTI Dynamic Registration with a platform fails."""

    status = 400
    title = "Registration failed"
    advice = "Check the platform's registration URL and try again, or register the tool by hand."


class ServiceError(MicroreviewError):
    """Raised when a call to a platform service (AGS, NRPS, token) fails."""

    status = 502
    title = "The LMS did not answer as expected"
    advice = "Nothing was lost; the tool retries in the background."


class PlatformError(MicroreviewError):
    """Raised when a platform registration given by an operator is invalid."""
