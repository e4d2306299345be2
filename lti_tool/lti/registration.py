"""LTI Dynamic Registration v1.0: the platform opens /lti/register and the tool registers itself."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import requests
from sqlalchemy.orm import Session

from lti_tool.exceptions import RegistrationError
from lti_tool.lti import claims
from lti_tool.lti.canvas import TOOL_DESCRIPTION, TOOL_TITLE
from lti_tool.models import Deployment, DeploymentStatus, Platform
from lti_tool.settings import Settings

log = logging.getLogger(__name__)
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
REQUIRED_FIELDS = (
    "issuer",
    "authorization_endpoint",
    "token_endpoint",
    "jwks_uri",
    "registration_endpoint",
)


@dataclass(frozen=True)
class RegistrationResult:
    """What the admin sees after registering."""

    platform_name: str
    issuer: str
    client_id: str
    deployment_id: str | None
    product: str

    @property
    def needs_activation(self) -> bool:
        """Moodle keeps dynamically registered tools pending until its admin activates them."""
        return self.product.lower() == "moodle"


def tool_registration_request(base_url: str, platform_config: dict[str, Any]) -> dict[str, Any]:
    """The client metadata the tool POSTs to the platform's registration endpoint."""
    base = base_url.rstrip("/")
    launch = base + "/lti/launch"
    supported = set(platform_config.get(PLATFORM_CONFIGURATION, {}).get("claims_supported") or [])
    wanted = ["iss", "sub", "name", "given_name", "family_name", "email"]
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": base + "/lti/login",
        "redirect_uris": [launch],
        "client_name": TOOL_TITLE,
        "jwks_uri": base + "/lti/jwks.json",
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(claims.TOOL_SCOPES),
        claims.TOOL_CONFIGURATION: {
            "domain": urlparse(base).netloc,
            "target_link_uri": launch,
            "description": TOOL_DESCRIPTION,
            "claims": [c for c in wanted if not supported or c in supported],
            "messages": [
                {
                    "type": claims.RESOURCE_LINK_REQUEST,
                    "target_link_uri": launch,
                    "label": TOOL_TITLE,
                },
                {
                    "type": claims.DEEP_LINKING_REQUEST,
                    "target_link_uri": launch,
                    "label": TOOL_TITLE,
                    "placements": ["ContentArea", "link_selection", "assignment_selection"],
                    "supported_types": ["ltiResourceLink"],
                },
            ],
        },
    }


def _get_json(http: requests.Session, url: str, timeout: float, what: str) -> dict[str, Any]:
    try:
        response = http.get(url, timeout=timeout)
        response.raise_for_status()
        data = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise RegistrationError(f"could not read the platform's {what} at {url}") from exc
    if not isinstance(data, dict):
        raise RegistrationError(f"the platform's {what} is not a JSON object")
    return data


def register(
    session: Session,
    http: requests.Session,
    settings: Settings,
    config_url: str,
    registration_token: str | None,
) -> RegistrationResult:
    """Read the platform configuration, register, and store the platform and deployment."""
    parsed = urlparse(config_url)
    if parsed.scheme not in ("https", "http") or not parsed.netloc:
        raise RegistrationError(
            "open this page from your LMS's registration screen: it needs openid_configuration"
        )
    if parsed.scheme == "http" and not settings.allow_http_platforms:
        raise RegistrationError("the platform's configuration URL must use https")
    config = _get_json(http, config_url, settings.http_timeout, "openid-configuration")
    missing = [f for f in REQUIRED_FIELDS if not config.get(f)]
    if missing:
        raise RegistrationError(f"the platform's configuration lacks {', '.join(missing)}")
    if urlparse(config["issuer"]).netloc != parsed.netloc:
        raise RegistrationError(
            "the platform's issuer is not on the host that served its configuration"
        )
    headers = {"Content-Type": "application/json"}
    if registration_token:
        headers["Authorization"] = f"Bearer {registration_token}"
    try:
        response = http.post(
            config["registration_endpoint"],
            json=tool_registration_request(settings.base_url, config),
            headers=headers,
            timeout=settings.http_timeout,
        )
        response.raise_for_status()
        answer = response.json()
    except (requests.RequestException, ValueError) as exc:
        status = getattr(getattr(exc, "response", None), "status_code", None)
        raise RegistrationError(
            "the platform refused the registration" + (f" (HTTP {status})" if status else "")
        ) from exc
    if not isinstance(answer, dict) or not answer.get("client_id"):
        raise RegistrationError("the platform's registration answer has no client_id")
    platform_info = config.get(PLATFORM_CONFIGURATION, {})
    tool_info = answer.get(claims.TOOL_CONFIGURATION) or {}
    deployment_id = tool_info.get("deployment_id")
    platform = Platform(
        name=str(platform_info.get("product_family_code") or urlparse(config["issuer"]).netloc),
        issuer=config["issuer"],
        client_id=str(answer["client_id"]),
        auth_login_url=config["authorization_endpoint"],
        auth_token_url=config["token_endpoint"],
        key_set_url=config["jwks_uri"],
        product=str(platform_info.get("product_family_code") or ""),
        auth_audience=config.get("authorization_server"),
    )
    session.add(platform)
    session.flush()
    if deployment_id:
        session.add(
            Deployment(
                platform_id=platform.id,
                deployment_id=str(deployment_id),
                status=DeploymentStatus.ACTIVE,
            )
        )
    log.info("registered platform %s (client %s)", platform.issuer, platform.client_id)
    return RegistrationResult(
        platform.name,
        platform.issuer,
        platform.client_id,
        str(deployment_id) if deployment_id else None,
        platform.product,
    )
