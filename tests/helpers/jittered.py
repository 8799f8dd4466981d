"""Prediction folders made from a GT folder: every joint moved by Gaussian noise, distinct
random scores, some persons left out, and now and then a track id changed."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vposebench.formats import read_annotations, write_predictions
from vposebench.structures import FramePred, PersonPred, VideoPred


def write_jittered_predictions(gt_dir: Path, out: Path, *, seed: int, sigma: float = 3.0,
                               drop: float = 0.1) -> Path:
    """One prediction file per GT file of `gt_dir` (any joint set), written under `out`."""
    rng = np.random.default_rng(seed)
    for path in sorted(Path(gt_dir).glob("*.json")):
        video = read_annotations(path)
        frames = []
        for frame in video.frames:
            persons = []
            for person in frame.persons:
                if rng.random() < drop:
                    continue
                kp = person.keypoints.copy()
                kp[:, :2] += rng.normal(0.0, sigma, kp[:, :2].shape)
                kp[:, 2] = rng.uniform(0.05, 1.0, len(kp))
                kp[~person.annotated, :2] = np.nan
                track = int(person.track_id) if rng.random() > 0.05 else 900 + int(person.track_id)
                persons.append(PersonPred(kp, track_id=track))
            frames.append(FramePred(index=frame.index, file_name=frame.file_name, persons=persons,
                                    frame_id=frame.frame_id))
        write_predictions(VideoPred(video.name, video.skeleton, frames), Path(out) / path.name,
                          vid_id=video.meta.get("vid_id"))
    return Path(out)
