"""Prepare a working image for Tesseract: flat paper, no paint-outs, no ruling, text at a size
Tesseract reads well. Pure array-in/array-out functions."""

from __future__ import annotations

import cv2
import numpy as np

INK_LEVEL = 160         # after flat-fielding, darker than this is ink
LINE_FRACTION = 0.03    # a straight run longer than this share of the long side is ruling …
RULE_GLYPHS = 3.0       # … and longer than this many glyph heights (a glyph's strokes are not)
MIN_SCALE, MAX_SCALE = 0.4, 3.0
GLYPH_PERCENTILE = 75   # kanji break into strokes; the upper quartile is a whole glyph


def flat_field(gray: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Divide out the paper's shading and colour: paper → white, ink keeps its contrast."""
    out = gray.astype(np.float32) / np.maximum(background.astype(np.float32), 1.0) * 255.0
    return np.clip(out, 0, 255).astype(np.uint8)


def remove_rules(gray: np.ndarray, max_thickness: int | None = None) -> np.ndarray:
    """Whiten long horizontal and vertical lines (table ruling, frames, cut lines).

    No closing first: that would fuse a line of text into one long run and erase it. With
    ``max_thickness``, runs thicker than that (a marker stroke, a box) are kept.
    """
    ink = (gray < INK_LEVEL).astype(np.uint8)
    glyph = text_height(gray) or 0.0
    n = max(15, int(LINE_FRACTION * max(gray.shape)), int(RULE_GLYPHS * glyph))
    horiz = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((1, n), np.uint8))
    vert = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((n, 1), np.uint8))
    if max_thickness:
        t = max_thickness + 1
        horiz &= ~cv2.dilate(cv2.morphologyEx(horiz, cv2.MORPH_OPEN, np.ones((t, 1), np.uint8)),
                             np.ones((3, 3), np.uint8))
        vert &= ~cv2.dilate(cv2.morphologyEx(vert, cv2.MORPH_OPEN, np.ones((1, t), np.uint8)),
                            np.ones((3, 3), np.uint8))
    rules = cv2.dilate(horiz | vert, np.ones((3, 3), np.uint8)).astype(bool)
    if not rules.any():
        return gray
    out = gray.copy()
    out[rules] = 255
    return out


def text_height(gray: np.ndarray) -> float | None:
    """Typical height (px) of a whole glyph, or None on an empty page."""
    ink = (gray < INK_LEVEL).astype(np.uint8)
    n, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    heights = stats[1:, cv2.CC_STAT_HEIGHT]
    widths = stats[1:, cv2.CC_STAT_WIDTH]
    keep = (heights >= 6) & (heights <= gray.shape[0] // 8) & (widths <= 4 * heights)
    if n < 5 or keep.sum() < 5:
        return None
    return float(np.percentile(heights[keep], GLYPH_PERCENTILE))


def scale_for_ocr(gray: np.ndarray, target_px: int) -> tuple[np.ndarray, float]:
    """Resize so the median glyph is about ``target_px`` tall; returns the image and scale."""
    height = text_height(gray)
    scale = 1.0 if height is None else float(np.clip(target_px / height, MIN_SCALE, MAX_SCALE))
    if abs(scale - 1.0) < 0.08:
        return gray, 1.0
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    return cv2.resize(gray, None, fx=scale, fy=scale, interpolation=interp), scale
