"""File-level leak checks on files built in the test (PDF history, annotations, forms, EXIF
thumbnails, bytes after the end of an image). Leaks carry positions and sizes, never text."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pymupdf
import pytest
from PIL import Image

from redaction.fileleaks import (
    Leak,
    exif_thumbnail_leaks,
    jpeg_exif_thumbnail,
    pdf_annotation_leaks,
    pdf_history,
    pdf_revisions,
    recover_png_tail,
    thumbnail_differs,
    trailing_image_data,
)

SECRET = "12345678"
BOX = pymupdf.Rect(45, 85, 140, 105)  # covers SECRET inserted at (50, 100)


def _doc() -> pymupdf.Document:
    doc = pymupdf.open()
    page = doc.new_page(width=300, height=400)
    page.insert_text((50, 100), SECRET, fontsize=12)
    page.insert_text((50, 200), "Tanaka Ichiro", fontsize=12)
    return doc


def _no_secret(leaks: list[Leak]) -> None:
    assert all(SECRET not in repr(leak) for leak in leaks)


# --- incremental saves -------------------------------------------------------------------------

@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "card.pdf"
    _doc().save(path)
    return path


def test_box_added_by_an_incremental_save_leaks_history(saved) -> None:
    doc = pymupdf.open(saved)
    doc[0].draw_rect(BOX, color=None, fill=(0, 0, 0))
    doc.save(saved, incremental=True, encryption=pymupdf.PDF_ENCRYPT_KEEP)
    doc.close()
    data = saved.read_bytes()
    assert len(pdf_revisions(data)) == 1
    leaks = pdf_history(data)
    assert [(lk.code, lk.page, lk.detail) for lk in leaks] == [("incremental_history", 0, 8)]
    x0, y0, x1, y1 = leaks[0].bbox
    assert 45 / 300 <= x0 < x1 <= 140 / 300 and 85 / 400 <= y0 < y1 <= 105 / 400
    _no_secret(leaks)


def test_text_deleted_by_an_incremental_save_leaks_history(saved) -> None:
    doc = pymupdf.open(saved)
    page = doc[0]
    page.add_redact_annot(BOX)
    page.apply_redactions()  # the text is gone from the new revision, not from the old one
    doc.save(saved, incremental=True, encryption=pymupdf.PDF_ENCRYPT_KEEP)
    doc.close()
    leaks = pdf_history(saved.read_bytes())
    assert [(lk.code, lk.detail) for lk in leaks] == [("incremental_history", 8)]


def test_harmless_incremental_save_and_single_revision_are_clean(saved) -> None:
    assert pdf_history(saved.read_bytes()) == []
    doc = pymupdf.open(saved)
    doc[0].insert_text((50, 300), "added later", fontsize=12)
    doc.save(saved, incremental=True, encryption=pymupdf.PDF_ENCRYPT_KEEP)
    doc.close()
    data = saved.read_bytes()
    assert len(pdf_revisions(data)) == 1
    assert pdf_history(data) == []


def test_properly_redacted_fresh_save_is_clean(tmp_path) -> None:
    doc = _doc()
    doc[0].add_redact_annot(BOX, fill=(0, 0, 0))
    doc[0].apply_redactions()
    data = doc.tobytes(garbage=4, deflate=True, clean=True)
    assert pdf_revisions(data) == []
    assert pdf_history(data) == []
    with pymupdf.open(stream=data, filetype="pdf") as clean:
        assert pdf_annotation_leaks(clean) == []
        assert SECRET not in clean[0].get_text()


# --- annotations and forms ---------------------------------------------------------------------

def test_unapplied_redact_annotation() -> None:
    doc = _doc()
    doc[0].add_redact_annot(BOX, fill=(0, 0, 0))
    leaks = pdf_annotation_leaks(doc)
    assert [(lk.code, lk.page, lk.detail) for lk in leaks] == [("unapplied_redact", 0, 8)]
    _no_secret(leaks)


def test_annotation_texts_and_form_values() -> None:
    doc = _doc()
    page = doc[0]
    page.add_text_annot((200, 50), f"番号は {SECRET}")
    page.add_freetext_annot(pymupdf.Rect(150, 250, 290, 280), SECRET, fill_color=(1, 1, 1))
    widget = pymupdf.Widget()
    widget.field_type = pymupdf.PDF_WIDGET_TYPE_TEXT
    widget.field_name = "number"
    widget.field_value = SECRET
    widget.rect = pymupdf.Rect(50, 320, 200, 340)
    page.add_widget(widget)
    data = doc.tobytes()
    with pymupdf.open(stream=data, filetype="pdf") as reread:
        leaks = pdf_annotation_leaks(reread)
    assert sorted(lk.code for lk in leaks) == ["annotation_text", "form_value", "freetext"]
    form = next(lk for lk in leaks if lk.code == "form_value")
    assert form.page == 0 and form.detail == 8
    assert form.bbox is not None and abs(form.bbox[1] - 320 / 400) < 0.01
    _no_secret(leaks)


def test_embedded_file_is_reported() -> None:
    doc = _doc()
    doc.embfile_add("notes.txt", SECRET.encode())
    assert [lk.code for lk in pdf_annotation_leaks(doc)] == ["embedded_file"]


# --- EXIF thumbnails ---------------------------------------------------------------------------

def _card(masked: bool) -> np.ndarray:
    rng = np.random.default_rng(7)
    img = np.full((240, 320, 3), 235, np.uint8)
    img[60:100, 40:280] = rng.integers(0, 255, (40, 240, 1), np.uint8)  # the "number" line
    if masked:
        img[50:110, 30:290] = 0
    return img


def _jpeg(arr: np.ndarray, **kw) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "JPEG", quality=90, **kw)
    return buf.getvalue()


def _with_exif_thumbnail(main: bytes, thumb: bytes) -> bytes:
    """Splice an APP1 Exif segment whose IFD1 points at ``thumb`` into a JPEG (little endian)."""
    ifd0 = struct.pack("<H", 1) + struct.pack("<HHII", 0x0112, 3, 1, 1)  # Orientation = 1
    ifd1_at = 8 + len(ifd0) + 4
    thumb_at = ifd1_at + 2 + 3 * 12 + 4
    ifd1 = struct.pack("<H", 3) + struct.pack("<HHII", 0x0103, 3, 1, 6) \
        + struct.pack("<HHII", 0x0201, 4, 1, thumb_at) \
        + struct.pack("<HHII", 0x0202, 4, 1, len(thumb)) + struct.pack("<I", 0)
    tiff = b"II*\x00" + struct.pack("<I", 8) + ifd0 + struct.pack("<I", ifd1_at) + ifd1 + thumb
    payload = b"Exif\x00\x00" + tiff
    app1 = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    return main[:2] + app1 + main[2:]


def _thumb(arr: np.ndarray) -> bytes:
    return _jpeg(np.asarray(Image.fromarray(arr).resize((160, 120), Image.LANCZOS)))


def test_exif_thumbnail_made_before_masking_leaks() -> None:
    data = _with_exif_thumbnail(_jpeg(_card(masked=True)), _thumb(_card(masked=False)))
    with Image.open(io.BytesIO(data)) as im:
        assert im.size == (320, 240)  # still a valid JPEG
    thumb = jpeg_exif_thumbnail(data)
    assert thumb is not None and thumb.shape == (120, 160, 3)
    leaks = exif_thumbnail_leaks(data)
    assert leaks and all(lk.code == "exif_thumbnail" for lk in leaks)
    x0, y0, x1, y1 = max(leaks, key=lambda lk: lk.detail).bbox
    assert x0 < 0.3 and x1 > 0.7 and 0.15 < y0 < y1 < 0.5


def test_exif_thumbnail_negatives() -> None:
    masked = _card(masked=True)
    assert jpeg_exif_thumbnail(_jpeg(masked)) is None
    assert exif_thumbnail_leaks(_jpeg(masked)) == []
    same = _with_exif_thumbnail(_jpeg(masked), _thumb(masked))
    assert jpeg_exif_thumbnail(same) is not None
    assert exif_thumbnail_leaks(same) == []
    assert thumbnail_differs(masked, np.asarray(Image.fromarray(masked).resize((160, 120)))) == []


# --- bytes after the end of the image (aCropalypse) ---------------------------------------------

def _png(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    return buf.getvalue()


def _screenshot() -> np.ndarray:
    rng = np.random.default_rng(3)
    img = np.repeat(rng.integers(0, 255, (200, 320, 3), np.uint8), 2, 0)
    img[::7] = 255  # some structure, like text lines
    return img  # 400 × 320, noisy enough for many deflate blocks


def test_png_written_over_a_larger_original_leaks_its_tail() -> None:
    original = _png(_screenshot())
    cropped = _png(np.zeros((60, 320, 3), np.uint8))
    data = cropped + original[len(cropped):]  # "cropped and saved" without truncating the file
    leak = trailing_image_data(data)
    assert leak == Leak("trailing_data", 0, None, len(original) - len(cropped))
    rows = recover_png_tail(data, widths=[320])
    assert rows is not None and rows.shape[1] == 320 and rows.shape[0] > 200
    # Rows whose bytes were copied from the lost start of the stream come back wrong (and so
    # do rows filtered against them); the rest come back exactly — by chance none would.
    assert _share_recovered(rows) > 0.2
    auto = recover_png_tail(data)  # the original's width is this image's width: found unaided
    assert auto is not None and _share_recovered(auto) > 0.2


def _share_recovered(rows: np.ndarray) -> float:
    original = _screenshot()[-len(rows):]
    return float((rows[..., :3] == original).all(axis=2).mean())


def test_appended_png_after_iend_and_after_jpeg_eoi() -> None:
    other = _png(_screenshot())
    assert trailing_image_data(_png(_card(False)) + other).detail == len(other)
    assert trailing_image_data(_jpeg(_card(True)) + other).detail == len(other)


def test_clean_images_have_no_trailing_data() -> None:
    assert trailing_image_data(_png(_card(False))) is None
    assert trailing_image_data(_png(_card(False)) + b"\x00\x00\n") is None
    assert trailing_image_data(_jpeg(_card(True))) is None
    thumbed = _with_exif_thumbnail(_jpeg(_card(True)), _thumb(_card(True)))
    assert trailing_image_data(thumbed) is None  # the thumbnail's own EOI is not the end
    assert recover_png_tail(_png(_card(False))) is None


def test_recover_gives_up_on_garbage() -> None:
    data = _png(_card(False)) + zlib.compress(b"not an image") * 3
    assert trailing_image_data(data) is not None
    assert recover_png_tail(data, widths=[320]) is None
