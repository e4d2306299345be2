"""Tables of the tool, one module per concern; importing this package registers them all."""

from lti_tool.models.content import Asset, Card, CardStatus, CourseImport, Unit
from lti_tool.models.course import Context, Membership, Placement, User
from lti_tool.models.grades import ScoreSubmission
from lti_tool.models.keys import ToolKey
from lti_tool.models.lrs import LrsConnection
from lti_tool.models.platform import Deployment, DeploymentStatus, Platform
from lti_tool.models.review import (
    CardState,
    CourseSchedule,
    ReminderPreference,
    ReminderSend,
    ReviewLog,
    ReviewSession,
)
from lti_tool.models.security import JwksCacheEntry, ServiceToken, UsedNonce

__all__ = [
    "Asset",
    "Card",
    "CardState",
    "CardStatus",
    "Context",
    "CourseImport",
    "CourseSchedule",
    "Deployment",
    "DeploymentStatus",
    "JwksCacheEntry",
    "LrsConnection",
    "Membership",
    "Placement",
    "Platform",
    "ReminderPreference",
    "ReminderSend",
    "ReviewLog",
    "ReviewSession",
    "ScoreSubmission",
    "ServiceToken",
    "ToolKey",
    "Unit",
    "UsedNonce",
    "User",
]
