"""Moodle 2.x-4.5 backups (.mbz as gzip tar or zip, or the unpacked folder)."""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote

from ..exceptions import CourseImportError
from ..htmlblocks import html_to_blocks, squash
from ..safexml import Element, parse_xml, text_of
from ..tree import Block, BlockKind, Course, Module, Provenance, Section
from .base import ReadContext
from .moodle_questions import QUESTIONS_FILE, QuestionBank, parse_bank

BACKUP_FILE = "moodle_backup.xml"
PLUGINFILE = "@@PLUGINFILE@@"
NULL = "$@NULL@$"
#: Activities whose intro alone is worth keeping only when it has at least this many words.
MIN_INTRO_WORDS = 20


@dataclass
class _Activity:
    moduleid: str
    sectionid: str
    modname: str
    title: str
    directory: str


def read(ctx: ReadContext) -> Course:
    """Read sections in order with their pages, books, labels, lessons, glossaries and quizzes."""
    backup = parse_xml(ctx.source.read(BACKUP_FILE), BACKUP_FILE)
    info = backup.find("information")
    ctx.course.title = text_of(info, "original_course_fullname") or ctx.course.title
    reader = _BackupReader(ctx, backup)
    reader.read_sections()
    reader.add_unused_questions()
    return ctx.course


class _BackupReader:
    def __init__(self, ctx: ReadContext, backup: Element) -> None:
        self.ctx = ctx
        contents = backup.find("information/contents")
        self.activities = (
            [_activity(a) for a in contents.iter("activity")] if contents is not None else []
        )
        self.sections = [
            (text_of(s, "sectionid"), text_of(s, "directory"))
            for s in (contents.iter("section") if contents is not None else [])
        ]
        self.files = self._files()
        self.bank = self._bank()
        self.used_questions: set[int] = set()

    def _files(self) -> dict[str, list[tuple[str, str]]]:
        """filename -> [(contextid, path in the backup)] from files.xml."""
        found: dict[str, list[tuple[str, str]]] = {}
        if not self.ctx.source.exists("files.xml"):
            return found
        for f in parse_xml(self.ctx.source.read("files.xml"), "files.xml"):
            name, digest = text_of(f, "filename"), text_of(f, "contenthash")
            if name and name != "." and len(digest) > 2:
                path = f"files/{digest[:2]}/{digest}"
                found.setdefault(name, []).append((text_of(f, "contextid"), path))
        return found

    def _bank(self) -> QuestionBank:
        if not self.ctx.source.exists(QUESTIONS_FILE):
            return QuestionBank()
        bank = parse_bank(parse_xml(self.ctx.source.read(QUESTIONS_FILE), QUESTIONS_FILE))
        for warning in bank.warnings:
            self.ctx.warn(warning)
        return bank

    def resolver(self, contextid: str) -> Callable[[str], str | None]:
        """Resolve ``@@PLUGINFILE@@/name`` references, preferring the activity's own context."""

        def resolve(ref: str) -> str | None:
            if not ref.startswith(PLUGINFILE):
                return None
            name = unquote(posixpath.basename(ref.split("?", 1)[0]))
            candidates = self.files.get(name, [])
            mine = [p for c, p in candidates if c == contextid] or [p for _, p in candidates]
            return self.ctx.add_asset(mine[0], filename=name) if mine else None

        return resolve

    def read_sections(self) -> None:
        by_section: dict[str, list[_Activity]] = {}
        for act in self.activities:
            by_section.setdefault(act.sectionid, []).append(act)
        ordered = []
        for sid, directory in self.sections:
            path = f"{directory}/section.xml"
            if self.ctx.source.exists(path):
                section = parse_xml(self.ctx.source.read(path), path)
                number = int(text_of(section, "number") or 0)
                ordered.append((number, sid, section, path))
        for number, sid, section, path in sorted(ordered, key=lambda t: t[0]):
            module = self.section_module(number, section, path, by_section.get(sid, []))
            if module.sections or module.questions:
                self.ctx.course.modules.append(module)

    def section_module(
        self, number: int, section: Element, path: str, acts: list[_Activity]
    ) -> Module:
        name = text_of(section, "name")
        title = name if name and name != NULL else ("General" if number == 0 else f"Topic {number}")
        prov = Provenance(path, f"section-{section.get('id', '')}")
        module = Module(title, provenance=prov)
        summary = text_of(section, "summary")
        if summary and summary != NULL:
            self.html_section(module, title, summary, prov, self.resolver(""))
        by_id = {a.moduleid: a for a in acts}
        sequence = [s for s in text_of(section, "sequence").split(",") if s in by_id]
        for moduleid in sequence + [a.moduleid for a in acts if a.moduleid not in sequence]:
            try:
                self.add_activity(module, by_id[moduleid])
            except CourseImportError as exc:
                self.ctx.warn(f"'{by_id[moduleid].title}' was skipped: {exc.message}")
        return module

    def add_activity(self, module: Module, act: _Activity) -> None:
        handler = _HANDLERS.get(act.modname)
        path = f"{act.directory}/{act.modname}.xml"
        if handler is None or not self.ctx.source.exists(path):
            return
        root = parse_xml(self.ctx.source.read(path), path)
        body = root.find(act.modname)
        if body is None:
            return
        prov = Provenance(path, f"cm-{act.moduleid}")
        handler(self, module, act, body, prov, self.resolver(root.get("contextid", "")))

    def html_section(
        self, module: Module, title: str, html: str, prov: Provenance, resolve
    ) -> None:
        """Append a section made of an HTML field, if it has content."""
        blocks = html_to_blocks(html, prov, resolve)
        if blocks:
            module.sections.append(Section(title, blocks, prov))

    def add_unused_questions(self) -> None:
        """Bank questions no quiz uses go to the course's question bank (tied by similarity)."""
        for question in self.bank.current():
            if id(question) not in self.used_questions:
                self.ctx.course.question_bank.append(question)


