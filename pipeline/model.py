"""The one data model that flows through every stage.

Every stage takes a ``Page`` and returns a new one (``dataclasses.replace``). Text that may hold
a restricted value (OCR words, PDF spans) is kept out of ``repr`` and is never serialised;
``pipeline.report`` is the only place a record is built.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline.geometry import IDENTITY, BBox


@dataclass(frozen=True)
class Word:
    """A run of text with its box (relative to the working image or PDF page)."""

    text: str = field(repr=False)
    bbox: BBox
    conf: float = 1.0
    source: str = "ocr"  # "ocr" | "pdf" | "pdf-invisible" | "annotation" | "form" | "history"


@dataclass(frozen=True)
class TextLine:
    """A line of text (OCR or PDF text layer) with one relative box per character."""

    text: str = field(repr=False)
    boxes: tuple[BBox, ...] = field(repr=False)
    conf: float = 1.0
    source: str = "ocr"  # "ocr" | "pdf"
    confs: tuple[float, ...] = field(default=(), repr=False)  # per character, when known

    def char_conf(self, i: int) -> float:
        return self.confs[i] if i < len(self.confs) else self.conf

    @property
    def bbox(self) -> BBox:
        return (min(b[0] for b in self.boxes), min(b[1] for b in self.boxes),
                max(b[2] for b in self.boxes), max(b[3] for b in self.boxes))


@dataclass(frozen=True)
class Shape:
    """An opaque filled shape drawn on a PDF page (a candidate mask box)."""

    bbox: BBox
    color: tuple[float, float, float] | None
    order: int  # drawing sequence number; text drawn later sits on top
    kind: str = "fill"  # "fill" | "annotation" | "image"


@dataclass(frozen=True)
class PdfLayer:
    """What a PDF page carries besides its pixels."""

    words: tuple[Word, ...] = field(default=(), repr=False)
    shapes: tuple[Shape, ...] = ()
    image_boxes: tuple[BBox, ...] = ()
    rotation: int = 0
    is_scan: bool = False  # one image covers the page: a scanned page, maybe with an OCR layer
    findings: tuple[str, ...] = ()  # file-level leaks: "incremental_history", "unapplied_redact" …


@dataclass(frozen=True)
class Field:
    """One contract field on one page. ``value`` only for fields the policy keeps."""

    name: str
    state: str  # "visible" | "masked" | "absent"
    bbox: BBox | None = None
    value: str | None = None
    confidence: float = 1.0
    evidence: tuple[str, ...] = ()
    copies: tuple[BBox, ...] = ()  # every printed copy (redact masks them all)


@dataclass(frozen=True)
class Reason:
    code: str
    message: str
    field: str | None = None


@dataclass(frozen=True)
class Page:
    """A page of a submitted document and everything the pipeline learned about it."""

    source: Path
    index: int  # 0-based page index in the source file
    image: np.ndarray = field(repr=False)  # working image, RGB uint8, upright
    to_source: np.ndarray = field(default_factory=lambda: IDENTITY.copy(), repr=False)
    source_size: tuple[int, int] = (0, 0)  # (width, height) of the page as submitted, pixels
    pdf: PdfLayer | None = None
    lines: tuple[TextLine, ...] = field(default=(), repr=False)  # in working-image coordinates
    doc_type: str = "unknown"
    confidence: float = 0.0
    evidence: tuple[str, ...] = ()
    insurance_kind: str | None = None
    fields: dict[str, Field] = field(default_factory=dict)
    reasons: tuple[Reason, ...] = ()
    verdict: str | None = None
    output: Path | None = None


@dataclass(frozen=True)
class ReadError:
    """Why a file could not be read (a stable code and a Japanese message)."""

    code: str
    message: str


@dataclass(frozen=True)
class Document:
    """A source file with its pages, or the reason it could not be read."""

    source: Path
    pages: tuple[Page, ...] = ()
    error: ReadError | None = None
    kind: str = ""  # container sniffed from content: "pdf", "png", "jpeg", "tiff" …
    data: bytes = field(default=b"", repr=False)  # the file's bytes, for file-level checks
