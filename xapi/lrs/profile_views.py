"""Flask blueprint that serves the tool's xAPI Profile and a page for each of its IRIs."""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, request

from xapi.profile import build_profile, describe_html, find_concept
from xapi.vocabulary import PROFILE_PATH, Vocabulary

JSON_LD = "application/ld+json"


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match([JSON_LD, "application/json", "text/html"])
    return best in (JSON_LD, "application/json")


def create_profile_blueprint(vocabulary: Vocabulary, *, name: str = "xapi_profile") -> Blueprint:
    """Serves /xapi/profile (JSON-LD or HTML) and /xapi/profile/... pages; register unprefixed."""
    bp = Blueprint(name, __name__)

    @bp.route(PROFILE_PATH)
    def profile() -> Response:
        """The profile: JSON-LD for machines, HTML for people."""
        if _wants_json():
            document = json.dumps(build_profile(vocabulary), indent=2)
            return Response(document, mimetype=JSON_LD)
        return Response(describe_html(vocabulary, vocabulary.profile), mimetype="text/html")

    @bp.route(f"{PROFILE_PATH}/<path:rest>")
    def concept(rest: str) -> Response:
        """One extension, template, pattern or version of the profile."""
        iri = f"{vocabulary.profile}/{rest}"
        item = find_concept(vocabulary, iri)
        if item is None:
            abort(404)
        if _wants_json():
            return Response(json.dumps(item, indent=2), mimetype=JSON_LD)
        return Response(describe_html(vocabulary, iri), mimetype="text/html")

    return bp
