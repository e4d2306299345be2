"""Errors of the course import; each message tells the instructor what to do next."""


class CourseImportError(Exception):
    """Raised when a course file cannot be imported; base of every ingest error."""

    title = "This file could not be imported"
    advice = "Check the file and upload it again."

    def __init__(self, message: str, advice: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if advice is not None:
            self.advice = advice

    def __str__(self) -> str:
        return f"{self.message} {self.advice}".strip()


class UnsupportedFormatError(CourseImportError):
    """Raised when the file is not one of the supported course formats."""

    title = "Unknown course format"
    advice = (
        "Upload a Common Cartridge (.imscc), Moodle backup (.mbz), QTI or Moodle XML quiz, "
        "OpenStax CNXML, HTML, Markdown, PDF or Word (.docx) file."
    )


class LegacyMoodleBackupError(UnsupportedFormatError):
    """Raised when the file is a Moodle 1.9 backup (moodle.xml)."""

    title = "Moodle 1.9 backups are not supported"
    advice = (
        "Restore the course in a current Moodle and export it as a Common Cartridge "
        "(or make a new .mbz backup), then upload that file."
    )


class UnsafeArchiveError(CourseImportError):
    """Raised when an archive holds paths that escape it (zip slip, absolute paths, links)."""

    title = "Unsafe archive"
    advice = "Export the course again from your LMS; do not edit the archive by hand."


class ArchiveLimitError(CourseImportError):
    """Raised when an archive exceeds the size, file-count or compression-ratio limits."""

    title = "File too large"
    advice = "Split the course into smaller exports, or leave large media files out of the export."


class CorruptArchiveError(CourseImportError):
    """Raised when an archive is truncated or damaged."""

    title = "Damaged archive"
    advice = "The upload may have been cut off: download or export the file again and retry."


class UnsafeXmlError(CourseImportError):
    """Raised when an XML file declares entities or external references (entity expansion)."""

    title = "Unsafe XML"
    advice = "Export the course again from your LMS; XML entity declarations are not accepted."


class MalformedFileError(CourseImportError):
    """Raised when a file inside the course cannot be parsed."""

    title = "Damaged course file"
    advice = "Export the course again from your LMS and upload the new file."


class NoTextLayerError(CourseImportError):
    """Raised when a PDF has no extractable text (scanned images or encrypted)."""

    title = "No text layer"
    advice = (
        "Run the PDF through OCR or export it again as a text PDF (not scanned images, "
        "no password), or upload the source document (Word, HTML, Markdown) instead."
    )


class EmptyCourseError(CourseImportError):
    """Raised when a file is readable but holds no content or questions to import."""

    title = "Nothing to import"
    advice = "Check that the export includes the course content (pages, files or quizzes)."
