"""Safe XML parsing for every reader: no entity expansion, no external references, no network."""

from __future__ import annotations

import xml.etree.ElementTree as ET  # only for the Element type and ParseError
from collections.abc import Iterator

import defusedxml
import defusedxml.ElementTree as SafeET

from .exceptions import MalformedFileError, UnsafeXmlError

#: Largest XML document accepted, in bytes (the archive limits apply first).
MAX_XML_BYTES = 64 * 1024 * 1024

Element = ET.Element


def parse_xml(data: bytes | str, source: str) -> Element:
    """Parse XML safely and strip namespaces from tags and attributes; raise a clear error."""
    if len(data) > MAX_XML_BYTES:
        raise MalformedFileError(f"{source} is too large to read as XML.")
    try:
        root = SafeET.fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except defusedxml.DefusedXmlException as exc:
        raise UnsafeXmlError(f"{source} declares XML entities or external references.") from exc
    except ET.ParseError as exc:
        raise MalformedFileError(f"{source} is not well-formed XML ({exc}).") from exc
    _strip_namespaces(root)
    return root


def _strip_namespaces(root: Element) -> None:
    for el in root.iter():
        if isinstance(el.tag, str) and el.tag.startswith("{"):
            el.tag = el.tag.split("}", 1)[1]
        if any(key.startswith("{") for key in el.attrib):
            el.attrib = {k.split("}", 1)[-1]: v for k, v in el.attrib.items()}


def text_of(el: Element | None, path: str = "") -> str:
    """Text of the element at ``path`` under ``el`` (all descendant text), stripped."""
    if el is None:
        return ""
    target = el.find(path) if path else el
    if target is None:
        return ""
    return "".join(target.itertext()).strip()


def children(el: Element | None, tag: str) -> Iterator[Element]:
    """Direct children of ``el`` with the given tag."""
    if el is None:
        return iter(())
    return (child for child in el if child.tag == tag)
