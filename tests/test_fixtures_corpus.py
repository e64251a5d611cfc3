"""The generator's truth is right, not merely present: masks cover, tricks leak, boxes hit ink."""

from __future__ import annotations

import io
import json
import os
import re
import struct
import unicodedata
from datetime import date
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pymupdf
import pytest
from PIL import ExifTags, Image

from fixtures import truth as truthmod
from fixtures.generate import Job, build
from fixtures.model import CAPTURES, MASK_STYLES
from fixtures.pixelmasks import PIXEL_STYLES
from fixtures.plan import DOC_TYPES, coverage_table, missing, plan

EDGE_RANGE = 64          # a 3×3 neighbourhood spanning this many grey levels holds a glyph edge
PDF_DPI = 200
ROTATED = ("rotated_90", "rotated_180", "rotated_270")
MASKED_EDGES = 0.10      # glyph-edge density a masked box may keep (see the coverage test)
MIN_OCR_GLYPH = 20       # px; below this (an A4 photographed whole) Tesseract, not the mask, fails


# --- helpers ------------------------------------------------------------------------------------
def page_image(path: Path, page_no: int = 1) -> np.ndarray:
    """Page ``page_no`` (1-based) of an image or PDF file as RGB."""
    if path.suffix == ".pdf":
        with pymupdf.open(path) as doc:
            pix = doc[page_no - 1].get_pixmap(dpi=PDF_DPI, alpha=False)
            return np.frombuffer(pix.samples, np.uint8).reshape(pix.height, pix.width, 3).copy()
    if path.suffix == ".heic":
        import pillow_heif

        pillow_heif.register_heif_opener()
    with Image.open(path) as im:
        im.seek(page_no - 1)
        return np.asarray(im.convert("RGB")).copy()


def region(img: np.ndarray, bbox: list[float]) -> np.ndarray:
    h, w = img.shape[:2]
    x0, y0 = int(bbox[0] * w), int(bbox[1] * h)
    x1, y1 = int(np.ceil(bbox[2] * w)), int(np.ceil(bbox[3] * h))
    return cv2.cvtColor(img[y0:y1, x0:x1], cv2.COLOR_RGB2GRAY)


def edge_density(grey: np.ndarray) -> float:
    """Fraction of pixels whose 3×3 neighbourhood crosses a glyph edge."""
    k = np.ones((3, 3), np.uint8)
    rng = cv2.dilate(grey, k).astype(int) - cv2.erode(grey, k).astype(int)
    return float((rng > EDGE_RANGE).mean()) if grey.size else 0.0


def copies(corpus: Any, pred: Any) -> list[tuple[str, dict, str, dict, dict]]:
    """(file, page truth, field name, field truth, copy) for every copy matching ``pred``."""
    out = []
    for name, doc in corpus.truths.items():
        for page in doc["pages"]:
            for fname, f in page["fields"].items():
                for c in f["copies"]:
                    if pred(doc, page, fname, f, c):
                        out.append((name, page, fname, f, c))
    return out


# --- schema, oracle, plan -----------------------------------------------------------------------
def test_every_truth_validates(corpus: Any) -> None:
    assert len(corpus.truths) >= 50
    for name, doc in corpus.truths.items():
        assert truthmod.validate(doc) == [], name
        assert corpus.path(name).exists()


def test_validator_rejects_broken_truth(corpus: Any) -> None:
    doc = json.loads(json.dumps(next(iter(corpus.truths.values()))))
    doc["pages"][0]["doc_type"] = "passport"
    doc["pages"][0]["fields"]["x"] = {"state": "hidden"}
    del doc["as_of"]
    errs = truthmod.validate(doc)
    assert any("doc_type" in e for e in errs) and any("missing as_of" in e for e in errs)
    assert any(".x" in e for e in errs)


def test_field_state_follows_its_copies(corpus: Any) -> None:
    """A field is visible if any printed copy is (the honesty of each copy's state is checked
    on the pixels and files below)."""
    for doc in corpus.truths.values():
        for page in doc["pages"]:
            for f in page["fields"].values():
                assert f["state"] == truthmod.field_state([c["state"] for c in f["copies"]])


