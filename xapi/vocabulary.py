"""Every IRI the tool uses in statements: ADL verbs, activity types and the tool's own extensions.

Standard IRIs are module constants. The tool's own IRIs live under its base URL, which is known only
at build time, so they come from `Vocabulary(base_url)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import quote

XAPI_VERSION_1 = "1.0.3"
XAPI_VERSION_2 = "2.0.0"
SUPPORTED_VERSIONS = (XAPI_VERSION_1, XAPI_VERSION_2)
VERSION_HEADER = "X-Experience-API-Version"
CONSISTENT_THROUGH_HEADER = "X-Experience-API-Consistent-Through"

_ADL_VERBS = "http://adlnet.gov/expapi/verbs/"
VERB_LAUNCHED = _ADL_VERBS + "launched"
VERB_INITIALIZED = _ADL_VERBS + "initialized"
VERB_EXPERIENCED = _ADL_VERBS + "experienced"
VERB_ANSWERED = _ADL_VERBS + "answered"
VERB_COMPLETED = _ADL_VERBS + "completed"
VERB_MASTERED = _ADL_VERBS + "mastered"
VERB_TERMINATED = _ADL_VERBS + "terminated"
VERB_VOIDED = _ADL_VERBS + "voided"
VERB_PASSED = _ADL_VERBS + "passed"
VERB_FAILED = _ADL_VERBS + "failed"

VERB_DISPLAY: dict[str, str] = {
    VERB_LAUNCHED: "launched",
    VERB_INITIALIZED: "initialized",
    VERB_EXPERIENCED: "experienced",
    VERB_ANSWERED: "answered",
    VERB_COMPLETED: "completed",
    VERB_MASTERED: "mastered",
    VERB_TERMINATED: "terminated",
    VERB_VOIDED: "voided",
    VERB_PASSED: "passed",
    VERB_FAILED: "failed",
}

_ADL_ACTIVITIES = "http://adlnet.gov/expapi/activities/"
ACTIVITY_TYPE_COURSE = _ADL_ACTIVITIES + "course"
ACTIVITY_TYPE_MODULE = _ADL_ACTIVITIES + "module"
ACTIVITY_TYPE_LESSON = _ADL_ACTIVITIES + "lesson"
ACTIVITY_TYPE_INTERACTION = _ADL_ACTIVITIES + "cmi.interaction"
ACTIVITY_TYPE_PROFILE = _ADL_ACTIVITIES + "profile"

# Role IRI used in xAPI 2.0 contextAgents for the course instructor.
ROLE_INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"

PROFILES_CONTEXT = "https://w3id.org/xapi/profiles/context"
PROFILES_CONFORMS_TO = "https://w3id.org/xapi/profiles#1.0"
LANGUAGE = "en"


class InteractionType(StrEnum):
    """The cmi.interaction types the tool's cards use."""

    CHOICE = "choice"
    TRUE_FALSE = "true-false"
    FILL_IN = "fill-in"
    LONG_FILL_IN = "long-fill-in"
    MATCHING = "matching"
    SEQUENCING = "sequencing"
    NUMERIC = "numeric"


class ExtensionKind(StrEnum):
    """Where an extension appears in a statement (xAPI Profile concept types)."""

    CONTEXT = "ContextExtension"
    RESULT = "ResultExtension"
    ACTIVITY = "ActivityExtension"


@dataclass(frozen=True)
class ExtensionSpec:
    """One of the tool's own extensions: its IRI slug, where it goes, and what it means."""

    slug: str
    kind: ExtensionKind
    label: str
    definition: str
    json_type: str


