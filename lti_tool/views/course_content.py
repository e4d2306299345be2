"""Instructor pages for course material: upload and import, units, card editor, figures."""

from __future__ import annotations

import io
import logging
from itertools import groupby
from typing import Any

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from markupsafe import Markup, escape

from lti_tool import course_content as content
from lti_tool import course_import as service
from lti_tool.ingest.cards import CardKind
from lti_tool.ingest.sanitize import rewrite_asset_urls
from lti_tool.jobs import Jobs, create_jobs
from lti_tool.lti.roles import Role
from lti_tool.models import Card, CardStatus, Unit
from lti_tool.runtime import db_session, runtime
from lti_tool.views.access import current_identity, launch_token, require_role

bp = Blueprint("course_content", __name__, url_prefix="/content")
log = logging.getLogger(__name__)
JOBS_KEY = "microreview.jobs"
#: Asset types a browser may show inline; anything else is downloaded.
INLINE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml")
ACTIONS = {"publish": CardStatus.PUBLISHED, "retire": CardStatus.RETIRED, "draft": CardStatus.DRAFT}


def jobs() -> Jobs:
    """The app's background jobs (tests may put immediate ones in app.extensions first)."""
    found = current_app.extensions.get(JOBS_KEY)
    if found is None:
        found = current_app.extensions[JOBS_KEY] = create_jobs(runtime().settings)
    return found  # type: ignore[no-any-return]


@bp.app_template_filter("with_assets")
def with_assets(html: str) -> Markup:
    """Stored (sanitized) course HTML with its ``asset:`` figures pointing at this tool."""
    token = launch_token()
    return Markup(  # noqa: S704 - unit and card HTML is sanitized with nh3 before it is stored
        rewrite_asset_urls(html, lambda p: str(escape(url_for(".asset", path=p, lt=token))))
    )


def _back(endpoint: str, **values: Any) -> Response:
    return redirect(url_for(endpoint, lt=launch_token(), **values), code=303)  # type: ignore[return-value]


@bp.get("/")
@require_role(Role.INSTRUCTOR)
def units() -> str:
    """The course's micro-units in course order, grouped by module, with minutes and cards."""
    identity, session = current_identity(), db_session()
    rows = content.course_units(session, identity.context_id)
    modules = [(title, list(group)) for (_, title), group in groupby(rows, _module_of)]
    return render_template(
        "content/units.html",
        modules=modules,
        units=rows,
        minutes=sum(u.minutes for u in rows),
        counts=content.card_counts(session, identity.context_id),
        imports=content.recent_imports(session, identity.context_id),
        lt=launch_token(),
    )


def _module_of(unit: Unit) -> tuple[int, str]:
    return unit.module_index, unit.module_title


@bp.post("/critical")
@require_role(Role.INSTRUCTOR)
def critical() -> Response:
    """Mark the checked units as critical (higher retention target) and the others not."""
    identity, session = current_identity(), db_session()
    chosen = set(request.form.getlist("critical", type=int))
    for unit in content.course_units(session, identity.context_id):
        unit.critical = unit.id in chosen
    session.commit()
    return _back(".units")


@bp.get("/upload")
@require_role(Role.INSTRUCTOR)
def upload_form() -> str:
    """The upload form with the size limit and the formats the importer reads."""
    identity, session = current_identity(), db_session()
    config = service.ImportConfig.from_settings(runtime().settings)
    return render_template(
        "content/upload.html",
        max_mib=config.max_upload_bytes // service.MiB,
        formats=service.ACCEPTED_FORMATS,
        accept=service.ACCEPT_ATTRIBUTE,
        reimport=bool(content.course_units(session, identity.context_id)),
        lt=launch_token(),
    )


@bp.post("/upload")
@require_role(Role.INSTRUCTOR)
def upload() -> Response:
    """Store the uploaded file, queue its import and show its progress."""
    identity, session = current_identity(), db_session()
    config = service.ImportConfig.from_settings(runtime().settings)
    file = request.files.get("course")
    name, stream = (file.filename or "", file.stream) if file else ("", io.BytesIO())
    row = service.store_upload(session, config, identity.context_id, name, stream)
    session.commit()
    jobs().tasks["import_course"](row.id)
    return _back(".progress", import_id=row.id)


