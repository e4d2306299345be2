"""Which course format an upload is, judged by its content (file names only as a tie-breaker)."""

from __future__ import annotations

import posixpath
import re
from collections import Counter
from enum import StrEnum

from .archive import SingleFileSource, Source
from .exceptions import LegacyMoodleBackupError, UnsupportedFormatError


class Format(StrEnum):
    """Supported course formats."""

    COMMON_CARTRIDGE = "common_cartridge"
    MOODLE_BACKUP = "moodle_backup"
    MOODLE19 = "moodle19"
    QTI12 = "qti12"
    QTI21 = "qti21"
    MOODLE_XML = "moodle_xml"
    CNXML = "cnxml"
    HTML = "html"
    MARKDOWN = "markdown"
    PDF = "pdf"
    DOCX = "docx"


_ROOT_TAG = re.compile(rb"<(?![?!])(?:[\w.-]+:)?([\w.-]+)")
_COMMENTS = re.compile(rb"<!--.*?-->|<!DOCTYPE[^\[>]*(\[.*?\])?\s*>", re.S)
_XML_ROOTS = {
    b"questestinterop": Format.QTI12,
    b"assessmentItem": Format.QTI21,
    b"assessmentTest": Format.QTI21,
    b"quiz": Format.MOODLE_XML,
    b"MOODLE_BACKUP": Format.MOODLE19,
    b"collection": Format.CNXML,
    b"document": Format.CNXML,
}
_HTML_START = re.compile(rb"^\s*(<!doctype html|<html|<head|<body|<div|<p[\s>]|<h[1-6])", re.I)
TEXT_SUFFIXES = {".md", ".markdown", ".txt"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}


def xml_root_tag(head: bytes) -> bytes | None:
    """Local name of the root element of an XML document's first bytes, if it looks like XML."""
    stripped = _COMMENTS.sub(b"", head.lstrip(b"\xef\xbb\xbf"))
    if not stripped.lstrip().startswith(b"<"):
        return None
    match = _ROOT_TAG.search(stripped)
    return match.group(1) if match else None


def sniff_file(name: str, head: bytes) -> Format | None:
    """Format of one file from its first bytes (and its name for plain text)."""
    if head.startswith(b"%PDF-"):
        return Format.PDF
    if _HTML_START.match(head):
        return Format.HTML
    root = xml_root_tag(head)
    if root in _XML_ROOTS:
        if root in (b"collection", b"document") and b"cnx" not in head:
            return None
        return _XML_ROOTS[root]
    suffix = posixpath.splitext(name)[1].lower()
    if suffix in TEXT_SUFFIXES and b"\x00" not in head:
        return Format.MARKDOWN
    return None


def detect(source: Source) -> tuple[Format, Source]:
    """The upload's format and the view of it to read (inside a single top folder if any)."""
    if isinstance(source, SingleFileSource):
        name = source.names()[0]
        found = sniff_file(name, source.read(name)[:4096])
        return _accept(found, source.label), source
    source = _descend(source)
    return _accept(_container_format(source), source.label), source


def _accept(found: Format | None, label: str) -> Format:
    if found is Format.MOODLE19:
        raise LegacyMoodleBackupError(f"{label} is a Moodle 1.9 backup (moodle.xml).")
    if found is None:
        raise UnsupportedFormatError(f"{label} is not a course format this tool can read.")
    return found


def _descend(source: Source) -> Source:
    """Step into a lone top-level folder (a zipped folder) until content is found."""
    for _ in range(3):
        names = source.names()
        tops = {n.split("/", 1)[0] for n in names if not n.startswith(("__MACOSX/", "."))}
        has_root_files = any("/" not in n for n in names if not n.startswith("."))
        if len(tops) == 1 and not has_root_files:
            source = source.scoped(tops.pop())
        else:
            break
    return source


def _container_format(source: Source) -> Format | None:
    if source.exists("imsmanifest.xml"):
        head = source.read("imsmanifest.xml")[:20000]
        if b"imsqti_item_xmlv2p" in head or b"imsqti_test_xmlv2p" in head:
            return Format.QTI21
        return Format.COMMON_CARTRIDGE
    if source.exists("moodle_backup.xml"):
        return Format.MOODLE_BACKUP
    if source.exists("moodle.xml"):
        return Format.MOODLE19
    if source.exists("[Content_Types].xml") and source.exists("word/document.xml"):
        return Format.DOCX
    names = source.names()
    if any(n.endswith("collection.xml") for n in names):
        return Format.CNXML
    return _majority_format(source, names)


def _majority_format(source: Source, names: list[str]) -> Format | None:
    votes: Counter[Format] = Counter()
    for name in names:
        suffix = posixpath.splitext(name)[1].lower()
        if suffix in TEXT_SUFFIXES:
            votes[Format.MARKDOWN] += 1
        elif suffix in HTML_SUFFIXES:
            votes[Format.HTML] += 1
        elif suffix in (".xml", ".qti"):
            found = sniff_file(name, source.read(name)[:4096])
            if found is not None:
                votes[found] += 1
    if not votes:
        return None
    return votes.most_common(1)[0][0]
