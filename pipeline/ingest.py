"""Read a file into a Document: sniff its type from content, guard, decode pages.

Guards run before heavy work: empty files, unknown types, oversized files, decompression
bombs, encrypted PDFs and too many pages become an ``InputError`` with a stable code. Only
regular files are read (a FIFO or device would block or never end); any failure of a decoder on
hostile data is an ``InputError`` too, never a traceback.
"""

from __future__ import annotations

import errno
import io
import os
import stat
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pymupdf
from PIL import Image, ImageOps, UnidentifiedImageError

from pipeline.errors import InputError
from pipeline.model import Document, Page
from pipeline.settings import DEFAULT, Settings

try:  # HEIC/HEIF phone photos
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # pragma: no cover - optional at run time, pinned in requirements
    pillow_heif = None

pymupdf.TOOLS.mupdf_display_errors(False)
pymupdf.TOOLS.mupdf_display_warnings(False)

_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"%PDF-", -1, "pdf"),  # -1: anywhere in the first KiB (some writers prepend junk)
    (b"\x89PNG\r\n\x1a\n", 0, "png"),
    (b"\xff\xd8\xff", 0, "jpeg"),
    (b"II*\x00", 0, "tiff"),
    (b"MM\x00*", 0, "tiff"),
    (b"BM", 0, "bmp"),
    (b"GIF87a", 0, "gif"),
    (b"GIF89a", 0, "gif"),
)


_HEIF_BRANDS = (b"heic", b"heix", b"mif1", b"msf1", b"heim", b"hevc")
_PDF_EOF = b"%%EOF"
_PDF_EOF_WINDOW = 1024  # readers accept %%EOF within the last KiB (ISO 32000-1, 7.5.5)
_NOT_FOUND_ERRNOS = frozenset({errno.ENOENT, errno.ENOTDIR, errno.ELOOP, errno.ENAMETOOLONG})
_DENIED_ERRNOS = frozenset({errno.EACCES, errno.EPERM})
_SINGLE_IMAGE_FORMATS = ("GIF", "WEBP", "MPO")  # extra frames are animation / gain maps


def sniff(data: bytes) -> str | None:
    """The container type from the first bytes, or None when unsupported.

    Fixed-offset signatures are tried first, so an image whose metadata happens to contain
    ``%PDF-`` is still an image.
    """
    for magic, offset, kind in _MAGIC:
        if offset >= 0 and data[offset: offset + len(magic)] == magic:
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return "heif"
    for magic, offset, kind in _MAGIC:
        if offset < 0 and magic in data[:1024]:
            return kind
    return None


def _os_error(exc: OSError) -> InputError:
    if isinstance(exc, PermissionError) or exc.errno in _DENIED_ERRNOS:
        return InputError("permission_denied")
    if isinstance(exc, FileNotFoundError) or exc.errno in _NOT_FOUND_ERRNOS:
        return InputError("not_found")  # also a broken or looping symlink
    if isinstance(exc, IsADirectoryError):
        return InputError("unsupported_type")
    return InputError("corrupt")


