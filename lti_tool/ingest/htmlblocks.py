"""Turn an HTML fragment into document-tree blocks (headings, paragraphs, lists, ...)."""

from __future__ import annotations

import re
from collections.abc import Callable

import lxml.html
from lxml import etree

from .tree import ASSET_SCHEME, Block, BlockKind, Provenance

#: Maps an ``img``/``a`` reference inside the content to an asset path, or None if unknown.
AssetResolver = Callable[[str], str | None]

HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
CONTAINERS = {
    "div", "section", "article", "main", "body", "header", "footer", "aside", "center",
    "form", "html", "details", "summary", "fieldset", "nav",
}  # fmt: skip
SKIPPED = {"script", "style", "noscript", "template", "head", "title", "meta", "link", "button"}
MEDIA = {"iframe", "video", "audio", "object", "embed"}
_SIMPLE = {
    "p": BlockKind.PARAGRAPH, "blockquote": BlockKind.PARAGRAPH, "address": BlockKind.PARAGRAPH,
    "ul": BlockKind.LIST, "ol": BlockKind.LIST, "dl": BlockKind.LIST,
    "table": BlockKind.TABLE, "pre": BlockKind.CODE, "hr": BlockKind.PARAGRAPH,
}  # fmt: skip
_BLOCK_TAGS = set(HEADINGS) | CONTAINERS | set(_SIMPLE) | MEDIA | {"figure", "img"}
_FULL_DOCUMENT = re.compile(r"<(html|body|!doctype)[\s>]", re.I)
#: Screen-reader-only hints (Canvas adds "(Links to an external site.)") are not content.
_HIDDEN = (
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' screenreader-only ')"
    " or contains(concat(' ', normalize-space(@class), ' '), ' sr-only ')"
    " or contains(concat(' ', normalize-space(@class), ' '), ' hidden ')]"
)
_SPACE = re.compile(r"\s+")
_SAFE_LINK = re.compile(r"^(https?:|mailto:)", re.I)


def squash(text: str) -> str:
    """Collapse runs of whitespace into single spaces."""
    return _SPACE.sub(" ", text).strip()


def html_to_blocks(
    html: str, provenance: Provenance, resolve: AssetResolver | None = None
) -> list[Block]:
    """Parse an HTML fragment or page into blocks in document order."""
    if not html or not html.strip():
        return []
    try:
        if _FULL_DOCUMENT.search(html[:2000]):
            document = lxml.html.document_fromstring(html)
            root = document.find("body")
            if root is None:
                return []
        else:
            root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (etree.ParserError, ValueError):
        return []
    _fix_references(root, resolve)
    builder = _Builder(provenance)
    builder.walk(root)
    builder.flush()
    return builder.blocks


def strip_local_references(html: str) -> str:
    """Drop images and unwrap links that point inside the source (they cannot be served)."""
    if "<" not in html:
        return html
    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (etree.ParserError, ValueError):
        return html
    _fix_references(root, None)
    return _inner(root)


def _fix_references(root: lxml.html.HtmlElement, resolve: AssetResolver | None) -> None:
    """Point images at assets, drop unresolvable ones, unwrap links that lead nowhere public."""
    for hidden in list(root.xpath(_HIDDEN)):
        hidden.drop_tree()
    for img in list(root.iter("img")):
        src = (img.get("src") or "").strip()
        asset = resolve(src) if resolve and src else None
        if asset:
            img.set("src", f"{ASSET_SCHEME}:{asset}")
        elif not src.lower().startswith(("http://", "https://")):
            img.drop_tree()
    for link in list(root.iter("a")):
        href = (link.get("href") or "").strip()
        asset = resolve(href) if resolve and href and not _SAFE_LINK.match(href) else None
        if asset:
            link.set("href", f"{ASSET_SCHEME}:{asset}")
        elif not _SAFE_LINK.match(href):
            link.drop_tag()


