"""Which characters of a page are hidden but still extractable.

Two ways text hides while staying in the file:

* **covered** — most of the character's box is painted over by an opaque fill, thick stroke,
  annotation or image drawn *after* it (drawing order from MuPDF's ``seqno``);
* **camouflaged** — it is drawn in the colour of the opaque fill (or white page) right beneath
  it, e.g. black text on a black box drawn first.

Images are only trusted as covers where the rendered page actually shows the image's pixels
(an image's clipping path is not reported by PyMuPDF), and they never count as covering
invisible text: a scanned page drawn over its own OCR layer is the normal case, judged from
pixels by ``hidden_text_words`` instead.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pymupdf

from redaction.pagescan import Cover, PageScan
from redaction.pdfgeom import INSIDE, UNSURE

CHAR_INSET = 0.2  # sample a character's box shrunk by this fraction on each side …
CHAR_GRID = 4  # … on a CHAR_GRID × CHAR_GRID grid of points …
CHAR_COVERED_SHARE = 0.7  # … and call it covered when this share of the points is painted over
SAME_COLOUR = 0.05  # per-channel distance at which a text colour equals its background
STAMP_REPEATS = 3  # identical camouflaged text in this many places is a tool's stamp
RENDER_DPI = 72  # resolution of the render that settles what geometry alone cannot
RENDER_MATCH = 0.12  # colour difference (0..1 per channel) under which two colours match


@dataclass(frozen=True)
class Hidden:
    """Per-character flags, aligned with ``PageScan.chars``."""

    covered: np.ndarray  # bool (N,): painted over by something drawn later
    camouflaged: np.ndarray  # bool (N,): same colour as the opaque fill right beneath
    blended: np.ndarray  # bool (N,): same colour as the bare page (white on white)


def _sample_points(boxes: np.ndarray) -> np.ndarray:
    """(N, G, 2) sample points inside each box (inset grid)."""
    t = np.linspace(CHAR_INSET, 1 - CHAR_INSET, CHAR_GRID)
    gx, gy = np.meshgrid(t, t)
    gx, gy = gx.ravel(), gy.ravel()
    w = (boxes[:, 2] - boxes[:, 0])[:, None]
    h = (boxes[:, 3] - boxes[:, 1])[:, None]
    xs = boxes[:, 0:1] + w * gx[None, :]
    ys = boxes[:, 1:2] + h * gy[None, :]
    return np.stack([xs, ys], axis=2)


def _overlapping(boxes: np.ndarray, bbox: tuple[float, float, float, float]) -> np.ndarray:
    return ((boxes[:, 0] < bbox[2]) & (boxes[:, 2] > bbox[0])
            & (boxes[:, 1] < bbox[3]) & (boxes[:, 3] > bbox[1]))


class _Render:
    """A lazily rendered RGB page, to check what is really shown at a point."""

    def __init__(self, page: pymupdf.Page) -> None:
        self.page = page
        self._img: np.ndarray | None = None

    def rgb(self, pts: np.ndarray) -> np.ndarray:
        """(K, 3) colours (0..1) shown at unrotated page points."""
        if self._img is None:
            pix = self.page.get_pixmap(dpi=RENDER_DPI, colorspace=pymupdf.csRGB, alpha=False,
                                       annots=True)
            raw = np.frombuffer(pix.samples, np.uint8).reshape(pix.height, pix.stride)
            self._img = raw[:, : pix.width * 3].reshape(pix.height, pix.width, 3) / 255.0
        m = self.page.rotation_matrix * pymupdf.Matrix(RENDER_DPI / 72, RENDER_DPI / 72)
        x = pts[:, 0] * m.a + pts[:, 1] * m.c + m.e
        y = pts[:, 0] * m.b + pts[:, 1] * m.d + m.f
        h, w = self._img.shape[:2]
        return self._img[np.clip(y.astype(int), 0, h - 1), np.clip(x.astype(int), 0, w - 1)]

    def grey(self, pts: np.ndarray) -> np.ndarray:
        return self.rgb(pts).mean(axis=1)

    def shows(self, pts: np.ndarray, colour: tuple[float, float, float] | None) -> np.ndarray:
        """Per point: is the rendered colour this colour?"""
        if colour is None:
            return np.zeros(len(pts), bool)
        return np.all(np.abs(self.rgb(pts) - np.asarray(colour)) <= RENDER_MATCH, axis=1)


def _image_shows(page: pymupdf.Page, cover: Cover, pts: np.ndarray, render: _Render) -> np.ndarray:
    """For each point: does the rendered page show this image's own pixels there?"""
    try:
        pix = pymupdf.Pixmap(page.parent, cover.xref)
        if pix.colorspace is None or pix.n - pix.alpha != 1:
            pix = pymupdf.Pixmap(pymupdf.csGRAY, pix)
    except (RuntimeError, ValueError):
        return np.zeros(len(pts), bool)
    img = np.frombuffer(pix.samples, np.uint8).reshape(pix.height, pix.stride)
    img = img[:, : pix.width * pix.n : pix.n] / 255.0
    inv = ~pymupdf.Matrix(cover.transform)
    u = pts[:, 0] * inv.a + pts[:, 1] * inv.c + inv.e
    v = pts[:, 0] * inv.b + pts[:, 1] * inv.d + inv.f
    own = img[np.clip((v * pix.height).astype(int), 0, pix.height - 1),
              np.clip((u * pix.width).astype(int), 0, pix.width - 1)]
    return np.abs(own - render.grey(pts)) < RENDER_MATCH


