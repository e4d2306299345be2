"""Markdown: one file, or a folder of files read in order (one module per folder)."""

from __future__ import annotations

import posixpath
import re

from markdown_it import MarkdownIt

from ..archive import SingleFileSource
from ..htmlblocks import html_to_blocks
from ..tree import Course, Module, Provenance, Section
from .base import ReadContext

SUFFIXES = (".md", ".markdown", ".txt")
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)
_TITLE = re.compile(r"^title:\s*[\"']?(.*?)[\"']?\s*$", re.M)
_FIRST_NAMES = ("index", "readme", "_index")


def reading_order(name: str) -> tuple[str, int, str]:
    folder, base = posixpath.split(name.lower())
    stem = posixpath.splitext(base)[0]
    return (folder, 0 if stem in _FIRST_NAMES else 1, base)


def read(ctx: ReadContext) -> Course:
    """Each file is a section titled by its front matter, first heading or file name."""
    renderer = MarkdownIt("commonmark", {"html": True}).enable("table")
    modules: dict[str, Module] = {}
    names = [n for n in ctx.source.names() if n.lower().endswith(SUFFIXES)]
    if isinstance(ctx.source, SingleFileSource):
        names = ctx.source.names()
    for name in sorted(names, key=reading_order):
        folder = posixpath.dirname(name)
        if folder not in modules:
            title = _folder_title(folder) or ctx.course.title
            modules[folder] = Module(title, provenance=Provenance(folder or name))
        text = ctx.source.read_text(name)
        title, body = _front_matter(text)
        prov = Provenance(name)
        blocks = html_to_blocks(renderer.render(body), prov, ctx.resolver(name))
        if not title and blocks and blocks[0].kind.value == "heading":
            title = blocks.pop(0).text
        modules[folder].sections.append(Section(title or file_title(name), blocks, prov))
    ctx.course.modules.extend(m for m in modules.values() if m.sections)
    return ctx.course


def _front_matter(text: str) -> tuple[str, str]:
    match = _FRONT_MATTER.match(text)
    if not match:
        return "", text
    title = _TITLE.search(match.group(1))
    return (title.group(1).strip() if title else ""), text[match.end() :]


def file_title(name: str) -> str:
    stem = posixpath.splitext(posixpath.basename(name))[0]
    return stem.replace("-", " ").replace("_", " ").strip().capitalize()


def _folder_title(folder: str) -> str:
    return file_title(folder) if folder else ""