EXT_LTI_DEPLOYMENT_ID = ExtensionSpec(
    "lti-deployment-id",
    ExtensionKind.CONTEXT,
    "LTI deployment id",
    "The LTI 1.3 deployment_id claim of the launch that led to this statement.",
    "string",
)
EXT_LTI_CONTEXT_ID = ExtensionSpec(
    "lti-context-id",
    ExtensionKind.CONTEXT,
    "LTI context id",
    "The LTI 1.3 context (course) id given by the platform.",
    "string",
)
EXT_LTI_RESOURCE_LINK_ID = ExtensionSpec(
    "lti-resource-link-id",
    ExtensionKind.CONTEXT,
    "LTI resource link id",
    "The LTI 1.3 resource link id of the placement the learner launched.",
    "string",
)
EXT_LTI_ROLES = ExtensionSpec(
    "lti-roles",
    ExtensionKind.CONTEXT,
    "LTI roles",
    "The LTI 1.3 role IRIs of the actor in this context (array of strings).",
    "array",
)
EXT_SESSION_ID = ExtensionSpec(
    "session-id",
    ExtensionKind.CONTEXT,
    "Review session id",
    "UUID of the review session (cmi5-like: initialized first, terminated last).",
    "string",
)
EXT_RETRIEVABILITY = ExtensionSpec(
    "fsrs-retrievability",
    ExtensionKind.RESULT,
    "FSRS retrievability",
    "Predicted probability (0..1) that the learner recalls the item now, per FSRS.",
    "number",
)
EXT_STABILITY = ExtensionSpec(
    "fsrs-stability",
    ExtensionKind.RESULT,
    "FSRS stability",
    "FSRS memory stability in days after this answer.",
    "number",
)
EXT_NEXT_DUE = ExtensionSpec(
    "fsrs-next-due",
    ExtensionKind.RESULT,
    "Next review due",
    "UTC date and time (ISO 8601) the next spaced review of the item is due.",
    "string",
)
EXT_CRITICAL = ExtensionSpec(
    "critical",
    ExtensionKind.ACTIVITY,
    "Critical procedure",
    "True when the unit covers a critical procedure whose retention compliance tracks.",
    "boolean",
)

EXTENSIONS: tuple[ExtensionSpec, ...] = (
    EXT_LTI_DEPLOYMENT_ID,
    EXT_LTI_CONTEXT_ID,
    EXT_LTI_RESOURCE_LINK_ID,
    EXT_LTI_ROLES,
    EXT_SESSION_ID,
    EXT_RETRIEVABILITY,
    EXT_STABILITY,
    EXT_NEXT_DUE,
    EXT_CRITICAL,
)

PROFILE_PATH = "/xapi/profile"
EXTENSION_PATH = PROFILE_PATH + "/extensions/"
ACTIVITY_PATH = "/xapi/activity/"


class ActivityKind(StrEnum):
    """Kinds of the tool's own activities; each gets an IRI path segment."""

    COURSE = "course"
    MODULE = "module"
    UNIT = "unit"
    CARD = "card"


ACTIVITY_TYPES: dict[ActivityKind, str] = {
    ActivityKind.COURSE: ACTIVITY_TYPE_COURSE,
    ActivityKind.MODULE: ACTIVITY_TYPE_MODULE,
    ActivityKind.UNIT: ACTIVITY_TYPE_LESSON,
    ActivityKind.CARD: ACTIVITY_TYPE_INTERACTION,
}


@dataclass(frozen=True)
class Vocabulary:
    """The tool's own IRIs under one base URL, e.g. `https://review.example.org`."""

    base_url: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))

    @property
    def profile(self) -> str:
        """IRI of the tool's xAPI Profile (also a category context activity)."""
        return self.base_url + PROFILE_PATH

    @property
    def profile_version(self) -> str:
        """IRI of the current version of the profile."""
        return self.profile + "/v1"

    def extension(self, spec: ExtensionSpec) -> str:
        """IRI of one of the tool's extensions."""
        return self.base_url + EXTENSION_PATH + spec.slug

    def activity(self, kind: ActivityKind, local_id: str) -> str:
        """IRI of one of the tool's activities (course, module, unit, card) by local id."""
        return f"{self.base_url}{ACTIVITY_PATH}{kind.value}/{quote(local_id, safe='')}"

    def extension_by_slug(self, slug: str) -> ExtensionSpec | None:
        """The extension whose IRI ends with `slug`, if any."""
        return next((spec for spec in EXTENSIONS if spec.slug == slug), None)
