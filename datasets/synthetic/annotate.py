"""Exact ground truth of a rendered frame: joints per dataset skeleton and per-joint occlusion.

A joint's occlusion code comes from the label channel at the pixel that contains it (the
pixel whose centre is nearest, pixel centres at integer coordinates):

=====  =============================================================================
code   meaning
=====  =============================================================================
0      visible: nothing, or one of the joint's own parts, is on top
1      hidden by another person
2      hidden by an occluder
3      hidden by the person's own body (a part the joint does not belong to)
4      not annotated: outside the image, or a placeholder slot (PoseTrack'18 ears)
=====  =============================================================================

`PersonGT.occluded` is codes 1 and 2 (hidden by something else than the person).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from vposebench.boxes import keypoint_box
from vposebench.skeleton import Skeleton
from vposebench.structures import PersonGT

from .bursts import Flag, flag_fields
from .people import BODY_POINTS, PART, POINT, POINT_PARTS
from .render import RenderedFrame, decode_labels
from .scene import Scene
from .truth import BY_OCCLUDER, BY_PERSON, BY_SELF, NOT_ANNOTATED, VISIBLE, occluded_mask

#: dataset joint name -> body point, where the names differ
_ALIASES = {"neck": "head_bottom", "head": "head_centre"}

# (points, parts): True where the part is one of the point's own parts
_OWN = np.zeros((len(BODY_POINTS), 32), dtype=bool)
for _name, _parts in POINT_PARTS.items():
    _OWN[POINT[_name], [PART[p] for p in _parts]] = True


def skeleton_points(skeleton: Skeleton) -> np.ndarray:
    """Body point of each joint of `skeleton` (-1 for placeholder slots)."""
    out = []
    for j, name in enumerate(skeleton.joints):
        if j in skeleton.placeholders:
            out.append(-1)
        else:
            out.append(POINT[_ALIASES.get(name, name)])
    return np.array(out, dtype=np.int64)


def joints_in_image(scene: Scene, times: np.ndarray, skeleton: Skeleton) -> np.ndarray:
    """(T, P) number of each person's joints of `skeleton` inside the image at `times` (the
    annotated instants), by the rule `point_codes` uses; computed before rendering."""
    index = skeleton_points(skeleton)
    index = index[index >= 0]
    w, h = scene.size
    counts = [_inside(scene.camera.to_image(person.points(times).xy, times)[:, index], w, h).sum(axis=1)
              for person in scene.persons]
    return np.stack(counts, axis=1) if counts else np.zeros((len(times), 0), dtype=np.int64)


def _inside(xy: np.ndarray, w: int, h: int) -> np.ndarray:
    """True where a point lies in a pixel of the image (pixel centres at integers)."""
    return (xy[..., 0] >= -0.5) & (xy[..., 0] < w - 0.5) & (xy[..., 1] >= -0.5) & (xy[..., 1] < h - 0.5)


def point_codes(frame: RenderedFrame, *, base: bool = False) -> np.ndarray:
    """(P, K) occlusion code of every body point of every person in `frame`; with `base`, as
    if the boards of an occluder burst were not there (`RenderedFrame.base_labels`)."""
    labels = frame.base_labels if base and frame.base_labels is not None else frame.labels
    h, w = labels.shape
    if not frame.points:
        return np.zeros((0, len(BODY_POINTS)), dtype=np.int8)
    xy = np.stack(frame.points)  # (P, K, 2)
    inside = _inside(xy, w, h)
    xi = np.clip(np.floor(xy[..., 0] + 0.5).astype(np.int64), 0, w - 1)
    yi = np.clip(np.floor(xy[..., 1] + 0.5).astype(np.int64), 0, h - 1)
    owner, part, by_occluder = decode_labels(labels[yi, xi])
    me = np.arange(len(xy))[:, None]
    points = np.arange(xy.shape[1])[None, :]
    own = owner == me
    own_part = own & _OWN[points, np.maximum(part, 0)]
    codes = np.full(owner.shape, VISIBLE, dtype=np.int8)
    codes[own & ~own_part] = BY_SELF
    codes[(owner >= 0) & ~own] = BY_PERSON
    codes[by_occluder] = BY_OCCLUDER
    codes[~inside] = NOT_ANNOTATED
    return codes


@dataclasses.dataclass
class PersonTruth:
    """One person in one frame: the PoseTrack'18 annotation plus what the side file keeps."""

    gt: PersonGT
    codes: np.ndarray  # (J,) occlusion code per joint of the skeleton
    height: float  # body height in image pixels


def joints_of(frame: RenderedFrame, codes: np.ndarray, person: int, skeleton: Skeleton
              ) -> tuple[np.ndarray, np.ndarray]:
    """(J, 2) positions and (J,) codes of one person's joints in `skeleton` order."""
    index = skeleton_points(skeleton)
    real = index >= 0
    xy = np.zeros((len(index), 2))
    xy[real] = frame.points[person][index[real]]
    joint_codes = np.full(len(index), NOT_ANNOTATED, dtype=np.int8)
    joint_codes[real] = codes[person, index[real]]
    return xy, joint_codes


def annotate_persons(frame: RenderedFrame, track_ids: list[int], skeleton: Skeleton, *,
                     min_in_image: int, min_unhidden: int,
                     flags: Sequence[Flag | None] | None = None) -> list[PersonTruth]:
    """The annotated persons of a frame (PoseTrack rules: joints outside the image are (0, 0, 0)).

    A person is annotated when at least `min_in_image` joints are inside the image and at least
    `min_unhidden` of those are not hidden by another person or an occluder. `flags` (per
    person: burst kind and position, or None) go into `PersonGT.degradation` and
    `burst_position`; the target of an occluder burst is annotated whatever the occlusion rule
    says (the ground truth stays while a board covers it).
    """
    codes = point_codes(frame)
    flags = [None] * len(track_ids) if flags is None else flags
    out = []
    for p, track in enumerate(track_ids):
        xy, jc = joints_of(frame, codes, p, skeleton)
        annotated = jc != NOT_ANNOTATED
        hidden = occluded_mask(jc)
        unhidden = annotated & ~hidden
        covered = flags[p] is not None and flags[p][0] == "occluder"
        if annotated.sum() < min_in_image or (not covered and unhidden.sum() < min_unhidden):
            continue
        kp = np.zeros((len(jc), 3))
        kp[annotated, :2] = xy[annotated]
        kp[annotated, 2] = 1.0
        head = frame.head_boxes[p]
        head_box = np.concatenate([np.floor(head[:2]), np.ceil(head[2:])])
        kind, position = flag_fields(flags[p])
        gt = PersonGT(kp, track_id=int(track), box=keypoint_box(kp, annotated, 1.3),
                      head_box=head_box, occluded=hidden, degradation=kind, burst_position=position)
        out.append(PersonTruth(gt=gt, codes=jc, height=float(frame.heights[p])))
    return out
