"""The demo LMS's pages and endpoints: course, OIDC auth, JWKS, token, AGS, NRPS, Deep Linking."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import jwt
from flask import (
    Blueprint,
    Response,
    abort,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select

from lti_tool.demo import platform as demo
from lti_tool.demo.models import DemoLineItem, DemoLink, DemoScore
from lti_tool.lti import claims
from lti_tool.runtime import db_session, runtime

bp = Blueprint("demo", __name__, url_prefix="/demo")
PAGE_SIZE = 2  # small on purpose, so the tool's roster sync must follow rel="next"


def _platform() -> demo.DemoPlatform:
    return demo.DemoPlatform(runtime().settings.base_url)


def _tokens() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(runtime().settings.secret_key, salt="demo-platform-access")


@bp.get("/")
def index() -> str:
    """The demo course page with its launch buttons and gradebook."""
    session = db_session()
    _platform().ensure_registered(session)
    session.commit()
    links = session.scalars(select(DemoLink).order_by(DemoLink.id)).all()
    items = session.scalars(select(DemoLineItem).order_by(DemoLineItem.id)).all()
    scores = session.scalars(select(DemoScore).order_by(DemoScore.id.desc()).limit(50)).all()
    return render_template(
        "demo/index.html",
        users=demo.USERS,
        links=links,
        items=items,
        scores=scores,
        title=demo.CONTEXT_TITLE,
        issuer=_platform().issuer,
        storage_frame=demo.STORAGE_FRAME,
    )


@bp.get("/storage-frame")
def storage_frame() -> str:
    """The course page's LTI Platform Storage frame (lti.put_data / lti.get_data)."""
    return render_template("demo/storage_frame.html")


@bp.get("/launch")
def launch() -> Response:
    """Start a launch as a demo user: a third-party-initiated login at the tool."""
    user = demo.find_user(request.args.get("user", ""))
    if user is None:
        abort(404, "No such demo user.")
    hint: dict[str, Any] = {"message": request.args.get("message", "resource")}
    if request.args.get("link"):
        hint["resource_link_id"] = request.args["link"]
    session = db_session()
    _platform().ensure_registered(session)
    session.commit()
    storage = request.args.get("storage") == "1"
    query = urlencode(_platform().login_params(user, hint, storage=storage))
    return make_response(redirect(url_for("lti.login") + "?" + query, code=302))


@bp.route("/auth", methods=["GET", "POST"])
def auth() -> str:
    """OIDC authorization endpoint: check the request, sign an id_token, post it to the tool."""
    p = _platform()
    args = request.values
    if args.get("client_id") != demo.CLIENT_ID or args.get("redirect_uri") != p.launch_url:
        abort(400, "Unknown client_id or redirect_uri.")
    if args.get("response_type") != "id_token" or args.get("scope") != "openid":
        abort(400, "response_type must be id_token and scope openid.")
    user = demo.find_user(args.get("login_hint", ""))
    if user is None:
        abort(400, "Unknown login_hint.")
    try:
        hint = json.loads(args.get("lti_message_hint") or "{}")
    except ValueError:
        abort(400, "lti_message_hint is not JSON.")
    session = db_session()
    token = p.id_token(session, user, hint, args.get("nonce", ""))
    session.commit()
    return render_template(
        "demo/autopost.html",
        action=p.launch_url,
        fields={"id_token": token, "state": args.get("state", "")},
    )


@bp.get("/jwks.json")
def jwks() -> dict[str, Any]:
    """The demo platform's public keys."""
    session = db_session()
    keys = _platform().jwks(session)
    session.commit()
    return keys


@bp.post("/token")
def token() -> tuple[dict[str, Any], int] | dict[str, Any]:
    """OAuth2 client credentials with a JWT assertion signed by the tool's key."""
    assertion = request.form.get("client_assertion", "")
    if request.form.get("grant_type") != "client_credentials" or not assertion:
        return {"error": "invalid_request"}, 400
    try:
        client = jwt.PyJWKClient(runtime().settings.base_url.rstrip("/") + "/lti/jwks.json")
        key = client.get_signing_key_from_jwt(assertion)
        body = jwt.decode(
            assertion, key.key, algorithms=["RS256"], audience=_platform().issuer + "/token"
        )
    except jwt.PyJWTError:
        return {"error": "invalid_client"}, 401
    if body.get("iss") != demo.CLIENT_ID or body.get("sub") != demo.CLIENT_ID:
        return {"error": "invalid_client"}, 401
    scopes = request.form.get("scope", "").split()
    access = _tokens().dumps({"scopes": scopes})
    return {
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": 3600,
        "scope": " ".join(scopes),
    }


def _require_scope(scope: str) -> None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        abort(401)
    try:
        data = _tokens().loads(header[7:], max_age=3600)
    except BadSignature:
        abort(401)
    if scope not in data["scopes"]:
        abort(403)


