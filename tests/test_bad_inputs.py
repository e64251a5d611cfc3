"""Hostile and unusual inputs, built on the fly in a temporary folder (never committed).

One `hokenmask check --json` run over a folder holding every case at once: each unreadable
file gives exactly one error record with a stable code and a Japanese message, every readable
one gives its page records, the run ends with exit status 2 and never prints a traceback.
A few in-process checks of `pipeline.ingest` make sure the unusual image modes decode to the
right pixels, not merely to something.
"""

from __future__ import annotations

import io
import os
import random
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pymupdf
import pytest
from PIL import Image, ImageDraw, PngImagePlugin

from pipeline import ingest
from pipeline.errors import InputError
from pipeline.settings import DEFAULT
from tests.cli_support import (
    assert_clean_stderr,
    error_record_problems,
    generate_docs,
    page_record_problems,
    plan_item,
    run_cli,
)

WORK_WIDTH = 900  # px: the base picture is scaled down so that OCR stays quick
BOMB_SIDE = 30_000  # px: declared 30000 x 30000 (900 Mpx) in a PNG of about 100 KB


# --- builders ---------------------------------------------------------------------------------

def _encode(img: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def _text_pdf(pages: int = 1, **save: object) -> bytes:
    doc = pymupdf.open()
    for n in range(pages):
        page = doc.new_page(width=595, height=842)
        page.insert_text((72, 90), f"Quarterly report, page {n + 1}", fontsize=14)
    data = doc.tobytes(**save)
    doc.close()
    return data


def _bomb_png(side: int = BOMB_SIDE) -> bytes:
    """A complete 1-bit PNG of ``side`` x ``side`` zeros: tiny on disk, huge when decoded."""
    def chunk(tag: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + tag + body
                + struct.pack(">I", zlib.crc32(tag + body) & 0xFFFFFFFF))

    row = bytes(1 + (side + 7) // 8)  # filter byte + packed bits
    z = zlib.compressobj(9)
    idat = b"".join(z.compress(row) for _ in range(side)) + z.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat)
            + chunk(b"IEND", b""))


def _frames(base: Image.Image, n: int) -> list[Image.Image]:
    return [base] + [base.rotate(180 * (k % 2)) for k in range(1, n)]


def _gray16(base: Image.Image) -> bytes:
    arr = np.asarray(base.convert("L"), dtype=np.uint16) * 257
    img = Image.fromarray(arr)  # uint16 → mode I;16
    assert img.mode == "I;16", img.mode
    return _encode(img, "PNG")


