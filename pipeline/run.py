"""The recipe: one function per stage, one Page flowing through them.

ingest → normalize → text (PDF layer or OCR) → classify → locate → detect → extract → judge.
This is the only module that imports ``classifiers`` and ``redaction``.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import cv2
import numpy as np

from classifiers.doctype import Classification, classify
from classifiers.layouts import doc_layouts, field_specs
from pipeline import ingest, normalize, ocrprep
from pipeline.checkdigit import insurance_kind_from_number, is_valid_insurer_number
from pipeline.errors import HokenmaskError, InternalError
from pipeline.extract import extract_value
from pipeline.geometry import BBox, area, from_pixels, intersection, map_box, pad
from pipeline.jpdates import find_dates
from pipeline.locate import Candidate, candidates, find_labels
from pipeline.messages import reason_message
from pipeline.model import Document, Field, Page, ReadError, Reason, TextLine
from pipeline.names import insurance_kind_from_insurer_name
from pipeline.ocr import OcrEngine, default_engine
from pipeline.pdftext import pdf_lines
from pipeline.policy import Policy
from pipeline.rules import judge
from pipeline.settings import DEFAULT, Settings
from pipeline.textmatch import NormLine, normalize_line
from pipeline.vocab import RESTRICTED_FIELDS
from redaction import detect, forensics
from redaction.pdflayer import read_pdf_layer

log = logging.getLogger("hokenmask")

LABEL_PAD = 0.004                              # relative padding around a value region
INSURER_NUMBER_LENGTH = 8                      # digits of an employee-insurance insurer number
FINDING_OVERLAP = 0.2                          # share of the smaller box a finding must cover
PAINT_MIN = 0.5                                # a fill this far from white (summed RGB) is paint
STRAY_DIGITS = 4                               # a readable digit run this long is a number
STRAY_DIGIT_FIELDS = ("insurer_number", "number")  # what an unlabelled long number may be
OPTIONAL_WITH_NUMBER = ("symbol", "branch")    # not printed on some documents that print 番号
_DIGIT_RUN = re.compile(r"[0-9]+")
Paper = Callable[[], detect.PaperModel]  # the page's paper model, computed on first use


@dataclass(frozen=True)
class Context:
    policy: Policy
    as_of: date
    settings: Settings = DEFAULT
    engine: OcrEngine | None = None
    trace: dict[str, float] = field(default_factory=dict)  # stage timings, for the bench
    _models: list[tuple[np.ndarray, detect.PaperModel]] = field(default_factory=list, repr=False)

    def paper(self, image: np.ndarray) -> detect.PaperModel:
        """The paper model of a working image, computed once per image."""
        for img, model in self._models:
            if img is image:
                return model
        model = detect.paper_model(image)
        self._models[:] = [*self._models[-3:], (image, model)]
        return model

    @property
    def ocr(self) -> OcrEngine:
        return self.engine or default_engine(self.settings)

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        """Add the wall time of a stage to ``trace`` (seconds, summed over calls)."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.trace[stage] = self.trace.get(stage, 0.0) + time.perf_counter() - start


def check_document(path: Path, ctx: Context) -> Document:
    """Read and judge every page of a file; errors become ``Document.error``, never raise."""
    try:
        with ctx.timed("ingest"):
            doc = ingest.load(path, ctx.settings)
    except HokenmaskError as exc:
        return Document(source=path, error=ReadError(exc.code, exc.message))
    try:
        pages = tuple(_check_pages(doc, ctx))
    except HokenmaskError as exc:
        return Document(source=path, error=ReadError(exc.code, exc.message))
    except Exception as exc:  # an internal failure is reported, never shown as clean
        # Only the exception's type: its text may quote what a library read from the page.
        log.error("internal error (%s) on a page of %s", type(exc).__name__, path.name)
        err = InternalError()
        return Document(source=path, error=ReadError(err.code, err.message))
    return replace(doc, pages=pages)


def _check_pages(doc: Document, ctx: Context) -> Iterator[Page]:
    if doc.kind != "pdf":
        with ctx.timed("forensics"):
            found = forensics.image_findings(doc.data)
        for page in doc.pages:
            yield check_page(page, ctx, found=found)
        return
    with ingest.open_pdf(doc.data) as pdf:
        with ctx.timed("forensics"):
            found = forensics.pdf_findings(pdf, doc.data)
        for page in doc.pages:
            pdf_page = pdf[page.index]
            with ctx.timed("pdf_layer"):
                layer = read_pdf_layer(pdf_page)
                lines = None if layer.is_scan else pdf_lines(pdf_page)
            page = replace(page, pdf=layer)
            yield check_page(page, ctx, pdf_text=lines or None, found=found)


def check_page(page: Page, ctx: Context, pdf_text: list[TextLine] | None = None,
               found: forensics.Findings | None = None) -> Page:
    """Judge one page. ``pdf_text``: the page's text layer, used instead of OCR when present;
    ``found``: what the file gives away beyond its pixels (history, thumbnails …)."""
    if pdf_text:
        page = replace(page, lines=tuple(pdf_text), evidence=(*page.evidence, "text_layer"))
        with ctx.timed("classify"):
            result = classify_page(page)
    else:
        page, result = read_page(page, ctx)
    page = replace(page, doc_type=result.doc_type, confidence=result.confidence,
                   evidence=page.evidence + result.evidence)
    with ctx.timed("locate"):
        page = locate_fields(page, ctx)
        page = apply_findings(page, found or forensics.Findings())
        page = replace(page, insurance_kind=_insurance_kind(page))
    with ctx.timed("judge"):
        return judge(page, ctx.policy, ctx.as_of)


def read_page(page: Page, ctx: Context) -> tuple[Page, Classification]:
    """OCR a raster page, trying views until one reads as a known document.

    Views, cheapest first: the sheet found in the frame (flattened), then the whole frame,
    each deskewed and, when its text lines run vertically, turned the way Tesseract's
    orientation check suggests; then the best of them turned by half a turn. The first
    confident reading wins, else the best one, marked ``orientation_uncertain``.
    """
    with ctx.timed("normalize"):
        views = []
        if page.pdf is None:
            flat = normalize.flatten(page.image)
            if "document_found" in flat.evidence:
                views.append(normalize.apply(page, [flat]))
        views.append(page)
        vertical = normalize.lines_run_vertically(page.image)
    first_turn = _quarter_turn(views[0], ctx) if vertical else 0
    views = [_turned(v, first_turn) for v in views]
    with ctx.timed("normalize"):
        views = [normalize.apply(v, [normalize.deskew(v.image)]) for v in views]
    tried: list[tuple[Page, Classification]] = []
    for view in views:
        read = _ocr_and_classify(view, ctx)
        tried.append(read)
        if _confident(read[1], ctx):
            return read
    # Upside down (or, for vertical lines, the other quarter turn): half a turn more.
    base = max(tried, key=lambda pr: _rank(pr[1]))[0]
    with ctx.timed("orientation"):
        read = _ocr_and_classify(_turned(base, 2), ctx)
    tried.append(read)
    if _confident(read[1], ctx):
        return read
    page, result = max(tried, key=lambda pr: _rank(pr[1]))
    return replace(page, evidence=(*page.evidence, "orientation_uncertain")), result


def _rank(result: Classification) -> tuple[bool, float]:
    return result.doc_type != "unknown", result.confidence


def _turned(page: Page, k: int) -> Page:
    return normalize.apply(page, [normalize.rotate_quarter(page.image, k)]) if k % 4 else page


def _quarter_turn(page: Page, ctx: Context) -> int:
    """For a page whose lines run vertically: 1 or 3 quarter turns (numpy's rot90 sense), as
    Tesseract's orientation and script detection suggests; 1 when it cannot tell."""
    with ctx.timed("orientation"):
        osd = ctx.ocr.orientation(_scaled(cv2.cvtColor(page.image, cv2.COLOR_RGB2GRAY), 1500))
    return 3 if osd and osd[0] == 270 else 1


def _confident(result: Classification, ctx: Context) -> bool:
    return result.doc_type != "unknown" and result.confidence >= ctx.policy.confidence_threshold


def _ocr_and_classify(page: Page, ctx: Context) -> tuple[Page, Classification]:
    with ctx.timed("ocr"):
        page = replace(page, lines=tuple(ocr_lines(page.image, ctx)))
    with ctx.timed("classify"):
        return page, classify_page(page)


def classify_page(page: Page) -> Classification:
    h, w = page.image.shape[:2]
    aspect = max(h, w) / max(1, min(h, w))
    return classify([normalize_line(ln) for ln in page.lines], aspect)


