"""IMS Common Cartridge 1.0-1.3 (Canvas and Moodle exports; zip, .imscc or folder)."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from ..exceptions import CourseImportError, MalformedFileError
from ..htmlblocks import html_to_blocks, squash
from ..safexml import Element, children, parse_xml, text_of
from ..tree import Block, BlockKind, Course, Module, Provenance, Section
from .base import FIGURE_SUFFIXES, ReadContext
from .qti12 import parse_questestinterop

MANIFEST = "imsmanifest.xml"
#: How cartridges point at their own files from inside HTML.
FILEBASE_MARKERS = {
    "$IMS-CC-FILEBASE$": "web_resources/",
    "%24IMS-CC-FILEBASE%24": "web_resources/",
    "$IMS_CC_FILEBASE$": "web_resources/",
}
NON_CC_FOLDER = "non_cc_assessments/"
OTHER_MODULE = "Other course pages"


@dataclass
class _Resource:
    ident: str
    rtype: str
    href: str
    files: list[str] = field(default_factory=list)
    deps: list[str] = field(default_factory=list)


def read(ctx: ReadContext) -> Course:
    """Read a cartridge: organization order, pages, discussions, links and assessments."""
    manifest = parse_xml(ctx.source.read(MANIFEST), MANIFEST)
    ctx.course.title = _title(manifest) or ctx.course.title
    reader = _CartridgeReader(ctx, _resources(manifest))
    for org in manifest.iter("organization"):
        for top in children(org, "item"):
            reader.walk_root(top)
        break
    reader.add_leftovers()
    return ctx.course


def _title(manifest: Element) -> str:
    general = next(manifest.iter("general"), None)
    return text_of(general, "title/string") or text_of(general, "title/langstring")


def _resources(manifest: Element) -> dict[str, _Resource]:
    found: dict[str, _Resource] = {}
    for res in manifest.iter("resource"):
        ident = res.get("identifier", "")
        files = [f.get("href", "") for f in children(res, "file")]
        deps = [d.get("identifierref", "") for d in children(res, "dependency")]
        href = res.get("href") or (files[0] if files else "")
        if ident and ident not in found:
            found[ident] = _Resource(ident, res.get("type", ""), href, files, deps)
    return found


class _CartridgeReader:
    def __init__(self, ctx: ReadContext, resources: dict[str, _Resource]) -> None:
        self.ctx = ctx
        self.resources = resources
        self.used: set[str] = set()
        self.used_files: set[str] = set()

    def walk_root(self, root: Element) -> None:
        """Top-level items with children are modules; loose items go to a general module."""
        loose = Module(self.ctx.course.title or "Course", provenance=Provenance(MANIFEST))
        for item in children(root, "item"):
            if item.get("identifierref"):
                self.add_item(loose, item)
            else:
                module = Module(text_of(item, "title") or "Module")
                module.provenance = Provenance(MANIFEST, item.get("identifier", ""))
                self.walk_module(module, item, depth=0)
                self._keep(module)
        if root.get("identifierref"):
            self.add_item(loose, root)
        self._keep(loose)

    def _keep(self, module: Module) -> None:
        if module.sections or module.questions:
            self.ctx.course.modules.append(module)

    def walk_module(self, module: Module, item: Element, depth: int) -> None:
        for child in children(item, "item"):
            if child.get("identifierref"):
                self.add_item(module, child)
                continue
            title = text_of(child, "title")
            if title:
                prov = Provenance(MANIFEST, child.get("identifier", ""))
                module.sections.append(Section(title, [], prov, level=2 + depth))
            self.walk_module(module, child, depth + 1)

    def add_item(self, module: Module, item: Element) -> None:
        res = self.resources.get(item.get("identifierref", ""))
        if res is None or res.ident in self.used:
            return
        self.used.add(res.ident)
        self.safe_add(module, res, text_of(item, "title") or res.ident)

    def safe_add(self, module: Module, res: _Resource, title: str) -> None:
        """Add a resource; a damaged or missing file becomes a warning, not a failed import."""
        try:
            self.add_resource(module, res, title)
        except CourseImportError as exc:
            self.ctx.warn(f"'{title}' was skipped: {exc.message}")
        except FileNotFoundError as exc:
            self.ctx.warn(f"'{title}' was skipped: {exc.args[0]} is missing from the export.")

    def add_resource(self, module: Module, res: _Resource, title: str) -> None:
        rtype = res.rtype.lower()
        if rtype == "webcontent":
            self._webcontent(module, res, title)
        elif rtype.startswith("imsdt"):
            self._discussion(module, res, title)
        elif rtype.startswith("imswl"):
            self._weblink(module, res, title)
        elif rtype.startswith("imsqti") or "question-bank" in rtype:
            self._assessment(module if module.title != OTHER_MODULE else None, res, title)
        elif rtype.startswith("assignment"):
            self._assignment(module, res, title)

    def _webcontent(self, module: Module, res: _Resource, title: str) -> None:
        href = res.href
        self.used_files.add(href)
        suffix = posixpath.splitext(href)[1].lower()
        prov = Provenance(href, res.ident)
        if suffix in (".html", ".htm"):
            html = self.ctx.source.read_text(href)
            blocks = html_to_blocks(html, prov, self.ctx.resolver(href, FILEBASE_MARKERS))
            module.sections.append(Section(title, blocks, prov))
        elif suffix in FIGURE_SUFFIXES and self.ctx.add_asset(href):
            html = f'<figure><img src="asset:{_esc(href)}" alt="{_esc(title)}"></figure>'
            block = Block(BlockKind.FIGURE, html, title, prov, asset=href)
            module.sections.append(Section(title, [block], prov))
        elif href:
            text = f"Course file: {posixpath.basename(href)}"
            block = Block(BlockKind.REFERENCE, f"<p>{_esc(text)}</p>", "", prov)
            module.sections.append(Section(title, [block], prov))

    def _discussion(self, module: Module, res: _Resource, title: str) -> None:
        path = res.files[0] if res.files else res.href
        topic = parse_xml(self.ctx.source.read(path), path)
        prov = Provenance(path, res.ident)
        body = text_of(topic, "text")
        blocks = html_to_blocks(body, prov, self.ctx.resolver(path, FILEBASE_MARKERS))
        module.sections.append(Section(text_of(topic, "title") or title, blocks, prov))

    def _weblink(self, module: Module, res: _Resource, title: str) -> None:
        path = res.files[0] if res.files else res.href
        link = parse_xml(self.ctx.source.read(path), path)
        url_el = link.find("url")
        url = url_el.get("href", "") if url_el is not None else ""
        if not url.lower().startswith(("http://", "https://")):
            return
        label = _esc(text_of(link, "title") or url)
        html = f'<p>Further reading: <a href="{_esc(url)}">{label}</a></p>'
        block = Block(BlockKind.REFERENCE, html, "", Provenance(path, res.ident))
        module.sections.append(Section(title, [block], Provenance(path, res.ident)))

    def _assignment(self, module: Module, res: _Resource, title: str) -> None:
        path = res.href or (res.files[0] if res.files else "")
        if not path.endswith(".xml"):
            return
        doc = parse_xml(self.ctx.source.read(path), path)
        prov = Provenance(path, res.ident)
        blocks = html_to_blocks(
            text_of(doc, "text"), prov, self.ctx.resolver(path, FILEBASE_MARKERS)
        )
        if blocks:
            module.sections.append(Section(text_of(doc, "title") or title, blocks, prov))

    def _assessment(self, module: Module | None, res: _Resource, title: str) -> None:
        path = self._qti_file(res)
        if path is None:
            return
        self.used_files.add(path)
        groups, warnings = parse_questestinterop(parse_xml(self.ctx.source.read(path), path), path)
        for warning in warnings:
            self.ctx.warn(warning)
        for group in groups:
            target = module.questions if module is not None else self.ctx.course.question_bank
            target.extend(group.questions)

    def _qti_file(self, res: _Resource) -> str | None:
        """Canvas' richer ``non_cc_assessments`` copy when present, else the CC file."""
        canvas = f"{NON_CC_FOLDER}{res.ident}.xml.qti"
        if self.ctx.source.exists(canvas):
            return canvas
        for path in [res.href, *res.files]:
            if path.endswith(".xml") and self.ctx.source.exists(path):
                return path
        return None

    def add_leftovers(self) -> None:
        """Pages, discussions and question banks that no module lists."""
        other = Module(OTHER_MODULE, provenance=Provenance(MANIFEST))
        for res in self.resources.values():
            if res.ident in self.used:
                continue
            rtype = res.rtype.lower()
            is_page = rtype == "webcontent" and res.href.startswith("wiki_content/")
            is_html = "learning-application-resource" in rtype and res.href.endswith(".html")
            if is_page or is_html or rtype.startswith(("imsdt", "assignment")):
                self.used.add(res.ident)
                res.rtype = "webcontent" if is_html else res.rtype
                self.safe_add(other, res, _page_title(res.href) or res.ident)
            elif rtype.startswith("imsqti"):
                self.used.add(res.ident)
                self.safe_add(other, res, res.ident)
        self._keep(other)
        self._leftover_banks()

    def _leftover_banks(self) -> None:
        for name in sorted(self.ctx.source.names()):
            is_bank = name.startswith(NON_CC_FOLDER) and name.endswith(".qti")
            if is_bank and name not in self.used_files:
                self.used_files.add(name)
                try:
                    root = parse_xml(self.ctx.source.read(name), name)
                except MalformedFileError as exc:
                    self.ctx.warn(exc.message)
                    continue
                groups, warnings = parse_questestinterop(root, name)
                self.ctx.course.question_bank.extend(q for g in groups for q in g.questions)
                self.ctx.course.warnings.extend(warnings)


def _page_title(href: str) -> str:
    stem = posixpath.splitext(posixpath.basename(href))[0]
    return squash(stem.replace("-", " ").replace("_", " ")).capitalize()


def _esc(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )
