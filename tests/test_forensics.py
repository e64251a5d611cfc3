"""File-level findings as the check pipeline sees them (redaction.forensics)."""

from __future__ import annotations

import numpy as np

from redaction.forensics import image_findings, thumbnail_mismatch
from tests.test_fileleaks import _card, _jpeg, _thumb, _with_exif_thumbnail


def test_a_thumbnail_of_the_image_as_it_is_is_no_leak() -> None:
    masked = _card(masked=True)
    data = _with_exif_thumbnail(_jpeg(masked), _thumb(masked))
    assert not thumbnail_mismatch(data)
    found = image_findings(data)
    assert not found.original_inside and not found.page_codes


def test_a_thumbnail_kept_from_before_masking_exposes_the_original() -> None:
    data = _with_exif_thumbnail(_jpeg(_card(masked=True)), _thumb(_card(masked=False)))
    assert thumbnail_mismatch(data)
    found = image_findings(data)
    assert found.boxes.get(0) or found.original_inside


def test_a_jpeg_without_thumbnail_has_no_findings() -> None:
    data = _jpeg(np.full((80, 120, 3), 255, np.uint8))
    assert not thumbnail_mismatch(data)
    assert not image_findings(data).page_codes
