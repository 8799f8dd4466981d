"""Ignore polygons of the evaluated frames of one GT file, and which points fall inside them.

PoseTrack'17/'18/21 mark image areas whose people were not annotated. Both official
evaluations (poseval and the PoseTrack21 kit) test points with shapely's ``contains``: strictly
inside counts, the boundary is outside. Each evaluator then applies its own removal rule
(``posetrack_data`` and ``hota_data``); this module only answers "which points are inside".
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import shapely

from ..errors import UserError
from ..formats import PoseTrackFile


def frame_field(parsed: PoseTrackFile, position: int) -> str:
    """The field path of frame `position` in its file (for error messages)."""
    key = "annolist" if parsed.format == "posetrack17" else "images"
    return f"{key}[{position}]"


def _polygons_one_by_one(regions: list[np.ndarray], path: Path, field: str) -> list:
    out = []
    for r, region in enumerate(regions):
        try:
            out.append(shapely.Polygon(region) if len(region) else shapely.Polygon())
        except (ValueError, shapely.errors.GEOSException) as exc:
            raise UserError(f"ignore region {r} is not a polygon ({exc})", path=path,
                            field=f"{field}.ignore_regions") from None
    return out


def _polygons(regions: list[np.ndarray]) -> np.ndarray | None:
    """Shapely polygons of (K, 2) vertex arrays in one vectorised call (the rings are closed as
    ``shapely.Polygon`` closes them); None if any region is not a polygon."""
    out = np.empty(len(regions), dtype=object)
    sizes = np.array([len(r) for r in regions], dtype=np.int64)
    out[sizes == 0] = shapely.Polygon()
    filled = np.flatnonzero(sizes > 0)
    if len(filled):
        try:
            coords = np.concatenate([regions[i] for i in filled])
            rings = shapely.linearrings(coords, indices=np.repeat(np.arange(len(filled)), sizes[filled]))
            out[filled] = shapely.polygons(rings)
        except (ValueError, shapely.errors.GEOSException):
            return None
    return out


@dataclasses.dataclass
class IgnoreRegions:
    """The polygons of some frames of one video: those of frame k are polygons[start[k]:start[k + 1]]."""

    polygons: np.ndarray  # object array of shapely polygons
    start: np.ndarray  # (F + 1,)

    @classmethod
    def of(cls, parsed: PoseTrackFile, positions: np.ndarray) -> IgnoreRegions:
        """The regions of the frames at `positions` (in that order); a region that is not a
        polygon is a UserError naming its frame."""
        counts = np.array([len(parsed.frames[p].ignore_regions) for p in positions], dtype=np.int64)
        regions = [r for p in positions for r in parsed.frames[p].ignore_regions]
        polygons = _polygons(regions)
        if polygons is None:  # one by one, naming the region that is not a polygon
            polygons = np.empty(len(regions), dtype=object)
            polygons[:] = [polygon for position in positions for polygon in _polygons_one_by_one(
                parsed.frames[position].ignore_regions, parsed.path, frame_field(parsed, int(position)))]
        shapely.prepare(polygons)
        return cls(polygons, np.concatenate([[0], np.cumsum(counts)]))

    def frames(self) -> np.ndarray:
        """(F,) bool: the frame has at least one region (an empty polygon counts)."""
        return np.diff(self.start) > 0

    def inside(self, frame_of: np.ndarray, xy: np.ndarray, candidates: np.ndarray) -> np.ndarray:
        """(N, J) bool: joint (n, j) is a candidate and lies strictly inside a region of its
        person's frame `frame_of[n]` (shapely ``contains``: the boundary is outside)."""
        out = np.zeros(candidates.shape, dtype=bool)
        rows, cols = np.nonzero(candidates & self.frames()[frame_of][:, None])
        if len(rows) == 0:
            return out
        n_poly = np.diff(self.start)[frame_of[rows]]
        point = np.repeat(np.arange(len(rows)), n_poly)
        first = np.cumsum(n_poly) - n_poly
        poly = self.start[frame_of[rows]][point] + (np.arange(len(point)) - first[point])
        x, y = xy[rows[point], cols[point]].T
        hit = shapely.contains_xy(self.polygons[poly], x, y)
        found = np.bincount(point[hit], minlength=len(rows)) > 0
        out[rows[found], cols[found]] = True
        return out