def _rgba(base: Image.Image) -> bytes:
    rgba = base.convert("RGBA")
    alpha = Image.new("L", rgba.size, 255)
    alpha.paste(0, (0, 0, rgba.width, rgba.height // 10))  # a transparent top band
    rgba.putalpha(alpha)
    return _encode(rgba, "PNG")


def _png_with_pdf_marker(base: Image.Image) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "converted from %PDF-1.7 by a scanner driver")
    return _encode(base, "PNG", pnginfo=info)


def _corrupt_png(base: Image.Image) -> bytes:
    data = bytearray(_encode(base, "PNG"))
    start = data.index(b"IDAT") + 4 + 64
    rng = random.Random(7)
    for i in range(start, min(len(data) - 16, start + 4096)):
        data[i] = rng.randrange(256)
    return bytes(data)


@dataclass(frozen=True)
class Case:
    """``build(folder, name, base)`` writes the input; ``expect`` is an error code or a page
    count (a readable file)."""

    build: Callable[[Path, str, Image.Image], None]
    expect: str | int


def _bytes(make: Callable[[Image.Image], bytes]) -> Callable[[Path, str, Image.Image], None]:
    def build(folder: Path, name: str, base: Image.Image) -> None:
        (folder / name).write_bytes(make(base))
    return build


def _symlink(target: str) -> Callable[[Path, str, Image.Image], None]:
    def build(folder: Path, name: str, base: Image.Image) -> None:
        (folder / name).symlink_to(target)
    return build


def _fifo(folder: Path, name: str, base: Image.Image) -> None:
    os.mkfifo(folder / name)


def _half(data: bytes) -> bytes:
    return data[: len(data) // 2]


CASES: dict[str, Case] = {
    # unreadable: one error record each
    "empty.png": Case(_bytes(lambda b: b""), "empty_file"),
    "truncated.jpg": Case(_bytes(lambda b: _half(_encode(b, "JPEG", quality=90))), "truncated"),
    "truncated.png": Case(_bytes(lambda b: _half(_encode(b, "PNG"))), "truncated"),
    "truncated.pdf": Case(_bytes(lambda b: _text_pdf()[: int(len(_text_pdf()) * 0.8)]),
                          "truncated"),
    "corrupt.png": Case(_bytes(_corrupt_png), "corrupt"),
    "random.bin": Case(_bytes(lambda b: random.Random(1).randbytes(50_000)), "unsupported_type"),
    "random.jpg": Case(_bytes(lambda b: random.Random(2).randbytes(50_000)), "unsupported_type"),
    "notes.txt": Case(_bytes(lambda b: "保険証の写しは別送します\n".encode()), "unsupported_type"),
    "encrypted.pdf": Case(_bytes(lambda b: _text_pdf(encryption=pymupdf.PDF_ENCRYPT_AES_256,
                                                     user_pw="user", owner_pw="owner")),
                          "encrypted"),
    "bomb.png": Case(_bytes(lambda b: _bomb_png()), "decompression_bomb"),
    "too_many_pages.pdf": Case(_bytes(lambda b: _text_pdf(DEFAULT.max_pages + 1)),
                               "too_many_pages"),
    "too_many_frames.tif": Case(_bytes(lambda b: _encode(
        Image.new("L", (16, 16), 255), "TIFF", save_all=True,
        append_images=[Image.new("L", (16, 16), 255)] * DEFAULT.max_pages)), "too_many_pages"),
    "broken_link.png": Case(_symlink("no-such-file.png"), "not_found"),
    "loop_a.png": Case(_symlink("loop_b.png"), "not_found"),
    "loop_b.png": Case(_symlink("loop_a.png"), "not_found"),
    "fifo.png": Case(_fifo, "unsupported_type"),
    # readable: page records, never an error
    "png_named.pdf": Case(_bytes(lambda b: _encode(b, "PNG")), 1),
    "cmyk.jpg": Case(_bytes(lambda b: _encode(b.convert("CMYK"), "JPEG", quality=92)), 1),
    "gray16.png": Case(_bytes(_gray16), 1),
    "palette.png": Case(_bytes(lambda b: _encode(b.quantize(64), "PNG")), 1),
    "rgba.png": Case(_bytes(_rgba), 1),
    "animated.gif": Case(_bytes(lambda b: _encode(b.quantize(128), "GIF", save_all=True,
                                                   append_images=_frames(b, 3)[1:],
                                                   duration=200, loop=0)), 1),
    "multipage.tif": Case(_bytes(lambda b: _encode(b, "TIFF", save_all=True,
                                                    append_images=_frames(b, 2)[1:],
                                                    compression="tiff_deflate")), 2),
    "owner_password.pdf": Case(_bytes(lambda b: _text_pdf(
        encryption=pymupdf.PDF_ENCRYPT_AES_256, owner_pw="owner",
        permissions=pymupdf.PDF_PERM_PRINT)), 1),
    "junk_after_eof.pdf": Case(_bytes(lambda b: _text_pdf() + b"\x00" * 300 + b"\r\n"), 1),
    "スキャン 田中 一郎.png": Case(_bytes(lambda b: _encode(b, "PNG")), 1),
}
ERROR_CASES = sorted(n for n, c in CASES.items() if isinstance(c.expect, str))
READABLE_CASES = sorted(n for n, c in CASES.items() if isinstance(c.expect, int))
# Decoded in-process only (their pixels are compared; the pipeline adds nothing).
INGEST_ONLY: dict[str, Case] = {
    "mpo.jpg": Case(_bytes(lambda b: _encode(b, "MPO", save_all=True,
                                              append_images=[b.resize((b.width // 4,
                                                                       b.height // 4))])), 1),
    "with_pdf_marker.png": Case(_bytes(_png_with_pdf_marker), 1),
    "multipage3.tif": Case(_bytes(lambda b: _encode(b, "TIFF", save_all=True,
                                                     append_images=_frames(b, 3)[1:])), 3),
}


def _small_picture() -> Image.Image:
    """What the command reads in the big run: small and nearly text-free, so that the
    pipeline's OCR passes stay short (a real card costs several seconds a page)."""
    h, w = 300, 480
    y, x = np.mgrid[0:h, 0:w]
    arr = np.stack([x * 255 // w, y * 255 // h, np.full_like(x, 180)], -1).astype(np.uint8)
    img = Image.fromarray(arr)
    draw = ImageDraw.Draw(img)
    draw.rectangle((40, 40, 200, 120), fill=(20, 20, 20))
    draw.ellipse((250, 150, 400, 280), fill=(240, 240, 240))
    draw.text((40, 200), "SAMPLE 123", fill=(0, 0, 0))
    return img


@pytest.fixture(scope="module")
def base_picture(tmp_path_factory: pytest.TempPathFactory) -> Image.Image:
    """A generated 資格確認書 (clean render), scaled down to keep OCR quick."""
    out = tmp_path_factory.mktemp("bad-inputs-base")
    (doc,) = generate_docs(out, 99, [plan_item(0, "kakuninsho_card", "digital", "none", "png")],
                           workers=1)
    with Image.open(doc.path) as img:
        img = img.convert("RGB")
        scale = WORK_WIDTH / img.width
        return img.resize((WORK_WIDTH, round(img.height * scale)), Image.Resampling.LANCZOS)


@dataclass(frozen=True)
class BadRun:
    folder: Path
    records: dict[str, list[dict]]
    returncode: int
    stderr: str


@pytest.fixture(scope="module")
def bad_run(tmp_path_factory: pytest.TempPathFactory) -> BadRun:
    folder = tmp_path_factory.mktemp("bad-inputs")
    picture = _small_picture()
    for name, case in CASES.items():
        case.build(folder, name, picture)
    # A symlink back up the tree and a nested file: the walk must end, and find the file.
    nested = folder / "sub" / "deeper"
    nested.mkdir(parents=True)
    (nested / "up").symlink_to("../..", target_is_directory=True)
    (nested / "inner.png").write_bytes(b"")
    res = run_cli("-v", "-v", "check", "--json", folder, timeout=300)
    by_source: dict[str, list[dict]] = {}
    for rec in res.records:
        by_source.setdefault(rec["source"], []).append(rec)
    return BadRun(folder, by_source, res.returncode, res.stderr)


def _records(run: BadRun, name: str) -> list[dict]:
    return run.records.get(str(run.folder / name), [])


@pytest.mark.parametrize("name", ERROR_CASES)
def test_an_unreadable_file_gives_one_error_record(bad_run: BadRun, name: str) -> None:
    recs = _records(bad_run, name)
    assert len(recs) == 1, recs
    (rec,) = recs
    assert error_record_problems(rec) == []
    assert rec["error"]["code"] == CASES[name].expect


@pytest.mark.parametrize("name", READABLE_CASES)
def test_a_readable_file_gives_page_records(bad_run: BadRun, name: str) -> None:
    recs = _records(bad_run, name)
    assert [r.get("error") for r in recs] == [None] * len(recs), recs
    assert [r["page"] for r in recs] == list(range(1, CASES[name].expect + 1))
    assert [p for r in recs for p in page_record_problems(r)] == []


def test_the_run_reports_everything_once_and_exits_2_without_a_traceback(bad_run: BadRun
                                                                       ) -> None:
    assert bad_run.returncode == 2
    assert_clean_stderr(bad_run.stderr)
    expected = {str(bad_run.folder / n) for n in CASES}
    expected.add(str(bad_run.folder / "sub" / "deeper" / "inner.png"))
    assert set(bad_run.records) == expected
    inner = bad_run.records[str(bad_run.folder / "sub" / "deeper" / "inner.png")]
    assert [r["error"]["code"] for r in inner] == ["empty_file"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read a chmod 000 file")
def test_a_file_without_read_permission(tmp_path: Path) -> None:
    locked = tmp_path / "locked.png"
    locked.write_bytes(b"\x89PNG\r\n\x1a\n")
    locked.chmod(0)
    try:
        res = run_cli("check", "--json", locked)
    finally:
        locked.chmod(0o600)
    assert res.returncode == 2
    assert [r["error"]["code"] for r in res.records] == ["permission_denied"]


# --- ingest, in-process: unusual encodings decode to the right pixels ---------------------------

def _load(tmp_path: Path, name: str, base: Image.Image) -> list[np.ndarray]:
    {**CASES, **INGEST_ONLY}[name].build(tmp_path, name, base)
    return [p.image for p in ingest.load(tmp_path / name).pages]


def _diff(a: np.ndarray, b: np.ndarray) -> float:
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


@pytest.mark.parametrize("name, tolerance", [
    ("png_named.pdf", 0.0), ("cmyk.jpg", 6.0), ("palette.png", 6.0), ("animated.gif", 8.0),
    ("mpo.jpg", 6.0), ("with_pdf_marker.png", 0.0), ("スキャン 田中 一郎.png", 0.0),
])
def test_unusual_colour_encodings_decode_to_the_picture(tmp_path: Path, base_picture: Image.Image,
                                                        name: str, tolerance: float) -> None:
    (img,) = _load(tmp_path, name, base_picture)
    assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3
    assert _diff(img, np.asarray(base_picture)) <= tolerance


def test_a_16_bit_grey_png_keeps_its_full_tone_range(tmp_path: Path,
                                                     base_picture: Image.Image) -> None:
    (img,) = _load(tmp_path, "gray16.png", base_picture)
    grey = np.asarray(base_picture.convert("L"))
    assert _diff(img[:, :, 0], grey) <= 1.0
    assert img[:, :, 0].max() - img[:, :, 0].min() >= grey.max() - grey.min() - 2


def test_transparency_is_composited_on_white(tmp_path: Path, base_picture: Image.Image) -> None:
    (img,) = _load(tmp_path, "rgba.png", base_picture)
    band = img.shape[0] // 10
    assert (img[:band] == 255).all()
    assert _diff(img[band:], np.asarray(base_picture)[band:]) == 0.0


def test_every_tiff_page_is_read(tmp_path: Path, base_picture: Image.Image) -> None:
    pages = _load(tmp_path, "multipage3.tif", base_picture)
    want = [np.asarray(f) for f in _frames(base_picture, 3)]
    assert [_diff(p, w) for p, w in zip(pages, want, strict=True)] == [0.0, 0.0, 0.0]


def test_exif_orientation_is_applied(tmp_path: Path, base_picture: Image.Image) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: turn 90° clockwise to display
    stored = base_picture.rotate(90, expand=True)
    (tmp_path / "exif.jpg").write_bytes(_encode(stored, "JPEG", quality=95, exif=exif))
    (page,) = ingest.load(tmp_path / "exif.jpg").pages
    assert page.image.shape[:2] == (base_picture.height, base_picture.width)
    assert _diff(page.image, np.asarray(base_picture)) <= 6.0


def test_the_bomb_is_refused_before_decoding(tmp_path: Path) -> None:
    data = _bomb_png()
    assert len(data) < 1_000_000
    (tmp_path / "bomb.png").write_bytes(data)
    with pytest.raises(InputError) as info:
        ingest.load(tmp_path / "bomb.png")
    assert info.value.code == "decompression_bomb"


def test_sniffing_prefers_a_leading_signature_over_a_pdf_marker_later_on() -> None:
    png = _png_with_pdf_marker(Image.new("RGB", (8, 8), "white"))
    assert b"%PDF-" in png[:1024]
    assert ingest.sniff(png) == "png"
    assert ingest.sniff(b"garbage\n%PDF-1.7\n") == "pdf"