def _activity(el: Element) -> _Activity:
    return _Activity(
        text_of(el, "moduleid"),
        text_of(el, "sectionid"),
        text_of(el, "modulename"),
        text_of(el, "title"),
        text_of(el, "directory"),
    )


Handler = Callable[[_BackupReader, Module, _Activity, Element, Provenance, Callable], None]


def _page(r: _BackupReader, m: Module, a: _Activity, body: Element, p: Provenance, res) -> None:
    r.html_section(m, text_of(body, "name") or a.title, text_of(body, "content"), p, res)


def _label(r: _BackupReader, m: Module, a: _Activity, body: Element, p: Provenance, res) -> None:
    r.html_section(m, "", text_of(body, "intro"), p, res)


def _intro(r: _BackupReader, m: Module, a: _Activity, body: Element, p: Provenance, res) -> None:
    intro = text_of(body, "intro")
    if len(squash(intro).split()) >= MIN_INTRO_WORDS:
        r.html_section(m, text_of(body, "name") or a.title, intro, p, res)


def _book(r: _BackupReader, m: Module, a: _Activity, body: Element, p: Provenance, res) -> None:
    chapters = sorted(body.iter("chapter"), key=lambda c: int(text_of(c, "pagenum") or 0))
    book_title = text_of(body, "name") or a.title
    _intro(r, m, a, body, p, res)
    for chapter in chapters:
        if text_of(chapter, "hidden") == "1":
            continue
        prov = Provenance(p.source, f"chapter-{chapter.get('id', '')}")
        title = f"{book_title}: {text_of(chapter, 'title')}"
        r.html_section(m, title, text_of(chapter, "content"), prov, res)
        if m.sections and m.sections[-1].provenance == prov:
            m.sections[-1].level = 3 if text_of(chapter, "subchapter") == "1" else 2


def _lesson(r: _BackupReader, m: Module, a: _Activity, body: Element, p: Provenance, res) -> None:
    content_pages = {"20", "21", "30", "31"}  # branch table, end of branch, cluster, end of cluster
    for page in body.iter("page"):
        prov = Provenance(p.source, f"page-{page.get('id', '')}")
        if text_of(page, "qtype") in content_pages or not page.findall("answers/answer"):
            r.html_section(m, text_of(page, "title"), text_of(page, "contents"), prov, res)


def _glossary(r: _BackupReader, m: Module, a: _Activity, body: Element, p: Provenance, res) -> None:
    items = []
    for entry in body.iter("entry"):
        concept, definition = text_of(entry, "concept"), text_of(entry, "definition")
        if concept and definition:
            items.append(f"<dt>{_esc(concept)}</dt><dd>{definition}</dd>")
    if items:
        r.html_section(m, text_of(body, "name") or a.title, f"<dl>{''.join(items)}</dl>", p, res)


def _wiki(r: _BackupReader, m: Module, a: _Activity, body: Element, p: Provenance, res) -> None:
    for page in body.iter("page"):
        prov = Provenance(p.source, f"wikipage-{page.get('id', '')}")
        html = text_of(page, "cachedcontent")
        if html and html != NULL:
            r.html_section(m, text_of(page, "title"), html, prov, res)


def _url(r: _BackupReader, m: Module, a: _Activity, body: Element, p: Provenance, res) -> None:
    url = text_of(body, "externalurl")
    if url.lower().startswith(("http://", "https://")):
        html = f'<p>Further reading: <a href="{_esc(url)}">{_esc(a.title or url)}</a></p>'
        m.sections.append(Section(a.title, [Block(BlockKind.REFERENCE, html, "", p)], p))


def _quiz(r: _BackupReader, m: Module, a: _Activity, body: Element, p: Provenance, res) -> None:
    _intro(r, m, a, body, p, res)
    for question in _quiz_questions(r.bank, body):
        if id(question) not in r.used_questions:
            r.used_questions.add(id(question))
            m.questions.append(question)


def _quiz_questions(bank: QuestionBank, quiz: Element) -> list:
    """Questions in slot order: 4.x references bank entries, older backups question ids."""
    found = []
    instances = sorted(quiz.iter("question_instance"), key=lambda i: int(text_of(i, "slot") or 0))
    for inst in instances:
        ref = inst.find("question_reference")
        if ref is not None:
            version = text_of(ref, "version")
            q = bank.for_entry(
                text_of(ref, "questionbankentryid"), "" if version == NULL else version
            )
        else:
            q = bank.by_id.get(text_of(inst, "questionid") or text_of(inst, "question"))
        if q is not None:
            found.append(q)
    if not instances:
        ids = [i for i in text_of(quiz, "questions").split(",") if i and i != "0"]
        found = [bank.by_id[i] for i in ids if i in bank.by_id]
    return found


def _esc(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


_HANDLERS: dict[str, Handler] = {
    "page": _page,
    "label": _label,
    "book": _book,
    "lesson": _lesson,
    "glossary": _glossary,
    "wiki": _wiki,
    "url": _url,
    "quiz": _quiz,
    "assign": _intro,
    "assignment": _intro,
    "forum": _intro,
    "hsuforum": _intro,
}
