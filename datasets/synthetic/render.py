"""Drawing scenes with OpenCV, with an exact owner label for every pixel.

Frames are drawn into one (H, W, 4) uint16 canvas: three colour channels and a fourth channel
that receives, in the same OpenCV call, the label of whatever was drawn last at that pixel
(0 background, a person's part, or an occluder). Objects are drawn back to front (by ground y),
and the parts of a person back to front (by 3-D depth), so the label channel says exactly who
is on top of each joint: that is where the occlusion flags come from (`annotate.py`).

All geometry for every frame is computed up front with numpy (`VideoRenderer.__init__`); the
per-frame loop only issues drawing calls. Coordinates use OpenCV's fixed point (`shift`), so
sub-pixel positions are drawn where the annotation says. Motion blur averages `blur_samples`
sub-frames spread over the exposure; the middle sub-frame is the annotated instant. A burst
(`bursts.py`) draws its boards in front of everything in every sub-frame of its frames (the
label channel before them is kept as `RenderedFrame.base_labels`), or degrades the finished
frame (defocus, exposure) after the lens blur and sensor noise.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence

import cv2
import numpy as np

from .bursts import Burst, board_box, degrade, schedule
from .people import LIMBS, PART, PARTS, POINT, ellipse_box, head_ellipse
from .scene import Occluder, Person, Scene

SHIFT = 4  # OpenCV fixed-point bits: coordinates are drawn to 1/16 pixel
_ONE = 1 << SHIFT
PART_SLOTS = 32  # labels per person
OCCLUDER_LABEL = 60000  # first occluder label; person labels are below
BOARD_LABEL = 62000  # first label of the boards of an occluder burst (also occluders)
_STRIPES = (0.33, 0.66)  # band centres along a striped limb
_ORDER_BIAS = {"torso": -0.02, "neck": -0.01, "head": 0.01, "hair": 0.012}

Colour = tuple[int, ...]


def person_label(person_index: int, part: int) -> int:
    """The label of a person's part in the label channel."""
    return 1 + person_index * PART_SLOTS + part


