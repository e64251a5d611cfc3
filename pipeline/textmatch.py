"""Finding printed labels and cues in recognised text, tolerant of OCR errors.

Text is compared after NFKC with white space removed; every normalised character keeps the
index of the character (and so the box) it came from.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from rapidfuzz import fuzz

from pipeline.geometry import BBox
from pipeline.model import TextLine

# Characters OCR commonly confuses on these documents, folded before comparison.
_CONFUSABLE = str.maketrans({"合": "令", "今": "令", "ー": "-", "一": "-", "―": "-", "‐": "-",
                             "・": "・", "･": "・", "（": "(", "）": ")"})


_HALF_WIDTH_MARKS = "\uff9e\uff9f"  # ﾞ ﾟ: voiced marks that follow their kana


def nfkc(text: str) -> str:
    """NFKC without white space: the form values are read in."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def norm(text: str) -> str:
    """NFKC, no white space, common OCR confusions folded: the form labels are matched in."""
    return nfkc(text).translate(_CONFUSABLE)


@dataclass(frozen=True)
class NormLine:
    """A text line in normalised form with, per normalised character, its source box."""

    line: TextLine
    text: str                       # NFKC, no white space
    key: str                        # ``text`` with OCR confusions folded (same length)
    boxes: tuple[BBox, ...]
    confs: tuple[float, ...]
    space_before: tuple[bool, ...]  # white space preceded this character in the source

    def span_box(self, start: int, end: int) -> BBox:
        bs = self.boxes[start:end] or self.boxes[start - 1: start]
        return (min(b[0] for b in bs), min(b[1] for b in bs),
                max(b[2] for b in bs), max(b[3] for b in bs))


def normalize_line(line: TextLine) -> NormLine:
    chars: list[str] = []
    boxes: list[BBox] = []
    confs: list[float] = []
    spaces: list[bool] = []
    pending_space = False
    for i, (ch, box) in enumerate(zip(line.text, line.boxes, strict=False)):
        if not ch.strip():
            pending_space = True
            continue
        if ch in _HALF_WIDTH_MARKS and chars and i > 0:  # ｶﾞ → ガ: compose with the kana before
            composed = nfkc(line.text[i - 1] + ch)
            if len(composed) == 1:
                chars[-1] = composed
                continue
        for out in nfkc(ch):
            chars.append(out)
            boxes.append(box)
            confs.append(line.char_conf(i))
            spaces.append(pending_space)
            pending_space = False
    text = "".join(chars)
    return NormLine(line, text, text.translate(_CONFUSABLE), tuple(boxes), tuple(confs),
                    tuple(spaces))


@dataclass(frozen=True)
class Hit:
    line: NormLine
    start: int
    end: int
    score: float  # 0..1

    @property
    def bbox(self) -> BBox:
        return self.line.span_box(self.start, self.end)


def find(pattern: str, lines: list[NormLine], min_score: float = 0.8) -> list[Hit]:
    """Occurrences of ``pattern`` in the lines: exact first, then fuzzy for longer patterns."""
    pat = norm(pattern)
    hits: list[Hit] = []
    if not pat:
        return hits
    for nl in lines:
        start = nl.key.find(pat)
        found_exact = start >= 0
        while start >= 0:
            hits.append(Hit(nl, start, start + len(pat), 1.0))
            start = nl.key.find(pat, start + len(pat))
        if found_exact or len(pat) < 4 or len(nl.key) < len(pat) - 1:
            continue
        al = fuzz.partial_ratio_alignment(pat, nl.key)
        if al is not None and al.score / 100.0 >= min_score:
            hits.append(Hit(nl, al.dest_start, al.dest_end, al.score / 100.0))
    return hits


def page_text(lines: list[NormLine]) -> str:
    return "\n".join(nl.key for nl in lines)
