"""Run a method on a video file and write an overlay video and a contact sheet.

Decodes FILE with OpenCV, takes person boxes from a COCO-format detections file
(--detections: a list of {image_id, bbox [x, y, w, h], score, category_id}, image_id = the
0-based frame index) or from a built-in detector (--detector: hog = OpenCV 4.x's HOG people
detector, gone in OpenCV 5; blazepose = mediapipe's, one person per frame), links them into
tracks with the shared IoU tracker, runs the method online, and writes OUT (an mp4v video
with skeletons, track ids and per-joint confidence colours) and a contact sheet PNG. Prints
the method's FPS (its step alone) and the whole loop's.

A trained method needs --checkpoint (its joint set comes from it); a method without training
predicts the --skeleton joint set (default posetrack18) with its --set settings.

examples:
  vposebench demo --video bikes.mp4 --method blazepose --detector blazepose --out overlay.mp4
  vposebench demo --video clip.mp4 --method baseline --checkpoint baseline.ckpt \\
      --detections clip_dets.json --out overlay.mp4
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from ..atomic import atomic_write
from ..box_sources import DetectionBoxes
from ..checkpoint import load_checkpoint
from ..config import parse_assignments
from ..detectors import DETECTORS, Detections, make_detector
from ..errors import UserError
from ..interface import FrameInput
from ..overlay import contact_sheet, draw_person
from ..profiling import latency_stats
from ..skeleton import SKELETONS
from ..structures import FrameGT, VideoGT
from ..tracker import IoUTracker
from ..training import resolve_device
from ..video import open_video, read_frames, video_writer, write_rgb
from .common import add_device_arguments, apply_threads, build_predictor

NAME = "demo"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--video", required=True, type=Path, help="video file to decode")
    parser.add_argument("--method", required=True, help="registered method name")
    parser.add_argument("--checkpoint", help="checkpoint written by train (trained methods)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a method setting (repeatable)")
    parser.add_argument("--skeleton", default="posetrack18", choices=sorted(SKELETONS),
                        help="joint set of a method without checkpoint (default: posetrack18)")
    boxes = parser.add_mutually_exclusive_group()
    boxes.add_argument("--detections", type=Path, help="COCO-format detections, image_id = frame index")
    boxes.add_argument("--detector", default="auto", choices=["auto", *DETECTORS],
                       help="built-in person detector when no --detections (default: auto = hog "
                       "if OpenCV has it, else blazepose)")
    parser.add_argument("--out", required=True, type=Path, help="overlay video to write (.mp4)")
    parser.add_argument("--sheet", type=Path, help="contact sheet PNG (default: OUT with .png)")
    parser.add_argument("--sheet-frames", type=int, default=8, help="frames on the sheet (default 8)")
    parser.add_argument("--sheet-width", type=int, default=960, help="sheet width in pixels (default 960)")
    parser.add_argument("--sheet-columns", type=int, default=4, help="frames per sheet row (default 4)")
    parser.add_argument("--start", type=int, default=0, help="first frame to process (0-based)")
    parser.add_argument("--max-frames", type=int, help="stop after this many frames")
    parser.add_argument("--iou-threshold", type=float, default=0.3,
                        help="smallest IoU that continues a track (default: 0.3)")
    add_device_arguments(parser)


@dataclasses.dataclass
class DemoResult:
    """What a demo run did and how fast."""

    frames: int
    persons: int
    tracks: int
    method_ms: list[float]  # one per frame with persons: the method's step
    loop_ms: list[float]  # one per frame: decode, boxes, tracker, step, drawing, encoding
    sheet: list[np.ndarray]


class _FileBoxes:
    """Boxes of a detections file, by frame index (through `DetectionBoxes`)."""

    def __init__(self, path: Path) -> None:
        self.source = DetectionBoxes(path)
        self.video = VideoGT(name=path.stem, skeleton=SKELETONS["posetrack18"], frames=[])

    def __call__(self, image: np.ndarray, index: int) -> Detections:
        found = self.source.boxes(self.video, FrameGT(index=index, file_name="", frame_id=index))
        return Detections(found.boxes, found.scores)


def run_demo(args: argparse.Namespace, method, skeleton, boxes) -> DemoResult:
    """The decode -> boxes -> tracker -> method -> overlay loop, writing the video."""
    _, info = open_video(args.video)
    tracker = IoUTracker(args.iou_threshold)
    method.reset()
    left = max(info.frames - args.start, 0) if info.frames else 0
    wanted = left if args.max_frames is None else min(args.max_frames, left or args.max_frames)
    picks = set(np.linspace(0, max(wanted - 1, 0), args.sheet_frames).round().astype(int).tolist())
    result = DemoResult(0, 0, 0, [], [], [])
    seen: set[int] = set()
    with video_writer(args.out, info.fps, (info.width, info.height)) as writer, torch.no_grad():
        started = time.perf_counter()
        frames = read_frames(args.video, args.max_frames, args.start)
        for index, image in enumerate(frames, start=args.start):
            found = boxes(image, index)
            canvas = image.copy()
            if len(found.boxes):
                update = tracker.update(found.boxes)
                tick = time.perf_counter()
                out = method.step(FrameInput(image=image, boxes=found.boxes, track_ids=update.track_ids,
                                             index=index, ended_tracks=update.ended))
                result.method_ms.append((time.perf_counter() - tick) * 1000.0)
                for box, track, kps in zip(found.boxes, update.track_ids, out.keypoints):
                    draw_person(canvas, kps, skeleton, int(track), box)
                result.persons += len(found.boxes)
                seen.update(int(t) for t in update.track_ids)
            cv2.putText(canvas, f"{index}", (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1,
                        cv2.LINE_AA)
            write_rgb(writer, canvas)
            if index - args.start in picks:
                result.sheet.append(canvas)
            result.frames += 1
            now = time.perf_counter()
            result.loop_ms.append((now - started) * 1000.0)
            started = now
    result.tracks = len(seen)
    return result


def run(args: argparse.Namespace) -> int:
    apply_threads(args.threads)
    for value, flag in ((args.max_frames, "--max-frames"), (args.sheet_frames, "--sheet-frames"),
                        (args.sheet_width, "--sheet-width"), (args.sheet_columns, "--sheet-columns")):
        if value is not None and value < 1:
            raise UserError(f"must be >= 1, got {value}", field=flag)
    if args.start < 0:
        raise UserError(f"must be >= 0, got {args.start}", field="--start")
    if args.out.suffix.lower() != ".mp4":
        raise UserError("the overlay is an mp4 file: give a name ending in .mp4", field="--out")
    open_video(args.video)[0].release()  # a bad video fails before any model is loaded
    skeleton = (load_checkpoint(args.checkpoint).skeleton if args.checkpoint
                else SKELETONS[args.skeleton])
    method = build_predictor(args.method, args.checkpoint, skeleton, parse_assignments(args.set),
                             resolve_device(args.device))
    if args.detections is not None:
        boxes, source = _FileBoxes(args.detections), f"detections {args.detections.name}"
    else:
        detector = make_detector(args.detector)
        boxes, source = (lambda image, index: detector(image)), f"detector {detector.name}"
    result = run_demo(args, method, skeleton, boxes)
    if not result.frames:
        raise UserError("no frame was decoded", path=args.video)
    sheet_path = args.sheet or args.out.with_suffix(".png")
    sheet = contact_sheet(result.sheet, args.sheet_columns, args.sheet_width)
    ok, png = cv2.imencode(".png", cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    if not ok:  # pragma: no cover - OpenCV always has its PNG encoder
        raise RuntimeError("OpenCV could not encode the contact sheet")
    with atomic_write(sheet_path, "wb") as handle:
        handle.write(png.tobytes())
    loop = latency_stats(result.loop_ms)
    pose = latency_stats(result.method_ms) if result.method_ms else None
    print(f"{args.video.name}: {result.frames} frames, {result.persons} person boxes ({source}), "
          f"{result.tracks} tracks")
    print(f"FPS: method {pose.fps:.1f} (median step {pose.median_ms:.1f} ms over {pose.n} frames with "
          f"persons), whole loop {loop.fps:.1f} (decode, boxes, tracker, method, drawing, encoding)"
          if pose else f"FPS: whole loop {loop.fps:.1f}; no person was found, the method never ran")
    print(f"wrote {args.out} and {sheet_path}")
    return 0
