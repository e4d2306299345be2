"""Hostile or broken uploads fail with a clear error and nothing half-imported."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from lti_tool.ingest.archive import Limits, open_source
from lti_tool.ingest.exceptions import (
    ArchiveLimitError,
    CorruptArchiveError,
    NoTextLayerError,
    UnsafeArchiveError,
    UnsafeXmlError,
    UnsupportedFormatError,
)
from lti_tool.ingest.importer import import_course

MANIFEST = b'<?xml version="1.0"?><manifest><organizations/><resources/></manifest>'


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_zip_slip_member_is_rejected(tmp_path: Path) -> None:
    """A member named ../../evil escapes the archive and the upload is refused."""
    upload = _zip(tmp_path / "c.imscc", {"imsmanifest.xml": MANIFEST, "../../evil.sh": b"x"})
    with pytest.raises(UnsafeArchiveError):
        import_course(upload)
    assert not (tmp_path.parent / "evil.sh").exists()


def test_absolute_member_path_is_rejected(tmp_path: Path) -> None:
    """A member with an absolute path is refused."""
    upload = _zip(tmp_path / "c.zip", {"/etc/passwd": b"root"})
    with pytest.raises(UnsafeArchiveError):
        open_source(upload)


def test_tar_slip_member_is_rejected(tmp_path: Path) -> None:
    """A .mbz (gzip tar) member that climbs out of the archive is refused."""
    upload = tmp_path / "b.mbz"
    with tarfile.open(upload, "w:gz") as tar:
        info = tarfile.TarInfo("../outside.xml")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"abc"))
    with pytest.raises(UnsafeArchiveError):
        import_course(upload)


def test_zip_bomb_is_stopped_by_the_compression_ratio(tmp_path: Path) -> None:
    """Twenty MiB of zeros squeezed into a few KiB is refused before it is unpacked."""
    upload = _zip(tmp_path / "bomb.zip", {"imsmanifest.xml": MANIFEST, "z.html": bytes(20 << 20)})
    assert upload.stat().st_size < 100_000
    with pytest.raises(ArchiveLimitError, match="expands"):
        import_course(upload)


def test_too_many_files_is_refused(tmp_path: Path) -> None:
    """An archive holding more files than the limit is refused."""
    upload = _zip(tmp_path / "many.zip", {f"p{i}.md": b"# x" for i in range(30)})
    with pytest.raises(ArchiveLimitError, match="files"):
        open_source(upload, Limits(max_files=20))


def test_huge_single_file_is_refused(tmp_path: Path) -> None:
    """One file above the per-file limit is refused, in an archive or on its own."""
    big = tmp_path / "big.md"
    big.write_bytes(b"word " * 300_000)
    with pytest.raises(ArchiveLimitError):
        import_course(big, options=_limits(max_file_bytes=1 << 20))


def _limits(**kwargs: int):
    from lti_tool.ingest.importer import ImportOptions

    return ImportOptions(limits=Limits(**kwargs))


def test_truncated_zip_says_the_upload_was_cut_off(tmp_path: Path) -> None:
    """Half a zip file is reported as damaged, with advice to export again."""
    whole = _zip(
        tmp_path / "whole.imscc", {"imsmanifest.xml": MANIFEST, "a.html": b"<p>hi</p>" * 500}
    )
    cut = tmp_path / "cut.imscc"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(CorruptArchiveError) as caught:
        import_course(cut)
    assert "export" in str(caught.value).lower()


def test_truncated_mbz_is_reported_as_damaged(tmp_path: Path) -> None:
    """A gzip tar cut short is reported as damaged."""
    whole = tmp_path / "whole.mbz"
    with tarfile.open(whole, "w:gz") as tar:
        data = bytes(range(256)) * 4000
        info = tarfile.TarInfo("moodle_backup.xml")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    cut = tmp_path / "cut.mbz"
    cut.write_bytes(whole.read_bytes()[:2000])
    with pytest.raises(CorruptArchiveError):
        import_course(cut)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<questestinterop><item ident="a"><presentation><material><mattext>&lol3;</mattext></material>
</presentation></item></questestinterop>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE q [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<questestinterop><item ident="a"><presentation><material><mattext>&xxe;</mattext></material>
</presentation></item></questestinterop>"""


@pytest.mark.parametrize("payload", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["laughs", "xxe"])
def test_xml_entities_are_refused(tmp_path: Path, payload: bytes) -> None:
    """Entity expansion and external entities in XML are refused, not expanded."""
    upload = tmp_path / "quiz.xml"
    upload.write_bytes(payload)
    with pytest.raises(UnsafeXmlError):
        import_course(upload)


def test_entity_in_cartridge_manifest_is_refused(tmp_path: Path) -> None:
    """The same protection covers XML inside an archive."""
    upload = _zip(
        tmp_path / "c.imscc",
        {"imsmanifest.xml": EXTERNAL_ENTITY.replace(b"questestinterop", b"manifest")},
    )
    with pytest.raises(UnsafeXmlError):
        import_course(upload)


def test_unknown_format_lists_what_is_supported(tmp_path: Path) -> None:
    """A file that is no course format gets a message naming the supported formats."""
    upload = tmp_path / "photo.imscc"
    upload.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    with pytest.raises(UnsupportedFormatError) as caught:
        import_course(upload)
    assert "Common Cartridge" in str(caught.value)


def test_encrypted_pdf_has_no_text_layer(tmp_path: Path, make_pdf) -> None:
    """A password-protected PDF is refused as having no readable text layer."""
    upload = tmp_path / "locked.pdf"
    upload.write_bytes(
        make_pdf([(12, "Secret procedure text for the plant floor.")], password="pw")
    )
    with pytest.raises(NoTextLayerError, match="encrypted"):
        import_course(upload)


def test_image_only_pdf_has_no_text_layer(tmp_path: Path, make_pdf) -> None:
    """A PDF of pages without text (scans) is refused with OCR advice."""
    upload = tmp_path / "scan.pdf"
    upload.write_bytes(make_pdf([], pages=3))
    with pytest.raises(NoTextLayerError) as caught:
        import_course(upload)
    assert "OCR" in str(caught.value)
