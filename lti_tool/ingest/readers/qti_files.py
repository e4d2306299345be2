"""Standalone QTI 1.2 files (one ``questestinterop`` file or a folder of them)."""

from __future__ import annotations

from ..detect import Format, sniff_file
from ..exceptions import CourseImportError
from ..safexml import parse_xml
from ..tree import Course, Module, Provenance
from .base import ReadContext
from .qti12 import parse_questestinterop


def read(ctx: ReadContext) -> Course:
    """One module per assessment or bank, in file-name order; broken files become warnings."""
    names = sorted(n for n in ctx.source.names() if n.endswith((".xml", ".qti")))
    single = len(ctx.source.names()) == 1
    for name in names:
        data = ctx.source.read(name)
        if sniff_file(name, data[:4096]) is not Format.QTI12:
            continue
        try:
            root = parse_xml(data, name)
        except CourseImportError as exc:
            if single:
                raise
            ctx.warn(f"{name} was skipped: {exc.message}")
            continue
        groups, warnings = parse_questestinterop(root, name)
        for warning in warnings:
            ctx.warn(warning)
        for group in groups:
            if group.questions:
                title = group.title or name
                module = Module(title, questions=group.questions, provenance=Provenance(name))
                ctx.course.modules.append(module)
    return ctx.course
