"""Ground truth exactness: the annotation says where things were drawn, and who is on top."""

import cv2
import numpy as np
import pytest

from vposebench.datasets.synthetic.annotate import annotate_persons, point_codes
from vposebench.datasets.synthetic.config import CLIP_PROFILES, PROFILES, SynthConfig
from vposebench.datasets.synthetic.people import LIMBS, PART, POINT
from vposebench.datasets.synthetic.render import SHIFT, VideoRenderer, decode_labels
from vposebench.datasets.synthetic.scene import frame_times, sample_scene
from vposebench.datasets.synthetic.truth import (
    BY_OCCLUDER,
    BY_PERSON,
    BY_SELF,
    NOT_ANNOTATED,
    VISIBLE,
)
from vposebench.skeleton import POSETRACK18

CONFIG = SynthConfig(noise=0.0)


def _renderer(profile: str, seed: int, frames: int = 5, single: bool = False) -> VideoRenderer:
    table = CLIP_PROFILES if single else PROFILES
    scene = sample_scene(np.random.default_rng(seed), profile, table[profile], CONFIG, frames, single=single)
    return VideoRenderer(scene, frame_times(frames, 1), frame_interval=0.04, blur_samples=CONFIG.blur_samples)


def _palette(look) -> set[tuple[int, ...]]:
    return {tuple(c) for c in look.colours} | {tuple(c) for c in look.stripes if c is not None} | {tuple(look.nose)}


@pytest.mark.parametrize("profile,seed", [("occlusion", 0), ("crowd", 1), ("fast", 2), ("base", 3)])
def test_occlusion_codes_agree_with_the_colour_drawn_on_top(profile, seed):
    """The colour channels (not the label channel) say who covers each joint's pixel."""
    renderer = _renderer(profile, seed)
    scene = renderer.scene
    palettes = [_palette(p.look) for p in scene.persons]
    occluder_colours = {tuple(o.colour) for o in scene.occluders} | {tuple(o.stripe) for o in scene.occluders if o.stripe}
    seen = set()
    for f in range(len(renderer)):
        rendered = renderer.frame(f)
        canvas = renderer.draw_sample(renderer.annotated_sample(f))
        assert (canvas[..., 3] == rendered.labels).all()
        codes = point_codes(rendered)
        h, w = rendered.labels.shape
        for p, pts in enumerate(rendered.points):
            for k, (x, y) in enumerate(pts):
                code = codes[p, k]
                seen.add(int(code))
                inside = -0.5 <= x < w - 0.5 and -0.5 <= y < h - 0.5
                assert inside == (code != NOT_ANNOTATED)
                if not inside:
                    continue
                xi, yi = int(np.floor(x + 0.5)), int(np.floor(y + 0.5))
                colour = tuple(int(v) for v in canvas[yi, xi, :3])
                owner, _, _ = decode_labels(canvas[yi, xi, 3])
                if code in (VISIBLE, BY_SELF):
                    assert owner == p and colour in palettes[p], (f, p, k)
                elif code == BY_PERSON:
                    assert owner != p and colour in palettes[int(owner)]
                else:
                    assert code == BY_OCCLUDER and colour in occluder_colours
    if profile in ("occlusion", "crowd"):
        assert {VISIBLE, BY_PERSON, BY_SELF} <= seen
    if profile == "occlusion":
        assert BY_OCCLUDER in seen


def _segment_distance(points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    v = b - a
    t = np.clip(((points - a) @ v) / max(float(v @ v), 1e-12), 0, 1)
    return np.linalg.norm(points - (a + t[:, None] * v), axis=1)


@pytest.mark.parametrize("seed", [4, 5, 6])
def test_limbs_are_drawn_between_the_annotated_joints(seed):
    """Every pixel labelled as a limb lies in the capsule between the limb's annotated joints."""
    renderer = _renderer("base", seed, frames=4, single=True)
    for f in range(len(renderer)):
        rendered = renderer.frame(f)
        person = annotate_persons(rendered, [0], POSETRACK18, min_in_image=1, min_unhidden=0)[0].gt
        widths = renderer.geometry[0].widths
        _, part, _ = decode_labels(rendered.labels)
        kp = {name: person.keypoints[POSETRACK18.index(name), :2] for name in POSETRACK18.joints}
        for name, (a, b, _) in LIMBS.items():
            if a not in kp or b not in kp:
                continue  # the neck runs to the shoulder line, not a PoseTrack joint
            ys, xs = np.nonzero(part == PART[name])
            if not len(xs):
                continue  # hidden behind the body in this frame
            d = _segment_distance(np.stack([xs, ys], 1).astype(float), kp[a], kp[b])
            # half the drawn thickness, plus rasterisation (a pixel's half-diagonal and rounding)
            assert d.max() <= widths[name][renderer.annotated_sample(f)] / 2 + 1.2, (f, name, d.max())


def test_head_box_is_the_extent_of_the_drawn_head():
    renderer = _renderer("fast", 7, frames=6, single=True)
    for f in range(len(renderer)):
        rendered = renderer.frame(f)
        g = renderer.geometry[0]
        k = renderer.annotated_sample(f)
        centre, axes, angle = g.head
        mask = np.zeros(rendered.labels.shape, np.uint8)
        cv2.ellipse(mask, tuple(int(v) for v in centre[k]), tuple(int(v) for v in axes[k]), float(angle[k]),
                    0, 360, 1, -1, cv2.LINE_8, SHIFT)
        ys, xs = np.nonzero(mask)
        x1, y1, x2, y2 = rendered.head_boxes[0]
        assert x1 - 1 <= xs.min() <= x1 + 1.5 and x2 - 1.5 <= xs.max() <= x2 + 1
        assert y1 - 1 <= ys.min() <= y1 + 1.5 and y2 - 1.5 <= ys.max() <= y2 + 1
        # and the annotated head box holds every head and hair pixel that was drawn
        _, part, _ = decode_labels(rendered.labels)
        hy, hx = np.nonzero((part == PART["head"]) | (part == PART["hair"]))
        person = annotate_persons(rendered, [0], POSETRACK18, min_in_image=1, min_unhidden=0)[0].gt
        hb = person.head_box
        assert hx.min() >= hb[0] and hx.max() <= hb[2] and hy.min() >= hb[1] and hy.max() <= hb[3]


def test_every_joint_lies_on_the_silhouette():
    renderer = _renderer("base", 8, frames=4, single=True)
    for f in range(len(renderer)):
        mask = renderer.silhouette(f, 0)
        pts = renderer.frame(f).points[0]
        xi = np.floor(pts[:, 0] + 0.5).astype(int)
        yi = np.floor(pts[:, 1] + 0.5).astype(int)
        assert mask[yi, xi].all()


def test_blurred_frames_are_annotated_at_the_middle_sub_frame():
    renderer = _renderer("fast", 9, frames=3)
    assert renderer.samples == CONFIG.blur_samples and renderer.scene.blur > 0
    for f in range(3):
        k = renderer.annotated_sample(f)
        assert renderer.sample_times[k] == pytest.approx(renderer.times[f])
        rendered = renderer.frame(f)
        assert (rendered.labels == renderer.draw_sample(k)[..., 3]).all()
        np.testing.assert_allclose(rendered.points[0], renderer.geometry[0].xy[k])
    assert POINT["nose"] == 0