def decode_labels(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(person index or -1, part index or -1, is-occluder) for label values."""
    labels = np.asarray(labels, dtype=np.int64)
    is_person = (labels > 0) & (labels < OCCLUDER_LABEL)
    person = np.where(is_person, (labels - 1) // PART_SLOTS, -1)
    part = np.where(is_person, (labels - 1) % PART_SLOTS, -1)
    return person, part, labels >= OCCLUDER_LABEL


def _fixed(xy: np.ndarray) -> np.ndarray:
    return np.rint(xy * _ONE).astype(np.int64)


@dataclasses.dataclass
class _PersonGeometry:
    """Drawing geometry of one person at every sample time (leading axis)."""

    fixed: np.ndarray  # (N, K, 2) fixed-point points
    xy: np.ndarray  # (N, K, 2) image points
    depth: np.ndarray  # (N, K)
    ground_y: np.ndarray  # (N,) world ground y (object draw order)
    widths: dict[str, np.ndarray]  # part -> (N,) thickness in pixels
    order: np.ndarray  # (N, parts) part indices back to front
    head: tuple[np.ndarray, np.ndarray, np.ndarray]  # centre (N,2), axes (N,2), angle (N,)
    hair: np.ndarray  # (N, 2) start/end angle of the hair sector, degrees
    nose_front: np.ndarray  # (N,) nose faces the camera
    nose_r: np.ndarray  # (N,) fixed-point radius
    hands: np.ndarray  # (N, 2, 2) fixed-point hand centres
    hand_r: np.ndarray  # (N,) fixed-point radius
    feet: np.ndarray  # (N, 2, 2) fixed-point foot centres
    foot_axes: np.ndarray  # (N, 2) fixed-point semi-axes
    torso: np.ndarray  # (N, 4, 2) int32 fixed-point shoulder and hip corners
    bands: dict[int, np.ndarray]  # striped limb part -> (N, bands, 4, 2) int32 fixed-point quads
    torso_stripe: np.ndarray  # (N, 2, 2) fixed-point ends of the shirt stripe


def _geometry(person: Person, scene: Scene, times: np.ndarray) -> _PersonGeometry:
    pts = person.points(times)
    zoom = scene.camera.zoom(times)
    xy = scene.camera.to_image(pts.xy, times)
    h = person.body.height * zoom  # (N,) body height in image pixels
    widths = {name: np.maximum(1, np.rint(w * h)).astype(np.int64) for name, (_, _, w) in LIMBS.items()}
    widths["torso"] = np.maximum(2, np.rint(0.15 * h)).astype(np.int64)
    widths["shoulders"] = widths["left_upper_arm"]
    widths["hips"] = widths["left_thigh"]
    d = pts.depth
    part_depth = np.zeros((len(times), len(PARTS)))
    for name, (a, b, _) in LIMBS.items():
        part_depth[:, PART[name]] = (d[:, POINT[a]] + d[:, POINT[b]]) / 2
    part_depth[:, PART["torso"]] = (d[:, POINT["pelvis"]] + d[:, POINT["neck_base"]]) / 2
    part_depth[:, PART["head"]] = d[:, POINT["head_centre"]]
    part_depth[:, PART["hair"]] = d[:, POINT["head_centre"]]
    for side in ("left", "right"):
        part_depth[:, PART[f"{side}_hand"]] = d[:, POINT[f"{side}_wrist"]] + 1e-3
        part_depth[:, PART[f"{side}_foot"]] = d[:, POINT[f"{side}_ankle"]] + 1e-3
    for name, bias in _ORDER_BIAS.items():
        part_depth[:, PART[name]] += bias * h
    order = np.argsort(part_depth, axis=1, kind="stable")
    centre, axes, angle = head_ellipse(xy, person.body, zoom)
    # hair: a sector around the head top, turning to the back of the head as the person turns away
    rad = np.radians(angle)
    axis = np.stack([np.cos(rad), np.sin(rad)], axis=-1)
    perp = np.stack([-np.sin(rad), np.cos(rad)], axis=-1)
    back = np.stack([-np.sin(pts.yaw), np.zeros_like(pts.yaw)], axis=-1)
    hair_dir = axis + 0.8 * back
    mid = np.degrees(np.arctan2((hair_dir * perp).sum(-1), (hair_dir * axis).sum(-1)))
    half = 60.0 + 120.0 * (1 - np.cos(pts.yaw)) / 2
    wrist = {s: xy[:, POINT[f"{s}_wrist"]] for s in ("left", "right")}
    elbow = {s: xy[:, POINT[f"{s}_elbow"]] for s in ("left", "right")}
    hands = np.stack([wrist[s] + 0.18 * (wrist[s] - elbow[s]) for s in ("left", "right")], axis=1)
    facing = np.sin(pts.yaw)
    foot_offset = np.stack([0.04 * h * facing, 0.008 * h], axis=-1)[:, None, :]
    feet = np.stack([xy[:, POINT["left_ankle"]], xy[:, POINT["right_ankle"]]], axis=1) + foot_offset
    foot_axes = np.stack([0.05 * h * (0.4 + 0.6 * np.abs(facing)), 0.022 * h], axis=-1)
    bands = {PART[name]: _bands(xy[:, POINT[a]], xy[:, POINT[b]], widths[name])
             for name, (a, b, _) in LIMBS.items() if person.look.stripes[PART[name]] is not None}
    corners = xy[:, [POINT["left_shoulder"], POINT["right_shoulder"], POINT["right_hip"], POINT["left_hip"]]]
    sides = np.stack([(corners[:, 0] + corners[:, 3]) / 2, (corners[:, 1] + corners[:, 2]) / 2], axis=1)
    return _PersonGeometry(
        torso=np.ascontiguousarray(_fixed(corners), dtype=np.int32), bands=bands, torso_stripe=_fixed(sides),
        fixed=_fixed(xy), xy=xy, depth=d, ground_y=pts.ground[:, 1], widths=widths, order=order,
        head=(_fixed(centre), _fixed(axes), angle), hair=np.stack([mid - half, mid + half], axis=-1),
        nose_front=d[:, POINT["nose"]] > d[:, POINT["head_centre"]],
        nose_r=_fixed(np.maximum(1.0, 0.02 * h)), hands=_fixed(hands),
        hand_r=_fixed(np.maximum(1.0, 0.032 * h)), feet=_fixed(feet), foot_axes=_fixed(foot_axes),
    )


def _bands(p0: np.ndarray, p1: np.ndarray, width: np.ndarray) -> np.ndarray:
    """(N, bands, 4, 2) int32 fixed-point quads across segments p0-p1 (N, 2) at `_STRIPES`."""
    v = p1 - p0
    length = np.maximum(np.hypot(v[:, 0], v[:, 1]), 1e-6)
    n = np.stack([-v[:, 1], v[:, 0]], axis=-1) / length[:, None] * (width[:, None] / 2)
    quads = []
    for s in _STRIPES:
        c, dv = p0 + s * v, 0.07 * v
        quads.append(np.stack([c - dv - n, c - dv + n, c + dv + n, c + dv - n], axis=1))
    return np.ascontiguousarray(_fixed(np.stack(quads, axis=1)), dtype=np.int32)


def draw_person(canvas: np.ndarray, g: _PersonGeometry, i: int, person: Person,
                colour: Callable[[int], Colour], *, stripes: bool = True) -> None:
    """Draw sample `i` of a person back to front; `colour(part)` gives each part's colour value."""
    pts = g.fixed[i]
    look = person.look
    line = cv2.LINE_8
    for part in g.order[i].tolist():
        name = PARTS[part]
        col = colour(part)
        if name in LIMBS:
            a, b, _ = LIMBS[name]
            pa, pb = pts[POINT[a]], pts[POINT[b]]
            width = int(g.widths[name][i])
            cv2.line(canvas, (int(pa[0]), int(pa[1])), (int(pb[0]), int(pb[1])), col, width, line, SHIFT)
            stripe = look.stripes[part]
            if stripes and stripe is not None:
                for quad in g.bands[part][i]:
                    cv2.fillConvexPoly(canvas, quad, (*stripe, *col[3:]), line, SHIFT)
        elif name == "torso":
            cv2.fillConvexPoly(canvas, cv2.convexHull(g.torso[i]), col, line, SHIFT)
            for a, b, key in (("pelvis", "neck_base", "torso"), ("left_shoulder", "right_shoulder", "shoulders"),
                              ("left_hip", "right_hip", "hips")):
                pa, pb = pts[POINT[a]], pts[POINT[b]]
                cv2.line(canvas, (int(pa[0]), int(pa[1])), (int(pb[0]), int(pb[1])), col,
                         int(g.widths[key][i]), line, SHIFT)
            stripe = look.stripes[part]
            if stripes and stripe is not None:
                pa, pb = g.torso_stripe[i]
                cv2.line(canvas, (int(pa[0]), int(pa[1])), (int(pb[0]), int(pb[1])), (*stripe, *col[3:]),
                         max(1, int(g.widths["torso"][i]) // 3), line, SHIFT)
        elif name == "head":
            centre, axes, angle = g.head
            c, ax = centre[i], axes[i]
            cv2.ellipse(canvas, (int(c[0]), int(c[1])), (int(ax[0]), int(ax[1])), float(angle[i]),
                        0, 360, col, -1, line, SHIFT)
            if g.nose_front[i]:
                nose = pts[POINT["nose"]]
                cv2.circle(canvas, (int(nose[0]), int(nose[1])), int(g.nose_r[i]),
                           (*look.nose, *col[3:]) if stripes else col, -1, line, SHIFT)
        elif name == "hair":
            centre, axes, angle = g.head
            c, ax = centre[i], axes[i]
            start, end = g.hair[i]
            cv2.ellipse(canvas, (int(c[0]), int(c[1])), (int(ax[0]), int(ax[1])), float(angle[i]),
                        float(start), float(end), col, -1, line, SHIFT)
        elif name.endswith("_hand"):
            k = 0 if name.startswith("left") else 1
            c = g.hands[i, k]
            cv2.circle(canvas, (int(c[0]), int(c[1])), int(g.hand_r[i]), col, -1, line, SHIFT)
        else:  # feet
            k = 0 if name.startswith("left") else 1
            c, ax = g.feet[i, k], g.foot_axes[i]
            cv2.ellipse(canvas, (int(c[0]), int(c[1])), (int(ax[0]), int(ax[1])), 0.0, 0, 360,
                        col, -1, line, SHIFT)


def draw_occluder(canvas: np.ndarray, occ: Occluder, scene: Scene, t: float, label: int) -> None:
    """Draw an occluder at time `t` (colour channels and label)."""
    times = np.array([t])
    zoom = float(scene.camera.zoom(times)[0])
    c = occ.centre(times)[0]
    w, h = occ.size
    if occ.kind == "pole":  # start is the bottom centre
        box = np.array([[c[0] - w / 2, c[1] - h], [c[0] + w / 2, c[1]]])
    else:
        box = np.array([[c[0] - w / 2, c[1] - h / 2], [c[0] + w / 2, c[1] + h / 2]])
    img_box = scene.camera.to_image(box[None], times)[0]
    col = (*occ.colour, label)
    if occ.kind == "disc":
        centre = _fixed(img_box.mean(axis=0))
        axes = _fixed((img_box[1] - img_box[0]) / 2)
        cv2.ellipse(canvas, (int(centre[0]), int(centre[1])), (int(axes[0]), int(axes[1])), 0.0,
                    0, 360, col, -1, cv2.LINE_8, SHIFT)
        return
    draw_board(canvas, img_box.reshape(4), occ.colour, occ.stripe, label, stripe_step=12.0 * zoom,
               horizontal=occ.kind == "pole")


def draw_board(canvas: np.ndarray, box: np.ndarray, colour: Colour, stripe: Colour | None, label: int,
               *, stripe_step: float, horizontal: bool) -> None:
    """A filled xyxy rectangle (image pixels), with bands of `stripe` every `stripe_step` px."""
    x0, y0, x1, y1 = (float(v) for v in box)
    corners = _fixed(np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])).astype(np.int32)
    cv2.fillConvexPoly(canvas, corners, (*colour, label), cv2.LINE_8, SHIFT)
    if stripe is None:
        return
    span = (y0, y1) if horizontal else (x0, x1)
    for s in np.arange(span[0] + stripe_step / 2, span[1], 2 * stripe_step):
        e = min(s + stripe_step, span[1])
        band = [[x0, s], [x1, s], [x1, e], [x0, e]] if horizontal else [[s, y0], [e, y0], [e, y1], [s, y1]]
        cv2.fillConvexPoly(canvas, _fixed(np.array(band)).astype(np.int32), (*stripe, label),
                           cv2.LINE_8, SHIFT)


@dataclasses.dataclass
class RenderedFrame:
    """One output frame: the image, the label channel and the annotated instant's geometry."""

    index: int
    time: float
    image: np.ndarray  # (H, W, 3) uint8 RGB
    labels: np.ndarray  # (H, W) uint16 owner of each pixel at the annotated instant
    points: list[np.ndarray]  # per person: (K, 2) image points at the annotated instant
    heights: np.ndarray  # (P,) body height in image pixels at the annotated instant
    head_boxes: np.ndarray  # (P, 4) xyxy extent of each drawn head
    #: the label channel without burst boards (what an annotator sees from the frames around);
    #: None: the same as `labels`
    base_labels: np.ndarray | None = None


class VideoRenderer:
    """Renders the frames of a scene at `times` (seconds)."""

    def __init__(self, scene: Scene, times: np.ndarray, *, frame_interval: float,
                 blur_samples: int, bursts: Sequence[Burst] = ()) -> None:
        self.scene = scene
        self.schedule = schedule(bursts, len(times))
        self.times = np.asarray(times, dtype=np.float64)
        self.samples = blur_samples if scene.blur > 0 else 1
        offsets = np.linspace(-0.5, 0.5, self.samples) * scene.blur * frame_interval if self.samples > 1 else np.zeros(1)
        self.sample_times = (self.times[:, None] + offsets[None, :]).reshape(-1)
        self.centre = self.samples // 2
        self.geometry = [_geometry(p, scene, self.sample_times) for p in scene.persons]

    def __len__(self) -> int:
        return len(self.times)

    def annotated_sample(self, f: int) -> int:
        """Index of the sub-frame of output frame `f` that the annotation describes."""
        return f * self.samples + self.centre

    def draw_sample(self, k: int) -> np.ndarray:
        """The (H, W, 4) uint16 canvas of sample `k`: colour channels and labels."""
        scene = self.scene
        t = float(self.sample_times[k])
        w, h = scene.size
        canvas = np.zeros((h, w, 4), dtype=np.uint16)
        canvas[..., :3] = scene.background.view(scene.camera, t)
        items = [(g.ground_y[k], 0, i) for i, g in enumerate(self.geometry)]
        items += [(occ.depth, 1, j) for j, occ in enumerate(scene.occluders)]
        for _, kind, idx in sorted(items):
            if kind == 0:
                person = scene.persons[idx]
                look = person.look

                def colour(part: int, _idx: int = idx, _look=look) -> Colour:
                    return (*_look.colours[part], person_label(_idx, part))

                draw_person(canvas, self.geometry[idx], k, person, colour)
            else:
                draw_occluder(canvas, scene.occluders[idx], scene, t, OCCLUDER_LABEL + idx)
        return canvas

    def frame(self, f: int) -> RenderedFrame:
        """Render output frame `f` (all its sub-frames when blurred, burst included)."""
        first = f * self.samples
        entry = self.schedule[f]
        boards = self._boards(f, entry[0]) if entry is not None and not entry[0].whole_frame else []
        total = np.zeros((*self.scene.size[::-1], 3), dtype=np.float32)
        for s in range(self.samples):
            canvas = self.draw_sample(first + s)
            if s == self.centre:
                base_labels = canvas[..., 3].copy()
            for label, (box, (colour, stripe)) in enumerate(boards, start=BOARD_LABEL):
                draw_board(canvas, box, colour, stripe, label, stripe_step=0.12 * (box[3] - box[1]),
                           horizontal=box[3] - box[1] > box[2] - box[0])
            if s == self.centre:
                labels = canvas[..., 3].copy() if boards else base_labels
            if self.samples > 1:
                total += canvas[..., :3]
        image = canvas[..., :3].astype(np.uint8) if self.samples == 1 else \
            np.rint(total / self.samples).astype(np.uint8)
        image = cv2.GaussianBlur(image, (3, 3), 0.6)  # lens softness, hides raster steps
        if self.scene.noise is not None:
            h, w = image.shape[:2]
            oy, ox = (7 * f) % 16, (11 * f + 3) % 16
            image = np.clip(image + self.scene.noise[oy:oy + h, ox:ox + w], 0, 255).astype(np.uint8)
        if entry is not None and entry[0].whole_frame:
            image = degrade(image, entry[0], f)
        k = self.annotated_sample(f)
        heights = self._heights(k)
        head_boxes = np.array([_head_box(g, k) for g in self.geometry]).reshape(-1, 4)
        return RenderedFrame(index=f, time=float(self.times[f]), image=image, labels=labels,
                             points=[g.xy[k] for g in self.geometry], heights=heights,
                             head_boxes=head_boxes, base_labels=base_labels)

    def _heights(self, k: int) -> np.ndarray:
        """(P,) body heights in image pixels at sample `k`."""
        zoom = self.scene.camera.zoom(self.sample_times[k:k + 1])[0]
        return np.array([p.body.height for p in self.scene.persons]) * zoom

    def _boards(self, f: int, burst: Burst) -> list[tuple[np.ndarray, tuple[Colour, Colour | None]]]:
        """(xyxy box, look) of each board of an occluder episode in frame `f`: each covers its
        target's points over the frame's whole exposure."""
        first = f * self.samples
        heights = self._heights(self.annotated_sample(f))
        return [(board_box(self.geometry[p].xy[first:first + self.samples], float(heights[p])), look)
                for p, look in zip(burst.targets, burst.boards)]

    def __iter__(self) -> Iterator[RenderedFrame]:
        for f in range(len(self.times)):
            yield self.frame(f)

    def silhouette(self, f: int, person_index: int) -> np.ndarray:
        """(H, W) uint8 mask of one person's whole body at output frame `f`, ignoring occluders."""
        w, h = self.scene.size
        mask = np.zeros((h, w), dtype=np.uint8)
        draw_person(mask, self.geometry[person_index], self.annotated_sample(f),
                    self.scene.persons[person_index], lambda part: (1,), stripes=False)
        return mask


def _head_box(g: _PersonGeometry, k: int) -> np.ndarray:
    centre, axes, angle = g.head
    return ellipse_box(centre[k] / _ONE, axes[k] / _ONE, angle[k])
