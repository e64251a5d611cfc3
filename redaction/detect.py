"""Mask state of a field from pixels and readable text: visible, masked, or nothing there.

Fail closed: a value region is ``masked`` only when it is solidly covered (a uniform fill, a
sticky note, a coarse mosaic) or blank; ink that is neither solid nor read (blur, a fine
mosaic, a translucent highlighter) counts as ``visible``.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.geometry import BBox, from_pixels, to_pixels

PAPER_DISTANCE = 60      # colour distance (sum over RGB) from paper that counts as ink or mask
UNIFORM_STD = 6.0        # a pixel whose 5×5 neighbourhood varies less than this is "flat"
SOLID_FRACTION = 0.6     # flat non-paper share of a region that makes it a mask
BLANK_FRACTION = 0.02    # non-paper share below which a region is empty
READABLE_CONF = 0.6
WORD_GAP = 1.6           # components closer than this × text height belong to one value
START_GAP = 4.0          # the value starts within this × text height of its label


BACKGROUND_STEP = 4      # the paper colour is estimated on a 1/4-scale copy …
BACKGROUND_WINDOW = 0.06  # … with a median over this share of the page's long side


@dataclass(frozen=True)
class PaperModel:
    """The local paper colour and per-pixel maps, derived once per page."""

    background: np.ndarray  # H×W×3 uint8: the paper colour around each pixel
    nonpaper: np.ndarray    # bool H×W: ink, a mask, a sticky note … anything but paper
    flat: np.ndarray        # bool H×W: locally uniform


def paper_background(rgb: np.ndarray) -> np.ndarray:
    """Paper colour at every pixel: a wide median, so shading and coloured stock are paper
    while text lines and mask boxes (thin next to the window) are not."""
    h, w = rgb.shape[:2]
    small = cv2.resize(rgb, (max(1, w // BACKGROUND_STEP), max(1, h // BACKGROUND_STEP)),
                       interpolation=cv2.INTER_AREA)
    k = max(3, int(BACKGROUND_WINDOW * max(small.shape[:2])) | 1)
    bg = cv2.medianBlur(small, min(k, 255))
    return cv2.resize(bg, (w, h), interpolation=cv2.INTER_LINEAR)


def paper_model(rgb: np.ndarray) -> PaperModel:
    background = paper_background(rgb)
    dist = np.abs(rgb.astype(np.int16) - background.astype(np.int16)).sum(axis=2)
    nonpaper = dist > PAPER_DISTANCE
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    mean = cv2.blur(gray, (5, 5))
    sq = cv2.blur(gray * gray, (5, 5))
    std = np.sqrt(np.maximum(sq - mean * mean, 0))
    return PaperModel(background, nonpaper, std < UNIFORM_STD)


def value_region(model: PaperModel, label: BBox, limit_x: float) -> BBox | None:
    """Bound the ink or mask right of a label (or, failing that, under it), relative box."""
    h_img, w_img = model.nonpaper.shape
    lx0, ly0, lx1, ly1 = to_pixels(label, w_img, h_img)
    th = max(ly1 - ly0, 4)
    right = (lx1 + th // 5, ly0 - th // 3, int(limit_x * w_img) - 2, ly1 + th // 3)
    box = _chain(model.nonpaper, right, th, anchor_x=lx1)
    if box is None:
        below = (lx0 - th, ly1 + 1, min(int(limit_x * w_img), lx0 + 14 * th), ly1 + 2 * th)
        box = _chain(model.nonpaper, below, th, anchor_x=lx0 - th)
    return from_pixels(box, w_img, h_img) if box else None


def _chain(nonpaper: np.ndarray, band: tuple[int, int, int, int], th: int,
           anchor_x: int) -> tuple[int, int, int, int] | None:
    h_img, w_img = nonpaper.shape
    x0, y0, x1, y1 = (max(band[0], 0), max(band[1], 0), min(band[2], w_img), min(band[3], h_img))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    crop = nonpaper[y0:y1, x0:x1].astype(np.uint8)
    crop = cv2.morphologyEx(crop, cv2.MORPH_CLOSE, np.ones((3, max(3, th // 3)), np.uint8))
    n, _, stats, _ = cv2.connectedComponentsWithStats(crop, connectivity=8)
    comps = sorted((stats[i] for i in range(1, n) if stats[i][4] >= max(4, th * th // 40)),
                   key=lambda s: s[0])
    box: list[int] | None = None
    for cx, cy, cw, ch, _ in comps:
        gx = cx + x0
        if box is None:
            if gx - anchor_x > START_GAP * th:
                break
            box = [gx, cy + y0, gx + cw, cy + y0 + ch]
        elif gx - box[2] <= WORD_GAP * th:
            box = [box[0], min(box[1], cy + y0), max(box[2], gx + cw), max(box[3], cy + y0 + ch)]
        else:
            break
    return tuple(box) if box else None


@dataclass(frozen=True)
class MaskState:
    state: str  # "visible" | "masked"
    evidence: tuple[str, ...]


SOLID_MIN_PX = 12         # a solid blob smaller than this (px, each side) may be a glyph stroke
SOLID_FILL = 0.85         # share of its bounding box a mask blob fills (text on a bar has holes)


def solid_blobs(model: PaperModel) -> np.ndarray:
    """Bool mask of solid covers (boxes, sticky notes, marker): paint-outs hidden from OCR."""
    solid = (model.nonpaper & model.flat).astype(np.uint8)
    solid = cv2.morphologyEx(solid, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(solid, connectivity=8)
    keep = np.zeros(n, bool)
    for i in range(1, n):
        _, _, w, h, a = stats[i]
        if w >= SOLID_MIN_PX and h >= SOLID_MIN_PX and a >= SOLID_FILL * w * h:
            keep[i] = True
    return keep[labels]


def on_solid(model: PaperModel, box: BBox) -> bool:
    """True when a (recognised) character's box lies on a solid mask rather than on paper."""
    h_img, w_img = model.nonpaper.shape
    x0, y0, x1, y1 = to_pixels(box, w_img, h_img)
    if x1 <= x0 or y1 <= y0:
        return False
    return float((model.nonpaper[y0:y1, x0:x1] & model.flat[y0:y1, x0:x1]).mean()) >= SOLID_FRACTION


def readable_chars(chars: list[tuple[str, float]]) -> int:
    """How many characters read in a region are real glyphs read with confidence."""
    return sum(1 for ch, conf in chars if conf >= READABLE_CONF and (ch.isalnum()))


def mask_state(model: PaperModel, region: BBox, chars: list[tuple[str, float]],
               hidden: int = 0) -> MaskState:
    """State of a value region given the characters read inside it (text, confidence).

    ``hidden`` counts characters recoverable from the file (PDF text under a box, an OCR
    layer …): any of them makes the field visible whatever the pixels show.
    """
    if hidden:
        return MaskState("visible", ("recoverable_text",))
    if readable_chars(chars):
        return MaskState("visible", ("text_read",))
    h_img, w_img = model.nonpaper.shape
    x0, y0, x1, y1 = to_pixels(region, w_img, h_img)
    if x1 <= x0 or y1 <= y0:
        return MaskState("visible", ("empty_region",))
    nonpaper = model.nonpaper[y0:y1, x0:x1]
    solid = (nonpaper & model.flat[y0:y1, x0:x1]).mean()
    if solid >= SOLID_FRACTION:
        return MaskState("masked", ("solid_cover",))
    if nonpaper.mean() < BLANK_FRACTION:
        return MaskState("masked", ("blank",))
    return MaskState("visible", ("ink_unread",))
