import numpy as np

from vposebench.datasets.posetrack_scale import generate_scale_set, labeled_mask
from vposebench.formats import list_video_files, read_file


def test_labeling_pattern():
    mask = labeled_mask(150)
    assert mask[::4].all() and mask[60:90].all() and mask.sum() == 30 + 38 - 8


def test_small_scale_set_is_valid_and_deterministic(tmp_path):
    a = generate_scale_set(tmp_path / "a", videos=3, frames=24, seed=5)
    b = generate_scale_set(tmp_path / "b", videos=3, frames=24, seed=5)
    assert a == b and a.videos == 3 and a.frames == 72
    for name in ("gt", "pred"):
        files_a = list_video_files(tmp_path / "a" / name)
        assert [f.read_bytes() for f in files_a] == [f.read_bytes() for f in list_video_files(tmp_path / "b" / name)]
    scores = []
    for gt_file, pred_file in zip(list_video_files(tmp_path / "a/gt"), list_video_files(tmp_path / "a/pred")):
        gt, pred = read_file(gt_file, "gt"), read_file(pred_file, "pred")
        assert len(gt.frames) == len(pred.frames) == 24
        offsets = pred.frame_offsets()
        for f in range(24):
            ids = pred.track_ids[offsets[f]:offsets[f + 1]]
            assert len(set(ids.tolist())) == len(ids) and (ids < 10000).all()
        scores.append(pred.keypoints[..., 2][np.isfinite(pred.keypoints[..., 2])])
    scores = np.concatenate(scores)
    assert len(np.unique(scores)) == len(scores)  # distinct scores: no sort-order ties
