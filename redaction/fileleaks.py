"""File-level leaks: data a masked-looking file still carries outside what its pages show.

Each check returns ``Leak`` records: a stable code, the page index and relative box when
known, and a count (characters, bytes, pixels) — never the leaked text itself.

PDF checks live here; image-file checks (EXIF thumbnail, bytes after the end of the image)
live in ``redaction.imageleaks`` and ``redaction.pngtail`` and are re-exported.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pymupdf

from pipeline.geometry import BBox, coverage, iou
from redaction.imageleaks import (
    exif_thumbnail_leaks,
    jpeg_exif_thumbnail,
    thumbnail_differs,
    trailing_image_data,
)
from redaction.leak import Leak
from redaction.pagescan import is_meaningful
from redaction.pdflayer import covered_words, relative_box
from redaction.pngtail import recover_png_tail

__all__ = [
    "Leak",
    "exif_thumbnail_leaks",
    "jpeg_exif_thumbnail",
    "pdf_annotation_leaks",
    "pdf_history",
    "pdf_revisions",
    "recover_png_tail",
    "thumbnail_differs",
    "trailing_image_data",
]

SAME_WORD_IOU = 0.5  # an earlier word "is still there" when a same-text final word overlaps it so
STARTXREF_WINDOW = 64  # a real end of revision has "startxref <offset>" right before %%EOF
HIDDEN_SHARE = 0.5  # … unless this share of a covered run of the final page lies on it
_EOF = re.compile(rb"%%EOF[ \t]*(?:\r\n|\r|\n)?")


# --- incremental saves -------------------------------------------------------------------------

def pdf_revisions(data: bytes) -> list[bytes]:
    """Every earlier revision of an incrementally saved PDF, oldest first (final one excluded).

    A revision ends at a ``%%EOF`` marker; an incremental save appends a new body, xref and
    trailer after it, leaving the old revision byte-for-byte intact.
    """
    ends = [m.end() for m in _EOF.finditer(data)
            if b"startxref" in data[max(0, m.start() - STARTXREF_WINDOW):m.start()]]
    if ends and len(data[ends[-1]:].strip()) == 0:
        ends = ends[:-1]  # the final revision itself
    return [data[:e] for e in ends]


@dataclass(frozen=True)
class _Word:
    text: str
    bbox: BBox


def _page_words(page: pymupdf.Page) -> list[_Word]:
    return [_Word(w[4], relative_box(page, w[:4])) for w in page.get_text("words")
            if is_meaningful(w[4])]


def _open(data: bytes) -> pymupdf.Document | None:
    try:
        doc = pymupdf.open(stream=data, filetype="pdf")
    except (RuntimeError, ValueError):  # pymupdf.FileDataError is a RuntimeError
        return None
    if doc.needs_pass or not doc.page_count:
        doc.close()
        return None
    return doc


def pdf_history(data: bytes) -> list[Leak]:
    """Words of earlier revisions that are gone from, or covered in, the final revision.

    ``detail`` is the word's character count. One ``incremental_history`` leak per word; a
    file saved incrementally with nothing lost gives no leak.
    """
    earlier = pdf_revisions(data)
    final = _open(data)
    if not earlier or final is None:
        return []
    finals: dict[int, tuple[list[_Word], list[BBox]]] = {}
    for i, page in enumerate(final):
        finals[i] = (_page_words(page), [w.bbox for w in covered_words(page)])
    leaks: dict[tuple[int, BBox], Leak] = {}
    for rev in earlier:
        old = _open(rev)
        if old is None:
            continue
        for i, page in enumerate(old):
            now, hidden = finals.get(i, ([], []))
            for word in _page_words(page):
                if _still_shown(word, now, hidden):
                    continue
                leaks.setdefault((i, word.bbox), Leak("incremental_history", i, word.bbox,
                                                      len(word.text)))
        old.close()
    final.close()
    return list(leaks.values())


def _still_shown(word: _Word, now: list[_Word], hidden: list[BBox]) -> bool:
    """Shown in the final revision: same text at the same place, and not covered there."""
    if any(coverage(h, word.bbox) > HIDDEN_SHARE for h in hidden):
        return False
    return any(w.text == word.text and iou(w.bbox, word.bbox) >= SAME_WORD_IOU for w in now)


# --- annotations and forms ---------------------------------------------------------------------

def _text_count(text: str | None) -> int:
    return sum(1 for c in text or "" if not c.isspace())


def _annotation_leaks(doc: pymupdf.Document) -> Iterator[Leak]:
    for page in doc:
        for annot in page.annots() or ():
            kind = annot.type[0]
            box = relative_box(page, tuple(annot.rect))
            if kind == pymupdf.PDF_ANNOT_REDACT:
                under = page.get_text("text", clip=annot.rect)
                yield Leak("unapplied_redact", page.number, box, _text_count(under))
                continue
            if kind == pymupdf.PDF_ANNOT_POPUP:
                continue  # its text is the parent's Contents, reported there
            info = annot.info or {}
            text = (info.get("content") or "") + (info.get("subject") or "")
            rich = doc.xref_get_key(annot.xref, "RC")
            if rich[0] == "string":
                text += re.sub(r"<[^>]*>", "", rich[1])
            if kind == pymupdf.PDF_ANNOT_FREE_TEXT:
                text += annot.get_text() if hasattr(annot, "get_text") else ""
            if is_meaningful(text):
                code = "freetext" if kind == pymupdf.PDF_ANNOT_FREE_TEXT else "annotation_text"
                yield Leak(code, page.number, box, _text_count(text))
            if kind == pymupdf.PDF_ANNOT_FILE_ATTACHMENT:
                yield Leak("annotation_attachment", page.number, box, 0)


def _widget_leaks(doc: pymupdf.Document) -> Iterator[Leak]:
    for page in doc:
        for widget in page.widgets() or ():
            value = widget.field_value
            if isinstance(value, bool) or value in (None, "", "Off"):
                continue
            text = value if isinstance(value, str) else " ".join(map(str, value))
            if is_meaningful(text):
                yield Leak("form_value", page.number, relative_box(page, tuple(widget.rect)),
                           _text_count(text))


def pdf_annotation_leaks(doc: pymupdf.Document) -> list[Leak]:
    """Unapplied Redact annotations, annotation texts (incl. FreeText, popups, rich text),
    file attachments, form field values and embedded files.

    Codes: ``unapplied_redact`` (detail: characters still under it), ``annotation_text``,
    ``freetext``, ``annotation_attachment``, ``form_value``, ``embedded_file``.
    """
    leaks = [*_annotation_leaks(doc), *_widget_leaks(doc)]
    leaks += [Leak("embedded_file", None, None, 0) for _ in range(doc.embfile_count())]
    return leaks
