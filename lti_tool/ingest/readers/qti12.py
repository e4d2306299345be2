"""QTI 1.2 items (IMS, Canvas, Respondus flavours) into neutral questions."""

from __future__ import annotations

import html as htmlmod
import logging
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from ..htmlblocks import squash
from ..safexml import Element, text_of
from ..sanitize import clean_text
from ..tree import Blank, Choice, NumericAnswer, Pair, Provenance, Question, QuestionKind

logger = logging.getLogger(__name__)

K = QuestionKind
#: Canvas and CC profile question types; None means "not a question" (text or stimulus).
TYPE_MAP: dict[str, QuestionKind | None] = {
    "multiple_choice_question": K.SINGLE_CHOICE,
    "true_false_question": K.TRUE_FALSE,
    "multiple_answers_question": K.MULTIPLE_CHOICE,
    "short_answer_question": K.SHORT_ANSWER,
    "fill_in_multiple_blanks_question": K.FILL_IN,
    "multiple_dropdowns_question": K.FILL_IN,
    "matching_question": K.MATCHING,
    "numerical_question": K.NUMERIC,
    "calculated_question": K.NUMERIC,
    "essay_question": K.RECALL,
    "file_upload_question": K.RECALL,
    "text_only_question": None,
    "cc.multiple_choice.v0p1": K.SINGLE_CHOICE,
    "cc.true_false.v0p1": K.TRUE_FALSE,
    "cc.multiple_response.v0p1": K.MULTIPLE_CHOICE,
    "cc.fib.v0p1": K.SHORT_ANSWER,
    "cc.pattern_match.v0p1": K.SHORT_ANSWER,
    "cc.essay.v0p1": K.RECALL,
}
UNSUPPORTED_TYPES = {"hot_spot_question", "categorization_question"}


@dataclass
class QtiGroup:
    """Questions of one assessment, bank or section, in source order."""

    title: str
    ident: str
    questions: list[Question] = field(default_factory=list)
    is_bank: bool = False


@dataclass
class _Response:
    ident: str
    label: str
    cardinality: str
    options: list[tuple[str, str]]
    numeric: bool = False


def material_html(el: Element | None) -> str:
    """HTML of the ``mattext``/``mat_extension`` texts under a QTI ``material`` element."""
    if el is None:
        return ""
    parts = []
    for mat in el.iter():
        if mat.tag not in ("mattext", "mat_formattedtext", "matemtext"):
            continue
        inner = (mat.text or "") if len(mat) == 0 else _inner_xml(mat)
        is_html = "html" in (mat.get("texttype") or "") or len(mat) > 0
        parts.append(inner if is_html else f"<p>{htmlmod.escape(inner)}</p>")
    return "".join(parts)


def _inner_xml(el: Element) -> str:
    children = "".join(ET.tostring(c, encoding="unicode") for c in el)
    return (el.text or "") + children


def _plain(html: str) -> str:
    return squash(htmlmod.unescape(clean_text(html)))


def parse_questestinterop(root: Element, source: str) -> tuple[list[QtiGroup], list[str]]:
    """All assessments, object banks and loose items of a ``questestinterop`` document."""
    groups: list[QtiGroup] = []
    warnings: list[str] = []
    for holder in root:
        if holder.tag in ("assessment", "objectbank"):
            title = holder.get("title") or text_of(holder, "qtimetadata") or holder.tag
            group = QtiGroup(title, holder.get("ident", ""), is_bank=holder.tag == "objectbank")
            for item in holder.iter("item"):
                _add(group, item, source, warnings)
            groups.append(group)
        elif holder.tag in ("item", "section"):
            loose = QtiGroup(holder.get("title", ""), holder.get("ident", ""))
            items = [holder] if holder.tag == "item" else list(holder.iter("item"))
            for item in items:
                _add(loose, item, source, warnings)
            groups.append(loose)
    return groups, warnings


def _add(group: QtiGroup, item: Element, source: str, warnings: list[str]) -> None:
    try:
        question = parse_item(item, source)
    except (ValueError, KeyError, IndexError) as exc:
        logger.info("QTI item %s skipped: %s", item.get("ident"), exc)
        question = None
        warnings.append(f"Question {item.get('title') or item.get('ident')} could not be read.")
    if question is not None:
        group.questions.append(question)
    elif _item_type(item) in UNSUPPORTED_TYPES:
        warnings.append(
            f"Question '{item.get('title') or item.get('ident')}' ({_item_type(item)}) has no "
            "card equivalent; add a manual card if it matters."
        )


