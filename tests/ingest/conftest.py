"""Shared paths and builders for the ingest tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from tests.conftest import FIXTURES


@pytest.fixture
def fixtures() -> Path:
    """Folder of the real course exports shared beside the repository."""
    if not FIXTURES.is_dir():
        pytest.skip(f"course fixtures not found at {FIXTURES} (set MICROREVIEW_FIXTURES)")
    return FIXTURES


def pdf_bytes(lines: list[tuple[int, str]], password: str | None = None, pages: int = 1) -> bytes:
    """A PDF whose first page draws ``lines`` as (font size, text); no text if none given."""
    writer = PdfWriter()
    for number in range(pages):
        page = writer.add_blank_page(612, 792)
        if not lines or number > 0:
            continue
        font = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject("/Helvetica"),
            }
        )
        fonts = DictionaryObject({NameObject("/F1"): writer._add_object(font)})
        page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): fonts})
        ops, y = ["BT"], 740
        for size, text in lines:
            ops += [f"/F1 {size} Tf", f"1 0 0 1 72 {y} Tm", f"({text}) Tj"]
            y -= size + 8
        stream = DecodedStreamObject()
        stream.set_data("\n".join([*ops, "ET"]).encode("latin-1"))
        page[NameObject("/Contents")] = writer._add_object(stream)
    if password:
        writer.encrypt(password, algorithm="AES-128")
    from io import BytesIO

    out = BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture
def make_pdf():
    """The ``pdf_bytes`` builder, for tests that need a small PDF."""
    return pdf_bytes
