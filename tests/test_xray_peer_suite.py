"""x-ray's test PDFs as a peer suite for "text under a box" (see ../shared/peer-suites/x-ray/).

"Covered text" here is what ``covered_words`` (text under / camouflaged on an opaque shape)
and ``hidden_text_words`` (invisible text over solid pixels or other text) report together.
Only counts and positions are compared; recovered text is never printed.
"""

from __future__ import annotations

from pathlib import Path

import pymupdf
import pytest

from redaction.pdflayer import covered_char_count, covered_words, hidden_text_words

SUITE = Path(__file__).resolve().parents[2] / "shared" / "peer-suites" / "x-ray"

# file → covered text expected (EXPECTED.md)
EXPECTED: dict[str, bool] = {
    "rectangles_yes.pdf": True,
    "rectangles_yes_2.pdf": True,
    "bad_cross_hatched_redactions.pdf": True,
    "hidden_text_on_visible_text.pdf": True,
    "rectangles_no.pdf": False,
    "partial_intersections_ok.pdf": False,
    "multi_line_redaction_ok.pdf": False,
    "unfilled_rect.pdf": False,
    "ok_words.pdf": False,
    "whitespace_redactions.pdf": False,
    "whitespace_redactions_2.pdf": False,
    "whitespace_redaction_with_comma.pdf": False,
    "rect_ordering_0.8.pdf": False,
    "rect_ordering_1.23.pdf": False,
    "rect_ordering_2.1.pdf": False,
    "rect_ordering_3.20.pdf": False,
    "rect_ordering_4.1.pdf": False,
    "rect_ordering_5.2.pdf": False,
    "rect_ordering_6.19.pdf": False,
    "no_bad_redactions.2.1.pdf": False,
    "no_bad_redactions.3.1.pdf": False,
    "no_bad_redactions.3.2.pdf": False,
    "no_bad_redactions.4.1.pdf": False,
    "no_bad_redactions.5.5.pdf": False,
    "no_bad_redactions.6.2.pdf": False,
    "no_bad_redactions.7.1.pdf": False,
    "no_bad_redactions.8.1.pdf": False,
}

# EXPECTED.md's character counts come from x-ray, which counts the text under a box including
# the spaces between words; we count non-whitespace characters only. In English prose spaces
# are 12-18 % of characters, so the count must lie within [0.8 N, N].
CHAR_COUNTS = {"rectangles_yes.pdf": 64, "bad_cross_hatched_redactions.pdf": 639}
PLACES = {"hidden_text_on_visible_text.pdf": 2}


def _open(name: str) -> pymupdf.Document:
    path = SUITE / name
    if not path.exists():
        pytest.skip(f"peer suite not available: {SUITE}")
    return pymupdf.open(path)


def test_suite_is_complete() -> None:
    if not SUITE.is_dir():
        pytest.skip(f"peer suite not available: {SUITE}")
    assert {p.name for p in SUITE.glob("*.pdf")} == set(EXPECTED)


@pytest.mark.parametrize(("name", "expected"), sorted(EXPECTED.items()))
def test_covered_text_yes_no(name: str, expected: bool) -> None:
    with _open(name) as doc:
        found = sum(len(covered_words(p)) + len(hidden_text_words(p)) for p in doc)
    assert (found > 0) is expected, f"{name}: {found} hidden word(s)"


@pytest.mark.parametrize(("name", "count"), sorted(CHAR_COUNTS.items()))
def test_covered_character_count(name: str, count: int) -> None:
    with _open(name) as doc:
        n = sum(covered_char_count(p) for p in doc)
    assert 0.8 * count <= n <= count


@pytest.mark.parametrize(("name", "places"), sorted(PLACES.items()))
def test_covered_places(name: str, places: int) -> None:
    with _open(name) as doc:
        words = [w for p in doc for w in covered_words(p)]
    assert len(words) == places
    assert all(w.source in ("pdf", "pdf-invisible") for w in words)
    assert all(0.0 <= v <= 1.0 for w in words for v in w.bbox)
