"""The one result type of the file-level leak checks."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.geometry import BBox


@dataclass(frozen=True)
class Leak:
    """Something recoverable from a file. Never carries the leaked content itself."""

    code: str  # e.g. "incremental_history", "unapplied_redact", "exif_thumbnail", "trailing_data"
    page: int | None = None  # 0-based page index, when known
    bbox: BBox | None = None  # relative box (displayed page / image), when known
    detail: int = 0  # a size: characters, bytes or pixels, depending on the code
