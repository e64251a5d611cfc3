"""Find each field by reading its printed label, then bound its value next to the label.

The value of a label is the text after it on the same line, up to the next label; where OCR read
nothing there (a mask, or a value printed under its label), the value region is bounded by
pixels later (``redaction.detect``). Layout data comes in as arguments: this module knows no
document type.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.geometry import BBox
from pipeline.textmatch import Hit, NormLine, find

SEPARATORS = ":：)）(（]］[［・,、。 "
SPACE_GAP = 0.3       # a gap wider than this × char height between characters is a space
ROW_OVERLAP = 0.5     # two boxes are on one row when they overlap this much vertically


@dataclass(frozen=True)
class LabelHit:
    field: str
    hit: Hit
    suffix: bool = False

    @property
    def bbox(self) -> BBox:
        return self.hit.bbox


@dataclass(frozen=True)
class Candidate:
    """One printed copy of a field: its label, the value text read after it, and boxes."""

    field: str
    label_box: BBox
    value_box: BBox | None
    text: str  # as read (internal: may be restricted, never logged)
    limit_x: float  # right edge up to which the value may extend (next label or page edge)
    score: float


def find_labels(lines: list[NormLine], labels: dict[str, tuple[tuple[str, ...], tuple[str, ...]]]
                ) -> list[LabelHit]:
    """All label occurrences; where labels overlap the longest wins (保険者番号 over 番号)."""
    raw: list[LabelHit] = []
    for field, (prefix_labels, suffix_labels) in labels.items():
        for label in prefix_labels:
            raw += [LabelHit(field, h) for h in find(label, lines, min_score=0.85)]
        for label in suffix_labels:
            raw += [LabelHit(field, h, suffix=True) for h in find(label, lines, min_score=0.99)]
    raw.sort(key=lambda lh: (-(lh.hit.end - lh.hit.start), -lh.hit.score))
    kept: list[LabelHit] = []
    for lh in raw:
        if any(k.hit.line is lh.hit.line and lh.hit.start < k.hit.end and k.hit.start < lh.hit.end
               for k in kept):
            continue
        kept.append(lh)
    return kept


def candidates(lines: list[NormLine], hits: list[LabelHit]) -> list[Candidate]:
    """Read the value next to every label hit."""
    by_line: dict[int, list[LabelHit]] = {}
    for lh in hits:
        by_line.setdefault(id(lh.hit.line), []).append(lh)
    out: list[Candidate] = []
    for lh in hits:
        same = sorted(by_line[id(lh.hit.line)], key=lambda h: h.hit.start)
        nl = lh.hit.line
        if lh.suffix:
            prev = [h.hit.end for h in same if h.hit.end <= lh.hit.start]
            start, end = (max(prev) if prev else 0), lh.hit.start
        else:
            nxt = [h.hit.start for h in same if h.hit.start >= lh.hit.end]
            start, end = lh.hit.end, (min(nxt) if nxt else len(nl.text))
        start, end = _strip(nl.text, start, end)
        text = _spaced_text(nl, start, end) if end > start else ""
        value_box = nl.span_box(start, end) if end > start else None
        out.append(Candidate(lh.field, lh.bbox, value_box, text,
                             _limit_x(lh, hits), lh.hit.score))
    return out


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in SEPARATORS:
        start += 1
    while end > start and text[end - 1] in SEPARATORS:
        end -= 1
    return start, end


def _spaced_text(nl: NormLine, start: int, end: int) -> str:
    """Text of a span with a space wherever the characters are visibly apart."""
    chars: list[str] = []
    for i in range(start, end):
        if i > start:
            prev, cur = nl.boxes[i - 1], nl.boxes[i]
            height = max(cur[3] - cur[1], prev[3] - prev[1], 1e-6)
            gap = cur[0] - prev[2] > SPACE_GAP * height and cur is not prev
            if nl.space_before[i] or gap:
                chars.append(" ")
        chars.append(nl.text[i])
    return "".join(chars)


def _limit_x(lh: LabelHit, hits: list[LabelHit]) -> float:
    """The value of a prefix label ends before the next label on the same row."""
    _x0, y0, x1, y1 = lh.bbox
    limit = 1.0
    for other in hits:
        ox0, oy0, _ox1, oy1 = other.bbox
        overlap = min(y1, oy1) - max(y0, oy0)
        if other is not lh and ox0 >= x1 - 1e-6 and overlap > ROW_OVERLAP * (y1 - y0):
            limit = min(limit, ox0)
    return limit
