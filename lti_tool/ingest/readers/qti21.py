"""QTI 2.1 ``assessmentItem`` files, loose or in an IMS content package."""

from __future__ import annotations

import copy
import html as htmlmod
import xml.etree.ElementTree as ET

from ..exceptions import CourseImportError
from ..htmlblocks import squash
from ..safexml import Element, parse_xml, text_of
from ..sanitize import clean_text
from ..tree import Blank, Choice, Course, Module, Pair, Provenance, Question, QuestionKind
from .base import ReadContext

K = QuestionKind
INTERACTIONS = {
    "choiceInteraction", "orderInteraction", "matchInteraction", "associateInteraction",
    "gapMatchInteraction", "textEntryInteraction", "inlineChoiceInteraction",
    "extendedTextInteraction", "uploadInteraction",
}  # fmt: skip


def read(ctx: ReadContext) -> Course:
    """Every assessment item, in manifest order when there is one, else by file name."""
    module = Module(ctx.course.title, provenance=Provenance(ctx.source.label))
    for path in _item_paths(ctx):
        try:
            root = parse_xml(ctx.source.read(path), path)
        except CourseImportError as exc:
            ctx.warn(f"{path} was skipped: {exc.message}")
            continue
        if root.tag != "assessmentItem":
            continue
        question = parse_item(root, path)
        if question is None:
            ctx.warn(f"Question in {path} has no card equivalent; add a manual card.")
        else:
            module.questions.append(question)
    ctx.course.modules.append(module)
    return ctx.course


def _item_paths(ctx: ReadContext) -> list[str]:
    names = [n for n in ctx.source.names() if n.endswith(".xml") and n != "imsmanifest.xml"]
    if not ctx.source.exists("imsmanifest.xml"):
        return sorted(names)
    manifest = parse_xml(ctx.source.read("imsmanifest.xml"), "imsmanifest.xml")
    ordered = [r.get("href", "") for r in manifest.iter("resource") if "item" in r.get("type", "")]
    listed = [p for p in ordered if ctx.source.exists(p)]
    return listed + sorted(set(names) - set(listed))


def _plain(html: str) -> str:
    return squash(htmlmod.unescape(clean_text(html)))


def _correct(root: Element) -> dict[str, list[str]]:
    """Correct values (and positively mapped keys) per response identifier."""
    found: dict[str, list[str]] = {}
    for decl in root.iter("responseDeclaration"):
        values = [text_of(v) for v in decl.iterfind("correctResponse/value")]
        for entry in decl.iter("mapEntry"):
            if float(entry.get("mappedValue", "0") or 0) > 0 and entry.get("mapKey") not in values:
                values.append(entry.get("mapKey", ""))
        found[decl.get("identifier", "")] = values
    return found


def parse_item(root: Element, path: str) -> Question | None:
    """One QTI 2.1 item as a Question (None if its interaction has no card equivalent)."""
    body = root.find("itemBody")
    interactions = [el for el in body.iter() if el.tag in INTERACTIONS] if body is not None else []
    if body is None or not interactions:
        return None
    correct = _correct(root)
    first = interactions[0]
    question = Question(
        kind=K.RECALL,
        prompt_html="",
        prompt_text="",
        provenance=Provenance(path, root.get("identifier", "")),
        title=root.get("title", ""),
        source_type=first.tag,
    )
    _fill(question, first, interactions, correct)
    question.prompt_html = _prompt_html(body)
    question.prompt_text = _plain(question.prompt_html)
    return question if question.prompt_text else None


