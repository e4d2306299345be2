"""Safe access to an upload: a zip, a tar (gzip/bz2/xz), a folder, or one plain file.

Every member name is checked (no absolute paths, no ``..``), and limits on total uncompressed
size, file count, per-file size and compression ratio stop zip bombs before anything is read.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .exceptions import ArchiveLimitError, CorruptArchiveError, UnsafeArchiveError

logger = logging.getLogger(__name__)

MiB = 1024 * 1024
_DRIVE = re.compile(r"^[A-Za-z]:")
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_TAR_MAGICS = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ")
#: Files smaller than this are never judged by their compression ratio.
RATIO_FLOOR_BYTES = 1 * MiB


@dataclass(frozen=True)
class Limits:
    """Limits applied to every upload before its content is read."""

    max_upload_bytes: int = 512 * MiB
    max_total_bytes: int = 1024 * MiB
    max_files: int = 20_000
    max_file_bytes: int = 256 * MiB
    max_ratio: float = 100.0


def safe_member_name(name: str) -> str:
    """Normalize an archive member name, rejecting absolute paths and ``..`` (zip slip)."""
    cleaned = name.replace("\\", "/")
    if cleaned.startswith("/") or _DRIVE.match(cleaned) or "\x00" in cleaned:
        raise UnsafeArchiveError(f"The archive holds an absolute path: {name!r}.")
    parts = [p for p in cleaned.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise UnsafeArchiveError(f"The archive holds a path that escapes it: {name!r}.")
    return "/".join(parts)


class Source:
    """Read-only view of an upload's files by relative POSIX path."""

    def __init__(self, label: str, prefix: str = "") -> None:
        self.label = label
        self.prefix = prefix

    def _all_names(self) -> list[str]:
        raise NotImplementedError

    def _read(self, name: str) -> bytes:
        raise NotImplementedError

    def names(self) -> list[str]:
        """Paths of all regular files, relative to this view."""
        cut = len(self.prefix)
        return [n[cut:] for n in self._all_names() if n.startswith(self.prefix)]

    def exists(self, name: str) -> bool:
        """Whether a file with this relative path exists."""
        return self.prefix + name in self._name_set()

    def read(self, name: str) -> bytes:
        """Bytes of one file (path relative to this view)."""
        full = self.prefix + safe_member_name(name)
        if full not in self._name_set():
            raise FileNotFoundError(name)
        return self._read(full)

    def read_text(self, name: str) -> str:
        """Text of one file, decoded as UTF-8 (invalid bytes replaced)."""
        return self.read(name).decode("utf-8", errors="replace")

    def scoped(self, folder: str) -> Source:
        """A view of one folder inside this source."""
        view = _ScopedSource(self, self.prefix + folder.strip("/") + "/")
        return view

    def _name_set(self) -> set[str]:
        cached: set[str] | None = getattr(self, "_names_cache", None)
        if cached is None:
            cached = set(self._all_names())
            self._names_cache = cached
        return cached

    def close(self) -> None:
        """Release files or temporary folders held by the source."""


class _ScopedSource(Source):
    def __init__(self, parent: Source, prefix: str) -> None:
        super().__init__(parent.label, prefix)
        self._parent = parent

    def _all_names(self) -> list[str]:
        return self._parent._all_names()

    def _read(self, name: str) -> bytes:
        return self._parent._read(name)

    def _name_set(self) -> set[str]:
        return self._parent._name_set()


class FolderSource(Source):
    """A folder on disk; symlinks that leave the folder are ignored."""

    def __init__(self, root: Path, limits: Limits, label: str = "") -> None:
        super().__init__(label or root.name)
        self.root = root.resolve()
        self._names = self._scan(limits)

    def _scan(self, limits: Limits) -> list[str]:
        names: list[str] = []
        total = 0
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames.sort()
            for filename in sorted(filenames):
                path = Path(dirpath, filename)
                if not path.resolve().is_relative_to(self.root) or not path.is_file():
                    continue
                size = path.stat().st_size
                total += size
                _check_sizes(size, total, len(names) + 1, limits, path.name)
                names.append(path.relative_to(self.root).as_posix())
        return names

    def _all_names(self) -> list[str]:
        return self._names

    def _read(self, name: str) -> bytes:
        return (self.root / name).read_bytes()


class ZipSource(Source):
    """A zip archive checked against the limits from its central directory."""

    def __init__(self, path: Path, limits: Limits) -> None:
        super().__init__(path.name)
        try:
            self._zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, EOFError) as exc:
            raise CorruptArchiveError(f"{path.name} is a damaged or incomplete zip file.") from exc
        self._limits = limits
        self._infos: dict[str, zipfile.ZipInfo] = {}
        total = 0
        for info in self._zip.infolist():
            name = safe_member_name(info.filename)
            if info.is_dir() or not name:
                continue
            total += info.file_size
            _check_sizes(info.file_size, total, len(self._infos) + 1, limits, name)
            _check_ratio(info.file_size, info.compress_size, limits, name)
            self._infos[name] = info

    def _all_names(self) -> list[str]:
        return list(self._infos)

    def _read(self, name: str) -> bytes:
        info = self._infos[name]
        try:
            with self._zip.open(info) as handle:
                data = handle.read(self._limits.max_file_bytes + 1)
        except (zipfile.BadZipFile, EOFError, zlib.error, OSError) as exc:
            raise CorruptArchiveError(f"{name} in {self.label} is damaged or cut off.") from exc
        except NotImplementedError as exc:
            raise CorruptArchiveError(f"{name} uses an unsupported zip compression.") from exc
        except RuntimeError as exc:  # zipfile raises RuntimeError for encrypted members
            raise CorruptArchiveError(f"{name} in {self.label} is password-protected.") from exc
        if len(data) > self._limits.max_file_bytes:
            raise ArchiveLimitError(f"{name} is larger than the per-file limit.")
        return data

    def close(self) -> None:
        """Close the zip file."""
        self._zip.close()