@bp.get("/imports/<int:import_id>")
@require_role(Role.INSTRUCTOR)
def progress(import_id: int) -> str:
    """An import's progress bar while it runs; its summary and changes, or its error, after."""
    identity = current_identity()
    row = content.find_import(db_session(), identity.context_id, import_id)
    return render_template(
        "content/import.html", run=row, error=row.summary.get("error"), lt=launch_token()
    )


@bp.get("/imports/<int:import_id>/status")
@require_role(Role.INSTRUCTOR)
def status(import_id: int) -> dict[str, Any]:
    """The import's status as JSON, for the progress bar."""
    row = content.find_import(db_session(), current_identity().context_id, import_id)
    return {"status": row.status, "progress": row.progress, "message": row.message}


@bp.get("/units/<int:unit_id>")
@require_role(Role.INSTRUCTOR)
def unit(unit_id: int) -> str:
    """One unit as learners will read it, with its cards."""
    identity, session = current_identity(), db_session()
    found = content.find_unit(session, identity.context_id, unit_id)
    cards = content.course_cards(session, identity.context_id, unit_id=found.id)
    return render_template("content/unit.html", unit=found, cards=cards, lt=launch_token())


@bp.get("/cards")
@require_role(Role.INSTRUCTOR)
def cards() -> str:
    """The course's cards, filtered by status, with bulk publishing of drafts."""
    identity, session = current_identity(), db_session()
    wanted = request.args.get("status", "")
    status = CardStatus(wanted) if wanted in set(CardStatus) else None
    rows = content.course_cards(session, identity.context_id, status=status)
    titles = {u.id: u.title for u in content.course_units(session, identity.context_id)}
    return render_template(
        "content/cards.html", cards=rows, status=status, titles=titles, lt=launch_token()
    )


@bp.post("/cards/publish-drafts")
@require_role(Role.INSTRUCTOR)
def publish_drafts() -> Response:
    """Publish every draft card of the course, or of one unit."""
    identity, session = current_identity(), db_session()
    unit_id = request.form.get("unit", type=int)
    if unit_id is not None:
        content.find_unit(session, identity.context_id, unit_id)
    count = content.publish_drafts(session, identity.context_id, unit_id)
    session.commit()
    log.info("published %s draft cards in context %s", count, identity.context_id)
    if unit_id is not None:
        return _back(".unit", unit_id=unit_id)
    return _back(".cards", status="published")


@bp.route("/cards/<int:card_id>", methods=["GET", "POST"])
@require_role(Role.INSTRUCTOR)
def card(card_id: int) -> tuple[str, int] | Response:
    """The card editor: prompt and answers; saving keeps the card's status."""
    identity, session = current_identity(), db_session()
    found = content.find_card(session, identity.context_id, card_id)
    answers, error = answers_text(found.kind, found.data or {}), ""
    if request.method == "POST":
        answers = request.form.get("answers", "")
        try:
            data = parse_answers(found.kind, answers, found.data or {})
        except ValueError as exc:
            error = str(exc)
        else:
            content.edit_card(found, request.form.get("prompt_html", ""), data)
            session.commit()
            return _back(".card", card_id=found.id, saved=1)
    return _card_page(found, found.prompt_html, answers, error)


def _card_page(card: Card, prompt: str, answers: str, error: str) -> tuple[str, int]:
    page = render_template(
        "content/card.html", card=card, prompt=prompt, answers=answers, error=error,
        help=ANSWER_HELP.get(card.kind, ""), saved=request.args.get("saved"),
        lt=launch_token(),
    )  # fmt: skip
    return page, 400 if error else 200


@bp.post("/cards/<int:card_id>/status")
@require_role(Role.INSTRUCTOR)
def card_status(card_id: int) -> Response:
    """Publish (approve), retire or send a card back to draft."""
    identity, session = current_identity(), db_session()
    found = content.find_card(session, identity.context_id, card_id)
    action = request.form.get("action", "")
    if action in ACTIONS:
        found.status = ACTIONS[action]
        session.commit()
    return _back(".card", card_id=found.id)


