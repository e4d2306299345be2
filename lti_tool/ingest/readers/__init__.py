"""One reader per course format; each turns a ``ReadContext`` into a ``Course`` tree."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

from ..detect import Format
from ..tree import Course
from .base import ReadContext

Reader = Callable[[ReadContext], Course]

#: Module (in this package) that reads each format; imported on first use.
READER_MODULES: dict[Format, str] = {
    Format.COMMON_CARTRIDGE: "cartridge",
    Format.MOODLE_BACKUP: "moodle_backup",
    Format.MOODLE19: "moodle19",
    Format.QTI12: "qti_files",
    Format.QTI21: "qti21",
    Format.MOODLE_XML: "moodle_xml",
    Format.CNXML: "cnxml",
    Format.HTML: "html_site",
    Format.MARKDOWN: "markdown",
    Format.PDF: "pdf",
    Format.DOCX: "docx",
}


def reader_for(fmt: Format) -> Reader:
    """The ``read`` function of the format's reader module."""
    module = import_module(f"{__name__}.{READER_MODULES[fmt]}")
    reader: Reader = module.read
    return reader