def _f(state: str, value: str = "x") -> dict[str, Any]:
    return {"state": state, "value": value}


@pytest.mark.parametrize(("doc_type", "fields", "verdict", "codes"), [
    ("unknown", {}, "reject", ["unknown_document"]),
    ("kakuninsho_card", {"name": _f("visible"), "insurer_name": _f("visible"),
                         "number": _f("masked"), "valid_until": _f("visible", "2029-11-30")},
     "accept", []),
    ("kakuninsho_card", {"name": _f("visible"), "insurer_name": _f("visible"),
                         "valid_until": _f("visible", "2026-07-31")}, "reject", ["expired"]),
    ("hokensho_card", {"name": _f("visible"), "insurer_name": _f("visible")},
     "reject", ["legacy_card_expired"]),
    ("oshirase_a4", {"name": _f("masked"), "insurer_name": _f("visible")},
     "reject", ["required_masked"]),
    ("oshirase_a4", {"name": _f("visible"), "insurer_name": _f("visible"),
                     "symbol": _f("visible"), "birth_date": _f("visible")},
     "reject", ["exposed_restricted", "exposed_unneeded"]),
    ("oshirase_slip", {"name": _f("visible"), "insurer_name": _f("visible"),
                       "burden_ratio": _f("visible")}, "review", ["exposed_unneeded"]),
    ("oshirase_slip", {"name": _f("visible"), "insurer_name": _f("absent")},
     "review", ["required_unreadable"]),
])
def test_oracle(doc_type: str, fields: dict, verdict: str, codes: list[str]) -> None:
    got = truthmod.expected(doc_type, fields, date(2026, 12, 3))
    assert (got["verdict"], got["reasons"]) == (verdict, codes)


def test_hokensho_before_cutoff_is_fine() -> None:
    fields = {"name": _f("visible"), "insurer_name": _f("visible"),
              "valid_until": _f("visible", "2026-03-31")}
    assert truthmod.expected("hokensho_card", fields, date(2025, 11, 1))["verdict"] == "accept"


def test_plan_covers_every_required_pair() -> None:
    items = plan(1, 300)
    assert missing(items) == []
    assert "every required pair covered" in coverage_table(items)
    assert plan(1, 50) == items[:50]           # prefix-stable: count does not reshuffle


def test_plan_pairs_are_sensible() -> None:
    for it in plan(3, 300):
        if it.mask.startswith("pdf_"):
            assert it.container in ("pdf", "pdf_multi") and it.vector
        if it.capture in ("screenshot", "print_out"):
            assert it.doc_type in ("mynaportal_pdf", "oshirase_a4")
        if it.capture == "card_on_flatbed":
            assert it.doc_type not in ("oshirase_a4", "mynaportal_pdf")
        assert {"exif_thumbnail": "jpeg", "png_trailing_bytes": "png",
                "scan_ocr_layer": "pdf_scan"}.get(it.mask, it.container) == it.container


def test_corpus_covers_styles_and_captures(corpus: Any) -> None:
    caps = {d["capture"] for d in corpus.truths.values()}
    styles = {s for d in corpus.truths.values() for p in d["pages"] for s in p["mask_styles"]}
    assert caps == set(CAPTURES)
    assert set(MASK_STYLES) - {"none"} <= styles
    assert {p["doc_type"] for d in corpus.truths.values() for p in d["pages"]} == set(DOC_TYPES)


# --- determinism --------------------------------------------------------------------------------
def test_same_seed_same_bytes(corpus: Any, tmp_path: Path) -> None:
    """Rebuilding items in one process gives the bytes the pooled build wrote."""
    wanted = {"png", "pdf", "pdf_scan", "pdf_multi", "jpeg", "tiff"}
    picked: dict[str, dict] = {}
    for doc in corpus.truths.values():
        key = doc["container"] if doc["capture"] != "digital" else "pdf-" + doc["container"]
        if doc["container"] in wanted and key not in picked:
            picked[key] = doc
    items = {it.index: it for it in plan(corpus.seed, 300)}
    for doc in picked.values():
        job = Job(items[doc["index"]], corpus.seed, date.fromisoformat(doc["as_of"]),
                  tmp_path, False, "fixtures.render")
        name, again = build(job)
        assert (tmp_path / name).read_bytes() == corpus.path(name).read_bytes(), name
        assert again == doc


