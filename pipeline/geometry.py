"""Relative geometry: boxes are (x0, y0, x1, y1) as fractions of page width/height, origin top-left.

This is the one module that converts to pixels or PDF points. Mapping a box through a
projective transform takes the enclosing rectangle of the transformed corners, so a mapped box
can only grow: masks fail closed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

BBox = tuple[float, float, float, float]

IDENTITY: np.ndarray = np.eye(3)


def clamp(box: Sequence[float]) -> BBox:
    """Clip a box to the unit square and order its corners."""
    x0, y0, x1, y1 = (float(v) for v in box)
    x0, x1 = sorted((x0, x1))
    y0, y1 = sorted((y0, y1))
    return (min(max(x0, 0.0), 1.0), min(max(y0, 0.0), 1.0),
            min(max(x1, 0.0), 1.0), min(max(y1, 0.0), 1.0))


def area(box: Sequence[float]) -> float:
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


def intersection(a: Sequence[float], b: Sequence[float]) -> float:
    """Area of the overlap of two boxes."""
    return area((max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])))


def iou(a: Sequence[float], b: Sequence[float]) -> float:
    inter = intersection(a, b)
    union = area(a) + area(b) - inter
    return inter / union if union > 0 else 0.0


def coverage(inner: Sequence[float], outer: Sequence[float]) -> float:
    """Fraction of ``inner``'s area that lies inside ``outer``."""
    a = area(inner)
    return intersection(inner, outer) / a if a > 0 else 0.0


def union(boxes: Iterable[Sequence[float]]) -> BBox | None:
    """Enclosing box of several boxes, or None when there are none."""
    bs = list(boxes)
    if not bs:
        return None
    return (min(b[0] for b in bs), min(b[1] for b in bs),
            max(b[2] for b in bs), max(b[3] for b in bs))


def pad(box: Sequence[float], dx: float, dy: float | None = None) -> BBox:
    """Grow a box by dx (and dy) on each side, clipped to the page."""
    dy = dx if dy is None else dy
    return clamp((box[0] - dx, box[1] - dy, box[2] + dx, box[3] + dy))


def to_pixels(box: Sequence[float], width: int, height: int) -> tuple[int, int, int, int]:
    """Relative box → integer pixel box (x0, y0, x1, y1), rounded outwards."""
    x0 = int(np.floor(box[0] * width))
    y0 = int(np.floor(box[1] * height))
    x1 = int(np.ceil(box[2] * width))
    y1 = int(np.ceil(box[3] * height))
    return max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)


def from_pixels(box: Sequence[float], width: int, height: int) -> BBox:
    """Pixel box → relative box."""
    return clamp((box[0] / width, box[1] / height, box[2] / width, box[3] / height))


def map_points(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply a 3×3 projective transform to an (N, 2) array of points."""
    pts = np.hstack([points, np.ones((len(points), 1))]) @ np.asarray(matrix, float).T
    return pts[:, :2] / pts[:, 2:3]


def map_box(matrix: np.ndarray, box: Sequence[float]) -> BBox:
    """Map a relative box through a relative-coordinates transform; enclosing rectangle."""
    x0, y0, x1, y1 = box
    corners = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], float)
    m = map_points(matrix, corners)
    return clamp((m[:, 0].min(), m[:, 1].min(), m[:, 0].max(), m[:, 1].max()))


def relative_transform(pixel_matrix: np.ndarray, src_size: tuple[int, int],
                       dst_size: tuple[int, int]) -> np.ndarray:
    """Turn a pixel-space transform (src px → dst px) into one on relative coordinates.

    Sizes are (width, height).
    """
    sw, sh = src_size
    dw, dh = dst_size
    scale_in = np.diag([sw, sh, 1.0])
    scale_out = np.diag([1.0 / dw, 1.0 / dh, 1.0])
    return scale_out @ np.asarray(pixel_matrix, float) @ scale_in