def _covered(page: pymupdf.Page, scan: PageScan, boxes: np.ndarray, seq: np.ndarray,
             invisible: np.ndarray, render: _Render) -> np.ndarray:
    n = len(boxes)
    pts = _sample_points(boxes)
    g = pts.shape[1]
    painted = np.zeros((n, g), bool)
    for cover in scan.covers:
        cand = (seq < cover.seqno) & _overlapping(boxes, cover.region.bbox)
        if cover.kind == "image":
            cand &= ~invisible
        if not cand.any():
            continue
        flat = pts[cand].reshape(-1, 2)
        cls = cover.region.classify(flat)
        hit = cls == INSIDE
        if (cls == UNSURE).any():  # a nested rectangle or a hole: ask the render
            # Painted only if the render shows the fill colour at *every* unsure point of the
            # character: through a hole, some background shows between the glyph's strokes.
            unsure = cls == UNSURE
            shows = np.ones_like(hit)
            shows[unsure] = render.shows(flat[unsure], cover.color)
            solid = shows.reshape(-1, g).all(axis=1)
            hit |= unsure & np.repeat(solid, g)
        if cover.kind == "image" and hit.any():
            hit[hit] = _image_shows(page, cover, flat[hit], render)
        painted[cand] |= hit.reshape(-1, g)
    return painted.mean(axis=1) >= CHAR_COVERED_SHARE if n else np.zeros(0, bool)


def _camouflaged(scan: PageScan, boxes: np.ndarray, seq: np.ndarray, invisible: np.ndarray,
                 render: _Render) -> tuple[np.ndarray, np.ndarray]:
    """(on a fill, on the bare page): text in the colour of what lies right beneath it.

    Confirmed on the render: the character's box must show nothing but that colour.
    """
    n = len(boxes)
    if not n:
        return np.zeros(0, bool), np.zeros(0, bool)
    centres = np.column_stack([(boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2])
    background = np.ones((n, 3))  # the page is white
    on_fill = np.zeros(n, bool)
    decided = np.zeros(n, bool)
    for cover in sorted(scan.covers, key=lambda c: c.seqno, reverse=True):
        cand = ~decided & (seq > cover.seqno) & _overlapping(boxes, cover.region.bbox)
        if not cand.any():
            continue
        idx = np.flatnonzero(cand)
        cls = cover.region.classify(centres[idx])
        hit = cls == INSIDE
        if (cls == UNSURE).any():
            hit[cls == UNSURE] = render.shows(centres[idx][cls == UNSURE], cover.color)
        idx = idx[hit]
        decided[idx] = True
        if cover.color is None or cover.kind.startswith("image"):
            background[idx] = np.nan  # unknown colour beneath
        else:
            background[idx] = cover.color
            on_fill[idx] = True
    colours = np.array([c.color if c.color is not None else (np.nan,) * 3 for c in scan.chars])
    same = np.all(np.abs(colours - background) <= SAME_COLOUR, axis=1) & ~invisible
    for i in np.flatnonzero(same):
        pts = _sample_points(boxes[i : i + 1])[0]
        same[i] = bool(render.shows(pts, tuple(colours[i])).all())
    return same & on_fill, same & ~on_fill


def hidden_chars(page: pymupdf.Page, scan: PageScan) -> Hidden:
    """Covered / camouflaged / blended flags for every character of the page."""
    boxes = np.array([c.box for c in scan.chars], float).reshape(-1, 4)
    seq = np.array([c.seqno for c in scan.chars], int)
    invisible = np.array([c.invisible for c in scan.chars], bool)
    render = _Render(page)
    covered = _covered(page, scan, boxes, seq, invisible, render)
    camo, blended = _camouflaged(scan, boxes, seq, invisible, render)
    return Hidden(covered, camo & ~covered, blended & ~covered)


def drop_stamps(texts: list[str], camo_only: list[bool]) -> list[int]:
    """Indices of runs to keep: camouflaged text repeated ``STAMP_REPEATS``+ times is a stamp.

    Redaction tools print the same label (a date, "REDACTED") on every box they draw; hidden
    content is not identical in several places.
    """
    counts = Counter(t for t, c in zip(texts, camo_only, strict=True) if c)
    return [i for i, (t, c) in enumerate(zip(texts, camo_only, strict=True))
            if not (c and counts[t] >= STAMP_REPEATS)]
