"""OCR engines for unit tests: no Tesseract needed.

``FakeOcrEngine`` implements ``pipeline.ocr.OcrEngine``. It is given text lines with boxes
*relative* to the page (fractions of width and height) and returns them scaled to whatever
image it is handed, as Tesseract would return them in that image's pixels. Build it from a
list of ``(text, box)``, from a generator truth page (each readable copy of each field at its
truth box) or from the text layer of a born-digital PDF page (labels and values, as printed).

``CrashingOcrEngine`` raises ``RuntimeError`` — to drive the error paths. It can crash a given
number of times and then hand over to another engine, so that one multi-file run can crash on
its first file only.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from pipeline.ocr import OcrLine

RelBox = tuple[float, float, float, float]

# Text a crash "quotes" (as a library's exception might quote what it read): it must never
# reach a record, a log line or stderr.
CRASH_MARKER = "3141592653"


def _char_boxes(text: str, box: RelBox) -> list[RelBox]:
    """Split a line's box evenly among its characters (full-width ones count double)."""
    widths = [2.0 if unicodedata.east_asian_width(c) in "WF" else 1.0 for c in text]
    total = sum(widths) or 1.0
    x0, y0, x1, y1 = box
    out, x = [], x0
    for w in widths:
        step = (x1 - x0) * w / total
        out.append((x, y0, x + step, y1))
        x += step
    return out


class FakeOcrEngine:
    """An ``OcrEngine`` that "reads" the lines it was given, scaled to the image it gets."""

    name = "fake"

    def __init__(self, lines: Iterable[tuple[str, RelBox]] = (), conf: float = 0.95,
                 orientation: tuple[int, float] | None = (0, 15.0)) -> None:
        self._lines = [(t, tuple(float(v) for v in b)) for t, b in lines if t.strip()]
        self._conf = conf
        self._orientation = orientation
        self.calls: list[tuple[tuple[int, ...], int]] = []  # (image shape, psm) per call

    # --- builders ---------------------------------------------------------------------------
    @classmethod
    def from_truth(cls, truth_page: Mapping[str, Any], **kw: Any) -> FakeOcrEngine:
        """Each readable copy of each field, its printed text at its truth box."""
        lines = []
        for field in truth_page["fields"].values():
            text = field.get("printed") or field.get("value") or ""
            for copy in field.get("copies", []):
                if copy["state"] == "visible" and text:
                    lines.append((text, tuple(copy["bbox"])))
        return cls(lines, **kw)

    @classmethod
    def from_pdf_page(cls, page: Any, **kw: Any) -> FakeOcrEngine:
        """The text lines of a PyMuPDF page, boxes relative to the page as displayed."""
        width, height = page.rect.width, page.rect.height
        lines = []
        for block in page.get_text("dict")["blocks"]:
            for line in block.get("lines", []):
                text = "".join(span["text"] for span in line["spans"])
                x0, y0, x1, y1 = line["bbox"]
                lines.append((text, (x0 / width, y0 / height, x1 / width, y1 / height)))
        return cls(lines, **kw)

    # --- the OcrEngine protocol -------------------------------------------------------------
    def lines(self, gray: np.ndarray, psm: int = 11) -> list[OcrLine]:
        h, w = gray.shape[:2]
        self.calls.append((tuple(gray.shape), psm))
        out = []
        for text, box in self._lines:
            boxes = tuple(
                (round(bx0 * w), round(by0 * h),
                 max(round(bx1 * w), round(bx0 * w) + 1), max(round(by1 * h), round(by0 * h) + 1))
                for bx0, by0, bx1, by1 in _char_boxes(text, box)
            )
            out.append(OcrLine(text, boxes, self._conf, (self._conf,) * len(text)))
        return out

    def orientation(self, gray: np.ndarray) -> tuple[int, float] | None:
        return self._orientation


class CrashingOcrEngine:
    """An ``OcrEngine`` that raises ``RuntimeError``; after ``crashes`` failures (``None``:
    always) it delegates to ``then``."""

    name = "crashing"

    def __init__(self, crashes: int | None = None, then: Any | None = None) -> None:
        self._left = crashes
        self._then = then or FakeOcrEngine()
        self.crashed = 0

    def _crash(self) -> bool:
        if self._left is None:
            return True
        if self._left > 0:
            self._left -= 1
            return True
        return False

    def lines(self, gray: np.ndarray, psm: int = 11) -> list[OcrLine]:
        if self._crash():
            self.crashed += 1
            raise RuntimeError(f"engine failed on a line reading {CRASH_MARKER}")
        return self._then.lines(gray, psm)

    def orientation(self, gray: np.ndarray) -> tuple[int, float] | None:
        if self._crash():
            self.crashed += 1
            raise RuntimeError(f"engine failed on a line reading {CRASH_MARKER}")
        return self._then.orientation(gray)


def engines_satisfy_protocol(engines: Sequence[Any]) -> bool:
    """Structural check against ``pipeline.ocr.OcrEngine`` (it is not runtime-checkable)."""
    return all(isinstance(getattr(e, "name", None), str) and callable(getattr(e, "lines", None))
               and callable(getattr(e, "orientation", None)) for e in engines)
