"""Filled-area geometry of PDF paths as reported by ``Page.get_drawings(extended=True)``.

A ``Region`` is a path's filled area under its fill rule (non-zero winding or even-odd),
intersected with every clipping path in force when it was painted. Coordinates are PyMuPDF's
unrotated page space (points, origin top-left). Only what "is this point painted?" needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

CURVE_STEPS = 8  # line segments per cubic Bézier when flattening

Point = tuple[float, float]


def _bezier(p0: Point, p1: Point, p2: Point, p3: Point) -> list[Point]:
    t = np.linspace(0.0, 1.0, CURVE_STEPS + 1)[1:, None]
    pts = ((1 - t) ** 3 * np.array(p0) + 3 * (1 - t) ** 2 * t * np.array(p1)
           + 3 * (1 - t) * t**2 * np.array(p2) + t**3 * np.array(p3))
    return [tuple(p) for p in pts]


def _rect_ring(rect: Sequence[float], orientation: int) -> list[Point]:
    x0, y0, x1, y1 = rect
    # orientation 1 is a PDF ``re`` with positive width and height: counter-clockwise in PDF
    # space, which in PyMuPDF's y-down space starts at the visual bottom-left.
    ring = [(x0, y1), (x1, y1), (x1, y0), (x0, y0)]
    return ring if orientation >= 0 else ring[::-1]


def has_rect_items(items: Sequence[tuple]) -> bool:
    """True when the path has ``re``/``qu`` items, whose direction PyMuPDF does not keep.

    (PyMuPDF normalises the rectangle and reports an orientation that follows the sign of its
    height only, so under the non-zero rule nested rectangles cannot be told apart from holes.)
    """
    return any(it[0] in ("re", "qu") for it in items)


def subpaths(items: Sequence[tuple]) -> list[np.ndarray]:
    """Split drawing items into closed polygons (each an (N, 2) array)."""
    rings: list[list[Point]] = []
    current: list[Point] = []

    def flush() -> None:
        if len(current) >= 3:
            rings.append(list(current))
        current.clear()

    for item in items:
        op = item[0]
        if op == "re":
            flush()
            orientation = item[2] if len(item) > 2 else 1
            rings.append(_rect_ring(tuple(item[1]), orientation))
        elif op == "qu":
            flush()
            q = item[1]
            rings.append([tuple(q.ul), tuple(q.ur), tuple(q.lr), tuple(q.ll)])
        elif op in ("l", "c"):
            start = tuple(item[1])
            if not current or np.hypot(current[-1][0] - start[0], current[-1][1] - start[1]) > 1e-3:
                flush()
                current.append(start)
            if op == "l":
                current.append(tuple(item[2]))
            else:
                current.extend(_bezier(start, tuple(item[2]), tuple(item[3]), tuple(item[4])))
    flush()
    return [np.asarray(r, float) for r in rings]


def _edges(rings: Sequence[np.ndarray]) -> np.ndarray:
    """All polygon edges as an (M, 4) array of x0, y0, x1, y1."""
    if not rings:
        return np.zeros((0, 4))
    return np.vstack([np.hstack([r, np.roll(r, -1, axis=0)]) for r in rings])


def _inside(edges: np.ndarray, even_odd: bool, pts: np.ndarray) -> np.ndarray:
    """Point-in-path test for (K, 2) points under the given fill rule."""
    px, py = pts[:, 0:1], pts[:, 1:2]
    ax, ay, bx, by = edges[:, 0], edges[:, 1], edges[:, 2], edges[:, 3]
    cross = (bx - ax) * (py - ay) - (px - ax) * (by - ay)  # (K, M)
    up = (ay <= py) & (by > py) & (cross > 0)
    down = (ay > py) & (by <= py) & (cross < 0)
    winding = up.sum(axis=1) - down.sum(axis=1)
    return (winding % 2 == 1) if even_odd else (winding != 0)


OUTSIDE, INSIDE, UNSURE = 0, 1, 2


@dataclass(frozen=True)
class Area:
    """One path's filled area (no clipping)."""

    rings: tuple[np.ndarray, ...]
    even_odd: bool
    bbox: tuple[float, float, float, float]
    unsure_direction: bool = False  # ring directions unknown (see ``has_rect_items``)
    edges: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "edges", _edges(self.rings))

    @classmethod
    def from_items(cls, items: Sequence[tuple], even_odd: bool,
                   bbox: Sequence[float]) -> Area:
        rings = tuple(subpaths(items))
        unsure = not even_odd and len(rings) > 1 and has_rect_items(items)
        return cls(rings, bool(even_odd), tuple(float(v) for v in bbox), unsure)

    def contains(self, pts: np.ndarray) -> np.ndarray:
        """Surely filled (UNSURE points count as not filled)."""
        return self.classify(pts) == INSIDE

    def classify(self, pts: np.ndarray) -> np.ndarray:
        """OUTSIDE / INSIDE / UNSURE per point (UNSURE: depends on unknown ring directions).

        With unknown directions under the non-zero rule, a point inside an odd number of rings
        is surely filled; inside an even number (≥ 2) it may be a hole.
        """
        x0, y0, x1, y1 = self.bbox
        out = np.zeros(len(pts), np.int8)
        near = (pts[:, 0] >= x0) & (pts[:, 0] <= x1) & (pts[:, 1] >= y0) & (pts[:, 1] <= y1)
        if not near.any() or not len(self.edges):
            return out
        sub = pts[near]
        if not self.unsure_direction:
            out[near] = _inside(self.edges, self.even_odd, sub)
            return out
        count = np.zeros(len(sub), int)
        for ring in self.rings:
            count += _inside(_edges([ring]), True, sub)
        out[near] = np.where(count % 2 == 1, INSIDE, np.where(count == 0, OUTSIDE, UNSURE))
        return out


@dataclass(frozen=True)
class Region:
    """A filled area intersected with the clipping areas in force when it was painted."""

    area: Area
    clips: tuple[Area, ...] = ()

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        x0, y0, x1, y1 = self.area.bbox
        for c in self.clips:
            x0, y0 = max(x0, c.bbox[0]), max(y0, c.bbox[1])
            x1, y1 = min(x1, c.bbox[2]), min(y1, c.bbox[3])
        return (x0, y0, max(x0, x1), max(y0, y1))

    def contains(self, pts: np.ndarray) -> np.ndarray:
        """Surely painted (UNSURE points count as not painted)."""
        return self.classify(pts) == INSIDE

    def classify(self, pts: np.ndarray) -> np.ndarray:
        """OUTSIDE / INSIDE / UNSURE per point, clipping applied."""
        out = self.area.classify(pts)
        for clip in self.clips:
            if not out.any():
                break
            out[~clip.contains(pts)] = OUTSIDE
        return out


def rect_area(rect: Sequence[float]) -> Area:
    """The area of a plain axis-aligned rectangle."""
    return Area((np.asarray(_rect_ring(rect, 1), float),), False, tuple(float(v) for v in rect))