def _scaled(gray: np.ndarray, long_side: int) -> np.ndarray:
    scale = long_side / max(gray.shape)
    if abs(scale - 1.0) < 0.05:
        return gray
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    return cv2.resize(gray, None, fx=scale, fy=scale, interpolation=interp)


def ocr_lines(rgb: np.ndarray, ctx: Context) -> list[TextLine]:
    """OCR a working image; boxes relative to the image.

    The image is flat-fielded, solid paint-outs and table ruling are whitened (Tesseract reads
    a black box as junk glyphs and loses text inside ruled cells) and the text is scaled to
    the height Tesseract reads best. Mask state is judged later on the original pixels.
    """
    model = ctx.paper(rgb)
    size = (rgb.shape[1], rgb.shape[0])
    background = cv2.resize(cv2.cvtColor(model.background, cv2.COLOR_RGB2GRAY), size,
                            interpolation=cv2.INTER_LINEAR)
    gray = ocrprep.flat_field(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), background)
    if model.covers.any():  # paint and its ragged rim, where OCR reads only junk
        rim = model.near_covers.astype(np.uint8)
        gray[cv2.resize(rim, size, interpolation=cv2.INTER_NEAREST).astype(bool)] = 255
    gray = ocrprep.remove_rules(gray)
    small, _ = ocrprep.scale_for_ocr(gray, ctx.settings.ocr_target_text_px)
    sh, sw = small.shape
    out = []
    for ln in ctx.ocr.lines(small, psm=11):
        boxes = tuple(from_pixels(b, sw, sh) for b in ln.boxes)
        out.append(TextLine(ln.text, boxes, ln.conf, "ocr", ln.confs))
    return out


def locate_fields(page: Page, ctx: Context) -> Page:
    """Find, bound and judge the mask state of every field the doc type carries."""
    layout = doc_layouts()[page.doc_type]
    specs = field_specs()
    carried = [f for f in layout.fields if f in specs]
    nlines = [normalize_line(ln) for ln in page.lines]
    label_table = {f: (specs[f].labels, specs[f].suffix_labels) for f in carried}
    hits = find_labels(nlines, label_table)
    h, w = page.image.shape[:2]
    found = candidates(nlines, hits, aspect=h / max(w, 1))
    def paper() -> detect.PaperModel:  # pixels are judged only where text does not settle it
        model = ctx.paper(page.image)
        return detect.with_covers(model, _paint_shapes(page)) if page.pdf else model

    fields: dict[str, Field] = {}
    chars = _readable_chars(nlines, [h.bbox for h in hits], paper)
    for name in carried:
        copies = [c for c in found if c.field == name]
        fields[name] = _judge_field(name, copies, paper, chars, ctx)
    if layout.personal_qr:
        fields["qr_code"] = _qr_field(page, paper)
    if "insurer_number" in fields and fields["insurer_number"].state != "visible":
        fields["insurer_number"] = _unlabelled_insurer_number(nlines, paper,
                                                              fields["insurer_number"])
    fields, reasons = _unlocated_restricted(fields, nlines, paper)
    return replace(page, fields=fields, reasons=(*page.reasons, *reasons))


def _paint_shapes(page: Page) -> list[BBox]:
    """Filled shapes of a PDF page that hide whatever was there: coloured (not paper-white),
    with no live text inside (a cell shading carries its label; a box over live text leaves
    the text recoverable, which the text layer reports anyway)."""
    if page.pdf is None or page.pdf.is_scan:
        return []
    text_boxes = [w.bbox for w in page.pdf.words if w.source == "pdf"]
    out = []
    for s in page.pdf.shapes:
        if s.kind != "fill" or s.color is None or sum(1.0 - c for c in s.color) < PAINT_MIN:
            continue
        if any(_centre_in(t, s.bbox) for t in text_boxes):
            continue
        out.append(s.bbox)
    return out