# --- masks --------------------------------------------------------------------------------------
def test_pixel_masks_cover_the_value(corpus: Any) -> None:
    """A masked copy keeps at most a small fraction of the glyph edges visible text has.

    Visible text boxes measure an edge density of roughly 0.15–0.45 (3×3 range > 64 grey
    levels; 5th percentile ≈ 0.16); a covered box measures ≈ 0, except that a marker's own
    edge may cross the box (up to ≈ 0.07 on a long skewed line). On a skewed page the truth box
    is the enclosing rectangle of the turned line, whose corners hold neighbouring rows, so
    the core band (middle half of the height, inner 90 % of the width) is measured there. We
    require ≤ 0.10 — at least ~80 % of the glyph-edge signal of visible text gone — and check
    that visible boxes on the same pages do exceed it.
    """
    masked = copies(corpus, lambda d, p, n, f, c: c["state"] == "masked"
                    and c["mask"] in PIXEL_STYLES and min(_size(d, p, c)) >= 8)
    assert len(masked) >= 20
    images: dict[tuple[str, int], np.ndarray] = {}
    for name, page, fname, _f, c in masked:
        key = (name, page["page"])
        if key not in images:
            images[key] = page_image(corpus.path(name), page["page"])
        rho = edge_density(region(images[key], _core(c["bbox"], corpus.truths[name])))
        assert rho <= MASKED_EDGES, (name, fname, c["mask"], rho)
    visible = copies(corpus, lambda d, p, n, f, c: c["mask"] is None and (d["file"], p["page"])
                     in images and n in ("name", "issued_on") and min(_size(d, p, c)) >= 12)
    assert visible
    dens = [edge_density(region(images[n, p["page"]], c["bbox"])) for n, p, _, _, c in visible]
    assert np.median(dens) > 2 * MASKED_EDGES


def _core(b: list[float], doc: dict) -> list[float]:
    if doc["capture"] in ("digital", "lowres_150", "screenshot", *ROTATED):
        return b                                    # axis-aligned: the box is exact
    dx, dy = (b[2] - b[0]) * 0.05, (b[3] - b[1]) * 0.25
    return [b[0] + dx, b[1] + dy, b[2] - dx, b[3] - dy]


def _size(doc: dict, page: dict, c: dict) -> tuple[float, float]:
    """A copy's box size in pixels of the page image used by these tests."""
    w, h = page["size"]
    if page["unit"] == "pt":
        w, h = w / 72 * PDF_DPI, h / 72 * PDF_DPI
    return (c["bbox"][2] - c["bbox"][0]) * w, (c["bbox"][3] - c["bbox"][1]) * h


def test_truth_boxes_land_on_ink(corpus: Any) -> None:
    """Visible kept fields, after rotation / perspective / placement on a flatbed, hold ink."""
    picked = copies(corpus, lambda d, p, n, f, c: c["state"] == "visible" and c["mask"] is None
                    and n in ("name", "insurer_name", "issued_on")
                    and d["capture"] in (*ROTATED, "phone_photo", "card_on_flatbed", "scan"))
    assert len(picked) >= 15
    for name, page, fname, _f, c in picked:
        img = page_image(corpus.path(name), page["page"])
        grey = region(img, c["bbox"])
        paper = float(np.percentile(grey, 90))
        ink = float((grey < paper - 40).mean())      # measured: ≥ 0.13 on every visible box
        assert ink > 0.05, (name, fname, ink)


