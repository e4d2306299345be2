"""PDF through its text layer (pypdf); headings from the outline, else from font sizes."""

from __future__ import annotations

import io
import logging
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pypdf import PdfReader
from pypdf.errors import PdfReadError, PyPdfError

from ..exceptions import MalformedFileError, NoTextLayerError
from ..htmlblocks import squash
from ..tree import Block, BlockKind, Course, Provenance
from .base import ReadContext, modules_from_blocks

logger = logging.getLogger(__name__)

#: Fewer words than this per page on average means scanned images, not text.
MIN_WORDS_PER_PAGE = 5
#: A line this much larger than the body text is a heading.
HEADING_RATIO = 1.2


@dataclass
class _Line:
    text: str
    size: float
    page: int


def read(ctx: ReadContext) -> Course:
    """Read every page's text; the outline or larger fonts give the headings."""
    name = next(
        n for n in ctx.source.names() if n.lower().endswith(".pdf") or len(ctx.source.names()) == 1
    )
    pdf = _open(ctx.source.read(name), name)
    lines = _lines(pdf)
    words = sum(len(line.text.split()) for line in lines)
    if words < MIN_WORDS_PER_PAGE * max(len(pdf.pages), 1):
        raise NoTextLayerError(f"{name} has no text layer (it looks like scanned images).")
    headings = _outline_headings(pdf)
    blocks = _blocks(lines, headings, name)
    meta_title = (pdf.metadata.title if pdf.metadata else None) or ""
    ctx.course.title = squash(str(meta_title)) or ctx.course.title
    ctx.course.modules.extend(modules_from_blocks(blocks, ctx.course.title, Provenance(name)))
    return ctx.course


def _open(data: bytes, name: str) -> PdfReader:
    try:
        pdf = PdfReader(io.BytesIO(data))
        if pdf.is_encrypted and not pdf.decrypt(""):
            raise NoTextLayerError(f"{name} is encrypted: its text cannot be read.")
        _ = len(pdf.pages)
    except NoTextLayerError:
        raise
    except (PdfReadError, PyPdfError, ValueError, KeyError, NotImplementedError) as exc:
        if "decrypt" in str(exc).lower() or "encrypt" in str(exc).lower():
            raise NoTextLayerError(f"{name} is encrypted: its text cannot be read.") from exc
        raise MalformedFileError(f"{name} is not a readable PDF ({exc}).") from exc
    return pdf


def _lines(pdf: PdfReader) -> list[_Line]:
    lines: list[_Line] = []
    for number, page in enumerate(pdf.pages):
        parts: list[tuple[str, float]] = []
        try:
            page.extract_text(visitor_text=_collector(parts))
        except (PyPdfError, ValueError, KeyError) as exc:
            logger.info("page %s unreadable: %s", number + 1, exc)
            continue
        lines.extend(_join_parts(parts, number))
    return lines


def _collector(parts: list[tuple[str, float]]) -> Callable[..., None]:
    """A pypdf text visitor that records each text run with its rendered font size."""

    def visit(
        text: str, cm: Sequence[float], tm: Sequence[float], font: object, size: float
    ) -> None:
        scale = (abs(tm[3]) or 1.0) * (abs(cm[3]) or 1.0)
        parts.append((text, float(size or 0) * scale))

    return visit


def _join_parts(parts: list[tuple[str, float]], page: int) -> list[_Line]:
    lines, text, size = [], "", 0.0
    for chunk, chunk_size in parts:
        for i, piece in enumerate(chunk.split("\n")):
            if i > 0 and text.strip():
                lines.append(_Line(squash(text), size, page))
                text, size = "", 0.0
            elif i > 0:
                text = ""
            if piece.strip():
                text += piece
                size = max(size, chunk_size)
    if text.strip():
        lines.append(_Line(squash(text), size, page))
    return lines


def _outline_headings(pdf: PdfReader) -> dict[int, list[tuple[str, int]]]:
    """Outline entries by page: (title, level)."""
    found: dict[int, list[tuple[str, int]]] = {}

    def walk(items: list, level: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, level + 1)
                continue
            try:
                page = pdf.get_destination_page_number(item)
            except (PyPdfError, ValueError, KeyError, AttributeError):
                continue
            if page is not None and page >= 0:
                found.setdefault(page, []).append((squash(str(item.title)), level))

    try:
        walk(pdf.outline, 1)
    except (PyPdfError, ValueError, KeyError):
        return {}
    return found


def _blocks(
    lines: list[_Line], outline: dict[int, list[tuple[str, int]]], name: str
) -> list[Block]:
    sizes = [line.size for line in lines if line.size > 0]
    body = statistics.median(sizes) if sizes else 0.0
    blocks: list[Block] = []
    paragraph: list[str] = []
    typical = statistics.median([len(line.text) for line in lines]) if lines else 0
    pending = {page: list(entries) for page, entries in outline.items()}

    def flush(page: int) -> None:
        if paragraph:
            text = " ".join(paragraph)
            blocks.append(
                Block(
                    BlockKind.PARAGRAPH,
                    f"<p>{_esc(text)}</p>",
                    text,
                    Provenance(name, f"page={page + 1}"),
                )
            )
            paragraph.clear()

    for line in lines:
        prov = Provenance(name, f"page={line.page + 1}")
        for title, level in pending.pop(line.page, []):
            flush(line.page)
            blocks.append(
                Block(
                    BlockKind.HEADING,
                    f"<h{level}>{_esc(title)}</h{level}>",
                    title,
                    prov,
                    level=level,
                )
            )
        if (
            not outline
            and body
            and line.size >= body * HEADING_RATIO
            and len(line.text.split()) <= 15
        ):
            flush(line.page)
            level = 1 if line.size >= body * 1.6 else 2
            blocks.append(
                Block(
                    BlockKind.HEADING,
                    f"<h{level}>{_esc(line.text)}</h{level}>",
                    line.text,
                    prov,
                    level=level,
                )
            )
            continue
        if outline and any(line.text == b.text for b in blocks[-1:] if b.kind is BlockKind.HEADING):
            continue
        paragraph.append(line.text)
        if line.text.endswith((".", "!", "?", ":")) and len(line.text) < 0.8 * typical:
            flush(line.page)
    flush(lines[-1].page if lines else 0)
    return blocks


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
