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
RIGHT_GAP = 30.0      # a value right of its label starts within this × label height
BELOW_GAP = 1.8       # a value under its label starts within this × label height below it
COLUMN_SLACK = 3.0    # … and no further right of the label's left edge than this × its height
GROUP_GAP = 1.6       # labels this close (× height) with no value between share one value
LABEL_TAIL_CHARS = 8  # a digit-free run this short right after a label is read as label


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
    anchor_box: BBox  # the label the value follows (the last of a group like 記号・番号（枝番）)


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


def candidates(lines: list[NormLine], hits: list[LabelHit], aspect: float = 1.0
               ) -> list[Candidate]:
    """Read the value next to every label hit.

    ``aspect`` is the page's height / width, so that distances along x can be measured in
    label heights (boxes are relative to width and height separately).
    """
    by_line: dict[int, list[LabelHit]] = {}
    for lh in hits:
        by_line.setdefault(id(lh.hit.line), []).append(lh)
    for same in by_line.values():
        same.sort(key=lambda h: h.hit.start)
    geo = _Geometry(lines, hits, aspect)
    return [geo.read(lh, by_line[id(lh.hit.line)]) for lh in hits]


@dataclass(frozen=True)
class _Geometry:
    lines: list[NormLine]
    hits: list[LabelHit]
    aspect: float

    def hx(self, lh: LabelHit) -> float:
        """A label's height in x units (fractions of the page width)."""
        return max(lh.bbox[3] - lh.bbox[1], 1e-6) * self.aspect

    def read(self, lh: LabelHit, same: list[LabelHit]) -> Candidate:
        nl = lh.hit.line
        start, end = self._inline(lh, same)
        anchor = lh if lh.suffix else self._group_end(lh)
        limit = _limit_x(anchor, self.hits)
        if anchor is not lh:
            nl = anchor.hit.line
            start, end = self._inline(anchor, [h for h in self.hits if h.hit.line is nl])
        if not any(ch.isalnum() for ch in nl.text[start:end]) and not lh.suffix:
            found = self._right(anchor, limit) or self._below(anchor, limit)
            nl, start, end = found or (nl, start, start)
        text = _spaced_text(nl, start, end, self.aspect) if end > start else ""
        value_box = nl.span_box(start, end) if end > start else None
        return Candidate(lh.field, lh.bbox, value_box, text, limit, lh.hit.score, anchor.bbox)

    @staticmethod
    def _inline(lh: LabelHit, same: list[LabelHit]) -> tuple[int, int]:
        """Characters between this label and the next one on its line (before, for suffixes)."""
        text = lh.hit.line.text
        if lh.suffix:
            prev = [h.hit.end for h in same if h.hit.end <= lh.hit.start]
            return _strip(text, max(prev) if prev else 0, lh.hit.start)
        nxt = [h.hit.start for h in same if h.hit.start >= lh.hit.end]
        return _strip(text, lh.hit.end, min(nxt) if nxt else len(text))

    def _group_end(self, lh: LabelHit) -> LabelHit:
        """Labels printed together (記号・番号（枝番）) share the value after the last of them:
        follow the next label on the row while it starts right where the previous one ends."""
        current = lh
        while True:
            x1, y0, y1 = current.bbox[2], current.bbox[1], current.bbox[3]
            h, hx = y1 - y0, self.hx(current)
            nxt = [o for o in self.hits if not o.suffix and o is not current
                   and -0.3 * hx <= o.bbox[0] - x1 <= GROUP_GAP * hx
                   and min(y1, o.bbox[3]) - max(y0, o.bbox[1]) > ROW_OVERLAP * h]
            if nxt and not self._text_between(current, nxt[0]):
                current = min(nxt, key=lambda o: o.bbox[0])
                continue
            tail = self._label_tail(current)
            if tail is None:
                return current
            current = tail

    def _label_tail(self, lh: LabelHit) -> LabelHit | None:
        """A short run without digits printed right after a label on its row is more label
        (a misread ・番号（枝番）), not a value: the value comes after it."""
        x1, y0, y1 = lh.bbox[2], lh.bbox[1], lh.bbox[3]
        h, hx = y1 - y0, self.hx(lh)
        for nl in self.lines:
            if nl is lh.hit.line or not nl.boxes or len(nl.text) > LABEL_TAIL_CHARS:
                continue
            box = nl.span_box(0, len(nl.text))
            if (0 <= box[0] - x1 <= GROUP_GAP * hx
                    and min(y1, box[3]) - max(y0, box[1]) > ROW_OVERLAP * h
                    and not any(ch.isdigit() for ch in nl.text)):
                return LabelHit(lh.field, Hit(nl, 0, len(nl.text), 0.0))
        return None

    def _text_between(self, a: LabelHit, b: LabelHit) -> bool:
        """Any value character printed between two labels on the same line?"""
        if a.hit.line is not b.hit.line:
            return False
        return any(ch.isalnum() for ch in a.hit.line.text[a.hit.end:b.hit.start])

    def _right(self, lh: LabelHit, limit_x: float) -> tuple[NormLine, int, int] | None:
        """The value printed as a separate run to the right of its label, on the same row."""
        _, y0, x1, y1 = lh.bbox
        h, hx = y1 - y0, self.hx(lh)
        best: tuple[float, NormLine, int, int] | None = None
        for nl in self.lines:
            if nl is lh.hit.line or not nl.boxes:
                continue
            idx = [i for i, b in enumerate(nl.boxes)
                   if x1 - 0.2 * hx <= (b[0] + b[2]) / 2 <= limit_x
                   and min(y1, b[3]) - max(y0, b[1]) > ROW_OVERLAP * h
                   and not self._is_label(b)]
            if not idx:
                continue
            start, end = _contiguous(idx)
            gap = nl.boxes[start][0] - x1
            if gap <= RIGHT_GAP * hx and (best is None or gap < best[0]):
                best = (gap, nl, start, end)
        return self._span(best)

    def _below(self, lh: LabelHit, limit_x: float) -> tuple[NormLine, int, int] | None:
        """The value printed under its label: the nearest line below, in the label's column."""
        x0, _, _, y1 = lh.bbox
        h, hx = lh.bbox[3] - lh.bbox[1], self.hx(lh)
        best: tuple[float, NormLine, int, int] | None = None
        for nl in self.lines:
            if nl is lh.hit.line or not nl.boxes:
                continue
            top = min(b[1] for b in nl.boxes)
            if not (y1 - 0.3 * h <= top <= y1 + BELOW_GAP * h):
                continue
            idx = [i for i, b in enumerate(nl.boxes)
                   if x0 - 0.6 * hx <= (b[0] + b[2]) / 2 <= limit_x and not self._is_label(b)]
            if not idx or nl.boxes[idx[0]][0] > x0 + COLUMN_SLACK * hx:
                continue
            start, end = _contiguous(idx)
            if best is None or top < best[0]:
                best = (top, nl, start, end)
        return self._span(best)

    def _is_label(self, box: BBox) -> bool:
        return any(_inside(box, o.bbox) for o in self.hits)

    @staticmethod
    def _span(best: tuple[float, NormLine, int, int] | None) -> tuple[NormLine, int, int] | None:
        if best is None:
            return None
        _, nl, start, end = best
        start, end = _strip(nl.text, start, end)
        return (nl, start, end) if end > start else None


def _contiguous(idx: list[int]) -> tuple[int, int]:
    end = idx[0] + 1
    for i in idx[1:]:
        if i != end:
            break
        end = i + 1
    return idx[0], end


def _inside(box: BBox, outer: BBox) -> bool:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return outer[0] <= cx <= outer[2] and outer[1] <= cy <= outer[3]


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    """Drop separators around a value, keeping a closing bracket whose opener is inside."""
    while start < end and text[start] in SEPARATORS:
        start += 1
    while end > start and text[end - 1] in SEPARATORS:
        if text[end - 1] in ")）]］" and "(（[［"[")）]］".index(text[end - 1])] in text[start:end]:
            break
        end -= 1
    return start, end


def _spaced_text(nl: NormLine, start: int, end: int, aspect: float) -> str:
    """Text of a span with a space wherever the characters are visibly apart."""
    chars: list[str] = []
    for i in range(start, end):
        if i > start:
            prev, cur = nl.boxes[i - 1], nl.boxes[i]
            height = max(cur[3] - cur[1], prev[3] - prev[1], 1e-6) * aspect
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
