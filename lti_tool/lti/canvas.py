"""The Canvas developer-key JSON for this tool."""

from __future__ import annotations

from typing import Any

from lti_tool.lti import claims

TOOL_TITLE = "Microreview"
TOOL_DESCRIPTION = (
    "Spaced micro-reviews of your course's own material: a few minutes a day, "
    "with mastery in the gradebook and every learning event in your LRS."
)


def developer_key(base_url: str) -> dict[str, Any]:
    """Developer-key JSON: placements, scopes, privacy level, JWKS URL."""
    base = base_url.rstrip("/")
    launch = base + "/lti/launch"
    placements = [
        {
            "placement": "course_navigation",
            "message_type": claims.RESOURCE_LINK_REQUEST,
            "target_link_uri": launch,
            "text": TOOL_TITLE,
            "default": "enabled",
        },
        {
            "placement": "link_selection",
            "message_type": claims.DEEP_LINKING_REQUEST,
            "target_link_uri": launch,
            "text": TOOL_TITLE,
        },
        {
            "placement": "assignment_selection",
            "message_type": claims.DEEP_LINKING_REQUEST,
            "target_link_uri": launch,
            "text": TOOL_TITLE,
        },
    ]
    return {
        "title": TOOL_TITLE,
        "description": TOOL_DESCRIPTION,
        "oidc_initiation_url": base + "/lti/login",
        "target_link_uri": launch,
        "public_jwk_url": base + "/lti/jwks.json",
        "scopes": list(claims.TOOL_SCOPES),
        "custom_fields": {"canvas_course_id": "$Canvas.course.id"},
        "extensions": [
            {
                "platform": "canvas.instructure.com",
                "privacy_level": "public",
                "domain": base.split("://", 1)[-1].split("/", 1)[0],
                "settings": {"placements": placements},
            }
        ],
    }
