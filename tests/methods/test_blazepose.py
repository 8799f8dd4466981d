"""`blazepose`: the landmark -> joint mapping everywhere; the real model (mediapipe extra) on
real frames with PCK floors, through predict / evaluate and the speed pass.

The model tests skip where mediapipe is not installed (tox env `py-mediapipe` installs it).
Measured on these frames (mediapipe 0.10.21, one XNNPACK thread): JHMDB six persons PCK@0.2
71.1 with the defaults and 80.0 without greying outside the box; PoseTrack'18 fourteen
persons 69.2 with the defaults, 33.0 without greying (neighbours are found instead).
"""

import json

import numpy as np
import pytest
from helpers.extras import needs_extra
from helpers.real_frames import jhmdb_persons, pck, posetrack18_persons

from vposebench import cli
from vposebench.errors import UserError
from vposebench.interface import FrameInput, build_method, is_trainable
from vposebench.methods.blazepose import mediapipe_version
from vposebench.methods.blazepose_joints import (
    HEAD_BOTTOM,
    HEAD_TOP,
    LANDMARKS,
    joint_weights,
    landmarks_to_joints,
    mapping_table,
)
from vposebench.registry import METHODS
from vposebench.skeleton import JHMDB, POSETRACK17, POSETRACK18, SKELETONS, Skeleton

HAS_MEDIAPIPE = mediapipe_version() is not None
needs_mediapipe = needs_extra("mediapipe", HAS_MEDIAPIPE, "mediapipe is not installed (pip install "
                              "'vposebench[mediapipe]'; tox -e py-mediapipe)")
L = {name: i for i, name in enumerate(LANDMARKS)}


@pytest.mark.parametrize("skeleton", list(SKELETONS.values()), ids=list(SKELETONS))
def test_every_joint_of_every_skeleton_is_mapped(skeleton):
    weights = joint_weights(skeleton)
    predicted = weights.any(axis=1)
    assert (predicted == skeleton.evaluated).all()  # all but the placeholders (PT18 ears)
    np.testing.assert_allclose(weights[predicted].sum(axis=1), 1.0)  # affine: boxes move joints along
    assert len(mapping_table(skeleton)) == skeleton.num_joints


def test_derived_joints_follow_the_documented_formulas():
    rng = np.random.default_rng(0)
    lm = np.concatenate([rng.uniform(0, 100, (1, 33, 2)), rng.uniform(0.2, 1, (1, 33, 1))], axis=2)

    def mid(a, b):
        return (lm[0, L[a], :2] + lm[0, L[b], :2]) / 2

    eyes, mouth = mid("left_eye", "right_eye"), mid("mouth_left", "mouth_right")
    pt18 = landmarks_to_joints(lm, joint_weights(POSETRACK18))[0]
    np.testing.assert_allclose(pt18[POSETRACK18.index("head_top"), :2], eyes + HEAD_TOP * (eyes - mouth))
    np.testing.assert_allclose(pt18[POSETRACK18.index("head_bottom"), :2], mouth + HEAD_BOTTOM * (mouth - eyes))
    np.testing.assert_allclose(pt18[POSETRACK18.index("left_wrist")], lm[0, L["left_wrist"]])
    # the score of a derived joint is the least visible of its landmarks
    used = [L[n] for n in ("left_eye", "right_eye", "mouth_left", "mouth_right")]
    assert pt18[POSETRACK18.index("head_top"), 2] == lm[0, used, 2].min()
    assert np.isnan(pt18[list(POSETRACK18.placeholders)]).all()
    # PoseTrack'17's neck is PoseTrack'18's head_bottom (the official converter's mapping)
    pt17 = landmarks_to_joints(lm, joint_weights(POSETRACK17))[0]
    np.testing.assert_allclose(pt17[POSETRACK17.index("neck")], pt18[POSETRACK18.index("head_bottom")])
    jhmdb = landmarks_to_joints(lm, joint_weights(JHMDB))[0]
    shoulders, hips = mid("left_shoulder", "right_shoulder"), mid("left_hip", "right_hip")
    (ux, uy), (vx, vy) = jhmdb[JHMDB.index("belly"), :2] - hips, shoulders - hips
    assert np.isclose(ux * vy - uy * vx, 0, atol=1e-9)  # on the trunk's axis
    # a person without a pose: NaN everywhere
    assert np.isnan(landmarks_to_joints(np.full((1, 33, 3), np.nan), joint_weights(JHMDB))).all()


