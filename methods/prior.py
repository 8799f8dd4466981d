"""`prior`: the negative control for temporal information (a pose prior, no temporal input).

Wraps a trained per-frame `baseline` network like `hold`, and replaces a joint whose score is
below `prior_fraction` times the wrapped model's mean score of that joint on the training
split (hold's rule with the track's running mean replaced by a training-split constant) by
the mean box-normalised training pose placed in the current person box. Nothing is carried
from frame to frame: the output of frame t depends on frame t alone. A replaced joint keeps
the network's (low) score.

Fitted without gradient steps (`vposebench train --method prior --set
init_checkpoint=BASE.ckpt`, `vposebench.fitting`): the mean pose comes from every training
person with a box (`PersonGT.crop_box`, the box the runner gives with ground-truth boxes),
u = (x - x1) / (x2 - x1), v = (y - y1) / (y2 - y1), averaged over the joints the training
rule counts; the mean scores from the wrapped model's predictions on `score_videos` training
videos (ground-truth boxes). Both are buffers, saved in the checkpoint.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from vposebench.boxes import box_is_valid
from vposebench.errors import UserError
from vposebench.interface import ControlMethod, FrameInput, StepOutput
from vposebench.registry import register_method
from vposebench.skeleton import Skeleton
from vposebench.structures import PersonGT, VideoGT, VideoPred

from .baseline import Baseline
from .config import PoseConfig


@dataclasses.dataclass
class PriorConfig(PoseConfig):
    """The wrapped network's config plus the replacement rule."""

    #: replace a joint when its score is below this fraction of its training-split mean score
    prior_fraction: float = 0.5
    #: training videos (evenly spaced in name order) the mean scores are measured on; 0: all
    score_videos: int = 8

    def validate(self) -> None:
        super().validate()
        if self.prior_fraction <= 0:
            raise UserError(f"must be > 0, got {self.prior_fraction}", field="prior_fraction")
        if self.score_videos < 0:
            raise UserError(f"must be >= 0, got {self.score_videos}", field="score_videos")


def mean_box_pose(videos: list[VideoGT], trains_on: Callable[[PersonGT], np.ndarray],
                  num_joints: int) -> np.ndarray:
    """(J, 2) mean box-normalised position of each joint over the persons with a box (NaN for
    a joint never counted)."""
    total, count = np.zeros((num_joints, 2)), np.zeros(num_joints)
    for frame in (f for v in videos for f in v.frames):
        for person in frame.persons:
            box = person.crop_box()
            if box is None:
                continue
            joints = trains_on(person)
            rel = (person.keypoints[:, :2] - box[:2]) / (box[2:] - box[:2])
            total[joints] += rel[joints]
            count[joints] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count[:, None] > 0, total / count[:, None], np.nan)


def mean_scores(predictions: list[VideoPred], num_joints: int) -> np.ndarray:
    """(J,) mean predicted score of each joint over every predicted person (NaN: never)."""
    rows = [p.keypoints[:, 2] for v in predictions for f in v.frames for p in f.persons]
    if not rows:
        return np.full(num_joints, np.nan)
    scores = np.stack(rows)
    finite = np.isfinite(scores)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(finite.any(0), np.where(finite, scores, 0).sum(0) / finite.sum(0), np.nan)


@register_method("prior")
class Prior(Baseline, ControlMethod):
    """Negative control, no temporal input: low-score joints get the mean training pose (wraps a baseline)."""

    config_class = PriorConfig
    config: PriorConfig
    state_per_track = "nothing (the mean training pose and mean scores are fixed)"

    def __init__(self, skeleton: Skeleton, config: PriorConfig | None = None, **overrides: Any) -> None:
        super().__init__(skeleton, config, **overrides)
        joints = skeleton.num_joints
        self.register_buffer("mean_pose", torch.full((joints, 2), float("nan"), dtype=torch.float64))
        self.register_buffer("mean_score", torch.full((joints,), float("nan"), dtype=torch.float64))
        self.register_buffer("fitted", torch.tensor(False))

    def score_videos(self) -> int:
        return self.config.score_videos

    def fit(self, videos: list[VideoGT], predictions: list[VideoPred],
            trains_on: Callable[[PersonGT], np.ndarray]) -> None:
        """The mean box-normalised pose of `videos` and the mean scores of `predictions`."""
        joints = self.skeleton.num_joints
        pose = mean_box_pose(videos, trains_on, joints)
        if np.isnan(pose).all():
            raise UserError("no training person has a box and a counted joint", field="--dataset")
        self.mean_pose.copy_(torch.from_numpy(pose))
        self.mean_score.copy_(torch.from_numpy(mean_scores(predictions, joints)))
        self.fitted.fill_(True)

    def step(self, frame: FrameInput) -> StepOutput:
        """The wrapped network's output, low-score joints replaced by the mean pose."""
        if not bool(self.fitted):
            raise UserError("prior has no mean pose: make its checkpoint with vposebench train "
                            "--method prior --set init_checkpoint=BASELINE.ckpt", field="mean_pose")
        out = super().step(frame)
        return StepOutput(self.adjust(frame, out.keypoints), out.heatmaps)

    def adjust(self, frame: FrameInput, keypoints: np.ndarray) -> np.ndarray:
        """(P, J, 3) output given the wrapped network's `keypoints` for the frame's persons."""
        keypoints = keypoints.copy()
        pose = self.mean_pose.cpu().numpy()
        threshold = self.config.prior_fraction * self.mean_score.cpu().numpy()
        boxes = np.asarray(frame.boxes, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            low = (keypoints[:, :, 2] < threshold) & np.isfinite(pose[:, 0])
        low &= box_is_valid(boxes)[:, None]
        placed = boxes[:, None, :2] + pose[None] * (boxes[:, None, 2:] - boxes[:, None, :2])
        keypoints[..., :2] = np.where(low[..., None], placed, keypoints[..., :2])
        return keypoints