class _Builder:
    """Collects blocks while walking the element tree; loose inline content becomes paragraphs."""

    def __init__(self, provenance: Provenance) -> None:
        self.provenance = provenance
        self.blocks: list[Block] = []
        self._inline: list[str] = []

    def walk(self, el: lxml.html.HtmlElement) -> None:
        if el.text and el.text.strip():
            self._inline.append(_escape(el.text))
        for child in el:
            if not isinstance(child.tag, str):
                self._tail(child)
                continue
            tag = child.tag.lower()
            if tag in SKIPPED:
                pass
            elif tag in CONTAINERS and _has_block_child(child):
                self.flush()
                self.walk(child)
                self.flush()
            elif tag in _BLOCK_TAGS:
                self.flush()
                self._block(child, tag)
            else:
                self._inline.append(_tostring(child))
            self._tail(child)

    def _tail(self, child: lxml.html.HtmlElement) -> None:
        if child.tail and child.tail.strip():
            self._inline.append(_escape(child.tail))

    def _block(self, el: lxml.html.HtmlElement, tag: str) -> None:
        text = squash(el.text_content())
        if tag in HEADINGS:
            if text:
                self.add(BlockKind.HEADING, f"<{tag}>{_escape(text)}</{tag}>", text, HEADINGS[tag])
        elif tag in MEDIA:
            self._media(el)
        elif tag in ("figure", "img") or (
            tag == "p" and not text and el.find(".//img") is not None
        ):
            self._figure(el)
        elif tag in CONTAINERS or tag in _SIMPLE:
            kind = _SIMPLE.get(tag, BlockKind.PARAGRAPH)
            if text or kind is BlockKind.TABLE:
                inner = _tostring(el) if tag in _SIMPLE else f"<p>{_inner(el)}</p>"
                self.add(kind, inner, text)

    def _figure(self, el: lxml.html.HtmlElement) -> None:
        img = el if el.tag == "img" else el.find(".//img")
        if img is None:
            return
        src = img.get("src", "")
        caption = squash(el.text_content()) if el.tag == "figure" else ""
        alt = img.get("alt", "") or caption
        asset = src[len(ASSET_SCHEME) + 1 :] if src.startswith(f"{ASSET_SCHEME}:") else None
        html = f'<figure><img src="{_attr(src)}" alt="{_attr(alt)}">'
        html += f"<figcaption>{_escape(caption)}</figcaption></figure>" if caption else "</figure>"
        self.add(BlockKind.FIGURE, html, squash(caption or alt), asset=asset)

    def _media(self, el: lxml.html.HtmlElement) -> None:
        src = el.get("src") or el.get("data") or ""
        if not src and el.find(".//source") is not None:
            src = el.find(".//source").get("src", "")
        if src.lower().startswith(("http://", "https://")):
            html = f'<p>Embedded media: <a href="{_attr(src)}">{_escape(src)}</a></p>'
            self.add(BlockKind.REFERENCE, html, "")

    def add(
        self, kind: BlockKind, html: str, text: str, level: int = 0, asset: str | None = None
    ) -> None:
        """Append one block."""
        self.blocks.append(Block(kind, html, text, self.provenance, level=level, asset=asset))

    def flush(self) -> None:
        """Turn collected inline content into a paragraph."""
        if not self._inline:
            return
        html = "".join(self._inline)
        self._inline = []
        text = squash(lxml.html.fragment_fromstring(html, create_parent="p").text_content())
        if text:
            self.add(BlockKind.PARAGRAPH, f"<p>{html}</p>", text)


def _has_block_child(el: lxml.html.HtmlElement) -> bool:
    return any(isinstance(c.tag, str) and c.tag.lower() in _BLOCK_TAGS for c in el)


def _tostring(el: lxml.html.HtmlElement) -> str:
    html = lxml.html.tostring(el, encoding="unicode", with_tail=False)
    return str(html)


def _inner(el: lxml.html.HtmlElement) -> str:
    parts = [_escape(el.text or "")]
    parts += [lxml.html.tostring(c, encoding="unicode") for c in el]
    return "".join(str(p) for p in parts)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attr(text: str) -> str:
    return _escape(text).replace('"', "&quot;")


def text_to_blocks(text: str, provenance: Provenance) -> list[Block]:
    """Plain text with blank-line paragraphs into paragraph blocks."""
    blocks = []
    for para in re.split(r"\n\s*\n", text):
        clean = squash(para)
        if clean:
            html = f"<p>{_escape(clean)}</p>"
            blocks.append(Block(BlockKind.PARAGRAPH, html, clean, provenance))
    return blocks