def _item_type(item: Element) -> str:
    for fld in item.iter("qtimetadatafield"):
        if text_of(fld, "fieldlabel") in ("question_type", "cc_profile"):
            return text_of(fld, "fieldentry")
    return ""


def parse_item(item: Element, source: str) -> Question | None:
    """One QTI 1.2 ``item`` as a Question, or None if it is text only or unsupported."""
    qtype = _item_type(item)
    if qtype in UNSUPPORTED_TYPES or (qtype in TYPE_MAP and TYPE_MAP[qtype] is None):
        return None
    presentation = item.find("presentation")
    if presentation is None:
        return None
    prompt = _prompt(presentation)
    responses = _responses(presentation)
    correct = _correct_values(item)
    kind = TYPE_MAP.get(qtype) or _infer_kind(responses, correct)
    question = Question(
        kind=kind,
        prompt_html=prompt,
        prompt_text=_plain(prompt),
        provenance=Provenance(source, item.get("ident", "")),
        title=item.get("title", ""),
        source_type=qtype or "qti12",
        feedback_html=_general_feedback(item),
    )
    _fill(question, responses, correct, item)
    return question if _complete(question) else None


def _prompt(presentation: Element) -> str:
    parts = []
    for child in presentation.iter():
        if child.tag == "material" and not _inside_response(presentation, child):
            parts.append(material_html(child))
    return "".join(parts)


def _inside_response(presentation: Element, material: Element) -> bool:
    for resp in presentation.iter():
        is_response = resp.tag.startswith("response_") and resp.tag != "response_label"
        if is_response and any(m is material for m in resp.iter("material")):
            return True
    return False


def _responses(presentation: Element) -> list[_Response]:
    found = []
    for resp in presentation.iter():
        if resp.tag not in ("response_lid", "response_str", "response_num", "response_grp"):
            continue
        label = _plain(material_html(resp.find("material")))
        options = [
            (lab.get("ident", ""), material_html(lab.find("material")) or lab.text or "")
            for lab in resp.iter("response_label")
        ]
        fib = resp.find(".//render_fib")
        numeric = resp.tag == "response_num" or (
            fib is not None and fib.get("fibtype", "").lower() in ("decimal", "integer")
        )
        cardinality = resp.get("rcardinality", "Single")
        found.append(_Response(resp.get("ident", ""), label, cardinality, options, numeric))
    return found


def _positive(cond: Element) -> bool:
    for setvar in cond.iter("setvar"):
        try:
            if (
                float((setvar.text or "0").strip()) > 0
                and setvar.get("action", "Set") != "Subtract"
            ):
                return True
        except ValueError:
            continue
    return False


def _correct_values(item: Element) -> list[Element]:
    """The ``conditionvar`` elements of conditions that award points."""
    return [
        cond.find("conditionvar")  # type: ignore[misc]
        for cond in item.iter("respcondition")
        if _positive(cond) and cond.find("conditionvar") is not None
    ]


def _equal_values(conditions: list[Element]) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for cond in conditions:
        negated = {id(e) for n in cond.iter("not") for e in n.iter("varequal")}
        for eq in cond.iter("varequal"):
            if id(eq) not in negated and eq.text:
                values.setdefault(eq.get("respident", ""), []).append(eq.text.strip())
    return values


def _infer_kind(responses: list[_Response], conditions: list[Element]) -> QuestionKind:
    if not responses or not conditions:
        return K.RECALL
    first = responses[0]
    if first.numeric:
        return K.NUMERIC
    if not first.options:
        return K.SHORT_ANSWER
    if first.cardinality == "Ordered":
        return K.ORDERING
    if len(responses) > 1:
        return K.MATCHING
    if first.cardinality == "Multiple":
        return K.MULTIPLE_CHOICE
    texts = {_plain(text).lower() for _, text in first.options}
    return K.TRUE_FALSE if texts == {"true", "false"} else K.SINGLE_CHOICE


def _fill(q: Question, responses: list[_Response], conds: list[Element], item: Element) -> None:
    values = _equal_values(conds)
    if q.kind in (K.SINGLE_CHOICE, K.MULTIPLE_CHOICE, K.TRUE_FALSE) and responses:
        right = set(values.get(responses[0].ident, []))
        q.choices = [Choice(i, _plain(t), i in right) for i, t in responses[0].options]
    elif q.kind is K.ORDERING and responses:
        texts = dict(responses[0].options)
        q.sequence = [_plain(texts[v]) for v in values.get(responses[0].ident, []) if v in texts]
    elif q.kind is K.MATCHING:
        _fill_matching(q, responses, values)
    elif q.kind is K.FILL_IN:
        _fill_blanks(q, responses, values)
    elif q.kind is K.SHORT_ANSWER:
        q.answers = [v for vals in values.values() for v in vals]
    elif q.kind is K.NUMERIC:
        q.numeric = _calculated(q, item) or _numeric(conds)