def read_bytes(path: Path, settings: Settings = DEFAULT) -> bytes:
    """Read a regular file, turning OS errors and size limits into input errors.

    The file is opened non-blocking and checked on the open descriptor, so a FIFO, socket or
    device (which could block or never end) is refused without waiting on it.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise _os_error(exc) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise InputError("unsupported_type")
        if st.st_size > settings.max_file_bytes:
            raise InputError("too_large")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(settings.max_file_bytes + 1)
    except OSError as exc:
        raise _os_error(exc) from None
    finally:
        os.close(fd)
    if len(data) > settings.max_file_bytes:  # grew while we read it
        raise InputError("too_large")
    return data


def load(path: Path, settings: Settings = DEFAULT) -> Document:
    """Decode every page of ``path``; raises ``InputError`` for unreadable input."""
    data = read_bytes(path, settings)
    if not data:
        raise InputError("empty_file")
    kind = sniff(data)
    if kind is None:
        raise InputError("unsupported_type")
    if kind == "pdf":
        if _PDF_EOF not in data.rstrip(b"\x00\t\n\f\r ")[-_PDF_EOF_WINDOW:]:
            raise InputError("truncated")  # MuPDF would silently "repair" what is left
        pages = tuple(_pdf_pages(path, data, settings))
    else:
        pages = tuple(_image_pages(path, data, settings))
    if not pages:
        raise InputError("corrupt")
    return Document(source=path, pages=pages, kind=kind, data=data)


def open_pdf(data: bytes) -> pymupdf.Document:
    """Open PDF bytes (already validated by ``load``)."""
    return pymupdf.open(stream=data, filetype="pdf")


def _pdf_pages(path: Path, data: bytes, settings: Settings) -> Iterator[Page]:
    try:
        doc = open_pdf(data)
    except Exception as exc:  # MuPDF raises several types on hostile data
        raise InputError("corrupt") from exc
    with doc:
        if doc.needs_pass or doc.is_encrypted:
            raise InputError("encrypted")
        if doc.page_count == 0:
            raise InputError("corrupt")
        if doc.page_count > settings.max_pages:
            raise InputError("too_many_pages")
        for index in range(doc.page_count):
            try:
                page = doc[index]
                image = render_pdf_page(page, settings)
            except InputError:
                raise
            except MemoryError as exc:
                raise InputError("too_large") from exc
            except Exception as exc:
                raise InputError("corrupt") from exc
            yield Page(source=path, index=index, image=image,
                       source_size=(image.shape[1], image.shape[0]))


def render_pdf_page(page: pymupdf.Page, settings: Settings = DEFAULT) -> np.ndarray:
    """Render a PDF page (as displayed, /Rotate applied) to RGB, long side capped."""
    rect = page.rect
    long_side_pt = max(rect.width, rect.height) or 1.0
    zoom = min(settings.pdf_render_dpi / 72.0, settings.work_long_side_px / long_side_pt)
    if rect.width * rect.height * zoom * zoom > settings.max_image_pixels:
        raise InputError("too_large")
    pix = page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), colorspace=pymupdf.csRGB,
                          alpha=False, annots=True)
    return np.frombuffer(pix.samples, np.uint8).reshape(pix.height, pix.width, 3).copy()


def _image_pages(path: Path, data: bytes, settings: Settings) -> Iterator[Page]:
    Image.MAX_IMAGE_PIXELS = settings.max_image_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            n_frames = getattr(img, "n_frames", 1)
            if n_frames > settings.max_pages and img.format not in _SINGLE_IMAGE_FORMATS:
                raise InputError("too_many_pages")
            # Animated GIF/WebP: the first frame is the document. A multi-picture JPEG (MPO:
            # phone HDR gain maps, depth maps, stereo pairs) is one photo: its primary image.
            frames = range(n_frames) if img.format == "TIFF" else range(1)
            for index in frames:
                img.seek(index)
                if img.width * img.height > settings.max_image_pixels:
                    raise InputError("decompression_bomb")
                frame = ImageOps.exif_transpose(img) if index == 0 else img.copy()
                rgb = _to_rgb(frame)
                yield Page(source=path, index=index, image=rgb,
                           source_size=(rgb.shape[1], rgb.shape[0]))
    except InputError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InputError("decompression_bomb") from exc
    except UnidentifiedImageError as exc:
        raise InputError("corrupt") from exc
    except MemoryError as exc:
        raise InputError("too_large") from exc
    except (OSError, EOFError) as exc:
        raise InputError("truncated" if "truncated" in str(exc).lower() else "corrupt") from exc
    except Exception as exc:  # decoders raise ValueError, SyntaxError, struct.error … on bad data
        raise InputError("corrupt") from exc


def _to_rgb(img: Image.Image) -> np.ndarray:
    """Any mode (CMYK, 16-bit, palette, alpha) → RGB uint8 on white."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img, dtype=np.float64)
        peak = arr.max() or 1.0
        img = Image.fromarray((arr * (255.0 / peak)).astype(np.uint8), "L")
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    return np.asarray(img.convert("RGB"), dtype=np.uint8).copy()