def _unlocated_restricted(fields: dict[str, Field], nlines: list[NormLine], paper: Paper
                          ) -> tuple[dict[str, Field], list[Reason]]:
    """Fail closed where a restricted field's label was not read: digits printed where no
    located field accounts for them make it visible; otherwise a person must look."""
    missing = [n for n, f in fields.items() if n in RESTRICTED_FIELDS and n != "qr_code"
               and f.state == "absent" and "label_not_found" in f.evidence]
    # Some documents print no 記号 or 枝番 (後期高齢者: 被保険者番号 only): when the number
    # itself was found, their labels' absence is taken as not printed.
    if fields.get("number") and fields["number"].state != "absent":
        missing = [n for n in missing if n not in OPTIONAL_WITH_NUMBER]
    if not missing:
        return fields, []
    located = [c for f in fields.values() if f.state != "absent" for c in f.copies]
    stray = _stray_digits(nlines, located, paper)
    fields = dict(fields)
    reasons = []
    for name in missing:
        if stray and name in STRAY_DIGIT_FIELDS:
            fields[name] = replace(fields[name], state="visible", bbox=stray[0],
                                   copies=tuple(stray), evidence=("unlabelled_digits",))
        else:
            reasons.append(Reason("restricted_unlocated",
                                  reason_message("restricted_unlocated", name), name))
    return fields, reasons


def _stray_digits(nlines: list[NormLine], located: list[BBox], paper: Paper) -> list[BBox]:
    """Boxes of readable runs of 4+ digits that are no date and lie in no located field."""
    return [box for digits, box, in_date in _digit_runs(nlines, paper)
            if len(digits) >= STRAY_DIGITS and not in_date
            and not any(_centre_in(box, r) for r in located)]


def _unlabelled_insurer_number(nlines: list[NormLine], paper: Paper, current: Field) -> Field:
    """Fail closed on a missed label: a readable 8-digit run anywhere on the page that passes
    the insurer-number check digit is the insurer number, visible. The digits are used here
    transiently and dropped; only their box survives."""
    for digits, box, _ in _digit_runs(nlines, paper):
        if (len(digits) == INSURER_NUMBER_LENGTH and is_valid_insurer_number(digits)
                and insurance_kind_from_number(digits) != "unknown"):
            return replace(current, state="visible", bbox=box,
                           evidence=(*current.evidence, "check_digit"),
                           copies=(*current.copies, box))
    return current


def _digit_runs(nlines: list[NormLine], paper: Paper) -> Iterator[tuple[str, BBox, bool]]:
    """Readable digit runs (digits, box, inside a date?), OCR junk on paint left out. The
    digits are for a transient check only: callers keep nothing but the box."""
    for nl in nlines:
        dates = [(d.start, d.end) for d in find_dates(nl.text)]
        for m in _DIGIT_RUN.finditer(nl.text):
            box = nl.span_box(m.start(), m.end())
            if nl.line.source == "ocr" and detect.on_cover(paper(), box):
                continue
            yield m.group(), box, any(s <= m.start() < e for s, e in dates)

def _judge_field(name: str, copies: list[Candidate], paper: Paper,
                 chars: list[tuple[str, float, BBox]], ctx: Context) -> Field:
    if not copies:
        return Field(name, "absent", evidence=("label_not_found",))
    keep = ctx.policy.action(name) == "keep"
    spec = field_specs()[name]
    judged: list[tuple[str, BBox, str | None, tuple[str, ...]]] = []
    for c in copies:
        read = c.value_box if detect.looks_like(c.text, spec.kind) else None
        region = read or detect.value_region(paper(), c.anchor_box, c.limit_x)
        if region is None:  # nothing printed after the label: the empty slot up to the next label
            a = c.anchor_box
            slot = (a[2], a[1], max(c.limit_x, a[2]), a[3])
            judged.append(("masked", slot, None, ("no_value_region",)))
            continue
        region = pad(region, LABEL_PAD)
        inside = [(ch, conf) for ch, conf, box in chars if _centre_in(box, region)]
        if read and detect.reads_as(inside, spec.kind):
            st = detect.MaskState("visible", ("text_read",))
        else:
            st = detect.mask_state(paper(), region, inside, spec.kind)
        value = extract_value(name, spec.kind, c.text) if keep and st.state == "visible" else None
        judged.append((st.state, region, value, st.evidence))
    visible = [j for j in judged if j[0] == "visible"]
    best = next((j for j in visible if j[2] is not None), visible[0] if visible else judged[0])
    state, bbox, value, evidence = best
    return Field(name, state, bbox=bbox, value=value, evidence=evidence,
                 copies=tuple(j[1] for j in judged))