@bp.route("/cards/new", methods=["GET", "POST"])
@require_role(Role.INSTRUCTOR)
def new_card() -> tuple[str, int] | Response:
    """Add a manual card (a draft), optionally to a unit."""
    identity, session = current_identity(), db_session()
    unit_id = request.values.get("unit", type=int)
    found = content.find_unit(session, identity.context_id, unit_id) if unit_id else None
    form = {"kind": request.form.get("kind", CardKind.SHORT_ANSWER.value), "error": ""}
    if request.method == "POST":
        try:
            kind = manual_kind(form["kind"])
            data = parse_answers(kind, request.form.get("answers", ""), {})
            prompt = require_prompt(request.form.get("prompt_html", ""))
        except ValueError as exc:
            form["error"] = str(exc)
        else:
            made = content.add_manual_card(session, identity.context_id, found, kind, prompt, data)
            session.commit()
            return _back(".card", card_id=made.id)
    page = render_template(
        "content/new_card.html", unit=found, form=form, values=request.form,
        kinds=MANUAL_KINDS, help=ANSWER_HELP, lt=launch_token(),
    )  # fmt: skip
    return page, 400 if form["error"] else 200


@bp.get("/assets/<path:path>")
@require_role(Role.NONE)
def asset(path: str) -> Response:
    """A figure of the caller's own course (any role); other courses' files are never found."""
    found = content.find_asset(db_session(), current_identity().context_id, path)
    inline = found.content_type in INLINE_TYPES
    response = Response(found.data, mimetype=found.content_type)
    response.headers["Content-Disposition"] = "inline" if inline else "attachment"
    # An SVG opened on its own is a document: no script, sandboxed, nothing loaded.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    )
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


# --- The card editor's answer box: one line per answer, a format per kind of card ----------

CHOICE_KINDS = {CardKind.SINGLE_CHOICE, CardKind.MULTIPLE_CHOICE, CardKind.TRUE_FALSE}
LIST_FIELDS = {
    CardKind.SHORT_ANSWER: ("answers", 1),
    CardKind.CLOZE: ("answers", 1),
    CardKind.ORDERING: ("sequence", 2),
    CardKind.RECALL: ("key_points", 1),
}
MANUAL_KINDS = (
    CardKind.SHORT_ANSWER, CardKind.SINGLE_CHOICE, CardKind.MULTIPLE_CHOICE, CardKind.TRUE_FALSE,
    CardKind.NUMERIC, CardKind.ORDERING, CardKind.MATCHING, CardKind.RECALL,
)  # fmt: skip
ANSWER_HELP: dict[str, str] = {
    CardKind.SINGLE_CHOICE: "One option per line; start the right one with * and others with -.",
    CardKind.MULTIPLE_CHOICE: "One option per line; start right ones with * and wrong ones with -.",
    CardKind.TRUE_FALSE: "Two lines, * True and - False (or the other way round).",
    CardKind.SHORT_ANSWER: "One accepted answer per line.",
    CardKind.CLOZE: "One accepted answer for the blank per line.",
    CardKind.FILL_IN: "One line per blank, in order; separate accepted answers with |.",
    CardKind.MATCHING: "One pair per line: prompt -> answer.",
    CardKind.ORDERING: "The items in their right order, one per line.",
    CardKind.NUMERIC: "One answer per line: 42, 42 +- 0.5, or a range 40 .. 44.",
    CardKind.RECALL: "The key points learners rate their recall against, one per line.",
}
MARKERS = "*-"


def answers_text(kind: str, data: dict[str, Any]) -> str:
    """A card's answers as the editor shows them."""
    if kind in CHOICE_KINDS:
        choices = data.get("choices", [])
        return "\n".join(("* " if c.get("correct") else "- ") + c["text"] for c in choices)
    if kind == CardKind.FILL_IN:
        return "\n".join(" | ".join(b["answers"]) for b in data.get("blanks", []))
    if kind == CardKind.MATCHING:
        return "\n".join(f"{p['prompt']} -> {p['answer']}" for p in data.get("pairs", []))
    if kind == CardKind.NUMERIC:
        return "\n".join(_numeric_line(n) for n in data.get("numeric", []))
    field, _ = LIST_FIELDS.get(CardKind(kind), ("answers", 1))
    return "\n".join(data.get(field, []))