class SingleFileSource(Source):
    """One plain file (a PDF, a Markdown page, an XML quiz) seen as a one-file source."""

    def __init__(self, path: Path, limits: Limits) -> None:
        super().__init__(path.name)
        size = path.stat().st_size
        _check_sizes(size, size, 1, limits, path.name)
        self._path = path

    def _all_names(self) -> list[str]:
        return [self._path.name]

    def _read(self, name: str) -> bytes:
        return self._path.read_bytes()


def _check_sizes(size: int, total: int, count: int, limits: Limits, name: str) -> None:
    if size > limits.max_file_bytes:
        raise ArchiveLimitError(
            f"{name} is {size // MiB} MiB; the limit per file is "
            f"{limits.max_file_bytes // MiB} MiB."
        )
    if total > limits.max_total_bytes:
        raise ArchiveLimitError(
            f"The upload unpacks to more than {limits.max_total_bytes // MiB} MiB."
        )
    if count > limits.max_files:
        raise ArchiveLimitError(f"The upload holds more than {limits.max_files} files.")


def _check_ratio(size: int, compressed: int, limits: Limits, name: str) -> None:
    if size >= RATIO_FLOOR_BYTES and size > limits.max_ratio * max(compressed, 1):
        raise ArchiveLimitError(
            f"{name} expands {size // max(compressed, 1)} times when unpacked "
            "(a compression bomb?)."
        )


def _extract_tar(path: Path, dest: Path, limits: Limits) -> None:
    """Extract regular files of a tar archive under the limits; links and devices are skipped."""
    compressed = path.stat().st_size
    total = count = 0
    try:
        with tarfile.open(path, mode="r:*") as tar:
            for member in tar:
                if not member.isfile():
                    continue
                name = safe_member_name(member.name)
                total += member.size
                count += 1
                _check_sizes(member.size, total, count, limits, name)
                _check_ratio(total, compressed, limits, name)
                _copy_member(tar, member, dest / name, limits)
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise CorruptArchiveError(f"{path.name} is a damaged or incomplete archive.") from exc


def _copy_member(
    tar: tarfile.TarFile, member: tarfile.TarInfo, target: Path, limits: Limits
) -> None:
    handle = tar.extractfile(member)
    if handle is None:
        return
    data = handle.read(limits.max_file_bytes + 1)
    if len(data) != member.size:
        raise CorruptArchiveError(f"{member.name} is cut off in the archive.")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


class _TarSource(FolderSource):
    def __init__(self, path: Path, limits: Limits) -> None:
        self._tmp = tempfile.mkdtemp(prefix="microreview-import-")
        try:
            _extract_tar(path, Path(self._tmp), limits)
            super().__init__(Path(self._tmp), limits, label=path.name)
        except BaseException:
            shutil.rmtree(self._tmp, ignore_errors=True)
            raise

    def close(self) -> None:
        """Remove the temporary folder."""
        shutil.rmtree(self._tmp, ignore_errors=True)


def archive_kind(path: Path) -> str:
    """'folder', 'zip', 'tar' or 'file', judged by content (magic bytes), not the extension."""
    if path.is_dir():
        return "folder"
    with path.open("rb") as handle:
        head = handle.read(512)
    if head.startswith(_ZIP_MAGIC):
        return "zip"
    if head.startswith(_TAR_MAGICS) or head[257:262] == b"ustar":
        return "tar"
    return "file"


def open_source(path: Path, limits: Limits | None = None) -> Source:
    """Open an upload as a ``Source`` (close it after use, or use ``opened``)."""
    limits = limits or Limits()
    if not path.exists():
        raise FileNotFoundError(path)
    if path.is_file() and path.stat().st_size > limits.max_upload_bytes:
        raise ArchiveLimitError(f"The upload is larger than {limits.max_upload_bytes // MiB} MiB.")
    kind = archive_kind(path)
    if kind == "folder":
        return FolderSource(path, limits)
    if kind == "zip":
        return ZipSource(path, limits)
    if kind == "tar":
        return _TarSource(path, limits)
    return SingleFileSource(path, limits)


@contextmanager
def opened(path: Path, limits: Limits | None = None) -> Iterator[Source]:
    """Context manager around ``open_source`` that always closes the source."""
    source = open_source(path, limits)
    try:
        yield source
    finally:
        source.close()


def suffix_of(name: str) -> str:
    """Lower-case extension of a member name ('' when none)."""
    return PurePosixPath(name).suffix.lower()
