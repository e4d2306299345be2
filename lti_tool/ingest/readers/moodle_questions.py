"""Moodle question bank (``questions.xml`` of a backup, 2.x to 4.5 versioned) into questions."""

from __future__ import annotations

import html as htmlmod
import re
from dataclasses import dataclass, field

from ..htmlblocks import squash
from ..safexml import Element, text_of
from ..sanitize import clean_text
from ..tree import Blank, Choice, NumericAnswer, Pair, Provenance, Question, QuestionKind

K = QuestionKind
QUESTIONS_FILE = "questions.xml"
#: Moodle question types with no card equivalent (image-based or random selection).
UNSUPPORTED = {
    "ddimageortext": "drag and drop onto image",
    "ddmarker": "drag and drop markers",
    "calculated": "calculated",
    "calculatedmulti": "calculated multichoice",
    "calculatedsimple": "calculated simple",
    "randomsamatch": "random short-answer matching",
}
NOT_QUESTIONS = {"description", "random"}
_GAP = re.compile(r"\[\[(\d+)\]\]")
_EMBED = re.compile(r"\{#(\d+)\}")
_GROUP = re.compile(r'draggroup";s:\d+:"(\d+)"')


@dataclass
class QuestionBank:
    """Questions of a backup by question id, and the latest question id per bank entry."""

    by_id: dict[str, Question] = field(default_factory=dict)
    latest_by_entry: dict[str, str] = field(default_factory=dict)
    version_by_entry: dict[str, dict[str, str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    order: list[str] = field(default_factory=list)

    def for_entry(self, entry: str, version: str = "") -> Question | None:
        """The question of a 4.x bank entry, at ``version`` or the latest one."""
        qid = self.version_by_entry.get(entry, {}).get(version) or self.latest_by_entry.get(entry)
        return self.by_id.get(qid or "")

    def current(self) -> list[Question]:
        """Every question once, at its latest version, in file order."""
        latest = set(self.latest_by_entry.values())
        versioned = {q for versions in self.version_by_entry.values() for q in versions.values()}
        keep = [qid for qid in self.order if qid in latest or qid not in versioned]
        return [self.by_id[qid] for qid in keep if qid in self.by_id]


def plain(html: str) -> str:
    """Plain text of Moodle HTML."""
    return squash(htmlmod.unescape(clean_text(html)))


def parse_bank(root: Element) -> QuestionBank:
    """Parse ``questions.xml``: every question, and the versions of 4.x bank entries."""
    bank = QuestionBank()
    all_questions = [q for q in root.iter("question") if q.find("qtype") is not None]
    children: dict[str, list[Element]] = {}
    for q in all_questions:
        children.setdefault(text_of(q, "parent"), []).append(q)
    for q in all_questions:
        if text_of(q, "parent") not in ("", "0"):
            continue
        qid = q.get("id", "")
        bank.order.append(qid)
        parsed = parse_question(q, children.get(qid, []), bank.warnings)
        if parsed is not None:
            bank.by_id[qid] = parsed
    for entry in root.iter("question_bank_entry"):
        _add_entry(bank, entry)
    return bank


def _add_entry(bank: QuestionBank, entry: Element) -> None:
    versions: dict[str, str] = {}
    for version in entry.iter("question_versions"):
        qids = [q.get("id", "") for q in version.iter("question") if q.find("qtype") is not None]
        if qids:
            versions[text_of(version, "version")] = qids[0]
    if versions:
        eid = entry.get("id", "")
        bank.version_by_entry[eid] = versions
        newest = max(versions, key=lambda v: int(v) if v.isdigit() else 0)
        bank.latest_by_entry[eid] = versions[newest]


def parse_question(q: Element, subs: list[Element], warnings: list[str]) -> Question | None:
    """One Moodle question (with its sub-questions for multianswer) as a Question."""
    qtype = text_of(q, "qtype")
    name = text_of(q, "name")
    if qtype in NOT_QUESTIONS:
        return None
    if qtype in UNSUPPORTED or qtype not in _BUILDERS:
        label = UNSUPPORTED.get(qtype, qtype)
        warnings.append(f"Question '{name}' ({label}) has no card equivalent; add a manual card.")
        return None
    prompt = text_of(q, "questiontext")
    question = Question(
        kind=K.RECALL,
        prompt_html=prompt,
        prompt_text=plain(prompt),
        provenance=Provenance(QUESTIONS_FILE, f"question-{q.get('id', '')}"),
        title=name,
        feedback_html=text_of(q, "generalfeedback"),
        source_type=qtype,
    )
    plugin = q.find(f"plugin_qtype_{qtype}_question")
    _BUILDERS[qtype](question, plugin, subs)
    if question.kind is K.FILL_IN:
        question.prompt_html = blank_markers(question.prompt_html)
        question.prompt_text = plain(question.prompt_html)
    return question if question.prompt_text or question.blanks else None


def _answers(plugin: Element | None) -> list[tuple[str, str, float]]:
    if plugin is None:
        return []
    found = []
    for ans in plugin.iter("answer"):
        if ans.find("answertext") is None:
            continue
        try:
            fraction = float(text_of(ans, "fraction") or 0)
        except ValueError:
            fraction = 0.0
        found.append((ans.get("id", ""), text_of(ans, "answertext"), fraction))
    return found


def _multichoice(q: Question, plugin: Element | None, subs: list[Element]) -> None:
    single = text_of(plugin, "multichoice/single") if plugin is not None else "1"
    q.choices = [Choice(i, plain(t), f > 0) for i, t, f in _answers(plugin)]
    q.kind = K.SINGLE_CHOICE if single != "0" else K.MULTIPLE_CHOICE


def _truefalse(q: Question, plugin: Element | None, subs: list[Element]) -> None:
    q.kind = K.TRUE_FALSE
    q.choices = [Choice(i, plain(t), f > 0) for i, t, f in _answers(plugin)]


def _shortanswer(q: Question, plugin: Element | None, subs: list[Element]) -> None:
    q.kind = K.SHORT_ANSWER
    q.answers = [plain(t) for _, t, f in _answers(plugin) if f >= 1.0]


def _numerical(q: Question, plugin: Element | None, subs: list[Element]) -> None:
    q.kind = K.NUMERIC
    tolerance = {}
    if plugin is not None:
        for rec in plugin.iter("numerical_record"):
            tolerance[text_of(rec, "answer")] = text_of(rec, "tolerance")
    for aid, text, fraction in _answers(plugin):
        if fraction >= 1.0 and _number(text) is not None:
            tol = _number(tolerance.get(aid, "0")) or 0.0
            q.numeric.append(NumericAnswer(value=_number(text), tolerance=abs(tol)))


def _match(q: Question, plugin: Element | None, subs: list[Element]) -> None:
    q.kind = K.MATCHING
    for match in plugin.iter("match") if plugin is not None else []:
        prompt, answer = plain(text_of(match, "questiontext")), plain(text_of(match, "answertext"))
        if prompt and answer:
            q.pairs.append(Pair(prompt, answer))
        elif answer:
            q.distractors.append(answer)


def _essay(q: Question, plugin: Element | None, subs: list[Element]) -> None:
    q.kind = K.RECALL


def _gaps(q: Question, plugin: Element | None, subs: list[Element]) -> None:
    """ddwtos and gapselect: ``[[n]]`` is filled by answer n; options share its group."""
    q.kind = K.FILL_IN
    answers = _answers(plugin)
    groups = [_group(a) for a in plugin.iter("answer")] if plugin is not None else []
    for number in _GAP.findall(q.prompt_html):
        index = int(number) - 1
        if 0 <= index < len(answers):
            group = groups[index] if index < len(groups) else ""
            options = tuple(
                plain(t) for (_, t, _), g in zip(answers, groups, strict=False) if g == group
            )
            q.blanks.append(Blank(number, (plain(answers[index][1]),), options))


def _group(answer: Element) -> str:
    feedback = text_of(answer, "feedback")
    match = _GROUP.search(feedback)
    return match.group(1) if match else feedback.strip()


def _multianswer(q: Question, plugin: Element | None, subs: list[Element]) -> None:
    """Embedded answers (Cloze): ``{#n}`` is the n-th sub-question of the sequence."""
    q.kind = K.FILL_IN
    by_id = {s.get("id", ""): s for s in subs}
    sequence = text_of(plugin, "multianswer/sequence").split(",") if plugin is not None else []
    for number, sub_id in enumerate(sequence, start=1):
        sub = by_id.get(sub_id.strip())
        if sub is None:
            continue
        answers = _answers(sub.find(f"plugin_qtype_{text_of(sub, 'qtype')}_question"))
        right = tuple(plain(t) for _, t, f in answers if f >= 1.0)
        is_choice = text_of(sub, "qtype").startswith("multichoice")
        options = tuple(plain(t) for _, t, _ in answers) if is_choice else ()
        if right:
            q.blanks.append(Blank(str(number), right, options))


def _number(text: str | None) -> float | None:
    try:
        return float((text or "").strip())
    except ValueError:
        return None


_BUILDERS = {
    "multichoice": _multichoice,
    "truefalse": _truefalse,
    "shortanswer": _shortanswer,
    "numerical": _numerical,
    "match": _match,
    "essay": _essay,
    "ddwtos": _gaps,
    "gapselect": _gaps,
    "multianswer": _multianswer,
}


def blank_markers(prompt_html: str) -> str:
    """Prompt with Moodle gap markers (``[[1]]``, ``{#1}``) rewritten as ``[1]``."""
    return _EMBED.sub(r"[\1]", _GAP.sub(r"[\1]", prompt_html))
