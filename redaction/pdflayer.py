"""What a PDF page carries besides its pixels, and which of its text a box only *looks* like hiding.

``read_pdf_layer`` turns a page into a ``PdfLayer`` (words, opaque shapes, image boxes, rotation).
``covered_words`` finds text still extractable from under an opaque shape painted after it;
``hidden_text_words`` finds invisible text (an OCR layer) over solid pixels or over different
visible text. Results carry positions only: callers must never print ``Word.text``.

Geometry is worked out in PyMuPDF's unrotated page space (drawing order from ``seqno``) and
converted to relative boxes in the page's displayed orientation only at the end.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pymupdf

from pipeline.geometry import BBox, clamp
from pipeline.model import PdfLayer, Shape, Word
from redaction.covering import drop_stamps, hidden_chars
from redaction.pagescan import (
    Char,
    PageScan,
    group_words,
    is_meaningful,
    scan_page,
)

SCAN_IMAGE_SHARE = 0.85  # one image covering this share of the page makes it a scanned page

__all__ = ["covered_char_count", "covered_words", "hidden_text_words", "read_pdf_layer",
           "relative_box"]


def relative_box(page: pymupdf.Page, rect: Sequence[float]) -> BBox:
    """Unrotated page-space rectangle → relative box in the displayed (rotated) page."""
    r = pymupdf.Rect(rect) * page.rotation_matrix
    w, h = page.rect.width, page.rect.height
    return clamp((r.x0 / w, r.y0 / h, r.x1 / w, r.y1 / h))


def _word(page: pymupdf.Page, chars: Sequence[Char], source: str) -> Word:
    box = (min(c.box[0] for c in chars), min(c.box[1] for c in chars),
           max(c.box[2] for c in chars), max(c.box[3] for c in chars))
    return Word(text="".join(c.ch for c in chars), bbox=relative_box(page, box), source=source)


def read_pdf_layer(page: pymupdf.Page) -> PdfLayer:
    """Words, opaque shapes, image boxes, rotation and scan flag of one PDF page."""
    scan = scan_page(page)
    flags = hidden_chars(page, scan)
    index = {id(c): i for i, c in enumerate(scan.chars)}

    def unseen(chars: list[Char]) -> bool:
        idx = [index[id(c)] for c in chars]
        return chars[0].invisible or bool((flags.camouflaged[idx] | flags.blended[idx]).all())

    words = tuple(_word(page, w, "pdf-invisible" if unseen(w) else "pdf")
                  for w in group_words(scan.chars))
    shapes = tuple(
        Shape(bbox=relative_box(page, c.region.bbox), color=c.color,
              order=c.seqno, kind=c.kind)
        for c in scan.covers if c.kind != "image"
    )
    image_boxes = tuple(relative_box(page, c.region.bbox) for c in scan.images)
    findings = ("unapplied_redact",) if any(
        a.type[0] == pymupdf.PDF_ANNOT_REDACT for a in page.annots() or ()) else ()
    return PdfLayer(words=words, shapes=shapes, image_boxes=image_boxes,
                    rotation=page.rotation, is_scan=_is_scan(page, scan), findings=findings)


def _is_scan(page: pymupdf.Page, scan: PageScan) -> bool:
    """One image covers most of the visible page."""
    visible = page.rect * page.derotation_matrix  # the page in unrotated space
    page_area = abs(visible) or 1.0
    return any(abs(pymupdf.Rect(img.region.bbox) & visible) >= SCAN_IMAGE_SHARE * page_area
               for img in scan.images)


def _hidden_runs(page: pymupdf.Page, scan: PageScan) -> list[tuple[list[Char], bool]]:
    """Runs of covered / camouflaged characters within words, filtered; (chars, camouflaged)."""
    flags = hidden_chars(page, scan)
    index = {id(c): i for i, c in enumerate(scan.chars)}
    runs: list[tuple[list[Char], bool]] = []
    words: list[str] = []
    for word in group_words(scan.chars):
        whole = "".join(c.ch for c in word)
        run: list[Char] = []
        for ch in [*word, None]:
            i = index[id(ch)] if ch is not None else -1
            if ch is not None and (flags.covered[i] or flags.camouflaged[i]):
                run.append(ch)
                continue
            if run and is_meaningful("".join(c.ch for c in run)) and is_meaningful(whole):
                runs.append((run, all(flags.camouflaged[index[id(c)]] for c in run)))
                words.append(whole)
            run = []
    keep = drop_stamps(words, [camo for _, camo in runs])
    return [runs[i] for i in keep]


def covered_words(page: pymupdf.Page) -> list[Word]:
    """Text still extractable from under something opaque painted after it, or camouflaged.

    Each result is the hidden part of one word (placeholders, punctuation and tool stamps
    dropped), with a relative box in the displayed page. ``source`` is "pdf", or
    "pdf-invisible" for invisible (OCR-layer) or camouflaged text.
    """
    scan = scan_page(page)
    return [_word(page, run, "pdf-invisible" if camo or run[0].invisible else "pdf")
            for run, camo in _hidden_runs(page, scan)]


def covered_char_count(page: pymupdf.Page) -> int:
    """Number of characters ``covered_words`` would report (no text returned)."""
    return sum(len(run) for run, _ in _hidden_runs(page, scan_page(page)))


# --- invisible text ---------------------------------------------------------------------------

HIDDEN_RENDER_DPI = 72  # invisible-text checks look at a coarse render of the page
SOLID_STD = 0.06  # luminance spread (0..1) below which a word's region is one solid colour
DARK_LUMA = 0.35  # mean luminance below which a region counts as dark
DARK_SHARE = 0.8  # … when this share of its pixels is that dark
DIFFERENT_TEXT_RATIO = 0.5  # similarity below which invisible and visible text "differ"


def hidden_text_words(page: pymupdf.Page) -> list[Word]:
    """Invisible text (render mode 3 or fully transparent, e.g. an OCR layer) that hides something.

    Reported when the pixels under it are dark or one solid colour (a box burned into a scan
    under an OCR layer), or when it lies over *different* visible text.
    """
    import numpy as np  # local: only this check renders

    scan = scan_page(page)
    words = group_words(scan.chars)
    invisible = [w for w in words if w[0].invisible and is_meaningful("".join(c.ch for c in w))]
    if not invisible:
        return []
    visible = [w for w in words if not w[0].invisible]
    pix = page.get_pixmap(dpi=HIDDEN_RENDER_DPI, colorspace=pymupdf.csGRAY, annots=True)
    img = np.frombuffer(pix.samples, np.uint8).reshape(pix.height, pix.width) / 255.0
    out: list[Word] = []
    for chars in invisible:
        word = _word(page, chars, "pdf-invisible")
        if _solid_or_dark(img, word.bbox, page) or _over_other_text(chars, visible):
            out.append(word)
    return out


def _solid_or_dark(img, rel: BBox, page: pymupdf.Page) -> bool:
    h, w = img.shape
    x0, y0 = math.floor(rel[0] * w), math.floor(rel[1] * h)
    x1, y1 = math.ceil(rel[2] * w), math.ceil(rel[3] * h)
    patch = img[max(y0, 0):min(y1, h), max(x0, 0):min(x1, w)]
    if patch.size < 4:
        return False
    dark = (patch < DARK_LUMA).mean() >= DARK_SHARE
    return bool(dark or (patch.std() < SOLID_STD and patch.mean() < 1.0 - SOLID_STD))


def _overlaps(a: Sequence[float], b: Sequence[float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _over_other_text(chars: Sequence[Char], visible: Sequence[Sequence[Char]]) -> bool:
    from difflib import SequenceMatcher

    box = (min(c.box[0] for c in chars), min(c.box[1] for c in chars),
           max(c.box[2] for c in chars), max(c.box[3] for c in chars))
    under = [c for w in visible for c in w
             if _overlaps(c.box, box) and not c.ch.isspace()]
    if not under:
        return False
    hidden = "".join(c.ch for c in chars if not c.ch.isspace())
    shown = "".join(c.ch for c in under)
    return SequenceMatcher(None, hidden, shown).ratio() < DIFFERENT_TEXT_RATIO

