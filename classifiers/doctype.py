"""Which document is this page? Weighted title/label cues, checked against the page's shape.

Returns the type, a confidence in 0..1 and the evidence (cue names, never values).
"""

from __future__ import annotations

from dataclasses import dataclass

from classifiers.layouts import DocLayout, doc_layouts
from pipeline.model import TextLine
from pipeline.textmatch import NormLine, find, normalize_line

MIN_SCORE = 2.0          # below this no type is claimed: unknown
CUE_MIN_SCORE = 0.78     # fuzzy cue match: one misread character in a long cue still counts …
CUE_FUZZY_LENGTH = 6     # … from this length on; shorter cues (被保険者証 ~ 被保険者等) are exact
ASPECT_PENALTY = 0.5     # score multiplier when the page's shape does not fit the type
NO_CUE_CONFIDENCE = 0.7  # "unknown" because nothing matched: sure enough to reject


@dataclass(frozen=True)
class Classification:
    doc_type: str
    confidence: float
    evidence: tuple[str, ...]
    scores: dict[str, float]


def _aspect_fits(layout: DocLayout, aspect: float) -> bool:
    lo, hi = layout.aspect
    return lo <= aspect <= hi


def classify(lines: list[NormLine], aspect: float) -> Classification:
    """Classify from normalised text lines and the page's long/short side ratio."""
    scores: dict[str, float] = {}
    evidence: dict[str, list[str]] = {}
    # OCR splits titles into fragments (マイナポー | タル): also search the lines run together.
    joined = normalize_line(TextLine("".join(nl.line.text for nl in lines),
                                     tuple(b for nl in lines for b in nl.line.boxes)))
    lines = [*lines, joined] if len(lines) > 1 else lines
    for doc_type, layout in doc_layouts().items():
        total = 0.0
        for cue in layout.cues:
            fuzzy = CUE_MIN_SCORE if len(cue.text) >= CUE_FUZZY_LENGTH else 0.99
            hits = find(cue.text, lines, min_score=fuzzy)
            if hits:
                total += cue.weight * max(h.score for h in hits)
                evidence.setdefault(doc_type, []).append(f"cue:{cue.text}")
        if total and not _aspect_fits(layout, aspect):
            total *= ASPECT_PENALTY
            evidence.setdefault(doc_type, []).append("aspect_mismatch")
        scores[doc_type] = total
    _resolve_shared_titles(scores, lines, aspect)
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    (best, s1), (_, s2) = ranked[0], ranked[1]
    if s1 < MIN_SCORE:
        return Classification("unknown", NO_CUE_CONFIDENCE, ("no_cue",), scores)
    confidence = round(min(0.99, (s1 - s2) / s1 * min(1.0, s1 / 4.0) + 0.3 * (s1 > s2)), 3)
    return Classification(best, max(0.0, confidence), tuple(evidence.get(best, ())), scores)


def _resolve_shared_titles(scores: dict[str, float], lines: list[NormLine], aspect: float) -> None:
    """The A4 notice and its slip share a title: a card-shaped page with few lines is the slip."""
    a4, slip = scores.get("oshirase_a4", 0.0), scores.get("oshirase_slip", 0.0)
    if not (a4 and slip):
        return
    if aspect > 1.55 and len(lines) < 25:
        scores["oshirase_a4"] = a4 * ASPECT_PENALTY
    else:
        scores["oshirase_slip"] = slip * ASPECT_PENALTY
