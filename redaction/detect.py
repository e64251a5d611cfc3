"""Mask state of a field from pixels and readable text: visible, masked, or nothing there.

Fail closed: a value region is ``masked`` only when a cover (a solid box, marker strokes, a
sticky note) lies over it, or it is blank; ink that is neither covered nor read (blur, a fine
mosaic, a translucent highlighter) counts as ``visible``.

A *cover* is thick non-paper paint with no ink inside it: thick, because its inscribed radius
is well above a pen stroke's; nothing inside, because a translucent highlighter still shows
darker glyphs through it while a box, marker or sticky note does not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.geometry import BBox, from_pixels, to_pixels
from pipeline.ocrprep import remove_rules, text_height

PAPER_DISTANCE = 60       # colour distance (sum over RGB) from paper that counts as ink or paint
BACKGROUND_STEP = 4       # the paper colour is estimated on a 1/4-scale copy …
BACKGROUND_WINDOW = 0.12  # … with a median over this share of the long side (> 3 mask heights)
COVER_RADIUS = 0.22       # × glyph height: paint thicker than this (inscribed radius) may cover
COVER_MIN_RADIUS = 3.0    # px, whatever the glyph height
CORE_MIN_LENGTH = 1.0     # × glyph height: the thick core of paint runs at least this far
DARK_PAINT = 100          # grey level below which paint (box, marker) hides everything under it
DARK_INK_DELTA = 70       # grey levels below the paper that make ink (a soft shadow is not)
INNER_INK_DELTA = 60      # grey levels darker than a cover's mean that count as ink inside it
INNER_INK_SHARE = 0.04    # a cover with more ink inside than this is translucent (highlighter)
MIN_COVER_SHARE = 0.2     # a value region is masked when paint covers at least this share …
FREE_INK_SHARE = 0.03     # … and ink away from the paint stays under this share (else visible)
COVER_EDGE = 0.4          # × glyph height: the ragged rim around paint (marker ends, gaps)
CORE_INSET = 0.15         # share of a region's height ignored at top and bottom for free ink
CHAR_ON_COVER = 0.3       # share of a recognised character's box at paint that makes it junk
BLANK_SHARE = 0.02        # non-paper share below which a region is empty
READABLE_CONF = 0.6
MIN_COMPONENT_DIV = 12    # value components are larger than (text height)² / this …
MIN_COMPONENT_HEIGHT = 0.25  # … and taller than this × text height
WORD_GAP = 1.6            # components closer than this × text height belong to one value
START_GAP = 30.0          # the value starts within this × text height of its label
DEFAULT_GLYPH_PX = 20.0
MODEL_LONG_SIDE = 1400    # px: pixel maps are computed on a copy at most this long
RULE_THICKNESS = 0.25     # × glyph height: table rules are thinner; marker strokes are not


@dataclass(frozen=True)
class PaperModel:
    """Per-pixel maps of a page, derived once."""

    background: np.ndarray  # H×W×3 uint8: the paper colour around each pixel
    nonpaper: np.ndarray    # bool: ink, paint, notes … anything but paper (table rules removed)
    covers: np.ndarray      # bool: opaque paint that hides what is under it
    near_covers: np.ndarray  # bool: covers grown by their ragged edge (marker ends, gaps)
    glyph_px: float         # typical glyph height
    dark: np.ndarray | None = None  # bool: clearly darker than the paper (ink, not a shadow)


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
    """Maps of a page at most ``MODEL_LONG_SIDE`` px long (geometry is relative, so callers
    never see the scale; ``glyph_px`` is in the model's own pixels)."""
    scale = MODEL_LONG_SIDE / max(rgb.shape[:2])
    if scale < 1.0:
        rgb = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    background = paper_background(rgb)
    dist = np.abs(rgb.astype(np.int16) - background.astype(np.int16)).sum(axis=2)
    nonpaper = dist > PAPER_DISTANCE
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    flat = np.clip(gray.astype(np.float32) / np.maximum(
        cv2.cvtColor(background, cv2.COLOR_RGB2GRAY).astype(np.float32), 1) * 255, 0, 255)
    glyph = text_height(flat.astype(np.uint8)) or DEFAULT_GLYPH_PX
    thin = max(3, int(RULE_THICKNESS * glyph))
    ruled = remove_rules(np.where(nonpaper, 0, 255).astype(np.uint8), max_thickness=thin) == 0
    covers = find_covers(gray, ruled, glyph)
    k = max(3, int(COVER_EDGE * glyph) | 1)
    near = cv2.dilate(covers.astype(np.uint8), np.ones((k, k), np.uint8)).astype(bool)
    dark = ruled & (flat < 255 - DARK_INK_DELTA)
    return PaperModel(background, ruled, covers, near, glyph, dark)


def find_covers(gray: np.ndarray, nonpaper: np.ndarray, glyph_px: float) -> np.ndarray:
    """Bool map of opaque paint: thick non-paper regions with no ink showing through."""
    radius = max(COVER_MIN_RADIUS, COVER_RADIUS * glyph_px)
    dist = cv2.distanceTransform(nonpaper.astype(np.uint8), cv2.DIST_L2, 3)
    core = (dist >= radius).astype(np.uint8)
    if not core.any():
        return np.zeros_like(nonpaper)
    # Bold strokes are thick only at their crossings; paint is thick along its length.
    n, labels, stats, _ = cv2.connectedComponentsWithStats(core, connectivity=8)
    long_side = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT])
    keep = long_side >= CORE_MIN_LENGTH * glyph_px
    keep[0] = False
    core = keep[labels].astype(np.uint8)
    if not core.any():
        return np.zeros_like(nonpaper)
    k = int(2 * radius + 1)
    thick = cv2.dilate(core, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    thick = thick.astype(bool) & nonpaper
    n, labels, stats, _ = cv2.connectedComponentsWithStats(thick.astype(np.uint8), connectivity=8)
    opaque = np.zeros(n, bool)
    for i in range(1, n):
        x, y, w, h, _ = stats[i]
        values = gray[y:y + h, x:x + w][labels[y:y + h, x:x + w] == i]
        paint = float(np.median(values))
        # Dark paint hides everything under it; light paint (a sticky note) is opaque only if
        # no darker ink shows through it, as it does through a highlighter.
        inner = float((values < paint - INNER_INK_DELTA).mean())
        opaque[i] = paint < DARK_PAINT or inner < INNER_INK_SHARE
    return opaque[labels]


def with_covers(model: PaperModel, boxes: list[BBox]) -> PaperModel:
    """The model with known paint added (filled shapes of a PDF page), relative boxes."""
    if not boxes:
        return model
    covers = model.covers.copy()
    nonpaper = model.nonpaper.copy()
    h, w = covers.shape
    for box in boxes:
        x0, y0, x1, y1 = to_pixels(box, w, h)
        covers[y0:y1, x0:x1] = True
        nonpaper[y0:y1, x0:x1] = True
    k = max(3, int(COVER_EDGE * model.glyph_px) | 1)
    near = cv2.dilate(covers.astype(np.uint8), np.ones((k, k), np.uint8)).astype(bool)
    return PaperModel(model.background, nonpaper, covers, near, model.glyph_px, model.dark)


def value_region(model: PaperModel, label: BBox, limit_x: float) -> BBox | None:
    """Bound the ink or paint right of a label (or, failing that, under it), relative box."""
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
    # Specks and thin runs (what is left of a slanted rule) are no part of a value.
    comps = sorted((stats[i] for i in range(1, n)
                    if stats[i][4] >= max(4, th * th // MIN_COMPONENT_DIV)
                    and stats[i][3] >= th * MIN_COMPONENT_HEIGHT), key=lambda s: s[0])
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


def _share(mask: np.ndarray, box: BBox) -> float | None:
    h_img, w_img = mask.shape
    x0, y0, x1, y1 = to_pixels(box, w_img, h_img)
    if x1 <= x0 or y1 <= y0:
        return None
    return float(mask[y0:y1, x0:x1].mean())


def _core(box: BBox) -> BBox:
    """The middle band of a value region: padding may catch table rules above and below."""
    inset = CORE_INSET * (box[3] - box[1])
    return (box[0], box[1] + inset, box[2], box[3] - inset)


def on_cover(model: PaperModel, box: BBox) -> bool:
    """True when a recognised character's box overlaps paint: a glyph on paper has none under
    it, a glyph cut by a box is no longer readable, and OCR junk read off paint has a lot."""
    share = _share(model.near_covers, box)
    return share is not None and share >= CHAR_ON_COVER


# What a value of each kind is made of; OCR junk read off a mask rarely fits (a kanji read
# off marker strokes is no digit of a number). How many such characters make it readable.
_KIND_CHARS: dict[str, tuple[re.Pattern[str], int]] = {
    "digits": (re.compile(r"[0-9]"), 1),
    "code": (re.compile(r"[0-9A-Za-z\u3040-\u30ff\u4e00-\u9fff]"), 1),
    "date": (re.compile(r"[0-9元]"), 1),
    "name": (re.compile(r"[\u3040-\u30ff\u4e00-\u9fff\uf900-\ufaff々]"), 2),
    "kana": (re.compile(r"[\u30a1-\u30fa\uff66-\uff9d]"), 2),
    "text": (re.compile(r"[0-9A-Za-z\u3040-\u30ff\u4e00-\u9fff々]"), 2),
    "choice": (re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]"), 1),
}


def looks_like(text: str, kind: str) -> bool:
    """Does recognised text contain enough characters of the value's kind to be a reading?"""
    pattern, needed = _KIND_CHARS.get(kind, _KIND_CHARS["text"])
    return sum(1 for ch in text if pattern.fullmatch(ch)) >= needed


def readable_chars(chars: list[tuple[str, float]], kind: str = "text") -> int:
    """How many characters read in a region are glyphs of the value's kind, read confidently."""
    pattern, _ = _KIND_CHARS.get(kind, _KIND_CHARS["text"])
    return sum(1 for ch, conf in chars if conf >= READABLE_CONF and pattern.fullmatch(ch))


def reads_as(chars: list[tuple[str, float]], kind: str) -> bool:
    """Enough confidently read characters of the value's kind to call the value readable."""
    return readable_chars(chars, kind) >= _KIND_CHARS.get(kind, _KIND_CHARS["text"])[1]


def mask_state(model: PaperModel, region: BBox, chars: list[tuple[str, float]],
               kind: str = "text") -> MaskState:
    """State of a value region given the characters read inside it (text, confidence)."""
    if reads_as(chars, kind):
        return MaskState("visible", ("text_read",))
    covered = _share(model.covers, region)
    ink = _share(model.nonpaper, region)
    if covered is None or ink is None:
        return MaskState("visible", ("empty_region",))
    if ink < BLANK_SHARE:
        return MaskState("masked", ("blank",))
    ink_map = model.dark if model.dark is not None else model.nonpaper
    free = _share(ink_map & ~model.near_covers, _core(region)) or 0.0
    if free < FREE_INK_SHARE:  # no dark ink left outside paint: a cover, or a blank (white-out)
        return MaskState("masked", ("cover",) if covered >= MIN_COVER_SHARE else ("blank",))
    return MaskState("visible", ("ink_unread",))