def test_file_tricks_leave_the_value_recoverable(corpus: Any) -> None:
    seen = set()
    for name, doc in corpus.truths.items():
        path = corpus.path(name)
        for page in doc["pages"]:
            styles = set(page["mask_styles"])
            if "exif_thumbnail" in styles:
                _check_exif_thumbnail(path, page)
                seen.add("exif_thumbnail")
            if "png_trailing_bytes" in styles:
                _check_trailing(path)
                seen.add("png_trailing_bytes")
            for style in styles & {"pdf_box_over_text", "pdf_opaque_annot",
                                   "pdf_unapplied_redact", "scan_ocr_layer", "pdf_incremental",
                                   "pdf_true_redaction"}:
                _check_pdf(path, page, style)
                seen.add(style)
    assert seen == {"exif_thumbnail", "png_trailing_bytes", "pdf_box_over_text",
                    "pdf_opaque_annot", "pdf_unapplied_redact", "scan_ocr_layer",
                    "pdf_incremental", "pdf_true_redaction"}


def _restricted(page: dict, style: str, text_only: bool = False) -> list[tuple[str, dict]]:
    """(printed text, copy) of every copy masked with ``style`` (restricted or over-masked);
    ``text_only``: without the personal QR code (vector squares, no text layer)."""
    return [(f["printed"], c) for n, f in page["fields"].items()
            for c in f["copies"] if c["mask"] == style and f["printed"]
            and not (text_only and n == "qr_code")]


def _squash(s: str) -> str:
    """Compare text layers modulo spacing, width variants and hyphen look-alikes."""
    s = unicodedata.normalize("NFKC", s)
    return re.sub(r"[\u2010-\u2015\u2212\uff0d]", "-", re.sub(r"\s+", "", s))


def _text_in(page: pymupdf.Page, bbox: list[float]) -> str:
    w, h = page.rect.width, page.rect.height
    r = pymupdf.Rect(bbox[0] * w - 2, bbox[1] * h - 2, bbox[2] * w + 2, bbox[3] * h + 2)
    return _squash(page.get_text("text", clip=r))


def _check_pdf(path: Path, page: dict, style: str) -> None:
    data = path.read_bytes()
    targets = _restricted(page, style, text_only=True)
    if page["doc_type"] == "unknown" and not targets:
        return          # an unknown page's masked regions (個人番号 …) are not fields
    assert targets, (path.name, style)
    with pymupdf.open(stream=data, filetype="pdf") as doc:
        pg = doc[page["page"] - 1]
        annots = {a.type[1] for a in pg.annots()}
        for printed, c in targets:
            inside = _text_in(pg, c["bbox"])
            if style in ("pdf_true_redaction", "pdf_incremental"):
                assert _squash(printed) not in inside, (path.name, style)
            elif style == "scan_ocr_layer":   # the OCR layer of a turned page runs sideways
                assert _squash(printed) in _squash(pg.get_text("text")), (path.name, style)
            else:
                assert _squash(printed) in inside, (path.name, style)
    if style == "pdf_opaque_annot":
        assert "Square" in annots
    if style == "pdf_unapplied_redact":
        assert "Redact" in annots
    if style == "pdf_incremental":
        assert data.count(b"%%EOF") >= 2
        first = data[: data.index(b"%%EOF") + 5]
        with pymupdf.open(stream=first, filetype="pdf") as old:
            for printed, c in targets:
                assert _squash(printed) in _text_in(old[page["page"] - 1], c["bbox"])


def _check_exif_thumbnail(path: Path, page: dict) -> None:
    with Image.open(path) as im:
        ifd1 = im.getexif().get_ifd(ExifTags.IFD.IFD1)
        app1 = next(b for m, b in im.applist if m == "APP1" and b.startswith(b"Exif"))
        main = np.asarray(im.convert("RGB"))
    off, length = ifd1[0x0201], ifd1[0x0202]
    thumb = np.asarray(Image.open(io.BytesIO(app1[6 + off: 6 + off + length])).convert("RGB"))
    assert abs(thumb.shape[1] / thumb.shape[0] - main.shape[1] / main.shape[0]) < 0.02
    for _printed, c in _restricted(page, "exif_thumbnail"):
        # masked in the image, paper and ink in the thumbnail
        assert region(thumb, c["bbox"]).mean() > region(main, c["bbox"]).mean() + 40