def _fill(q: Question, first: Element, all_: list[Element], correct: dict[str, list[str]]) -> None:
    right = correct.get(first.get("responseIdentifier", ""), [])
    texts = {
        c.get("identifier", ""): _plain(_inner(c)) for c in first.iter() if c.get("identifier")
    }
    tag = first.tag
    if tag == "choiceInteraction":
        single = first.get("maxChoices", "1") == "1"
        q.kind = K.SINGLE_CHOICE if single else K.MULTIPLE_CHOICE
        q.choices = [
            Choice(c.get("identifier", ""), _plain(_inner(c)), c.get("identifier") in right)
            for c in first.iter("simpleChoice")
        ]
    elif tag == "orderInteraction":
        q.kind, q.sequence = K.ORDERING, [texts[v] for v in right if v in texts]
    elif tag in ("matchInteraction", "associateInteraction"):
        q.kind = K.MATCHING
        pairs = [v.split() for v in right if len(v.split()) == 2]
        q.pairs = [Pair(texts[a], texts[b]) for a, b in pairs if a in texts and b in texts]
    elif tag in ("textEntryInteraction", "inlineChoiceInteraction", "gapMatchInteraction"):
        q.kind = K.FILL_IN
        q.blanks = _blanks(all_, correct, texts)
    if not _complete(q):
        q.kind = K.RECALL


def _blanks(
    interactions: list[Element], correct: dict[str, list[str]], texts: dict[str, str]
) -> list[Blank]:
    blanks = []
    for number, el in enumerate(interactions, start=1):
        right = correct.get(el.get("responseIdentifier", ""), [])
        if el.tag == "gapMatchInteraction":
            options = tuple(_plain(_inner(g)) for g in el.iter("gapText"))
            for value in right:
                choice, _, gap = value.partition(" ")
                blanks.append(Blank(gap, (texts.get(choice, choice),), options))
        elif el.tag == "inlineChoiceInteraction":
            options = tuple(_plain(_inner(c)) for c in el.iter("inlineChoice"))
            blanks.append(Blank(str(number), tuple(texts.get(v, v) for v in right), options))
        elif right:
            blanks.append(Blank(str(number), tuple(right)))
    return blanks


def _complete(q: Question) -> bool:
    if q.kind in (K.SINGLE_CHOICE, K.MULTIPLE_CHOICE):
        return any(c.correct for c in q.choices)
    if q.kind is K.ORDERING:
        return len(q.sequence) >= 2
    if q.kind is K.MATCHING:
        return len(q.pairs) >= 2
    if q.kind is K.FILL_IN:
        return bool(q.blanks)
    return True


def _prompt_html(body: Element) -> str:
    """The item body as HTML: choice lists removed, gaps and text entries shown as ``[n]``."""
    body = copy.deepcopy(body)
    number = 0
    for parent in list(body.iter()):
        for child in list(parent):
            if child.tag not in INTERACTIONS and child.tag != "gap":
                continue
            number += 1
            marker = f"[{child.get('identifier') or number}]"
            if child.tag in ("textEntryInteraction", "inlineChoiceInteraction", "gap"):
                _replace(parent, child, marker)
            else:
                prompt = child.find("prompt")
                keep = [c for c in child if c.tag not in _CHOICE_TAGS and c is not prompt]
                _unwrap(parent, child, ([prompt] if prompt is not None else []) + keep)
    return "".join(ET.tostring(c, encoding="unicode") for c in body).strip()


_CHOICE_TAGS = {"simpleChoice", "simpleMatchSet", "simpleAssociableChoice", "gapText", "gapImg"}


def _replace(parent: Element, child: Element, text: str) -> None:
    index = list(parent).index(child)
    tail = text + (child.tail or "")
    if index == 0:
        parent.text = (parent.text or "") + tail
    else:
        prev = parent[index - 1]
        prev.tail = (prev.tail or "") + tail
    parent.remove(child)


def _unwrap(parent: Element, child: Element, keep: list[Element]) -> None:
    index = list(parent).index(child)
    parent.remove(child)
    for offset, el in enumerate(keep):
        if el.tag == "prompt":
            el.tag = "p"
        parent.insert(index + offset, el)


def _inner(el: Element) -> str:
    return (el.text or "") + "".join(ET.tostring(c, encoding="unicode") for c in el)
