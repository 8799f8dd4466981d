"""Person crops held fixed over a window of frames (`crop_mode=track_window`).

By default a method crops every frame around that frame's box, so the person stays centred
and the motion between frames is mostly taken out by the crop. In the TFC paper's setting
the network sees a fixed region, and a joint moves across it between frames. A
`CropWindows` object gives each track a crop set from its box at the first frame of a window
(enlarged by `margin` on top of the usual padding) and keeps that crop for `window` frames of
the track; then the next window starts from the track's current box.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from .geometry import box_matrices


class CropWindows:
    """Track id -> the crop matrix of its current window and the frames it has served."""

    def __init__(self, crop_size: tuple[int, int], padding: float, window: int) -> None:
        if window < 1:
            raise ValueError(f"window must be >= 1, got {window}")
        self.crop_size, self.padding, self.window = crop_size, padding, window
        self.tracks: dict[int, tuple[np.ndarray, int]] = {}

    def matrices(self, boxes: np.ndarray, track_ids: Iterable[int]) -> np.ndarray:
        """(P, 2, 3) image -> crop matrices for this frame's boxes of these tracks."""
        fresh = box_matrices(boxes, self.crop_size, self.padding)
        out = fresh.copy()
        for i, track in enumerate(int(t) for t in track_ids):
            held = self.tracks.get(track)
            if held is not None and held[1] < self.window:
                out[i] = held[0]
                self.tracks[track] = (held[0], held[1] + 1)
            else:  # a new window starts at this frame's box
                self.tracks[track] = (fresh[i], 1)
        return out

    def end(self, track_ids: Iterable[int]) -> None:
        for t in track_ids:
            self.tracks.pop(int(t), None)

    def clear(self) -> None:
        self.tracks.clear()

    def nbytes(self) -> int:
        return sum(m.nbytes for m, _ in self.tracks.values())
