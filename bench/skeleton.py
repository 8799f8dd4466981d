"""Joint sets as data: names, flip pairs, limbs and table groups, one skeleton per dataset.

Table groups use the canonical keys ``Head, Sho, Elb, Wri, Hip, Knee, Ank`` (the PCK tables);
the PoseTrack table prints them as ``Head, Shou, Elb, Wri, Hip, Knee, Ankl``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

GROUP_KEYS = ("Head", "Sho", "Elb", "Wri", "Hip", "Knee", "Ank")


@dataclasses.dataclass(frozen=True)
class Skeleton:
    """A dataset's joints in its own order."""

    name: str
    joints: tuple[str, ...]
    flip_pairs: tuple[tuple[int, int], ...]
    limbs: tuple[tuple[int, int], ...]
    #: table group -> joint indices (group value = mean of its joints' values)
    groups: tuple[tuple[str, tuple[int, ...]], ...]
    #: slots kept for format compatibility that are never labelled (PoseTrack'18 ears)
    placeholders: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        n = len(self.joints)
        if len(set(self.joints)) != n:
            raise ValueError(f"skeleton {self.name}: duplicate joint names")
        pairs = [*self.flip_pairs, *self.limbs]
        members = [j for _, idx in self.groups for j in idx]
        if any(not 0 <= j < n for pair in pairs for j in pair) or any(
            not 0 <= j < n for j in [*members, *self.placeholders]
        ):
            raise ValueError(f"skeleton {self.name}: joint index out of range")

    @property
    def num_joints(self) -> int:
        return len(self.joints)

    def index(self, joint: str) -> int:
        """Index of a joint by name."""
        return self.joints.index(joint)

    def flip_permutation(self) -> np.ndarray:
        """perm[j] = the joint that j becomes after a horizontal flip."""
        perm = np.arange(self.num_joints)
        for a, b in self.flip_pairs:
            perm[a], perm[b] = b, a
        return perm

    @property
    def evaluated(self) -> np.ndarray:
        """Boolean mask of the real (non-placeholder) joints."""
        mask = np.ones(self.num_joints, dtype=bool)
        mask[list(self.placeholders)] = False
        return mask

    @property
    def table_joints(self) -> tuple[int, ...]:
        """Joints that appear in a table group, in group order."""
        return tuple(j for _, idx in self.groups for j in idx)

    def group(self, key: str) -> tuple[int, ...]:
        for name, idx in self.groups:
            if name == key:
                return idx
        raise KeyError(key)


def _pairs(joints: tuple[str, ...], names: list[tuple[str, str]]) -> tuple[tuple[int, int], ...]:
    return tuple((joints.index(a), joints.index(b)) for a, b in names)


def _lr_pairs(joints: tuple[str, ...]) -> tuple[tuple[int, int], ...]:
    """Every (left_x, right_x) pair present in `joints`."""
    return tuple(
        (i, joints.index("right_" + name[5:]))
        for i, name in enumerate(joints)
        if name.startswith("left_") and "right_" + name[5:] in joints
    )


def _groups(joints: tuple[str, ...], head: list[str]) -> tuple[tuple[str, tuple[int, ...]], ...]:
    parts = ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")
    out: list[tuple[str, tuple[int, ...]]] = [("Head", tuple(joints.index(h) for h in head))]
    for key, part in zip(GROUP_KEYS[1:], parts):
        out.append((key, (joints.index("left_" + part), joints.index("right_" + part))))
    return tuple(out)


# PoseTrack'18: 17 COCO-style slots; ears are placeholders that are always (0, 0, 0).
_PT18 = (
    "nose", "head_bottom", "head_top", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
)
#: `categories[0].skeleton` of the official files, 1-based
PT18_CATEGORY_SKELETON = (
    (16, 14), (14, 12), (17, 15), (15, 13), (12, 13), (6, 12), (7, 13), (6, 7), (6, 8), (7, 9),
    (8, 10), (9, 11), (2, 3), (1, 2), (1, 3), (2, 4), (3, 5), (4, 6), (5, 7),
)
POSETRACK18 = Skeleton(
    name="posetrack18",
    joints=_PT18,
    flip_pairs=_lr_pairs(_PT18),
    limbs=tuple((a - 1, b - 1) for a, b in PT18_CATEGORY_SKELETON),
    groups=_groups(_PT18, ["head_top", "head_bottom", "nose"]),
    placeholders=(3, 4),
)

