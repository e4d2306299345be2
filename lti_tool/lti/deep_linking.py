"""Deep Linking 2.0: the items an instructor can place, and the signed response."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.lineitem import LineItem
from sqlalchemy.orm import Session

from lti_tool.exceptions import NotFound
from lti_tool.lti import claims
from lti_tool.lti.keys import sign_jwt
from lti_tool.lti.launch_token import LaunchIdentity
from lti_tool.models import Context, Platform

DAILY_REVIEW = "daily-review"


@dataclass(frozen=True)
class Choice:
    """One kind of link the picker offers."""

    key: str
    title: str
    description: str


CHOICES = (
    Choice(
        DAILY_REVIEW,
        "Daily review of this course",
        "A few minutes a day of spaced retrieval practice on this course's material; "
        "the grade column shows each learner's mastery.",
    ),
)


@dataclass(frozen=True)
class DeepLinkResponse:
    """What the browser posts back to the platform."""

    return_url: str
    jwt: str
    title: str


def build_response(
    session: Session, base_url: str, identity: LaunchIdentity, choice: str, now: datetime
) -> DeepLinkResponse:
    """Sign an LtiDeepLinkingResponse carrying one resource link with a line item."""
    picked = next((c for c in CHOICES if c.key == choice), None)
    if picked is None:
        raise NotFound(f"unknown item {choice!r}")
    platform = session.get(Platform, identity.platform_id)
    context = session.get(Context, identity.context_id)
    if platform is None or context is None:
        raise NotFound("the course of this launch no longer exists")
    resource_id = f"microreview-{picked.key}"
    item = (
        DeepLinkResource()
        .set_type("ltiResourceLink")
        .set_title(picked.title)
        .set_url(base_url.rstrip("/") + "/lti/launch")
        .set_custom_params({"microreview_item": picked.key})
        .set_lineitem(
            LineItem()
            .set_score_maximum(100)
            .set_label(f"{picked.title} (mastery)")
            .set_resource_id(resource_id)
        )
    )
    item_dict: dict[str, Any] = item.to_dict()
    item_dict["text"] = picked.description
    message: dict[str, Any] = {
        "iss": platform.client_id,
        "aud": [platform.issuer],
        "azp": platform.client_id,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=10)).timestamp()),
        "nonce": secrets.token_urlsafe(16),
        claims.DEPLOYMENT_ID: identity.deep_link["deployment_id"],
        claims.MESSAGE_TYPE: claims.DEEP_LINKING_RESPONSE,
        claims.VERSION: claims.LTI_VERSION,
        claims.DL_CONTENT_ITEMS: [item_dict],
        claims.DL_MSG: f"Added “{picked.title}”.",
    }
    if identity.deep_link.get("data") is not None:
        message[claims.DL_DATA] = identity.deep_link["data"]
    return DeepLinkResponse(
        identity.deep_link["return_url"], sign_jwt(session, message), picked.title
    )