def apply_findings(page: Page, found: forensics.Findings) -> Page:
    """Fields whose value the file still gives away are visible, whatever the pixels show."""
    boxes, codes = found.for_page(page.index)
    if not boxes and not codes:
        return page
    to_work = np.linalg.inv(page.to_source)
    work_boxes = [(map_box(to_work, b), code) for b, code in boxes]
    fields = dict(page.fields)
    reasons = [Reason(c, reason_message(c)) for c in sorted(codes)]
    matched: set[int] = set()
    for name, f in page.fields.items():
        unlocated = name in RESTRICTED_FIELDS and "label_not_found" in f.evidence
        if found.original_inside and unlocated:  # the unmasked original is in the file
            f = replace(f, state="masked")
        if f.state == "absent":
            continue
        hits = [i for i, (b, _) in enumerate(work_boxes)
                for copy in (f.copies or (f.bbox,)) if copy and _overlaps(b, copy)]
        matched.update(hits)
        hit = work_boxes[hits[0]][1] if hits else None
        if hit is None and found.original_inside and f.state == "masked":
            hit = "trailing_data" if "trailing_data" in codes else "thumbnail_leak"
        if hit is None:
            continue
        if f.state != "visible":
            fields[name] = replace(f, state="visible", evidence=(*f.evidence, hit))
        reasons.append(Reason(hit, reason_message(hit, name), name))
    # Recoverable content that no field accounts for: fail closed, at page level.
    for code in sorted({code for i, (_, code) in enumerate(work_boxes) if i not in matched}):
        if page.doc_type != "unknown":
            reasons.append(Reason(code, reason_message(code)))
    return replace(page, fields=fields, reasons=(*page.reasons, *reasons))


def _overlaps(a: BBox, b: BBox) -> bool:
    """Boxes share a fair part of the smaller one (an OCR layer's boxes sit loosely)."""
    inter = intersection(a, b)
    return inter > 0 and inter >= FINDING_OVERLAP * min(area(a), area(b))


def _centre_in(box: BBox, region: BBox) -> bool:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return region[0] <= cx <= region[2] and region[1] <= cy <= region[3]


def _readable_chars(nlines: list[NormLine], label_boxes: list[BBox],
                    paper: Paper) -> list[tuple[str, float, BBox]]:
    """Characters that are value ink: not part of a label, not OCR noise on a solid mask."""
    out = []
    for nl in nlines:
        for ch, conf, box in zip(nl.text, nl.confs, nl.boxes, strict=False):
            if any(_centre_in(box, lb) for lb in label_boxes):
                continue
            if nl.line.source == "ocr" and detect.on_cover(paper(), box):
                continue
            out.append((ch, conf, box))
    return out


def _qr_field(page: Page, paper: Paper) -> Field:
    """A personal QR code: visible when it decodes (the payload is dropped at once)."""
    gray = cv2.cvtColor(page.image, cv2.COLOR_RGB2GRAY)
    detector = cv2.QRCodeDetector()
    try:
        payload, points, _ = detector.detectAndDecode(gray)
    except cv2.error:
        payload, points = "", None
    if points is None:
        return Field("qr_code", "absent", evidence=("qr_not_found",))
    h, w = gray.shape
    pts = points.reshape(-1, 2)
    box = from_pixels((pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max()), w, h)
    decoded = bool(payload)
    del payload
    state = "visible" if decoded else detect.mask_state(paper(), box, []).state
    return Field("qr_code", state, bbox=box, evidence=("qr_decoded" if decoded else "qr_found",),
                 copies=(box,))


def _insurance_kind(page: Page) -> str | None:
    if page.doc_type == "unknown":
        return None
    insurer = page.fields.get("insurer_name")
    if insurer and insurer.value:
        kind = insurance_kind_from_insurer_name(insurer.value)
        if kind != "unknown":
            return kind
    return _kind_from_numbers(page) or "unknown"


def _kind_from_numbers(page: Page) -> str | None:
    """Transiently read the insurer number next to its label; only the kind survives."""
    nlines = [normalize_line(ln) for ln in page.lines]
    hits = find_labels(nlines, {"insurer_number": (("保険者番号",), ())})
    h, w = page.image.shape[:2]
    for c in candidates(nlines, hits, aspect=h / max(w, 1)):
        digits = "".join(ch for ch in c.text if ch.isdigit())
        if is_valid_insurer_number(digits):
            return insurance_kind_from_number(digits)
    return None
