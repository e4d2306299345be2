"""Word documents (.docx, python-docx): headings from paragraph styles, lists, tables, images."""

from __future__ import annotations

import html as htmlmod
import io

import docx
from docx.document import Document
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph

from ..exceptions import MalformedFileError
from ..tree import ASSET_SCHEME, Block, BlockKind, Course, Provenance
from .base import ReadContext, modules_from_blocks

DOCUMENT_PART = "word/document.xml"


def read(ctx: ReadContext) -> Course:
    """Read body paragraphs and tables in order; consecutive list paragraphs form one list."""
    if ctx.upload is None or not ctx.upload.is_file():
        raise MalformedFileError("A Word document must be uploaded as a single .docx file.")
    try:
        document = docx.Document(io.BytesIO(ctx.upload.read_bytes()))
    except (ValueError, KeyError) as exc:
        raise MalformedFileError(f"{ctx.upload.name} is not a readable Word document.") from exc
    title = document.core_properties.title or ctx.course.title
    ctx.course.title = title
    blocks = _blocks(ctx, document)
    ctx.course.modules.extend(modules_from_blocks(blocks, title, Provenance(DOCUMENT_PART)))
    return ctx.course


def _blocks(ctx: ReadContext, document: Document) -> list[Block]:
    blocks: list[Block] = []
    items: list[str] = []
    for number, element in enumerate(document.element.body.iterchildren()):
        prov = Provenance(DOCUMENT_PART, f"p{number}")
        if element.tag == qn("w:tbl"):
            _flush_list(blocks, items, prov)
            blocks.append(_table(Table(element, document), prov))
        elif element.tag == qn("w:p"):
            paragraph = Paragraph(element, document)
            if _is_list(paragraph) and paragraph.text.strip():
                items.append(htmlmod.escape(paragraph.text.strip()))
                continue
            _flush_list(blocks, items, prov)
            blocks.extend(_paragraph(ctx, paragraph, prov))
    _flush_list(blocks, items, Provenance(DOCUMENT_PART, "end"))
    return blocks


def _paragraph(ctx: ReadContext, paragraph: Paragraph, prov: Provenance) -> list[Block]:
    text = paragraph.text.strip()
    style = paragraph.style.name if paragraph.style is not None else ""
    found = []
    level = _heading_level(style)
    if text and level:
        tag = f"h{min(level, 6)}"
        found.append(
            Block(
                BlockKind.HEADING, f"<{tag}>{htmlmod.escape(text)}</{tag}>", text, prov, level=level
            )
        )
    elif text:
        found.append(Block(BlockKind.PARAGRAPH, f"<p>{htmlmod.escape(text)}</p>", text, prov))
    for rid in element_images(paragraph):
        part = ctx_part(paragraph, rid)
        if part is not None and ctx.add_asset(part):
            html = f'<figure><img src="{ASSET_SCHEME}:{htmlmod.escape(part)}" alt=""></figure>'
            found.append(Block(BlockKind.FIGURE, html, "", prov, asset=part))
    return found


def _heading_level(style: str) -> int:
    if style == "Title":
        return 1
    if style.startswith("Heading "):
        suffix = style.removeprefix("Heading ").strip()
        return int(suffix) if suffix.isdigit() else 0
    return 0


def _is_list(paragraph: Paragraph) -> bool:
    style = paragraph.style.name if paragraph.style is not None else ""
    ppr = paragraph._p.pPr  # python-docx has no public accessor for numbering
    return style.startswith("List") or (ppr is not None and ppr.numPr is not None)


def _flush_list(blocks: list[Block], items: list[str], prov: Provenance) -> None:
    if items:
        html = "<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>"
        text = " ".join(htmlmod.unescape(i) for i in items)
        blocks.append(Block(BlockKind.LIST, html, text, prov))
        items.clear()


def _table(table: Table, prov: Provenance) -> Block:
    rows, words = [], []
    for row in table.rows:
        cells = [cell.text.strip() for cell in row.cells]
        words.extend(cells)
        rows.append("<tr>" + "".join(f"<td>{htmlmod.escape(c)}</td>" for c in cells) + "</tr>")
    return Block(BlockKind.TABLE, f"<table>{''.join(rows)}</table>", " ".join(words), prov)


def element_images(paragraph: Paragraph) -> list[str]:
    """Relationship ids of images drawn in a paragraph."""
    return [str(r) for r in paragraph._p.xpath(".//a:blip/@r:embed")]


def ctx_part(paragraph: Paragraph, rid: str) -> str | None:
    """Path inside the .docx of the image behind relationship ``rid``."""
    part = paragraph.part.related_parts.get(rid)
    return str(part.partname).lstrip("/") if part is not None else None