def parse_answers(kind: str, text: str, data: dict[str, Any]) -> dict[str, Any]:
    """The answer fields of a card from the editor's text; ValueError says what to fix."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if kind in CHOICE_KINDS:
        return {"choices": _choices(kind, lines, data.get("choices", []))}
    if kind == CardKind.FILL_IN:
        return {"blanks": _blanks(lines, data.get("blanks", []))}
    if kind == CardKind.MATCHING:
        return {"pairs": [_pair(line) for line in _at_least(lines, 1, "pair")]}
    if kind == CardKind.NUMERIC:
        return {"numeric": [_numeric(line) for line in _at_least(lines, 1, "answer")]}
    field, minimum = LIST_FIELDS[CardKind(kind)]
    return {field: _at_least(lines, minimum, "line")}


def _at_least(lines: list[str], count: int, what: str) -> list[str]:
    if len(lines) < count:
        raise ValueError(f"give at least {count} {what}{'s' if count > 1 else ''}")
    return lines


def _choices(kind: str, lines: list[str], old: list[dict[str, Any]]) -> list[dict[str, Any]]:
    choices = []
    for i, line in enumerate(_at_least(lines, 2, "option")):
        ident = old[i]["ident"] if i < len(old) else f"choice-{i + 1}"
        text = line[1:].strip() if line[0] in MARKERS else line
        choices.append({"ident": ident, "text": text, "correct": line.startswith("*")})
    right = sum(1 for c in choices if c["correct"])
    if right == 0:
        raise ValueError("mark the right option with * at the start of its line")
    if right > 1 and kind != CardKind.MULTIPLE_CHOICE:
        raise ValueError("mark exactly one option as right (with *)")
    return choices


def _blanks(lines: list[str], old: list[dict[str, Any]]) -> list[dict[str, Any]]:
    blanks = []
    for i, line in enumerate(_at_least(lines, 1, "blank")):
        answers = [a.strip() for a in line.split("|") if a.strip()]
        base = old[i] if i < len(old) else {"ident": f"blank-{i + 1}", "options": []}
        blanks.append({**base, "answers": answers})
    return blanks


def _pair(line: str) -> dict[str, str]:
    prompt, arrow, answer = line.partition("->")
    if not arrow or not prompt.strip() or not answer.strip():
        raise ValueError(f"write each pair as prompt -> answer (not {line!r})")
    return {"prompt": prompt.strip(), "answer": answer.strip()}


def _numeric(line: str) -> dict[str, float | None]:
    try:
        if ".." in line:
            low, high = (float(part) for part in line.split("..", 1))
            return {"value": None, "tolerance": 0.0, "low": min(low, high), "high": max(low, high)}
        value, _, tolerance = line.replace("±", "+-").partition("+-")
        return {"value": float(value), "tolerance": abs(float(tolerance or 0)), "low": None,
                "high": None}  # fmt: skip
    except ValueError:
        raise ValueError(f"{line!r} is not a number, 42 +- 0.5, or a range 40 .. 44") from None


def _numeric_line(spec: dict[str, Any]) -> str:
    if spec.get("low") is not None and spec.get("high") is not None:
        return f"{spec['low']:g} .. {spec['high']:g}"
    tolerance = float(spec.get("tolerance") or 0)
    value = float(spec.get("value") or 0)
    return f"{value:g} +- {tolerance:g}" if tolerance else f"{value:g}"


def manual_kind(value: str) -> CardKind:
    """The kind of a new manual card, from the form."""
    if value not in {k.value for k in MANUAL_KINDS}:
        raise ValueError("choose a kind of card from the list")
    return CardKind(value)


def require_prompt(html: str) -> str:
    """The prompt of a new card; it must not be empty."""
    if not html.strip():
        raise ValueError("write the question or prompt")
    return html
