"""The neutral document tree every reader produces: course > modules > sections > blocks."""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass, field
from enum import StrEnum

#: URL scheme of figure sources that point at an imported asset (``asset:<path>``); the app
#: rewrites them to its own URLs with ``sanitize.rewrite_asset_urls``.
ASSET_SCHEME = "asset"


class BlockKind(StrEnum):
    """Kinds of content block; a block is never cut by the splitter."""

    HEADING = "heading"
    PARAGRAPH = "paragraph"
    LIST = "list"
    TABLE = "table"
    CODE = "code"
    FIGURE = "figure"
    REFERENCE = "reference"


class QuestionKind(StrEnum):
    """Kinds of question a course can bring; essay and upload questions become ``RECALL``."""

    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    TRUE_FALSE = "true_false"
    SHORT_ANSWER = "short_answer"
    FILL_IN = "fill_in"
    MATCHING = "matching"
    ORDERING = "ordering"
    NUMERIC = "numeric"
    RECALL = "recall"


@dataclass(frozen=True)
class Provenance:
    """Where a piece of content came from: file inside the upload and an anchor or identifier."""

    source: str
    anchor: str = ""

    def __str__(self) -> str:
        return f"{self.source}#{self.anchor}" if self.anchor else self.source


@dataclass
class Block:
    """One block of content: ``html`` is an unsanitized fragment, ``text`` its plain text."""

    kind: BlockKind
    html: str
    text: str
    provenance: Provenance
    level: int = 0
    asset: str | None = None

    @property
    def words(self) -> int:
        """Number of words in the block's text."""
        return len(self.text.split())


@dataclass(frozen=True)
class Choice:
    """An answer option of a choice, true/false or dropdown question."""

    ident: str
    text: str
    correct: bool = False


@dataclass(frozen=True)
class Blank:
    """One gap of a fill-in question with its accepted answers (and options, if a dropdown)."""

    ident: str
    answers: tuple[str, ...]
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class Pair:
    """One matching pair: the prompt and its correct answer."""

    prompt: str
    answer: str


@dataclass(frozen=True)
class NumericAnswer:
    """A correct numeric answer: ``value`` with ``tolerance``, or the range ``low``..``high``."""

    value: float | None = None
    tolerance: float = 0.0
    low: float | None = None
    high: float | None = None

    def accepts(self, number: float) -> bool:
        """Whether ``number`` is a correct answer."""
        if self.low is not None and self.high is not None:
            return self.low <= number <= self.high
        if self.value is None:
            return False
        return abs(number - self.value) <= self.tolerance + 1e-12


@dataclass
class Question:
    """A question of the course itself, as the source defined it."""

    kind: QuestionKind
    prompt_html: str
    prompt_text: str
    provenance: Provenance
    title: str = ""
    choices: list[Choice] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)
    blanks: list[Blank] = field(default_factory=list)
    pairs: list[Pair] = field(default_factory=list)
    sequence: list[str] = field(default_factory=list)
    numeric: list[NumericAnswer] = field(default_factory=list)
    feedback_html: str = ""
    source_type: str = ""
    distractors: list[str] = field(default_factory=list)


@dataclass
class Section:
    """A titled run of blocks inside a module (a page, a chapter, a discussion, ...)."""

    title: str
    blocks: list[Block]
    provenance: Provenance
    level: int = 1


@dataclass
class Module:
    """A module (unit, week, topic) in course order, with its sections and questions."""

    title: str
    sections: list[Section] = field(default_factory=list)
    questions: list[Question] = field(default_factory=list)
    provenance: Provenance | None = None


@dataclass
class Asset:
    """A file the content refers to (a figure), kept so the app can store and serve it."""

    path: str
    data: bytes
    media_type: str = ""

    def __post_init__(self) -> None:
        if not self.media_type:
            self.media_type = mimetypes.guess_type(self.path)[0] or "application/octet-stream"

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of the bytes (a storage key that survives re-import)."""
        return hashlib.sha256(self.data).hexdigest()

    @property
    def url(self) -> str:
        """The placeholder URL used in imported HTML for this asset."""
        return f"{ASSET_SCHEME}:{self.path}"


@dataclass
class Course:
    """A whole imported course: modules in order, questions outside modules, assets, warnings."""

    title: str
    source_format: str
    modules: list[Module] = field(default_factory=list)
    question_bank: list[Question] = field(default_factory=list)
    assets: dict[str, Asset] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def questions(self) -> list[Question]:
        """Every question, module questions first in course order, then the bank."""
        found = [q for module in self.modules for q in module.questions]
        return found + list(self.question_bank)

    def word_count(self) -> int:
        """Words of text in all blocks."""
        return sum(b.words for m in self.modules for s in m.sections for b in s.blocks)
