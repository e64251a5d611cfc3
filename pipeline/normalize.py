"""Upright, flattened working image: find the document in the frame, fix perspective and skew.

Every step composes a pixel transform from the submitted page to the working image; the page
keeps its inverse (on relative coordinates) as ``to_source``. A failed estimate is returned as
evidence (``document_not_found`` …), never silently treated as success.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from pipeline.geometry import relative_transform
from pipeline.model import Page

DETECT_LONG_SIDE = 800          # px: document-quad search runs on a downscaled copy
MIN_DOC_AREA, MAX_DOC_AREA = 0.03, 0.92  # the quad's share of the frame (a card on A4: ~7%)
RING_PX = 6                     # px (downscaled): bands inside/outside a quad's edge compared
MIN_EDGE_CONTRAST = 30          # colour distance (sum over RGB) between paper and surroundings
SKEW_RANGE, SKEW_COARSE, SKEW_STEP = 5.0, 1.0, 0.25  # degrees searched for deskew
SKEW_LONG_SIDE = 700            # px: the projection search runs on a small copy
PROFILE_INK_DELTA = 40         # grey levels below the median that count as ink in profiles
PROFILE_MIN_INK = 0.002         # less ink than this: a blank page, nothing to measure
VERTICAL_RATIO = 1.5            # column/row profile contrast that says the lines run vertically
MIN_SKEW = 0.3                  # smaller angles are left alone


@dataclass(frozen=True)
class Step:
    image: np.ndarray
    matrix: np.ndarray  # pixel transform: input image → output image
    evidence: tuple[str, ...] = ()


def _paper_quad(rgb: np.ndarray) -> np.ndarray | None:
    """Corners (TL, TR, BR, BL, in input pixels) of the largest paper-like quadrilateral."""
    h, w = rgb.shape[:2]
    scale = DETECT_LONG_SIDE / max(h, w)
    small = cv2.resize(rgb, (max(1, int(w * scale)), max(1, int(h * scale))),
                       interpolation=cv2.INTER_AREA)
    gray = cv2.GaussianBlur(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY), (5, 5), 0)
    edges = cv2.Canny(gray, 30, 90)
    edges = cv2.dilate(edges, np.ones((3, 3), np.uint8))
    contours, _ = cv2.findContours(edges, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    frame_area = small.shape[0] * small.shape[1]
    best, best_area = None, 0.0
    for c in contours:
        hull = cv2.convexHull(c)
        area = cv2.contourArea(hull)
        fits = MIN_DOC_AREA * frame_area <= area <= MAX_DOC_AREA * frame_area
        if not fits or area <= best_area:
            continue
        approx = cv2.approxPolyDP(hull, 0.02 * cv2.arcLength(hull, True), True)
        if len(approx) == 4 and _stands_out(small, approx.reshape(4, 2)):
            best, best_area = approx.reshape(4, 2).astype(np.float64), area
    if best is None:
        return None
    return _order_corners(best) / scale


def _stands_out(small: np.ndarray, quad: np.ndarray) -> bool:
    """A sheet differs in colour from what lies around it. (A table printed on the sheet may
    pass too: the caller falls back to the whole frame when the flattened page reads badly.)"""
    inside = np.zeros(small.shape[:2], np.uint8)
    cv2.fillPoly(inside, [quad.astype(np.int32)], 1)
    kernel = np.ones((2 * RING_PX + 1, 2 * RING_PX + 1), np.uint8)
    outer = cv2.dilate(inside, kernel).astype(bool) & ~inside.astype(bool)
    shrunk = cv2.erode(inside, np.ones((5, 5), np.uint8))
    margin = shrunk.astype(bool) & ~cv2.erode(shrunk, kernel).astype(bool)
    if outer.sum() < 10 or margin.sum() < 10:
        return False
    diff = np.abs(np.median(small[outer], axis=0) - np.median(small[margin], axis=0)).sum()
    return bool(diff > MIN_EDGE_CONTRAST)


def _order_corners(pts: np.ndarray) -> np.ndarray:
    s, d = pts.sum(axis=1), np.diff(pts, axis=1).ravel()
    return np.array([pts[np.argmin(s)], pts[np.argmin(d)], pts[np.argmax(s)], pts[np.argmax(d)]])


def flatten(rgb: np.ndarray) -> Step:
    """Warp the document found in the frame to a rectangle (identity when none is found)."""
    quad = _paper_quad(rgb)
    if quad is None:
        return Step(rgb, np.eye(3), ("document_not_found",))
    tl, tr, br, bl = quad
    width = int(max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl)))
    height = int(max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr)))
    dst = np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]], np.float64)
    matrix = cv2.getPerspectiveTransform(quad.astype(np.float32), dst.astype(np.float32))
    out = cv2.warpPerspective(rgb, matrix, (width, height), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)
    return Step(out, matrix.astype(np.float64), ("document_found",))


def skew_angle(rgb: np.ndarray) -> float:
    """Small text skew in degrees (positive: counter-clockwise), by projection-profile search:
    a coarse sweep on a small copy, then a fine one around the best coarse angle."""
    ink = _small_ink(rgb)
    if ink is None:
        return 0.0
    coarse = _best_angle(ink, np.arange(-SKEW_RANGE, SKEW_RANGE + 1e-9, SKEW_COARSE))
    return _best_angle(ink, np.arange(coarse - SKEW_COARSE, coarse + SKEW_COARSE + 1e-9,
                                      SKEW_STEP))


def lines_run_vertically(rgb: np.ndarray) -> bool:
    """True when the text lines run top to bottom (a page turned by 90° or 270°): ink summed
    along columns then alternates between lines and gaps more than along rows."""
    ink = _small_ink(rgb)
    if ink is None:
        return False
    rows = np.var(ink.sum(axis=1)) / ink.shape[1] ** 2
    cols = np.var(ink.sum(axis=0)) / ink.shape[0] ** 2
    return bool(cols > VERTICAL_RATIO * rows)


def _small_ink(rgb: np.ndarray) -> np.ndarray | None:
    """Ink of a small copy (float 0/1) for profile measurements, or None on a blank page."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    scale = SKEW_LONG_SIDE / max(gray.shape)
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    ink = (small < np.median(small) - PROFILE_INK_DELTA).astype(np.float32)
    return ink if ink.mean() >= PROFILE_MIN_INK else None


