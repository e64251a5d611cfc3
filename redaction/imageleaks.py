"""Image files that carry more than their pixels: an EXIF thumbnail made before masking, or
bytes after the end of the image (the unmasked original's tail: aCropalypse, CVE-2023-21036 —
recovered by ``redaction.pngtail``).

Nothing here prints or stores what it recovers; callers get arrays and ``Leak`` records.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator

import cv2
import numpy as np
from PIL import Image

from pipeline.geometry import BBox, from_pixels
from redaction.leak import Leak
from redaction.pngtail import PNG_SIGNATURE, png_end

SOLID_STD = 0.05  # local grey spread (0..1) below which a main-image region looks masked
DETAIL_STD = 0.08  # … and above which the thumbnail shows something there
DIFFERENT_GREY = 0.3  # … or a grey difference this large
LOCAL_WINDOW = 5  # pixels (at thumbnail size) for local statistics
MIN_REGION_SHARE = 0.002  # ignore differing regions smaller than this share of the thumbnail


# --- JPEG structure ----------------------------------------------------------------------------

def _jpeg_segments(data: bytes) -> Iterator[tuple[int, int, int]]:
    """(marker, payload start, payload end) per segment; finally (0xD9, eoi_end, eoi_end)."""
    if data[:2] != b"\xff\xd8":
        return
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker == 0xD9:
            yield marker, pos + 2, pos + 2
            return
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:
            pos += 2
            continue
        length = struct.unpack(">H", data[pos + 2: pos + 4])[0]
        yield marker, pos + 4, pos + 2 + length
        pos += 2 + length
        if marker == 0xDA:  # entropy-coded data runs to the next real marker
            while True:
                pos = data.find(b"\xff", pos)
                if pos < 0 or pos + 1 >= len(data):
                    return
                nxt = data[pos + 1]
                if nxt == 0x00 or 0xD0 <= nxt <= 0xD7 or nxt == 0xFF:
                    pos += 1 if nxt == 0xFF else 2
                    continue
                break


def _jpeg_end(data: bytes) -> int | None:
    for marker, _, end in _jpeg_segments(data):
        if marker == 0xD9:
            return end
    return None


def _exif_thumbnail_bytes(data: bytes) -> bytes | None:
    for marker, start, end in _jpeg_segments(data):
        if marker == 0xE1 and data[start:start + 6] == b"Exif\x00\x00":
            return _ifd1_jpeg(data[start + 6:end])
        if marker == 0xDA:
            break
    return None


def _ifd1_jpeg(tiff: bytes) -> bytes | None:
    """The JPEG thumbnail referenced by IFD1 (tags 0x0201 offset, 0x0202 length)."""
    if len(tiff) < 8 or tiff[:2] not in (b"II", b"MM"):
        return None
    e = "<" if tiff[:2] == b"II" else ">"
    try:
        ifd0 = struct.unpack(e + "I", tiff[4:8])[0]
        n0 = struct.unpack(e + "H", tiff[ifd0:ifd0 + 2])[0]
        ifd1 = struct.unpack(e + "I", tiff[ifd0 + 2 + 12 * n0: ifd0 + 6 + 12 * n0])[0]
        if not ifd1:
            return None
        n1 = struct.unpack(e + "H", tiff[ifd1:ifd1 + 2])[0]
        tags = {}
        for k in range(n1):
            entry = tiff[ifd1 + 2 + 12 * k: ifd1 + 14 + 12 * k]
            tag, typ = struct.unpack(e + "HH", entry[:4])
            value = struct.unpack(e + ("I" if typ == 4 else "H"), entry[8:12 if typ == 4 else 10])
            tags[tag] = value[0]
    except struct.error:
        return None
    off, length = tags.get(0x0201), tags.get(0x0202)
    if off is None or not length or off + length > len(tiff):
        return None
    return tiff[off:off + length]


def jpeg_exif_thumbnail(data: bytes) -> np.ndarray | None:
    """The EXIF thumbnail of a JPEG as an RGB array, or None when there is none."""
    raw = _exif_thumbnail_bytes(data)
    if not raw:
        return None
    try:
        with Image.open(io.BytesIO(raw)) as im:
            return np.asarray(im.convert("RGB"))
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


def _grey(img: np.ndarray) -> np.ndarray:
    g = img if img.ndim == 2 else cv2.cvtColor(img[..., :3], cv2.COLOR_RGB2GRAY)
    return g.astype(np.float32) / 255.0


def _local_std(g: np.ndarray) -> np.ndarray:
    k = (LOCAL_WINDOW, LOCAL_WINDOW)
    mean = cv2.blur(g, k)
    return np.sqrt(np.maximum(cv2.blur(g * g, k) - mean * mean, 0.0))


def thumbnail_differs(main: np.ndarray, thumb: np.ndarray) -> list[BBox]:
    """Relative boxes where the main image looks masked (one solid colour) but the thumbnail
    shows something else — the thumbnail was made before the masking."""
    th, tw = thumb.shape[:2]
    small = cv2.resize(main, (tw, th), interpolation=cv2.INTER_AREA)
    m, t = _grey(small), _grey(thumb)
    solid = _local_std(m) < SOLID_STD
    differs = (_local_std(t) > DETAIL_STD) | (np.abs(t - m) > DIFFERENT_GREY)
    leak = (solid & differs).astype(np.uint8)
    leak = cv2.morphologyEx(leak, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    n, _, stats, _ = cv2.connectedComponentsWithStats(leak, connectivity=8)
    boxes = []
    for i in range(1, n):
        x, y, w, h, a = stats[i]
        if a >= MIN_REGION_SHARE * tw * th:
            boxes.append(from_pixels((x, y, x + w, y + h), tw, th))
    return boxes


def exif_thumbnail_leaks(data: bytes) -> list[Leak]:
    """``exif_thumbnail`` leaks (detail: differing thumbnail pixels) for a JPEG's bytes."""
    thumb = jpeg_exif_thumbnail(data)
    if thumb is None:
        return []
    try:
        with Image.open(io.BytesIO(data)) as im:
            main = np.asarray(im.convert("RGB"))
    except (OSError, ValueError, Image.DecompressionBombError):
        return []
    th, tw = thumb.shape[:2]
    return [Leak("exif_thumbnail", 0, b, int((b[2] - b[0]) * tw * (b[3] - b[1]) * th))
            for b in thumbnail_differs(main, thumb)]


# --- bytes after the end of the image ----------------------------------------------------------

def image_end(data: bytes) -> int | None:
    """Offset just past the PNG IEND chunk / JPEG EOI marker, or None when not found."""
    if data.startswith(PNG_SIGNATURE):
        return png_end(data)
    if data[:2] == b"\xff\xd8":
        return _jpeg_end(data)
    return None


def trailing_image_data(data: bytes) -> Leak | None:
    """A ``trailing_data`` leak (detail: byte count) when a PNG/JPEG has bytes after its end.

    Padding of zero bytes or whitespace is ignored; anything else is the tail of some other
    content (often the unmasked original the image was written over).
    """
    end = image_end(data)
    if end is None:
        return None
    tail = data[end:]
    if not tail.strip(b"\x00 \t\r\n"):
        return None
    return Leak("trailing_data", 0, None, len(tail))