def _fill_matching(q: Question, responses: list[_Response], values: dict[str, list[str]]) -> None:
    for resp in responses:
        texts = dict(resp.options)
        chosen = [texts[v] for v in values.get(resp.ident, []) if v in texts]
        if resp.label and chosen:
            q.pairs.append(Pair(resp.label, _plain(chosen[0])))
    used = {p.answer for p in q.pairs}
    q.distractors = sorted({_plain(t) for r in responses for _, t in r.options} - used)


def _fill_blanks(q: Question, responses: list[_Response], values: dict[str, list[str]]) -> None:
    for resp in responses:
        texts = dict(resp.options)
        right = tuple(_plain(texts[v]) for v in values.get(resp.ident, []) if v in texts)
        options = tuple(_plain(t) for _, t in resp.options)
        name = resp.label or resp.ident.removeprefix("response_")
        if right:
            is_dropdown = q.source_type == "multiple_dropdowns_question"
            q.blanks.append(Blank(name, right, options if is_dropdown else ()))


def _numeric(conds: list[Element]) -> list[NumericAnswer]:
    answers = []
    for cond in conds:
        exact = _numbers(cond, "varequal")
        low = _numbers(cond, "vargte") + _numbers(cond, "vargt")
        high = _numbers(cond, "varlte") + _numbers(cond, "varlt")
        if exact and low and high and min(low) <= exact[0] <= max(high):
            tol = max(exact[0] - min(low), max(high) - exact[0], 0.0)
            answers.append(NumericAnswer(value=exact[0], tolerance=tol))
        elif exact:
            answers.append(NumericAnswer(value=exact[0]))
        elif low and high:
            answers.append(NumericAnswer(low=min(low), high=max(high)))
    return answers


def _numbers(cond: Element, tag: str) -> list[float]:
    return [float(e.text or "") for e in cond.iter(tag) if _is_number(e.text)]


def _calculated(q: Question, item: Element) -> list[NumericAnswer]:
    """Canvas formula questions: use the first stored variable set as a concrete question."""
    calc = item.find(".//calculated")
    var_set = calc.find("var_sets/var_set") if calc is not None else None
    if calc is None or var_set is None or not _is_number(text_of(var_set, "answer")):
        return []
    for var in var_set.iter("var"):
        q.prompt_html = q.prompt_html.replace(f"[{var.get('name')}]", (var.text or "").strip())
    q.prompt_text = _plain(q.prompt_html)
    tolerance = text_of(calc, "answer_tolerance").rstrip("%")
    tol = float(tolerance) if _is_number(tolerance) else 0.0
    value = float(text_of(var_set, "answer"))
    if text_of(calc, "answer_tolerance").endswith("%"):
        tol = abs(value) * tol / 100
    return [NumericAnswer(value=value, tolerance=tol)]


def _is_number(text: str | None) -> bool:
    try:
        float((text or "").strip())
    except ValueError:
        return False
    return True


def _general_feedback(item: Element) -> str:
    for fb in item.iter("itemfeedback"):
        if fb.get("ident") in ("general_fb", "correct_fb", "Correct"):
            return material_html(fb)
    return ""


def _complete(q: Question) -> bool:
    """Whether the question carries what its kind needs to be answered and checked."""
    if not q.prompt_text and q.kind is not K.FILL_IN:
        return False
    needs = {
        K.SINGLE_CHOICE: any(c.correct for c in q.choices),
        K.MULTIPLE_CHOICE: any(c.correct for c in q.choices),
        K.TRUE_FALSE: any(c.correct for c in q.choices),
        K.SHORT_ANSWER: bool(q.answers),
        K.FILL_IN: bool(q.blanks),
        K.MATCHING: len(q.pairs) >= 2,
        K.ORDERING: len(q.sequence) >= 2,
        K.NUMERIC: bool(q.numeric),
        K.RECALL: True,
    }
    return needs[q.kind]


_BLANK = re.compile(r"\[([^\[\]]+)\]")


def blank_names(prompt: str) -> list[str]:
    """Names of ``[blank]`` placeholders in a Canvas fill-in prompt."""
    return _BLANK.findall(prompt)