def _check_trailing(path: Path) -> None:
    data = path.read_bytes()
    pos, end = 8, None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        pos += 12 + length
        if kind == b"IEND":
            end = pos
            break
    assert end is not None and len(data) - end > 1024
    assert data.endswith(b"IEND\xaeB`\x82")            # the original file's own end marker
    Image.open(io.BytesIO(data[:end])).verify()


# --- readable light masks (real Tesseract) --------------------------------------------------------
@pytest.mark.tesseract
def test_light_masks_leave_digits_readable(corpus: Any) -> None:
    """Partial, light-mosaic, light-blur and highlighter masks leave the digits to an OCR.

    Full value within one OCR slip (edit distance ≤ 1) for the light styles, two adjacent true
    digits for a partial mask; at least 80 % of such copies must pass (Tesseract, not a person,
    is the reader here, and it is weaker on pixelated glyphs than a person is).
    """
    tesserocr = pytest.importorskip("tesserocr")
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    picked = copies(corpus, lambda d, p, n, f, c: f["restricted"] and c["state"] == "visible"
                    and c["mask"] in ("partial", "mosaic_light", "blur_light", "highlighter")
                    and re.fullmatch(r"\d{4,}", _nfkc(f["printed"])) is not None
                    and d["container"] != "pdf_multi" and _glyph(d, p, c) >= MIN_OCR_GLYPH)
    assert len(picked) >= 4
    found = 0
    with tesserocr.PyTessBaseAPI(path="/usr/share/tesseract-ocr/5/tessdata", lang="jpn",
                                 psm=tesserocr.PSM.SINGLE_LINE) as api:
        api.SetVariable("tessedit_char_whitelist", "0123456789")
        for name, page, _fname, f, c in picked:
            img = page_image(corpus.path(name), page["page"])
            crop = _upright(region(img, _grow(c["bbox"], 0.3)), corpus.truths[name]["capture"])
            crop = _for_ocr(crop, c["mask"])
            api.SetImage(Image.fromarray(crop))
            digits = re.sub(r"\D", "", api.GetUTF8Text())
            value = _nfkc(f["printed"])
            if c["mask"] == "partial":   # some run of two true digits survives
                ok = any(value[i:i + 2] in digits for i in range(len(value) - 1))
            else:
                ok = _near(value, digits)
            found += ok
    assert found >= 0.8 * len(picked), (found, len(picked))


