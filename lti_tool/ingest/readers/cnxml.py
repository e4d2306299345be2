"""OpenStax CNXML: a ``*.collection.xml`` table of contents and ``modules/*/index.cnxml``."""

from __future__ import annotations

import html as htmlmod

from ..exceptions import CourseImportError
from ..htmlblocks import html_to_blocks, squash
from ..safexml import Element, parse_xml, text_of
from ..tree import Course, Module, Provenance, Question, QuestionKind, Section
from .base import ReadContext

_INLINE = {"emphasis": "em", "term": "strong", "sub": "sub", "sup": "sup", "code": "code",
           "foreign": "em", "cite": "cite", "span": "span", "quote": "q"}  # fmt: skip
_BLOCK = {"para": "p", "item": "li", "caption": "p", "preformat": "pre", "row": "tr",
          "entry": "td", "thead": "thead", "tbody": "tbody", "meaning": "dd"}  # fmt: skip
_SKIPPED = {"metadata", "title", "media", "image", "footnote", "solution", "label", "colspec"}


def read(ctx: ReadContext) -> Course:
    """Chapters (subcollections) become modules and their documents sections, in order."""
    collections = sorted(n for n in ctx.source.names() if n.endswith("collection.xml"))
    if collections:
        root = parse_xml(ctx.source.read(collections[0]), collections[0])
        ctx.course.title = text_of(root, "metadata/title") or ctx.course.title
        _walk(ctx, root.find("content"), Module(ctx.course.title))
    else:
        module = Module(ctx.course.title)
        for name in sorted(n for n in ctx.source.names() if n.endswith(".cnxml")):
            _add_document(ctx, module, name)
        ctx.course.modules.append(module)
    return ctx.course


def _walk(ctx: ReadContext, content: Element | None, loose: Module) -> None:
    for child in content if content is not None else []:
        if child.tag == "module":
            _add_document(ctx, loose, _document_path(ctx, child.get("document", "")))
        elif child.tag == "subcollection":
            module = Module(text_of(child, "title") or "Chapter")
            for doc in child.iter("module"):
                _add_document(ctx, module, _document_path(ctx, doc.get("document", "")))
            ctx.course.modules.append(module)
    if loose.sections:
        ctx.course.modules.insert(0, loose)


def _document_path(ctx: ReadContext, document: str) -> str:
    for candidate in (f"modules/{document}/index.cnxml", f"{document}/index.cnxml"):
        if ctx.source.exists(candidate):
            return candidate
    return ""


def _add_document(ctx: ReadContext, module: Module, path: str) -> None:
    if not path:
        return
    try:
        doc = parse_xml(ctx.source.read(path), path)
    except CourseImportError as exc:
        ctx.warn(f"{path} was skipped: {exc.message}")
        return
    title = text_of(doc, "title")
    content = doc.find("content")
    prov = Provenance(path, text_of(doc, "metadata/content-id"))
    html = "".join(to_html(c, 2) for c in content) if content is not None else ""
    blocks = html_to_blocks(html, prov)
    module.sections.append(Section(title, blocks, prov))
    if content is not None:
        module.questions.extend(_exercises(content, path))


def to_html(el: Element, depth: int) -> str:
    """HTML for one CNXML element and its tail."""
    tail = htmlmod.escape(el.tail or "")
    tag = el.tag
    if tag in _SKIPPED or tag in ("exercise", "glossary"):
        return tail
    inner = htmlmod.escape(el.text or "") + "".join(to_html(c, depth + 1) for c in el)
    if tag == "section":
        heading = f"<h{min(depth, 6)}>{htmlmod.escape(text_of(el, 'title'))}</h{min(depth, 6)}>"
        return heading + inner + tail
    if tag == "list":
        name = "ol" if el.get("list-type") == "enumerated" or el.get("number-style") else "ul"
        return f"<{name}>{inner}</{name}>{tail}"
    if tag == "link":
        url = el.get("url", "")
        if url.startswith(("http://", "https://")):
            return f'<a href="{htmlmod.escape(url)}">{inner or htmlmod.escape(url)}</a>{tail}'
        return inner + tail
    if tag == "note":
        title = text_of(el, "title")
        head = f"<p><strong>{htmlmod.escape(title)}</strong></p>" if title else ""
        return f"<div>{head}{inner}</div>{tail}"
    if tag == "table":
        return f"<table>{inner}</table>{tail}"
    if tag in _BLOCK:
        return f"<{_BLOCK[tag]}>{inner}</{_BLOCK[tag]}>{tail}"
    if tag in _INLINE:
        return f"<{_INLINE[tag]}>{inner}</{_INLINE[tag]}>{tail}"
    return inner + tail


def _exercises(content: Element, path: str) -> list[Question]:
    """End-of-section exercises become self-rated recall questions (their solution, if any)."""
    found = []
    for exercise in content.iter("exercise"):
        problem = exercise.find("problem")
        if problem is None:
            continue
        html = "".join(to_html(c, 4) for c in problem)
        text = squash(" ".join(b.text for b in html_to_blocks(html, Provenance(path))))
        if len(text.split()) < 4:
            continue
        solution = exercise.find("solution")
        feedback = "".join(to_html(c, 4) for c in solution) if solution is not None else ""
        found.append(
            Question(
                kind=QuestionKind.RECALL,
                prompt_html=html,
                prompt_text=text,
                provenance=Provenance(path, exercise.get("id", "")),
                feedback_html=feedback,
                source_type="cnxml-exercise",
            )
        )
    return found
