"""Text lines with per-character boxes from a PDF page's text layer (no OCR).

Boxes are relative to the page as displayed (``/Rotate`` applied), origin top-left.
"""

from __future__ import annotations

import pymupdf

from pipeline.geometry import clamp
from pipeline.model import TextLine


def pdf_lines(page: pymupdf.Page, *, visible_only: bool = True) -> list[TextLine]:
    """Lines of the text layer; with ``visible_only`` text in render mode 3 is skipped."""
    width, height = page.rect.width or 1.0, page.rect.height or 1.0
    rot = page.rotation_matrix
    raw = page.get_text("rawdict", flags=pymupdf.TEXT_PRESERVE_WHITESPACE)
    out: list[TextLine] = []
    invisible_ids = _invisible_span_keys(page) if visible_only else set()
    for block in raw.get("blocks", []):
        for line in block.get("lines", []):
            chars: list[str] = []
            boxes = []
            for span in line.get("spans", []):
                if (round(span["bbox"][0], 1), round(span["bbox"][1], 1)) in invisible_ids:
                    continue
                for ch in span.get("chars", []):
                    r = pymupdf.Rect(ch["bbox"]) * rot
                    chars.append(ch["c"])
                    boxes.append(clamp((r.x0 / width, r.y0 / height, r.x1 / width, r.y1 / height)))
            if chars and "".join(chars).strip():
                out.append(TextLine("".join(chars), tuple(boxes), 1.0, "pdf"))
    return out


def _invisible_span_keys(page: pymupdf.Page) -> set[tuple[float, float]]:
    """Unrotated top-left corners of spans drawn in render mode 3 (invisible), as keys."""
    keys: set[tuple[float, float]] = set()
    try:
        traces = page.get_texttrace()
    except (RuntimeError, ValueError):
        return keys
    for span in traces:
        if span.get("type") == 3 or span.get("opacity", 1.0) == 0:
            x0, y0 = span["bbox"][0], span["bbox"][1]
            keys.add((round(x0, 1), round(y0, 1)))
    return keys