@pytest.mark.tesseract
def test_masked_copies_hide_the_digits(corpus: Any) -> None:
    """The counterpart of the light-mask test: where the truth says a pixel mask hides a value
    (``masked``), Tesseract, reading the region as the light-mask test does, finds neither the
    value (within one OCR slip) nor any run of four of its digits. A dozen regions, spread over
    the styles."""
    tesserocr = pytest.importorskip("tesserocr")
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    picked = copies(corpus, lambda d, p, n, f, c: c["state"] == "masked"
                    and c["mask"] in PIXEL_STYLES
                    and re.fullmatch(r"\d{4,}", _nfkc(f["printed"])) is not None
                    and d["container"] != "pdf_multi" and _glyph(d, p, c) >= MIN_OCR_GLYPH)
    by_style: dict[str, list[Any]] = {}
    for item in picked:
        by_style.setdefault(item[4]["mask"], []).append(item)
    sample = [x for group in zip(*[iter(g) for g in by_style.values()], strict=False)
              for x in group]
    sample += [x for g in by_style.values() for x in g if x not in sample]
    sample = sample[:12]
    assert len(sample) >= 6 and len(by_style) >= 3, by_style.keys()
    with tesserocr.PyTessBaseAPI(path="/usr/share/tesseract-ocr/5/tessdata", lang="jpn",
                                 psm=tesserocr.PSM.SINGLE_LINE) as api:
        api.SetVariable("tessedit_char_whitelist", "0123456789")
        for name, page, fname, f, c in sample:
            img = page_image(corpus.path(name), page["page"])
            crop = _upright(region(img, _grow(c["bbox"], 0.3)), corpus.truths[name]["capture"])
            crop = cv2.resize(crop, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
            api.SetImage(Image.fromarray(crop))
            digits = re.sub(r"\D", "", api.GetUTF8Text())
            value = _nfkc(f["printed"])
            leaked = _near(value, digits) or any(value[i:i + 4] in digits
                                                 for i in range(len(value) - 3))
            assert not leaked, (name, fname, c["mask"], digits)


def _glyph(doc: dict, page: dict, c: dict) -> float:
    """Approximate line height in pixels (rotated pages: the box's width)."""
    w, h = _size(doc, page, c)
    return w if doc["capture"] in ("rotated_90", "rotated_270") else h


def _for_ocr(grey: np.ndarray, style: str) -> np.ndarray:
    """Upscale; smooth a mosaic's block edges; blank a partial mask's solid box."""
    grey = cv2.resize(grey, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    if style == "mosaic_light":
        grey = cv2.GaussianBlur(grey, (0, 0), 1.2)
    if style == "partial":
        dark = (grey < 90).astype(np.uint8)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(dark)
        for i in range(1, n):
            if stats[i, cv2.CC_STAT_AREA] > 0.25 * grey.shape[0] ** 2:
                grey[labels == i] = 255
    return grey


def _nfkc(s: str | None) -> str:
    return unicodedata.normalize("NFKC", s or "")


def _near(value: str, text: str) -> bool:
    """``value`` occurs in ``text`` with at most one substituted, missing or extra digit."""
    if value in text:
        return True
    n = len(value)
    for i in range(len(text)):
        for m in (n - 1, n, n + 1):
            window = text[i:i + m]
            if len(window) == m and _edits(value, window) <= 1:
                return True
    return False


def _edits(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def _grow(b: list[float], k: float) -> list[float]:
    dx, dy = (b[2] - b[0]) * k / 2, (b[3] - b[1]) * k / 2
    return [max(0, b[0] - dx), max(0, b[1] - dy), min(1, b[2] + dx), min(1, b[3] + dy)]


def _upright(grey: np.ndarray, capture: str) -> np.ndarray:
    k = {"rotated_90": 1, "rotated_180": 2, "rotated_270": 3}.get(capture, 0)
    return np.ascontiguousarray(np.rot90(grey, k))


# --- privacy of committed samples -----------------------------------------------------------------
def test_public_truth_has_no_restricted_values(corpus: Any) -> None:
    for doc in list(corpus.truths.values())[:20]:
        pub = truthmod.publicize(doc)
        text = json.dumps(pub, ensure_ascii=False)
        assert truthmod.validate(pub) == []
        for page in doc["pages"]:
            for f in page["fields"].values():
                if f["restricted"] and f["copies"]:
                    assert f["value"] not in text or len(f["value"]) < 4
                    assert pub["pages"][page["page"] - 1]["fields"]
        for page in pub["pages"]:
            for f in page["fields"].values():
                if f["restricted"]:
                    assert f["value"] is None and f["printed"] is None


def test_committed_samples_are_public() -> None:
    samples = Path(__file__).resolve().parent.parent / "fixtures" / "samples"
    truths = sorted(samples.glob("*.truth.json"))
    if not truths:
        pytest.skip("no committed samples yet")
    assert len(truths) <= 20
    total = sum(p.stat().st_size for p in samples.iterdir())
    assert total < 12_000_000
    for t in truths:
        doc = json.loads(t.read_text(encoding="utf-8"))
        assert doc["public"] and truthmod.validate(doc) == []
        for page in doc["pages"]:
            assert all(f["value"] is None for f in page["fields"].values() if f["restricted"])


# --- whole corpus ---------------------------------------------------------------------------------
@pytest.mark.slow
def test_full_corpus_generates_and_validates(tmp_path: Path) -> None:
    from fixtures.generate import generate

    names = generate(11, 216, tmp_path, quiet=True)
    assert len(names) == 216
    for n in names:
        doc = json.loads((tmp_path / f"{n}.truth.json").read_text(encoding="utf-8"))
        assert truthmod.validate(doc) == []