@bp.route("/ags/<context_id>/lineitems", methods=["GET", "POST"])
def lineitems(context_id: str) -> Response:
    """AGS line item container: list (filter by resource_link_id/resource_id) or create."""
    session = db_session()
    if request.method == "POST":
        _require_scope(claims.SCOPE_LINEITEM)
        data = request.get_json(force=True)
        item = DemoLineItem(
            context_id=context_id,
            label=str(data.get("label", "")),
            score_maximum=float(data.get("scoreMaximum", 100)),
            resource_id=str(data.get("resourceId", "")),
            resource_link_id=str(data.get("resourceLinkId", "")),
            tag=str(data.get("tag", "")),
        )
        session.add(item)
        session.commit()
        return _json(_lineitem_json(item), claims.MEDIA_LINEITEM, 201)
    _require_scope(claims.SCOPE_LINEITEM)
    query = select(DemoLineItem).where(DemoLineItem.context_id == context_id)
    for arg, column in (
        ("resource_link_id", DemoLineItem.resource_link_id),
        ("resource_id", DemoLineItem.resource_id),
    ):
        if request.args.get(arg):
            query = query.where(column == request.args[arg])
    items = [_lineitem_json(i) for i in session.scalars(query)]
    return _json(items, claims.MEDIA_LINEITEMS)


@bp.get("/ags/<context_id>/lineitems/<int:item_id>")
def lineitem(context_id: str, item_id: int) -> Response:
    """One line item."""
    _require_scope(claims.SCOPE_LINEITEM)
    item = db_session().get(DemoLineItem, item_id)
    if item is None or item.context_id != context_id:
        abort(404)
    return _json(_lineitem_json(item), claims.MEDIA_LINEITEM)


@bp.post("/ags/<context_id>/lineitems/<int:item_id>/scores")
def scores(context_id: str, item_id: int) -> tuple[str, int]:
    """Receive a score, as a gradebook does."""
    _require_scope(claims.SCOPE_SCORE)
    session = db_session()
    item = session.get(DemoLineItem, item_id)
    if item is None or item.context_id != context_id:
        abort(404)
    if request.mimetype != claims.MEDIA_SCORE:
        abort(415)
    data = request.get_json(force=True)
    if not data.get("userId") or not data.get("timestamp"):
        abort(400, "userId and timestamp are required.")
    session.add(
        DemoScore(
            lineitem_id=item.id,
            user_id=str(data["userId"]),
            score_given=data.get("scoreGiven"),
            score_maximum=data.get("scoreMaximum"),
            activity_progress=str(data.get("activityProgress")),
            grading_progress=str(data.get("gradingProgress")),
            timestamp=str(data["timestamp"]),
        )
    )
    session.commit()
    return "", 204


@bp.get("/nrps/<context_id>")
def memberships(context_id: str) -> Response:
    """NRPS membership container, paged with Link rel="next"."""
    _require_scope(claims.SCOPE_NRPS)
    if context_id != demo.CONTEXT_ID:
        abort(404)
    page = max(int(request.args.get("page", 1)), 1)
    chunk = demo.USERS[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    members = [
        {
            "status": "Active",
            "user_id": u.sub,
            "name": u.name,
            "email": u.email,
            "roles": list(u.roles),
        }
        for u in chunk
    ]
    body = {
        "id": request.base_url,
        "context": {"id": context_id, "title": demo.CONTEXT_TITLE},
        "members": members,
    }
    response = _json(body, claims.MEDIA_MEMBERSHIPS)
    if page * PAGE_SIZE < len(demo.USERS):
        response.headers["Link"] = f'<{request.base_url}?page={page + 1}>; rel="next"'
    return response


@bp.post("/deep-link-return")
def deep_link_return() -> str:
    """Receive the tool's signed Deep Linking response and place its link in the course."""
    session = db_session()
    p = _platform()
    encoded = request.form.get("JWT", "")
    try:
        client = jwt.PyJWKClient(runtime().settings.base_url.rstrip("/") + "/lti/jwks.json")
        key = client.get_signing_key_from_jwt(encoded)
        body = jwt.decode(
            encoded, key.key, algorithms=["RS256"], audience=p.issuer, issuer=demo.CLIENT_ID
        )
    except jwt.PyJWTError as exc:
        abort(400, f"The tool's Deep Linking response failed verification: {exc}")
    if body.get(claims.MESSAGE_TYPE) != claims.DEEP_LINKING_RESPONSE:
        abort(400, "Not a Deep Linking response.")
    placed = []
    for item in body.get(claims.DL_CONTENT_ITEMS, []):
        if item.get("type") != "ltiResourceLink":
            continue
        link = DemoLink(
            resource_link_id=p.new_link_id(),
            title=item.get("title", "Microreview"),
            url=item.get("url", p.launch_url),
            custom=item.get("custom") or {},
        )
        session.add(link)
        session.flush()
        if item.get("lineItem"):
            li = item["lineItem"]
            line = DemoLineItem(
                context_id=demo.CONTEXT_ID,
                label=li.get("label", link.title),
                score_maximum=float(li.get("scoreMaximum", 100)),
                resource_id=li.get("resourceId", ""),
                resource_link_id=link.resource_link_id,
            )
            session.add(line)
            session.flush()
            link.lineitem_id = line.id
        placed.append(link)
    session.commit()
    return render_template("demo/placed.html", links=placed, message=body.get(claims.DL_MSG, ""))


def _lineitem_json(item: DemoLineItem) -> dict[str, Any]:
    url = f"{_platform().issuer}/ags/{item.context_id}/lineitems/{item.id}"
    data: dict[str, Any] = {"id": url, "label": item.label, "scoreMaximum": item.score_maximum}
    if item.resource_id:
        data["resourceId"] = item.resource_id
    if item.resource_link_id:
        data["resourceLinkId"] = item.resource_link_id
    if item.tag:
        data["tag"] = item.tag
    return data


def _json(data: Any, mimetype: str, status: int = 200) -> Response:
    response = make_response(json.dumps(data), status)
    response.mimetype = mimetype
    return response
