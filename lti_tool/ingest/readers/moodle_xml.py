"""Moodle XML question export (``<quiz>`` with ``<question type=...>``)."""

from __future__ import annotations

import re

from ..exceptions import CourseImportError
from ..safexml import Element, children, parse_xml, text_of
from ..tree import Blank, Choice, Course, Module, NumericAnswer, Pair, Provenance, Question
from ..tree import QuestionKind as K
from .base import ReadContext
from .moodle_questions import UNSUPPORTED, blank_markers, plain

_EMBEDDED = re.compile(r"\{(\d*):(\w+):([^}]*)\}")


def read(ctx: ReadContext) -> Course:
    """One module per question category, questions in file order."""
    for name in sorted(n for n in ctx.source.names() if n.endswith(".xml")):
        try:
            root = parse_xml(ctx.source.read(name), name)
        except CourseImportError as exc:
            ctx.warn(f"{name} was skipped: {exc.message}")
            continue
        if root.tag == "quiz":
            _read_quiz(ctx, root, name)
    return ctx.course


def _read_quiz(ctx: ReadContext, root: Element, name: str) -> None:
    module = Module(ctx.course.title, provenance=Provenance(name))
    for number, el in enumerate(children(root, "question"), start=1):
        qtype = el.get("type", "")
        if qtype == "category":
            category = text_of(el, "category/text").split("/")[-1]
            if module.questions:
                ctx.course.modules.append(module)
            module = Module(category or ctx.course.title, provenance=Provenance(name, category))
            continue
        question = parse_question(el, Provenance(name, f"question-{number}"))
        if question is not None:
            module.questions.append(question)
        elif qtype not in ("description", "random"):
            label = UNSUPPORTED.get(qtype, qtype)
            ctx.warn(f"Question '{text_of(el, 'name/text')}' ({label}) has no card equivalent.")
    if module.questions:
        ctx.course.modules.append(module)


def _answers(el: Element) -> list[tuple[str, float]]:
    found = []
    for ans in children(el, "answer"):
        try:
            fraction = float(ans.get("fraction", "0"))
        except ValueError:
            fraction = 0.0
        found.append((text_of(ans, "text"), fraction))
    return found


def parse_question(el: Element, provenance: Provenance) -> Question | None:
    """One Moodle XML question as a Question, or None if it has no card equivalent."""
    qtype = el.get("type", "")
    prompt = text_of(el, "questiontext/text")
    q = Question(
        kind=K.RECALL,
        prompt_html=prompt,
        prompt_text=plain(prompt),
        provenance=provenance,
        title=text_of(el, "name/text"),
        feedback_html=text_of(el, "generalfeedback/text"),
        source_type=qtype,
    )
    answers = _answers(el)
    if qtype == "multichoice":
        single = text_of(el, "single").lower() in ("true", "1", "")
        q.kind = K.SINGLE_CHOICE if single else K.MULTIPLE_CHOICE
        q.choices = [Choice(str(i), plain(t), f > 0) for i, (t, f) in enumerate(answers)]
    elif qtype == "truefalse":
        q.kind = K.TRUE_FALSE
        q.choices = [
            Choice(str(i), plain(t).capitalize(), f > 0) for i, (t, f) in enumerate(answers)
        ]
    elif qtype == "shortanswer":
        q.kind, q.answers = K.SHORT_ANSWER, [plain(t) for t, f in answers if f >= 100]
    elif qtype == "numerical":
        q.kind = K.NUMERIC
        for ans in children(el, "answer"):
            if float(ans.get("fraction", "0") or 0) >= 100:
                tol = float(text_of(ans, "tolerance") or 0)
                q.numeric.append(NumericAnswer(value=float(text_of(ans, "text")), tolerance=tol))
    elif qtype == "matching":
        q.kind = K.MATCHING
        for sub in children(el, "subquestion"):
            prompt_text, answer = plain(text_of(sub, "text")), plain(text_of(sub, "answer/text"))
            if prompt_text and answer:
                q.pairs.append(Pair(prompt_text, answer))
    elif qtype == "cloze":
        _cloze(q)
    elif qtype in ("ddwtos", "gapselect"):
        _gaps(q, el)
    elif qtype != "essay":
        return None
    return q


def _cloze(q: Question) -> None:
    """Embedded answers: ``{1:MULTICHOICE:=right~wrong}`` and ``{1:SHORTANSWER:=a~=b}``."""
    q.kind = K.FILL_IN
    counter = iter(range(1, 1000))

    def replace(match: re.Match[str]) -> str:
        number = str(next(counter))
        parts = [p for p in match.group(3).split("~") if p]
        right = tuple(p.lstrip("=").split("#")[0] for p in parts if p.startswith(("=", "%100%")))
        right = tuple(r.removeprefix("%100%") for r in right)
        options = tuple(p.lstrip("=").split("#")[0] for p in parts)
        kind = match.group(2).upper()
        is_choice = kind.startswith(("MULTICHOICE", "MC"))
        q.blanks.append(Blank(number, right, options if is_choice else ()))
        return f"[{number}]"

    q.prompt_html = _EMBEDDED.sub(replace, q.prompt_html)
    q.prompt_text = plain(q.prompt_html)


def _gaps(q: Question, el: Element) -> None:
    q.kind = K.FILL_IN
    tag = "selectoption" if el.get("type") == "gapselect" else "dragbox"
    options = [(text_of(o, "text"), text_of(o, "group")) for o in children(el, tag)]
    for number in re.findall(r"\[\[(\d+)\]\]", q.prompt_html):
        index = int(number) - 1
        if 0 <= index < len(options):
            text, group = options[index]
            same = tuple(plain(t) for t, g in options if g == group)
            q.blanks.append(Blank(number, (plain(text),), same))
    q.prompt_html = blank_markers(q.prompt_html)
    q.prompt_text = plain(q.prompt_html)