def _best_angle(ink: np.ndarray, angles: np.ndarray) -> float:
    h, w = ink.shape
    centre = (w / 2, h / 2)
    best, best_score = 0.0, -1.0
    for angle in angles:
        rot = cv2.warpAffine(ink, cv2.getRotationMatrix2D(centre, float(angle), 1.0), (w, h))
        score = float(np.var(rot.sum(axis=1)))
        if score > best_score:
            best, best_score = float(angle), score
    return best


def deskew(rgb: np.ndarray) -> Step:
    angle = skew_angle(rgb)
    if abs(angle) < MIN_SKEW:
        return Step(rgb, np.eye(3))
    h, w = rgb.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(h * sin + w * cos), int(h * cos + w * sin)
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    out = cv2.warpAffine(rgb, m, (nw, nh), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REPLICATE)
    return Step(out, np.vstack([m, [0, 0, 1]]), (f"deskew:{angle:+.2f}",))


def rotate_quarter(rgb: np.ndarray, quarter_turns_ccw: int) -> Step:
    """Rotate by k×90° counter-clockwise (numpy's rot90 convention)."""
    k = quarter_turns_ccw % 4
    if k == 0:
        return Step(rgb, np.eye(3))
    h, w = rgb.shape[:2]
    out = np.ascontiguousarray(np.rot90(rgb, k))
    # Pixel maps for rot90: k=1 (x, y) → (y, w-1-x); k=2 → (w-1-x, h-1-y); k=3 → (h-1-y, x).
    matrices = {
        1: np.array([[0, 1, 0], [-1, 0, w], [0, 0, 1]], float),
        2: np.array([[-1, 0, w], [0, -1, h], [0, 0, 1]], float),
        3: np.array([[0, -1, h], [1, 0, 0], [0, 0, 1]], float),
    }
    return Step(out, matrices[k], (f"rotate:{90 * k}",))


def apply(page: Page, steps: list[Step]) -> Page:
    """Compose steps onto a page: new working image and the relative map back to the source."""
    if not steps:
        return page
    forward = np.eye(3)
    for step in steps:
        forward = step.matrix @ forward
    src_h, src_w = page.image.shape[:2]
    out = steps[-1].image
    rel_forward = relative_transform(forward, (src_w, src_h), (out.shape[1], out.shape[0]))
    to_source = page.to_source @ np.linalg.inv(rel_forward)
    evidence = tuple(e for s in steps for e in s.evidence)
    return replace(page, image=out, to_source=to_source, evidence=page.evidence + evidence)
