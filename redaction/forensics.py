"""What a file gives away beyond its pixels, per page: the hints ``locate`` needs.

Each finding is a relative box (where the recoverable content lies) with the reason code the
rules know, or a page-level code when there is no box. Text itself never leaves the checks.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import cv2
import numpy as np
import pymupdf

from pipeline.geometry import BBox
from redaction.fileleaks import pdf_annotation_leaks, pdf_history
from redaction.imageleaks import exif_thumbnail_leaks, jpeg_exif_thumbnail, trailing_image_data
from redaction.pdflayer import covered_words, hidden_text_words

THUMB_GREY_DIFF = 40      # grey levels: a thumbnail pixel this far from the image differs …
THUMB_DIFF_SHARE = 0.002  # … and this share of differing pixels is an edit, not noise
THUMB_ASPECT_SLACK = 0.05

# Leak codes of the checks → reason codes of the rules.
REASON_OF: dict[str, str] = {
    "covered": "hidden_text",
    "invisible": "hidden_text",
    "incremental_history": "file_leak",
    "unapplied_redact": "unapplied_redaction",
    "exif_thumbnail": "thumbnail_leak",
    "trailing_data": "trailing_data",
    "annotation_text": "file_leak",
    "freetext": "file_leak",
    "form_value": "file_leak",
    "annotation_attachment": "file_leak",
    "embedded_file": "file_leak",
}


@dataclass
class Findings:
    """Per 0-based page: boxes of recoverable content, and page-level reason codes."""

    boxes: dict[int, list[tuple[BBox, str]]] = field(default_factory=lambda: defaultdict(list))
    page_codes: dict[int | None, set[str]] = field(default_factory=lambda: defaultdict(set))
    original_inside: bool = False  # the unmasked original is in the file: nothing is masked

    def for_page(self, index: int) -> tuple[list[tuple[BBox, str]], set[str]]:
        return self.boxes.get(index, []), self.page_codes.get(index, set()) | self.page_codes.get(
            None, set())


def page_text_findings(page: pymupdf.Page) -> list[tuple[BBox, str]]:
    """Text under opaque boxes, and invisible text over masks or over other text."""
    out = [(w.bbox, "hidden_text") for w in covered_words(page)]
    out += [(w.bbox, "hidden_text") for w in hidden_text_words(page)]
    return out


def pdf_findings(doc: pymupdf.Document, data: bytes) -> Findings:
    found = Findings()
    for leak in [*pdf_history(data), *pdf_annotation_leaks(doc)]:
        _add(found, leak.code, leak.page, leak.bbox)
    for i in range(doc.page_count):
        found.boxes[i] += page_text_findings(doc[i])
    return found


def image_findings(data: bytes) -> Findings:
    found = Findings()
    tail = trailing_image_data(data)
    if tail is not None:
        found.page_codes[None].add("trailing_data")
        found.original_inside = True
    leaks = exif_thumbnail_leaks(data)
    for leak in leaks:
        if _exif_rotated(data):
            found.page_codes[None].add("thumbnail_leak")
            found.original_inside = True
        else:
            _add(found, leak.code, 0, leak.bbox)
    if not leaks and thumbnail_mismatch(data):
        # The thumbnail shows something the image does not, but no region stands out: the
        # whole unedited original may be in it.
        found.page_codes[None].add("thumbnail_leak")
        found.original_inside = True
    return found


def thumbnail_mismatch(data: bytes) -> bool:
    """An EXIF thumbnail that is not a downscaled copy of the image (an editor changed the
    image and kept the camera's thumbnail). Resampling and JPEG noise stay far below this."""
    thumb = jpeg_exif_thumbnail(data)
    if thumb is None:
        return False
    import io

    from PIL import Image, ImageOps

    try:
        with Image.open(io.BytesIO(data)) as im:
            main = np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
    except (OSError, ValueError, Image.DecompressionBombError):
        return True  # a thumbnail we cannot compare: fail closed
    for candidate in (thumb, np.rot90(thumb), np.rot90(thumb, 3)):
        h, w = candidate.shape[:2]
        if abs(w / h - main.shape[1] / main.shape[0]) < THUMB_ASPECT_SLACK:
            small = cv2.resize(main, (w, h), interpolation=cv2.INTER_AREA)
            diff = np.abs(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.int16)
                          - cv2.cvtColor(np.ascontiguousarray(candidate),
                                         cv2.COLOR_RGB2GRAY).astype(np.int16))
            return bool((diff > THUMB_GREY_DIFF).mean() > THUMB_DIFF_SHARE)
    return True  # framing differs from the image: not a thumbnail of it as it is now


def _add(found: Findings, code: str, page: int | None, bbox: BBox | None) -> None:
    reason = REASON_OF.get(code, "file_leak")
    if bbox is not None and page is not None:
        found.boxes[page].append((bbox, reason))
    else:
        found.page_codes[page].add(reason)


def _exif_rotated(data: bytes) -> bool:
    """A thumbnail's boxes are in stored orientation; a rotated photo cannot use them."""
    import io

    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as im:
            return im.getexif().get(0x0112, 1) not in (1, None)
    except (OSError, ValueError):
        return True