def test_unknown_skeleton_is_a_user_error():
    other = Skeleton(name="custom", joints=("a", "b"), flip_pairs=(), limbs=(), groups=())
    with pytest.raises(UserError, match="no joint mapping for skeleton 'custom'"):
        joint_weights(other)


def test_registered_untrainable_and_listed():
    cls = METHODS.get("blazepose")
    assert not is_trainable(cls) and "mediapipe" in cls.__doc__


@pytest.mark.skipif(HAS_MEDIAPIPE, reason="mediapipe is installed")
def test_without_the_extra_building_it_names_the_install():
    with pytest.raises(UserError, match=r"pip install 'vposebench\[mediapipe\]'"):
        build_method("blazepose", JHMDB)


# -- the real model ----------------------------------------------------------------------
def _predict(method, persons):
    out = []
    for person in persons:
        frame = FrameInput(person.image, person.box[None], np.zeros(1, dtype=np.int64))
        out.append(method.step(frame).keypoints[0])
    return out


@needs_mediapipe
def test_pck_floors_on_real_frames(samples_dir):
    jhmdb, pt18 = jhmdb_persons(samples_dir), posetrack18_persons(samples_dir)
    assert (len(jhmdb), len(pt18)) == (6, 14)
    method = build_method("blazepose", JHMDB)
    first = _predict(method, jhmdb)
    assert pck(jhmdb, first) >= 65  # measured 71.1
    np.testing.assert_array_equal(np.stack(first), np.stack(_predict(method, jhmdb)))  # deterministic
    whole_crop = build_method("blazepose", JHMDB, outside_grey=0)
    assert pck(jhmdb, _predict(whole_crop, jhmdb)) >= 75  # measured 80.0
    crowd = build_method("blazepose", POSETRACK18)
    assert pck(pt18, _predict(crowd, pt18)) >= 60  # measured 69.2


@needs_mediapipe
def test_description_records_runtime_and_pinned_threads():
    d = build_method("blazepose", POSETRACK18, threads=2).describe()
    assert d.runtime.startswith("mediapipe 0.10.21") and d.threads == 2
    assert d.flops_per_person is None and d.heatmap_size is None and d.config["threads"] == 2
    with pytest.raises(UserError, match="pose_landmark_heavy.tflite"):
        build_method("blazepose", POSETRACK18, model_complexity=2)


@needs_mediapipe
def test_predict_without_checkpoint_then_evaluate(samples_dir, tmp_path, capsys):
    """The CLI route on the real JHMDB sample clip (masks and split files absent)."""
    data = ["--dataset", "jhmdb", "--root", str(samples_dir / "jhmdb"), "--split", "all",
            "--dataset-option", "box_from_joints=true", "--dataset-option", "trim_to_frames=true"]
    assert cli.main(["convert", *data, "--out", str(tmp_path / "gt")]) == 0
    assert cli.main(["predict", "--method", "blazepose", *data, "--set", "outside_grey=0",
                     "--out", str(tmp_path / "pred")]) == 0
    assert cli.main(["evaluate", "--metric", "pck", "--gt", str(tmp_path / "gt"), "--pred",
                     str(tmp_path / "pred"), "--json", str(tmp_path / "pck.json")]) == 0
    capsys.readouterr()
    assert json.loads((tmp_path / "pck.json").read_text())["PCK"]["Mean"] >= 60


@needs_mediapipe
def test_timed_by_the_speed_pass(samples_dir):
    from vposebench.protocols import Protocol, SpeedSettings
    from vposebench.runner import DatasetSpec, MethodSpec
    from vposebench.speed import SpeedSpec, measure_speed

    options = (("box_from_joints", True), ("trim_to_frames", True))
    dataset = DatasetSpec("jhmdb", str(samples_dir / "jhmdb"), "all", options=options)
    spec = SpeedSpec(MethodSpec(method="blazepose", skeleton="jhmdb"), dataset,
                     videos=("Goal_Keeping_Tips_catch_f_cm_np1_fr_med_2",),
                     protocol=Protocol("pck", speed=SpeedSettings(warmup_frames=2, repeats=2)))
    speed = measure_speed(spec, isolated=False)
    assert speed.fps > 0 and speed.pose.n == 6 and speed.threads == 1
    assert speed.runtime.startswith("mediapipe") and speed.flops_per_person is None
    assert speed.offline_crops_per_s is None and speed.parameters is None
