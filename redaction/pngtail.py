"""Recover pixels from the tail of a PNG left after IEND (aCropalypse, CVE-2023-21036).

An editor that writes a cropped PNG over the original file without truncating it leaves the
end of the original's compressed stream after the new IEND. Its start (and so the first 32 KiB
of history LZ77 refers to) is lost: we find a deflate block boundary, inflate with zeros for
the lost history, find the row layout from the filter-type bytes and decode what we can.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterable, Iterator, Sequence

import numpy as np
from PIL import Image

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
RESYNC_SEARCH_BYTES = 65536  # how far into the tail to look for a deflate block start
PROBE_BYTES = 2048  # decode this much first; most wrong starts fail within it
ADLER_SLACK = 8  # after the last block only the Adler-32 checksum (and padding) may remain
MIN_INFLATED = 1024  # … and the decoded data must be at least this long
_ZERO_WINDOW = bytes(32768)  # stands in for the lost 32 KiB of history
ROWS_TO_CHECK = 32  # rows whose filter-type byte must be valid to accept a row layout
COMMON_WIDTHS = (720, 750, 828, 1080, 1125, 1170, 1179, 1242, 1284, 1290, 1440, 1536, 1600,
                 1668, 1920, 2048, 2160, 2560)  # phone / tablet / monitor screenshot widths


def _png_chunks(data: bytes, pos: int = 8) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, chunk end) for consecutive chunks from ``pos``."""
    while pos + 12 <= len(data):
        length = struct.unpack(">I", data[pos:pos + 4])[0]
        kind = data[pos + 4:pos + 8]
        end = pos + 12 + length
        if end > len(data):
            return
        yield kind, pos + 8, end
        if kind == b"IEND":
            return
        pos = end


def png_end(data: bytes) -> int | None:
    """Offset just past the IEND chunk, or None."""
    for kind, _, end in _png_chunks(data):
        if kind == b"IEND":
            return end
    return None


def _idat_stream(tail: bytes) -> bytes:
    """Compressed image data in a PNG tail: the rest of a cut IDAT, then whole IDAT chunks."""
    pos = tail.find(b"IDAT")
    while pos >= 4:
        length = struct.unpack(">I", tail[pos - 4:pos])[0]
        crc = tail[pos + 4 + length:pos + 8 + length]
        if len(crc) == 4 and zlib.crc32(tail[pos:pos + 4 + length]) == struct.unpack(">I", crc)[0]:
            break
        pos = tail.find(b"IDAT", pos + 1)
    if pos < 4:  # no whole IDAT: the cut one runs up to its CRC, before IEND (if any)
        iend = tail.rfind(b"IEND")
        return tail[: (iend - 4 if iend >= 4 else len(tail)) - 4]
    stream = [tail[:max(0, pos - 8)]]  # minus the cut chunk's CRC and this chunk's length
    stream += [tail[s:e - 4] for kind, s, e in _png_chunks(tail, pos - 4) if kind == b"IDAT"]
    return b"".join(stream)


def _shift_bits(data: bytes, bits: int) -> bytes:
    if not bits:
        return data
    a = np.frombuffer(data + b"\x00", np.uint8).astype(np.uint16)
    out = (a[:-1] >> bits) | ((a[1:] << (8 - bits)) & 0xFF)
    return out.astype(np.uint8).tobytes()


def _block_starts(stream: bytes) -> np.ndarray:
    """Bit positions where a dynamic-Huffman or stored deflate block header is plausible."""
    n = min(len(stream), RESYNC_SEARCH_BYTES + 8)
    bits = np.unpackbits(np.frombuffer(stream[:n], np.uint8), bitorder="little").astype(int)
    m = len(bits) - 16
    if m <= 0:
        return np.zeros(0, int)
    btype = bits[1:m + 1] | (bits[2:m + 2] << 1)
    hlit = sum(bits[3 + i:m + 3 + i] << i for i in range(5))
    hdist = sum(bits[8 + i:m + 8 + i] << i for i in range(5))
    dynamic = (btype == 2) & (hlit <= 29) & (hdist <= 29)
    data = np.frombuffer(stream[:n], np.uint8).astype(int)
    stored = np.zeros(m, bool)
    pos = np.flatnonzero(btype == 0)
    q = (pos + 3 + 7) // 8  # LEN and NLEN follow at the next byte boundary
    ok = q + 4 <= len(data)
    pos, q = pos[ok], q[ok]
    length = data[q] | (data[q + 1] << 8)
    nlength = data[q + 2] | (data[q + 3] << 8)
    stored[pos[(length ^ nlength) == 0xFFFF]] = True
    return np.flatnonzero(dynamic | stored)


def _inflate_from_unknown_start(stream: bytes) -> bytes:
    """Inflate a raw deflate stream whose beginning is lost.

    Tries every plausible block header position, decoding with an all-zero window in place of
    the lost history; the right one decodes cleanly to the end of the stream.
    """
    shifted = [_shift_bits(stream, bits) for bits in range(8)]
    for start in _block_starts(stream):
        chunk = shifted[start % 8][start // 8:]
        d = zlib.decompressobj(wbits=-15, zdict=_ZERO_WINDOW)
        try:
            out = d.decompress(chunk[:PROBE_BYTES])
            if not d.eof:
                out += d.decompress(chunk[PROBE_BYTES:])
        except zlib.error:
            continue
        if d.eof and len(d.unused_data) <= ADLER_SLACK and len(out) >= MIN_INFLATED:
            return out
    return b""


def _row_layout(raw: bytes, widths: Iterable[int]) -> tuple[int, int, int] | None:
    """(width, bytes per pixel, phase) whose row-filter bytes are all valid (0..4)."""
    arr = np.frombuffer(raw, np.uint8)
    for width in widths:
        for bpp in (4, 3):
            stride = width * bpp + 1
            rows = min(ROWS_TO_CHECK, len(arr) // stride - 1)
            if rows < 2:
                continue
            block = arr[: (rows + 1) * stride].reshape(rows + 1, stride)
            valid = np.flatnonzero((block[:rows] <= 4).all(axis=0))
            if len(valid):
                return width, bpp, int(valid[0])
    return None


def recover_png_tail(data: bytes, widths: Sequence[int] | None = None) -> np.ndarray | None:
    """Best-effort pixels of the original image from a PNG's trailing bytes (aCropalypse).

    ``widths`` are candidate widths of the lost original (default: this image's width and
    common screen widths). Returns the recovered rows (RGB or RGBA array) or None. Pixels that
    referred to the lost start of the stream come out as zeros.
    """
    end = png_end(data) if data.startswith(PNG_SIGNATURE) else None
    if end is None or len(data) - end < 16:
        return None
    raw = _inflate_from_unknown_start(_idat_stream(data[end:]))
    if not raw:
        return None
    own_width = struct.unpack(">I", data[16:20])[0]
    layout = _row_layout(raw, widths or (own_width, *COMMON_WIDTHS))
    if layout is None:
        return None
    width, bpp, phase = layout
    stride = width * bpp + 1
    n = (len(raw) - phase) // stride
    rows = raw[phase:phase + n * stride]
    ihdr = struct.pack(">IIBBBBB", width, n, 8, 6 if bpp == 4 else 2, 0, 0, 0)

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (struct.pack(">I", len(payload)) + kind + payload
                + struct.pack(">I", zlib.crc32(kind + payload)))

    png = PNG_SIGNATURE + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) \
        + chunk(b"IEND", b"")
    try:
        with Image.open(io.BytesIO(png)) as im:
            return np.asarray(im)
    except (OSError, ValueError):
        return None
