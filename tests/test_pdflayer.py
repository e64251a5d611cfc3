"""PDF layer reading and "text under a box" detection on PDFs built in the test."""

from __future__ import annotations

import numpy as np
import pymupdf
import pytest

from pipeline.geometry import iou
from redaction.pdflayer import (
    covered_char_count,
    covered_words,
    hidden_text_words,
    read_pdf_layer,
)

SECRET = "12345678"  # stands in for a 記号・番号; only ever compared, never printed
BOX = pymupdf.Rect(45, 85, 140, 105)  # covers SECRET inserted at (50, 100)


def _page(width: float = 300, height: float = 400) -> tuple[pymupdf.Document, pymupdf.Page]:
    doc = pymupdf.open()
    return doc, doc.new_page(width=width, height=height)


def _raw(page: pymupdf.Page, content: bytes) -> pymupdf.Page:
    """Append raw content-stream operators to a page."""
    doc = page.parent
    xref = doc.get_new_xref()
    doc.update_object(xref, "<<>>")
    doc.update_stream(xref, content)
    contents = page.get_contents()
    doc.xref_set_key(page.xref, "Contents",
                     "[" + " ".join(f"{x} 0 R" for x in [*contents, xref]) + "]")
    return doc.reload_page(page)


def test_black_box_drawn_after_text_is_covered() -> None:
    _, page = _page()
    page.insert_text((50, 100), SECRET, fontsize=12)
    page.insert_text((50, 200), "visible words", fontsize=12)
    page.draw_rect(BOX, color=None, fill=(0, 0, 0))
    words = covered_words(page)
    assert [w.text for w in words] == [SECRET]
    assert words[0].source == "pdf"
    assert covered_char_count(page) == len(SECRET)
    x0, y0, x1, y1 = words[0].bbox
    assert BOX.x0 / 300 <= x0 < x1 <= BOX.x1 / 300 and BOX.y0 / 400 <= y0 < y1 <= BOX.y1 / 400


def test_text_drawn_on_top_of_a_box_is_not_covered() -> None:
    _, page = _page()
    page.draw_rect(BOX, color=None, fill=(0, 0, 0))
    page.insert_text((50, 100), SECRET, fontsize=12, color=(1, 1, 1))
    assert covered_words(page) == []


def test_same_colour_text_on_a_box_drawn_first_is_hidden() -> None:
    _, page = _page()
    page.draw_rect(BOX, color=None, fill=(0, 0, 0))
    page.insert_text((50, 100), SECRET, fontsize=12, color=(0, 0, 0))
    words = covered_words(page)
    assert [w.text for w in words] == [SECRET]
    assert words[0].source == "pdf-invisible"


@pytest.mark.parametrize("kind", ["border_only", "translucent", "grazing", "placeholder"])
def test_not_covered(kind: str) -> None:
    _, page = _page()
    text = "XXXX-XXXX ●●● [REDACTED] ＊＊＊" if kind == "placeholder" else SECRET
    page.insert_text((50, 100), text, fontsize=12)
    if kind == "border_only":
        page.draw_rect(BOX, color=(0, 0, 0), fill=None, width=1)
    elif kind == "translucent":
        page.draw_rect(BOX, color=None, fill=(0, 0, 0), fill_opacity=0.4)
    elif kind == "grazing":
        page.draw_rect(pymupdf.Rect(45, 100, 140, 110), color=None, fill=(0, 0, 0))
    else:
        page.draw_rect(pymupdf.Rect(45, 85, 290, 105), color=None, fill=(0, 0, 0))
    assert covered_words(page) == []


def test_partly_covered_word_reports_only_the_covered_part() -> None:
    _, page = _page()
    page.insert_text((50, 100), SECRET, fontsize=12)
    page.draw_rect(pymupdf.Rect(45, 85, 75, 105), color=None, fill=(0, 0, 0))
    words = covered_words(page)
    assert len(words) == 1 and 0 < len(words[0].text) < len(SECRET)
    assert SECRET.startswith(words[0].text)


def test_japanese_text_under_a_box() -> None:
    _, page = _page()
    page.insert_text((50, 100), "記号12番号34", fontsize=12, fontname="japan")
    page.draw_rect(pymupdf.Rect(45, 85, 160, 106), color=None, fill=(0, 0, 0))
    assert covered_char_count(page) == len("記号12番号34")


def test_clipped_white_box_does_not_cover() -> None:
    _, page = _page()
    page.insert_text((50, 100), SECRET, fontsize=12)
    # a white rectangle over the text, but clipped to a far corner of the page (PDF y is up)
    page = _raw(page, b"q 0 0 10 10 re W n 1 1 1 rg 45 295 95 20 re f Q")
    assert covered_words(page) == []
    page = _raw(page, b"q 1 1 1 rg 45 295 95 20 re f Q")  # the same box unclipped
    assert [w.text for w in covered_words(page)] == [SECRET]


@pytest.mark.parametrize(
    ("path", "covered"),
    [
        (b"40 270 110 60 re 45 295 95 20 re f*", False),  # even-odd: inner rect is a hole
        (b"40 270 110 60 re 140 295 -95 20 re f", False),  # non-zero, opposite direction: hole
        # both sides negative: the same direction again (PyMuPDF reports it as the opposite)
        (b"40 270 110 60 re 140 315 -95 -20 re f", True),
        (b"40 270 110 60 re 45 295 95 20 re f", True),  # non-zero, same direction: filled
        (b"40 270 m 150 270 l 150 330 l 40 330 l h 45 295 m 45 315 l 140 315 l 140 295 l h f",
         False),  # the same hole drawn with lines
    ],
)
def test_fill_rules(path: bytes, covered: bool) -> None:
    _, page = _page()
    page.insert_text((50, 100), SECRET, fontsize=12)
    page = _raw(page, b"0 g " + path)
    assert bool(covered_words(page)) is covered


