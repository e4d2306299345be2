"""HTML: one page, or a (zipped) site of pages read in order (one module per folder)."""

from __future__ import annotations

import posixpath
import re

from ..archive import SingleFileSource
from ..htmlblocks import html_to_blocks, squash
from ..tree import Course, Module, Provenance, Section
from .base import ReadContext
from .markdown import file_title, reading_order

SUFFIXES = (".html", ".htm", ".xhtml")
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)


def read(ctx: ReadContext) -> Course:
    """Each page is a section titled by its ``<title>``, first heading or file name."""
    modules: dict[str, Module] = {}
    names = [n for n in ctx.source.names() if n.lower().endswith(SUFFIXES)]
    if isinstance(ctx.source, SingleFileSource):
        names = ctx.source.names()
    for name in sorted(names, key=reading_order):
        folder = posixpath.dirname(name)
        if folder not in modules:
            title = file_title(folder) if folder else ctx.course.title
            modules[folder] = Module(title, provenance=Provenance(folder or name))
        html = ctx.source.read_text(name)
        prov = Provenance(name)
        blocks = html_to_blocks(html, prov, ctx.resolver(name))
        title = _page_title(html)
        if blocks and blocks[0].kind.value == "heading":
            title = title or blocks[0].text
            if blocks[0].text == title:
                blocks.pop(0)
        modules[folder].sections.append(Section(title or file_title(name), blocks, prov))
    ctx.course.modules.extend(m for m in modules.values() if m.sections)
    if len(names) == 1 and ctx.course.modules and ctx.course.modules[0].sections:
        ctx.course.title = ctx.course.modules[0].sections[0].title or ctx.course.title
    return ctx.course


def _page_title(html: str) -> str:
    match = _TITLE.search(html[:5000])
    return squash(re.sub(r"<[^>]+>", "", match.group(1))) if match else ""
