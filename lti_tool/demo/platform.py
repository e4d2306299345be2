"""The demo LMS's protocol side: its course, people, keys, id_tokens and service checks."""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.db import utcnow
from lti_tool.demo.models import DemoKey, DemoLineItem, DemoLink
from lti_tool.lti import claims
from lti_tool.lti.keys import generate_key_pair
from lti_tool.models import Deployment, DeploymentStatus, Platform

CLIENT_ID = "microreview-demo"
DEPLOYMENT_ID = "demo-deployment-1"
CONTEXT_ID = "demo-course-101"
CONTEXT_TITLE = "Workplace Safety Essentials (demo)"
DEFAULT_LINK_ID = "demo-daily-review"
# The frame of the course page that answers LTI Platform Storage messages, as Canvas names it.
STORAGE_FRAME = "post_message_forwarding"
ROLE_INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
ROLE_LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
ROLE_ADMIN = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"


@dataclass(frozen=True)
class DemoUser:
    """A person in the demo course."""

    sub: str
    name: str
    email: str
    roles: tuple[str, ...]


USERS = (
    DemoUser("demo-instructor", "Ada Instructor", "ada@demo.example", (ROLE_INSTRUCTOR,)),
    DemoUser("demo-learner-1", "Lin Learner", "lin@demo.example", (ROLE_LEARNER,)),
    DemoUser("demo-learner-2", "Sam Learner", "sam@demo.example", (ROLE_LEARNER,)),
    DemoUser("demo-learner-3", "Kai Learner", "kai@demo.example", (ROLE_LEARNER,)),
)


def find_user(sub: str) -> DemoUser | None:
    """The demo user with this sub."""
    return next((u for u in USERS if u.sub == sub), None)


class DemoPlatform:
    """The demo LMS at base_url/demo: issuer, endpoints, signing."""

    def __init__(self, tool_base_url: str):
        self.tool_base = tool_base_url.rstrip("/")
        self.issuer = self.tool_base + "/demo"

    @property
    def launch_url(self) -> str:
        """The tool's launch (target link) URL."""
        return self.tool_base + "/lti/launch"

    def ensure_registered(self, session: Session) -> Platform:
        """Register the demo platform with the tool (idempotent) and make sure it has a key."""
        self.key(session)
        platform = session.scalars(
            select(Platform).where(Platform.issuer == self.issuer, Platform.client_id == CLIENT_ID)
        ).first()
        if platform is None:
            platform = Platform(
                name="Demo LMS",
                issuer=self.issuer,
                client_id=CLIENT_ID,
                auth_login_url=self.issuer + "/auth",
                auth_token_url=self.issuer + "/token",
                key_set_url=self.issuer + "/jwks.json",
                product="microreview-demo",
            )
            session.add(platform)
            session.flush()
            session.add(
                Deployment(
                    platform_id=platform.id,
                    deployment_id=DEPLOYMENT_ID,
                    status=DeploymentStatus.ACTIVE,
                )
            )
            session.flush()
        return platform

    def key(self, session: Session) -> DemoKey:
        """The platform's signing key, created on first use."""
        key = session.scalars(select(DemoKey).limit(1)).first()
        if key is None:
            pem, public = generate_key_pair()
            key = DemoKey(kid=public["kid"], private_pem=pem, public_jwk=public)
            session.add(key)
            session.flush()
        return key

    def jwks(self, session: Session) -> dict[str, Any]:
        """The platform's public key set."""
        return {"keys": [dict(k.public_jwk) for k in session.scalars(select(DemoKey))]}

    def login_params(
        self, user: DemoUser, message_hint: dict[str, Any], storage: bool = False
    ) -> dict[str, str]:
        """Third-party-initiated login parameters, as an LMS sends them."""
        params = {
            "iss": self.issuer,
            "login_hint": user.sub,
            "target_link_uri": self.launch_url,
            "lti_message_hint": json.dumps(message_hint),
            "client_id": CLIENT_ID,
            "lti_deployment_id": DEPLOYMENT_ID,
        }
        if storage:
            params["lti_storage_target"] = STORAGE_FRAME
        return params

    def claims_for(
        self, session: Session, user: DemoUser, hint: dict[str, Any], nonce: str, now: datetime
    ) -> dict[str, Any]:
        """The id_token claims of a launch of user, as described by the message hint."""
        base: dict[str, Any] = {
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "azp": CLIENT_ID,
            "sub": user.sub,
            "iat": int(now.timestamp()),
            "exp": int((now + timedelta(minutes=5)).timestamp()),
            "nonce": nonce,
            "name": user.name,
            "email": user.email,
            claims.VERSION: claims.LTI_VERSION,
            claims.DEPLOYMENT_ID: DEPLOYMENT_ID,
            claims.TARGET_LINK_URI: self.launch_url,
            claims.ROLES: list(user.roles),
            claims.CONTEXT: {
                "id": CONTEXT_ID,
                "title": CONTEXT_TITLE,
                "label": "SAFE-101",
                "type": ["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"],
            },
            claims.TOOL_PLATFORM: {
                "guid": "demo-lms",
                "name": "Microreview demo LMS",
                "product_family_code": "microreview-demo",
            },
            claims.NRPS: {
                "context_memberships_url": f"{self.issuer}/nrps/{CONTEXT_ID}",
                "service_versions": ["2.0"],
            },
            claims.LAUNCH_PRESENTATION: {
                "document_target": "iframe",
                "return_url": self.issuer + "/",
            },
        }
        if hint.get("message") == "deep_link":
            base[claims.MESSAGE_TYPE] = claims.DEEP_LINKING_REQUEST
            base[claims.DEEP_LINKING_SETTINGS] = {
                "deep_link_return_url": self.issuer + "/deep-link-return",
                "accept_types": ["ltiResourceLink"],
                "accept_presentation_document_targets": ["iframe"],
                "accept_multiple": False,
                "data": "demo-dl-" + secrets.token_hex(4),
            }
            return base
        link_id = hint.get("resource_link_id") or DEFAULT_LINK_ID
        link = session.scalars(select(DemoLink).where(DemoLink.resource_link_id == link_id)).first()
        lineitem = self.lineitem_for_link(session, link_id, link)
        base[claims.MESSAGE_TYPE] = claims.RESOURCE_LINK_REQUEST
        base[claims.RESOURCE_LINK] = {
            "id": link_id,
            "title": link.title if link else "Daily review",
        }
        base[claims.CUSTOM] = dict(link.custom) if link else {}
        base[claims.AGS_ENDPOINT] = {
            "scope": [claims.SCOPE_LINEITEM, claims.SCOPE_RESULT_READONLY, claims.SCOPE_SCORE],
            "lineitems": f"{self.issuer}/ags/{CONTEXT_ID}/lineitems",
            "lineitem": f"{self.issuer}/ags/{CONTEXT_ID}/lineitems/{lineitem.id}",
        }
        return base

    def lineitem_for_link(
        self, session: Session, link_id: str, link: DemoLink | None
    ) -> DemoLineItem:
        """The gradebook column of a link, created like an LMS does when a graded link is placed."""
        if link is not None and link.lineitem_id:
            item = session.get(DemoLineItem, link.lineitem_id)
            if item is not None:
                return item
        item = session.scalars(
            select(DemoLineItem).where(DemoLineItem.resource_link_id == link_id)
        ).first()
        if item is None:
            item = DemoLineItem(
                context_id=CONTEXT_ID,
                label="Daily review (mastery)",
                resource_link_id=link_id,
                resource_id="microreview-daily-review",
            )
            session.add(item)
            session.flush()
        return item

    def sign(self, session: Session, payload: dict[str, Any]) -> str:
        """Sign an id_token with the platform key."""
        key = self.key(session)
        return jwt.encode(payload, key.private_pem, algorithm="RS256", headers={"kid": key.kid})

    def id_token(self, session: Session, user: DemoUser, hint: dict[str, Any], nonce: str) -> str:
        """A signed id_token for user."""
        return self.sign(session, self.claims_for(session, user, hint, nonce, utcnow()))

    @staticmethod
    def new_link_id() -> str:
        """A fresh resource link id for a deep-linked item."""
        return "demo-link-" + uuid.uuid4().hex[:12]
