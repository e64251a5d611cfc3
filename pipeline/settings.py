"""Engineering knobs, in one validated dataclass. Change only with benchmark evidence."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def _default_tessdata() -> str:
    for candidate in (
        os.environ.get("TESSDATA_PREFIX", ""),
        "/usr/share/tesseract-ocr/5/tessdata",
        "/usr/share/tesseract-ocr/4.00/tessdata",
        "/usr/share/tessdata",
    ):
        if candidate and (Path(candidate) / "jpn.traineddata").exists():
            return candidate
    return "/usr/share/tesseract-ocr/5/tessdata"


@dataclass(frozen=True)
class Settings:
    # Input guards (checked before heavy work).
    max_file_bytes: int = 200 * 1024 * 1024
    max_pages: int = 50
    max_image_pixels: int = 80_000_000  # beyond this an image is treated as a decompression bomb
    # Rendering and working resolution.
    pdf_render_dpi: int = 200
    work_long_side_px: int = 2000  # working images are scaled so their long side is at most this
    # OCR.
    tessdata: str = field(default_factory=_default_tessdata)
    ocr_lang: str = "jpn"
    ocr_target_text_px: int = 20  # glyph height for Tesseract jpn (bench sweep: 16–20 best)

    def __post_init__(self) -> None:
        if self.max_pages < 1 or self.max_file_bytes < 1 or self.max_image_pixels < 1:
            raise ValueError("limits must be positive")
        if not 72 <= self.pdf_render_dpi <= 600:
            raise ValueError("pdf_render_dpi must be within 72..600")


DEFAULT = Settings()
