import numpy as np

from vposebench.skeleton import (
    GROUP_KEYS,
    JHMDB,
    PENN_ACTION,
    POSETRACK17,
    POSETRACK18,
    PT17_ID_FOR_PT18_SLOT,
    SKELETONS,
    skeleton_by_joints,
)


def test_flip_permutation_is_an_involution_that_swaps_sides():
    for skeleton in SKELETONS.values():
        perm = skeleton.flip_permutation()
        np.testing.assert_array_equal(perm[perm], np.arange(skeleton.num_joints))
        for j, name in enumerate(skeleton.joints):
            other = skeleton.joints[perm[j]]
            if name.startswith("left_"):
                assert other == "right_" + name[5:]
            elif not name.startswith("right_"):
                assert other == name


def test_groups_and_placeholders():
    for skeleton in SKELETONS.values():
        assert tuple(k for k, _ in skeleton.groups) == GROUP_KEYS
    assert [POSETRACK18.joints[j] for j in POSETRACK18.placeholders] == ["left_ear", "right_ear"]
    assert POSETRACK18.evaluated.sum() == 15
    assert JHMDB.group("Head") == (2,) and len(JHMDB.table_joints) == 13
    assert PENN_ACTION.num_joints == 13 and POSETRACK17.joints[12] == "neck"


def test_pt17_mapping_matches_names():
    for slot, pid in enumerate(PT17_ID_FOR_PT18_SLOT):
        name18 = POSETRACK18.joints[slot]
        if pid < 0:
            assert name18.endswith("_ear")
        else:
            name17 = POSETRACK17.joints[pid]
            assert name17 == name18 or (name17, name18) == ("neck", "head_bottom")


def test_lookup_by_joint_names():
    assert skeleton_by_joints(list(JHMDB.joints)) is JHMDB
    assert skeleton_by_joints(["a", "b"]) is None
