"""One pass over a PDF page: characters with drawing order, and the opaque things painted on it.

All coordinates are PyMuPDF's unrotated page space. ``seqno`` is MuPDF's drawing sequence
number (the index in ``Page.get_bboxlog()``), shared by text, paths and images, so "painted
after" is a comparison of integers. Text stays inside these objects: never log it.
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pymupdf

from redaction.pdfgeom import Area, Region, rect_area, subpaths

OPAQUE_ALPHA = 0.99  # fill / group opacity at or above which paint hides what is below
MIN_STROKE_WIDTH = 3.0  # points; thinner strokes (rules, borders, hatching) never hide text
INVISIBLE_MODES = frozenset({3, 7})  # text render modes that paint nothing
ANNOTATION_ORDER = 10**9  # annotations without an appearance stream sit above all content
WORD_GAP = 0.3  # a gap wider than this share of the font height starts a new word

_PLACEHOLDER = re.compile(
    r"^(?:REDACTED|REDACTION|REDACT|X{2,}|PRIVILEGED?|CONFIDENTIAL|黒塗り|墨消し|マスキング|非開示|秘)$"
)


@dataclass(frozen=True)
class Char:
    ch: str = field(repr=False)
    box: tuple[float, float, float, float]
    seqno: int
    invisible: bool  # render mode 3 or fully transparent: paints nothing
    size: float
    color: tuple[float, float, float] | None = None


@dataclass(frozen=True)
class Cover:
    """Something opaque painted on the page: a filled path, thick stroke, annotation or image."""

    region: Region
    seqno: int
    color: tuple[float, float, float] | None
    kind: str  # "fill" | "annotation" | "image" (opaque) | "image-masked"
    xref: int = 0  # the image's xref, for images
    transform: tuple[float, ...] = ()  # image unit square → page space, for images


@dataclass(frozen=True)
class PageScan:
    chars: tuple[Char, ...] = field(repr=False)
    covers: tuple[Cover, ...]
    images: tuple[Cover, ...]  # every image placement (opaque or not)


def is_meaningful(text: str) -> bool:
    """True for text that leaks something: a letter or digit, and not a placeholder word."""
    if not any(unicodedata.category(c)[0] in "LN" for c in text):
        return False
    core = "".join(c for c in unicodedata.normalize("NFKC", text) if c.isalnum()).upper()
    return not _PLACEHOLDER.match(core)


def _char_box(span: dict, ch: tuple) -> tuple[float, float, float, float] | None:
    x0, y0, x1, y1 = ch[3]
    if x1 - x0 > 1e-3 and y1 - y0 > 1e-3:
        return (x0, y0, x1, y1)
    size = span.get("size") or 0.0
    if size <= 0:
        return None
    ox, oy = ch[2]
    return (ox, oy - 0.8 * size, ox + 0.5 * size, oy + 0.2 * size)


def _rgb(color: Sequence[float] | None) -> tuple[float, float, float] | None:
    if color is None:
        return None
    c = tuple(float(v) for v in color)
    if len(c) == 1:
        return (c[0], c[0], c[0])
    if len(c) == 4:  # CMYK
        k = c[3]
        return tuple((1 - min(1.0, v + k)) for v in c[:3])  # type: ignore[return-value]
    return c[:3]  # type: ignore[return-value]


def _stroke_area(path: dict) -> Area | None:
    """Thick strokes as a union of same-oriented quads (one per segment)."""
    width = path.get("width") or 0.0
    if width < MIN_STROKE_WIDTH:
        return None
    quads: list[np.ndarray] = []
    for ring in subpaths(path.get("items", ())):
        closed = any(it[0] in ("re", "qu") for it in path["items"]) or path.get("closePath")
        pts = np.vstack([ring, ring[:1]]) if closed else ring
        for a, b in itertools.pairwise(pts):
            d = b - a
            n = np.hypot(*d)
            if n < 1e-6:
                continue
            off = np.array([-d[1], d[0]]) / n * width / 2
            quads.append(np.array([a + off, b + off, b - off, a - off]))
    if not quads:
        return None
    quads = [q if _signed_area(q) > 0 else q[::-1] for q in quads]
    allp = np.vstack(quads)
    bbox = (*allp.min(axis=0), *allp.max(axis=0))
    return Area(tuple(quads), False, tuple(float(v) for v in bbox))


def _signed_area(ring: np.ndarray) -> float:
    x, y = ring[:, 0], ring[:, 1]
    return float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y)) / 2


def _path_covers(page: pymupdf.Page) -> list[Cover]:
    covers: list[Cover] = []
    stack: list[tuple[int, Area | None, float]] = []  # (level, clip area, group opacity)
    for path in page.get_drawings(extended=True):
        level = path.get("level", 0)
        while stack and stack[-1][0] >= level:
            stack.pop()
        kind = path.get("type")
        if kind == "clip":
            area = Area.from_items(path.get("items", ()), path.get("even_odd", False),
                                   path.get("scissor") or path.get("rect"))
            stack.append((level, area, 1.0))
            continue
        if kind == "group":
            stack.append((level, None, float(path.get("opacity", 1.0) or 1.0)))
            continue
        if math.prod(s[2] for s in stack) < OPAQUE_ALPHA:
            continue
        clips = tuple(s[1] for s in stack if s[1] is not None)
        seqno = path.get("seqno", 0)
        if "f" in kind and path.get("fill") is not None and \
                (path.get("fill_opacity") or 0.0) >= OPAQUE_ALPHA:
            area = Area.from_items(path["items"], path.get("even_odd", False), path["rect"])
            covers.append(Cover(Region(area, clips), seqno, _rgb(path["fill"]), "fill"))
        if "s" in kind and path.get("color") is not None and \
                (path.get("stroke_opacity") or 0.0) >= OPAQUE_ALPHA:
            stroke = _stroke_area(path)
            if stroke is not None:
                covers.append(Cover(Region(stroke, clips), seqno, _rgb(path["color"]), "fill"))
    return covers


def _annotation_covers(page: pymupdf.Page) -> list[Cover]:
    """Redact annotations (never applied) and filled annotations without an appearance stream.

    Annotations with an appearance stream are already in ``get_drawings``/``get_texttrace``.
    """
    covers: list[Cover] = []
    doc = page.parent
    for annot in page.annots() or ():
        kind = annot.type[0]
        fill = (annot.colors or {}).get("fill") or None
        no_ap = doc.xref_get_key(annot.xref, "AP")[0] == "null"
        hidden = annot.flags & (pymupdf.PDF_ANNOT_IS_HIDDEN | pymupdf.PDF_ANNOT_IS_NO_VIEW)
        opaque = annot.opacity < 0 or annot.opacity >= OPAQUE_ALPHA
        if kind == pymupdf.PDF_ANNOT_REDACT or (no_ap and fill and opaque and not hidden):
            covers.append(Cover(Region(rect_area(tuple(annot.rect))), ANNOTATION_ORDER,
                                _rgb(fill), "annotation"))
    return covers


def _image_covers(page: pymupdf.Page) -> list[Cover]:
    seqnos = [i for i, (kind, _) in enumerate(page.get_bboxlog()) if kind == "fill-image"]
    infos = sorted(page.get_image_info(xrefs=True), key=lambda d: d.get("number", 0))
    out: list[Cover] = []
    for n, info in enumerate(infos):
        m = pymupdf.Matrix(info["transform"])
        corners = [pymupdf.Point(x, y) * m for x, y in ((0, 0), (1, 0), (1, 1), (0, 1))]
        ring = np.array([(p.x, p.y) for p in corners], float)
        bbox = (*ring.min(axis=0), *ring.max(axis=0))
        area = Area((ring,), False, tuple(float(v) for v in bbox))
        opaque = not info.get("has-mask") and info.get("colorspace", 0) != 0
        seqno = seqnos[n] if n < len(seqnos) and len(seqnos) == len(infos) else -1
        out.append(Cover(Region(area), seqno, None, "image" if opaque else "image-masked",
                         int(info.get("xref", 0)), tuple(info["transform"])))
    return out


def _chars(page: pymupdf.Page) -> list[Char]:
    out: list[Char] = []
    for span in page.get_texttrace():
        invisible = span.get("type") in INVISIBLE_MODES or (span.get("opacity") or 0.0) <= 0.0
        color = _rgb(span.get("color"))
        size = float(span.get("size") or 0.0)
        for ch in span.get("chars", ()):
            box = _char_box(span, ch)
            if box is not None:
                text = chr(ch[0]) if ch[0] > 0 else "\ufffd"
                out.append(Char(text, box, span["seqno"], invisible, size, color))
    return out


def scan_page(page: pymupdf.Page) -> PageScan:
    """Characters and opaque covers of one page."""
    images = _image_covers(page)
    covers = _path_covers(page) + [c for c in images if c.kind == "image"]
    covers += _annotation_covers(page)
    return PageScan(tuple(_chars(page)), tuple(covers), tuple(images))


def _adjacent(a: Char, b: Char) -> bool:
    gap = WORD_GAP * max(a.size, b.size, 1.0)
    gx = max(0.0, b.box[0] - a.box[2], a.box[0] - b.box[2])
    gy = max(0.0, b.box[1] - a.box[3], a.box[1] - b.box[3])
    oy = min(a.box[3], b.box[3]) - max(a.box[1], b.box[1])
    ox = min(a.box[2], b.box[2]) - max(a.box[0], b.box[0])
    hmin = min(a.box[3] - a.box[1], b.box[3] - b.box[1])
    wmin = min(a.box[2] - a.box[0], b.box[2] - b.box[0])
    return (gx <= gap and oy >= 0.5 * hmin) or (gy <= gap and ox >= 0.5 * wmin)


def group_words(chars: Sequence[Char]) -> list[list[Char]]:
    """Split characters (in content order) into words: whitespace, jumps and layer changes."""
    words: list[list[Char]] = []
    cur: list[Char] = []
    for ch in chars:
        if ch.ch.isspace():
            if cur:
                words.append(cur)
            cur = []
            continue
        if cur and (cur[-1].invisible != ch.invisible or not _adjacent(cur[-1], ch)):
            words.append(cur)
            cur = []
        cur.append(ch)
    if cur:
        words.append(cur)
    return words
