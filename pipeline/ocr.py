"""OCR behind one small interface. Tesseract in-process (tesserocr) first, pytesseract fallback.

Engines return text lines with a box per character, in pixel coordinates of the image they were
given; callers convert to relative geometry. Recognised text is never logged.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from pipeline.settings import DEFAULT, Settings

os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # one Tesseract thread; parallelise across pages


@dataclass(frozen=True)
class OcrLine:
    """A recognised text line: text, one pixel box per character, mean confidence 0..1."""

    text: str = field(repr=False)
    boxes: tuple[tuple[int, int, int, int], ...]
    conf: float
    confs: tuple[float, ...] = ()

    @property
    def bbox(self) -> tuple[int, int, int, int]:
        xs0, ys0, xs1, ys1 = zip(*self.boxes, strict=True)
        return min(xs0), min(ys0), max(xs1), max(ys1)


@contextmanager
def quiet_stderr() -> Iterator[None]:
    """Silence Leptonica's C-level chatter ("Error in pixScanForForeground …") on fd 2.

    Tesseract writes those straight to the file descriptor, not through Python; they are
    harmless and confuse users. Only used around single-threaded engine calls.
    """
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class OcrEngine(Protocol):
    name: str

    def lines(self, gray: np.ndarray, psm: int = 11) -> list[OcrLine]:
        """Recognise text lines in a grayscale uint8 image."""
        ...

    def orientation(self, gray: np.ndarray) -> tuple[int, float] | None:
        """Clockwise rotation (0/90/180/270) that makes the text upright, with confidence."""
        ...


class TesserocrEngine:
    """Tesseract via tesserocr: one API object per thread, reused across calls."""

    name = "tesserocr"

    def __init__(self, settings: Settings = DEFAULT) -> None:
        import tesserocr  # noqa: F401 - fail early when missing

        self._settings = settings
        self._local = threading.local()

    def _api(self, key: str, psm: int):
        import tesserocr

        cache = getattr(self._local, "apis", None)
        if cache is None:
            cache = self._local.apis = {}
        api = cache.get(key)
        if api is None:
            lang = "osd" if key == "osd" else self._settings.ocr_lang
            api = tesserocr.PyTessBaseAPI(path=self._settings.tessdata, lang=lang,
                                          psm=psm, oem=tesserocr.OEM.LSTM_ONLY
                                          if key != "osd" else tesserocr.OEM.DEFAULT)
            cache[key] = api
        api.SetPageSegMode(psm)
        return api

    def lines(self, gray: np.ndarray, psm: int = 11) -> list[OcrLine]:
        import tesserocr
        from PIL import Image

        api = self._api("text", psm)
        api.SetImage(Image.fromarray(gray))
        with quiet_stderr():
            api.Recognize()
        out: list[OcrLine] = []
        it = api.GetIterator()
        level_line, level_sym = tesserocr.RIL.TEXTLINE, tesserocr.RIL.SYMBOL
        chars: list[str] = []
        boxes: list[tuple[int, int, int, int]] = []
        confs: list[float] = []
        if it is None:
            return out
        while True:
            try:
                sym = it.GetUTF8Text(level_sym)
                box = it.BoundingBox(level_sym)
            except RuntimeError:  # an empty element (blank page): nothing to read here
                sym, box = "", None
            if sym and box:
                chars.append(sym)
                boxes.append(tuple(box))
                confs.append(it.Confidence(level_sym) / 100.0)
                if it.IsAtFinalElement(level_line, level_sym):
                    out.append(_line(chars, boxes, confs))
                    chars, boxes, confs = [], [], []
            if not it.Next(level_sym):
                break
        if chars:
            out.append(_line(chars, boxes, confs))
        api.Clear()
        return out

    def orientation(self, gray: np.ndarray) -> tuple[int, float] | None:
        import tesserocr
        from PIL import Image

        api = self._api("osd", tesserocr.PSM.OSD_ONLY)
        api.SetImage(Image.fromarray(gray))
        try:
            with quiet_stderr():
                result = api.DetectOrientationScript()
        except RuntimeError:
            result = None
        api.Clear()
        if not result:
            return None
        # Tesseract reports the counter-clockwise angle the page is rotated by.
        return int(result["orient_deg"]) % 360, float(result["orient_conf"])


class PytesseractEngine:
    """Tesseract through its command line (one process per call): the fallback engine."""

    name = "pytesseract"

    def __init__(self, settings: Settings = DEFAULT) -> None:
        import pytesseract  # noqa: F401

        self._settings = settings

    def lines(self, gray: np.ndarray, psm: int = 11) -> list[OcrLine]:
        import pytesseract
        from PIL import Image

        cfg = f"--psm {psm} --oem 1 --tessdata-dir {self._settings.tessdata}"
        boxes = pytesseract.image_to_boxes(Image.fromarray(gray), lang=self._settings.ocr_lang,
                                           config=cfg)
        h = gray.shape[0]
        chars: list[tuple[str, tuple[int, int, int, int]]] = []
        for row in boxes.splitlines():
            parts = row.split(" ")
            if len(parts) >= 5:
                x0, y0, x1, y1 = (int(v) for v in parts[1:5])
                chars.append((parts[0], (x0, h - y1, x1, h - y0)))
        return _group_chars(chars)

    def orientation(self, gray: np.ndarray) -> tuple[int, float] | None:
        import pytesseract
        from PIL import Image

        try:
            cfg = f"--psm 0 --tessdata-dir {self._settings.tessdata}"
            osd = pytesseract.image_to_osd(Image.fromarray(gray), config=cfg,
                                           output_type=pytesseract.Output.DICT)
        except pytesseract.TesseractError:
            return None
        return int(osd["orientation"]) % 360, float(osd["orientation_conf"])


def _line(chars: list[str], boxes: list, confs: list[float]) -> OcrLine:
    return OcrLine("".join(chars), tuple(boxes), float(np.mean(confs)), tuple(confs))


def _group_chars(chars: list[tuple[str, tuple[int, int, int, int]]]) -> list[OcrLine]:
    """Group character boxes (from a box file) into lines by vertical overlap and adjacency."""
    lines: list[list[tuple[str, tuple[int, int, int, int]]]] = []
    for ch, box in chars:
        if lines:
            last = lines[-1][-1][1]
            height = max(last[3] - last[1], box[3] - box[1], 1)
            same_row = min(last[3], box[3]) - max(last[1], box[1]) > 0.4 * height
            if same_row and 0 <= box[0] - last[2] < 2.5 * height:
                lines[-1].append((ch, box))
                continue
        lines.append([(ch, box)])
    return [OcrLine("".join(c for c, _ in ln), tuple(b for _, b in ln), 0.8) for ln in lines]


_ENGINE: OcrEngine | None = None


def default_engine(settings: Settings = DEFAULT) -> OcrEngine:
    """The process-wide engine: tesserocr when importable, else pytesseract."""
    global _ENGINE
    if _ENGINE is None:
        try:
            _ENGINE = TesserocrEngine(settings)
        except ImportError:
            _ENGINE = PytesseractEngine(settings)
    return _ENGINE
