"""The naive baseline: whole-page Tesseract ``jpn`` at 300 dpi, one process per call."""

from __future__ import annotations

import time
from pathlib import Path

import pymupdf
import pytesseract
from PIL import Image

from pipeline.settings import DEFAULT

BASELINE_DPI = 300


def _first_page_image(path: Path) -> Image.Image:
    if path.suffix.lower() == ".pdf":
        with pymupdf.open(path) as doc:
            pix = doc[0].get_pixmap(dpi=BASELINE_DPI)
            return Image.frombytes("RGB", (pix.width, pix.height), pix.samples)
    img = Image.open(path)
    img.seek(0)
    return img.convert("RGB")


def measure(paths: list[Path]) -> list[float]:
    """Seconds per page of a full-page OCR of each file's first page."""
    cfg = f"--psm 3 --oem 1 --tessdata-dir {DEFAULT.tessdata}"
    times = []
    for path in paths:
        img = _first_page_image(path)
        start = time.perf_counter()
        pytesseract.image_to_string(img, lang="jpn", config=cfg)
        times.append(time.perf_counter() - start)
    return times
