"""Key terms of each unit: noun-phrase-like candidates ranked by YAKE or by course TF-IDF.

YAKE (the ``yake`` package) costs about 65 µs a word, too slow for very large courses, so the
default engine ``auto`` uses YAKE up to ``AUTO_LIBRARY_WORDS`` words and the fast course-wide
TF-IDF ranking above that. Both share the same candidate filter (no stop words, no fragments).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

from .stopwords import GENERIC_WORDS, STOP_WORDS

#: Courses up to this many words use the library engines (YAKE, pysbd) under ``auto``.
AUTO_LIBRARY_WORDS = 100_000
_BREAK = re.compile(r"[.,;:!?()\[\]{}\"“”‘’/\\|<>=+*#@&%$^~`…–—]+|\s-\s|'s\b")  # noqa: RUF001
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9'-]*[A-Za-z0-9]|[A-Za-z]{2,}|[A-Z]")


def choose_engine(engine: str, total_words: int) -> str:
    """Resolve ``auto`` to ``library`` or ``fast`` by course size."""
    if engine == "auto":
        return "library" if total_words <= AUTO_LIBRARY_WORDS else "fast"
    return engine


def is_good_term(term: str) -> bool:
    """Whether a phrase can stand alone as a key term (not a stop word, verb or fragment)."""
    words = term.split()
    if not 1 <= len(words) <= 4:
        return False
    lowered = [w.lower() for w in words]
    if any(w in STOP_WORDS for w in lowered) or lowered[0] in GENERIC_WORDS:
        return False
    if any(w in GENERIC_WORDS for w in lowered) and len(words) == 1:
        return False
    if lowered[-1] in GENERIC_WORDS or lowered[-1].endswith("ly"):
        return False
    if any(not re.fullmatch(r"[A-Za-z][A-Za-z0-9'-]*", w) for w in words):
        return False
    if len(words) == 1:
        word = words[0]
        return len(word) >= 4 or (word.isupper() and len(word) >= 2)
    return True


def candidates(text: str) -> Counter[str]:
    """Candidate phrases (runs of content words, at most 3 long) with their counts."""
    found: Counter[str] = Counter()
    for chunk in _BREAK.split(text):
        run: list[str] = []
        for word in [*_WORD.findall(chunk), ""]:
            if word and word.lower() not in STOP_WORDS:
                run.append(word)
                continue
            _add_run(found, run)
            run = []
    return found


def _add_run(found: Counter[str], run: list[str]) -> None:
    if not run:
        return
    if len(run) <= 3:
        found[" ".join(run)] += 1
    if len(run) > 1:
        for word in run:
            found[word] += 1


def tfidf_terms(texts: Sequence[str], top: int) -> list[list[str]]:
    """Top terms of each text, ranked by in-text frequency times course rarity."""
    counted = [_fold(candidates(t)) for t in texts]
    df: Counter[str] = Counter()
    for terms in counted:
        df.update(terms.keys())
    n = len(texts)
    ranked = []
    for terms in counted:
        scored = []
        for key, (count, surface) in terms.items():
            if not is_good_term(surface):
                continue
            idf = math.log((n + 1) / (df[key] + 0.5)) + 1.0
            scored.append((count * idf * (1 + 0.6 * key.count(" ")), surface))
        scored.sort(key=lambda s: (-s[0], s[1]))
        ranked.append(_distinct([s for _, s in scored], top))
    return ranked


def _fold(found: Counter[str]) -> dict[str, tuple[int, str]]:
    """Merge case variants: lower-case key -> (count, most frequent surface form)."""
    folded: dict[str, tuple[int, str]] = {}
    for surface, count in found.most_common():
        key = surface.lower()
        if key in folded:
            folded[key] = (folded[key][0] + count, folded[key][1])
        else:
            folded[key] = (count, surface)
    return folded


def yake_terms(texts: Sequence[str], top: int) -> list[list[str]]:
    """Top terms of each text by YAKE, through the same candidate filter."""
    import yake  # imported lazily: it loads numpy, networkx and jellyfish

    extractor = yake.KeywordExtractor(lan="en", n=3, top=top * 3)
    ranked = []
    for text in texts:
        found = [kw for kw, _ in extractor.extract_keywords(text)] if text.strip() else []
        phrases = {c.lower() for c in candidates(text)}
        # YAKE n-grams may cut a phrase ("Hub Renton Technical"): keep whole phrases only.
        kept = [kw for kw in found if is_good_term(kw) and kw.lower() in phrases]
        ranked.append(_distinct(kept, top))
    return ranked


def _distinct(terms: list[str], top: int) -> list[str]:
    """Drop terms whose words are all inside a better-ranked term, keep ``top``."""
    chosen: list[str] = []
    for term in terms:
        words = set(term.lower().split())
        if any(words <= set(c.lower().split()) for c in chosen):
            continue
        chosen.append(term)
        if len(chosen) == top:
            break
    return chosen


def key_terms(texts: Sequence[str], top: int = 8, engine: str = "auto") -> list[list[str]]:
    """Key terms for each text; ``engine`` is ``auto``, ``library`` (YAKE) or ``fast``."""
    chosen = choose_engine(engine, sum(len(t.split()) for t in texts))
    return yake_terms(texts, top) if chosen == "library" else tfidf_terms(texts, top)