# PoseTrack'17 point ids, also the internal order of the official evaluation.
_PT17 = (
    "right_ankle", "right_knee", "right_hip", "left_hip", "left_knee", "left_ankle",
    "right_wrist", "right_elbow", "right_shoulder", "left_shoulder", "left_elbow", "left_wrist",
    "neck", "nose", "head_top",
)
POSETRACK17 = Skeleton(
    name="posetrack17",
    joints=_PT17,
    flip_pairs=_lr_pairs(_PT17),
    limbs=_pairs(_PT17, [
        ("right_ankle", "right_knee"), ("right_knee", "right_hip"), ("left_hip", "left_knee"),
        ("left_knee", "left_ankle"), ("right_hip", "left_hip"), ("right_wrist", "right_elbow"),
        ("right_elbow", "right_shoulder"), ("left_shoulder", "left_elbow"),
        ("left_elbow", "left_wrist"), ("right_shoulder", "neck"), ("left_shoulder", "neck"),
        ("neck", "nose"), ("nose", "head_top"), ("right_hip", "right_shoulder"),
        ("left_hip", "left_shoulder"),
    ]),
    groups=_groups(_PT17, ["head_top", "neck", "nose"]),
)

#: PT18 slot -> PT17 id (the official converter's mapping); -1 for the ears.
PT17_ID_FOR_PT18_SLOT = np.array([13, 12, 14, -1, -1, 9, 8, 10, 7, 11, 6, 3, 2, 4, 1, 5, 0])

_JHMDB = (
    "neck", "belly", "head", "right_shoulder", "left_shoulder", "right_hip", "left_hip",
    "right_elbow", "left_elbow", "right_knee", "left_knee", "right_wrist", "left_wrist",
    "right_ankle", "left_ankle",
)
JHMDB = Skeleton(
    name="jhmdb",
    joints=_JHMDB,
    flip_pairs=_lr_pairs(_JHMDB),
    limbs=_pairs(_JHMDB, [
        ("neck", "head"), ("neck", "belly"), ("neck", "right_shoulder"),
        ("neck", "left_shoulder"), ("right_shoulder", "right_elbow"),
        ("right_elbow", "right_wrist"), ("left_shoulder", "left_elbow"),
        ("left_elbow", "left_wrist"), ("belly", "right_hip"), ("belly", "left_hip"),
        ("right_hip", "right_knee"), ("right_knee", "right_ankle"), ("left_hip", "left_knee"),
        ("left_knee", "left_ankle"),
    ]),
    groups=_groups(_JHMDB, ["head"]),
)

_PENN = (
    "head", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist",
    "right_wrist", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle",
    "right_ankle",
)
PENN_ACTION = Skeleton(
    name="penn_action",
    joints=_PENN,
    flip_pairs=_lr_pairs(_PENN),
    limbs=_pairs(_PENN, [
        ("head", "left_shoulder"), ("head", "right_shoulder"),
        ("left_shoulder", "right_shoulder"), ("left_shoulder", "left_elbow"),
        ("left_elbow", "left_wrist"), ("right_shoulder", "right_elbow"),
        ("right_elbow", "right_wrist"), ("left_shoulder", "left_hip"),
        ("right_shoulder", "right_hip"), ("left_hip", "right_hip"), ("left_hip", "left_knee"),
        ("left_knee", "left_ankle"), ("right_hip", "right_knee"), ("right_knee", "right_ankle"),
    ]),
    groups=_groups(_PENN, ["head"]),
)

SKELETONS: dict[str, Skeleton] = {
    s.name: s for s in (POSETRACK18, POSETRACK17, JHMDB, PENN_ACTION)
}


def skeleton_by_joints(joints: list[str] | tuple[str, ...]) -> Skeleton | None:
    """The built-in skeleton with exactly these joint names in this order, if any."""
    key = tuple(joints)
    for skeleton in SKELETONS.values():
        if skeleton.joints == key:
            return skeleton
    return None