def test_unapplied_redact_annotation_covers_until_applied() -> None:
    doc, page = _page()
    page.insert_text((50, 100), SECRET, fontsize=12)
    page.add_redact_annot(BOX, fill=(0, 0, 0))
    assert [w.text for w in covered_words(page)] == [SECRET]
    assert read_pdf_layer(page).findings == ("unapplied_redact",)
    page.apply_redactions()
    assert covered_words(page) == []
    assert read_pdf_layer(page).findings == ()
    assert page.get_text().strip() == ""
    doc.close()


def test_filled_square_annotation_covers() -> None:
    _, page = _page()
    page.insert_text((50, 100), SECRET, fontsize=12)
    annot = page.add_rect_annot(BOX)
    annot.set_colors(stroke=(0, 0, 0), fill=(0, 0, 0))
    annot.update()
    assert [w.text for w in covered_words(page)] == [SECRET]
    layer = read_pdf_layer(page)
    assert any(s.order > 0 for s in layer.shapes)


def _png(arr: np.ndarray) -> bytes:
    pix = pymupdf.Pixmap(pymupdf.csRGB, arr.shape[1], arr.shape[0], arr.tobytes(), False)
    return pix.tobytes("png")


def test_opaque_image_over_text_covers() -> None:
    _, page = _page()
    page.insert_text((50, 100), SECRET, fontsize=12)
    black = np.zeros((20, 60, 3), np.uint8)
    page.insert_image(BOX, stream=_png(black), keep_proportion=False)
    assert [w.text for w in covered_words(page)] == [SECRET]


def _scan_with_ocr_layer() -> pymupdf.Page:
    """A 'scanned' page: an image with a black box burned in over one line, OCR text on top."""
    _, page = _page()
    img = np.full((400, 300, 3), 255, np.uint8)
    img[85:105, 45:140] = 0  # the burned-in box, where SECRET's line was
    page.insert_image(page.rect, stream=_png(img))
    page.insert_text((50, 100), SECRET, fontsize=12, render_mode=3)  # OCR of the original
    page.insert_text((50, 200), "visible", fontsize=12)  # printed text ...
    page.insert_text((50, 200), "visible", fontsize=12, render_mode=3)  # ... and its OCR
    page.insert_text((50, 250), "printed", fontsize=12)
    page.insert_text((50, 250), "12345678", fontsize=12, render_mode=3)  # OCR ≠ what shows
    return page


def test_read_pdf_layer_of_a_scan() -> None:
    page = _scan_with_ocr_layer()
    layer = read_pdf_layer(page)
    assert layer.is_scan and layer.rotation == 0
    assert len(layer.image_boxes) == 1
    sources = sorted(w.source for w in layer.words)
    assert sources.count("pdf-invisible") == 3 and sources.count("pdf") == 2


def test_hidden_text_over_dark_pixels_and_over_other_text() -> None:
    page = _scan_with_ocr_layer()
    hidden = hidden_text_words(page)
    assert len(hidden) == 2
    assert all(w.source == "pdf-invisible" for w in hidden)
    ys = sorted(round((w.bbox[1] + w.bbox[3]) / 2 * 400) for w in hidden)
    assert abs(ys[0] - 96) < 8 and abs(ys[1] - 246) < 8
    assert covered_words(page) == []  # the scan image does not "cover" its own OCR layer


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_boxes_are_in_the_displayed_orientation(rotation: int) -> None:
    _, page = _page()
    page.insert_text((50, 100), SECRET, fontsize=20)
    page.set_rotation(rotation)
    word = read_pdf_layer(page).words[0]
    pix = page.get_pixmap(dpi=72)
    grey = np.frombuffer(pix.samples, np.uint8).reshape(pix.height, pix.width, pix.n).min(axis=2)
    ys, xs = np.nonzero(grey < 128)
    ink = (xs.min() / pix.width, ys.min() / pix.height,
           (xs.max() + 1) / pix.width, (ys.max() + 1) / pix.height)
    assert read_pdf_layer(page).rotation == rotation
    assert iou(word.bbox, ink) > 0.5


def test_white_text_on_the_bare_page_is_marked_invisible_but_not_covered() -> None:
    _, page = _page()
    page.insert_text((50, 100), SECRET, fontsize=12, color=(1, 1, 1))
    assert [w.source for w in read_pdf_layer(page).words] == ["pdf-invisible"]
    assert covered_words(page) == []


def test_layer_shapes_keep_drawing_order() -> None:
    _, page = _page()
    page.draw_rect(BOX, color=None, fill=(0, 0, 0))
    page.insert_text((50, 100), SECRET, fontsize=12, color=(1, 1, 1))
    page.draw_rect(pymupdf.Rect(10, 300, 100, 320), color=None, fill=(0, 0, 1))
    layer = read_pdf_layer(page)
    assert [s.color for s in sorted(layer.shapes, key=lambda s: s.order)] == [
        (0.0, 0.0, 0.0), (0.0, 0.0, 1.0)]
    assert "12345678" not in repr(layer)
