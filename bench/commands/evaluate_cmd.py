"""Score a prediction folder against a GT folder (PoseTrack AP/MOTA, HOTA, OKS AP, PCK, stability) and print the table.

posetrack: per-joint AP and MOTA/MOTP/Prec/Rec exactly as the official PoseTrack evaluation
(poseval -e -t) computes them, quirks included (--mode official, the default); --mode corrected
feeds every frame with its real objects and hypotheses and reports classic MOTP.
pck: PCK@alpha for single-person GT written by `vposebench convert` (sub-JHMDB, Penn Action).
hota: keypoint HOTA / DetA / AssA / LocA exactly as the PoseTrack21 kit computes them
(--hota-mode official, the default); --hota-mode corrected fixes the kit's empty-frame count and
its similarity clipping. The JSON holds the kit's 0-1 values; tables print percent.
oks: COCO keypoint AP / AP50 / AP75 / APm / APl / AR by pycocotools' COCOeval, with the
skeleton's per-joint sigmas (--oks-coco-dir DIR also writes the COCO files it was given).
stability: acceleration error and jitter of predicted tracks matched to GT tracks (lower is better).

--bootstrap N adds percentile confidence intervals (resampling videos); --compare-pred DIR adds
the paired difference PRED - COMPARE with its interval. --json OUT writes every number at full
precision (percent, NaN as null).
"""

from __future__ import annotations

import argparse
import math

from ..atomic import write_json
from ..bootstrap import DEFAULT_LEVEL, BootstrapReport, bootstrap, paired_bootstrap
from ..errors import UserError
from ..metrics.base import Metric, MetricResult
from ..metrics.hota import HOTAMetric, HOTAResult
from ..metrics.hota_match import MODES as HOTA_MODES
from ..metrics.oks import OKSMetric
from ..metrics.pck import NORMALISERS, VISIBILITY_RULES, PCKMetric, PCKOptions
from ..metrics.posetrack import PoseTrackMetric, PoseTrackResult
from ..metrics.posetrack_mot import MODES
from ..metrics.stability import NORMALISERS as STABILITY_NORMALISERS
from ..metrics.stability import StabilityMetric
from ..provenance import collect
from ..tables.base import Table

NAME = "evaluate"

#: the printed table formats (the table renderer also writes CSV, which has no room for titles)
TABLE_FORMATS = ("markdown", "latex")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--gt", required=True, help="folder of GT files (one JSON per video)")
    parser.add_argument("--pred", required=True, help="folder of prediction files, same names")
    parser.add_argument("--metric", choices=("posetrack", "pck", "hota", "oks", "stability"), default="posetrack")
    parser.add_argument("--json", metavar="OUT", help="write the full result as JSON here")
    parser.add_argument("--format", choices=TABLE_FORMATS, default="markdown",
                        help="printed table format (default markdown)")
    parser.add_argument("--videos", metavar="A,B,...", help="evaluate only these videos (file stems)")
    parser.add_argument("--per-video", action="store_true", help="add per-video tables to the JSON")
    boot = parser.add_argument_group("confidence intervals")
    boot.add_argument("--bootstrap", type=int, default=0, metavar="N",
                      help="bootstrap resamples over videos (0 = no intervals; 1000 is a good choice)")
    boot.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    boot.add_argument("--ci-level", type=float, default=DEFAULT_LEVEL, help="interval level (default 0.95)")
    boot.add_argument("--compare-pred", metavar="DIR",
                      help="second prediction folder: report PRED - COMPARE with a paired bootstrap "
                      "(1000 resamples unless --bootstrap says otherwise)")
    pt = parser.add_argument_group("posetrack")
    pt.add_argument("--mode", choices=MODES, default="official",
                    help="official (default): reproduce the official code, quirks included; "
                    "corrected: every frame fed with its real persons, classic MOTP")
    hota = parser.add_argument_group("hota")
    hota.add_argument("--hota-mode", choices=HOTA_MODES, default="official",
                      help="official (default): identical to the PoseTrack21 kit; corrected: an empty "
                      "frame counts its own joints, similarity max(0, 1 - d) without the clipping at 0.5")
    oks = parser.add_argument_group("oks")
    oks.add_argument("--oks-coco-dir", metavar="DIR",
                     help="also write the COCO ground truth and results given to pycocotools (gt.json, "
                     "results.json) into DIR")
    stability = parser.add_argument_group("stability")
    stability.add_argument("--stability-norm", choices=STABILITY_NORMALISERS, default="auto",
                           help="L: head size (0.6 x head box diagonal), the larger side of the person box, "
                           "or auto (head when the GT has head boxes)")
    pck = parser.add_argument_group("pck")
    pck.add_argument("--pck-alpha", type=float, default=0.2, help="threshold as a fraction of L (0.2)")
    pck.add_argument("--pck-norm", choices=NORMALISERS, default="box",
                     help="L: max side of the GT person box (default) or the GT torso (tPCK)")
    pck.add_argument("--pck-visibility", choices=VISIBILITY_RULES, default="auto",
                     help="joints that count: auto (sub-JHMDB all, otherwise v > 0), visible, all")
    pck.add_argument("--pck-all-joints", action="store_true",
                     help="Mean over every joint (e.g. sub-JHMDB neck and belly) instead of the table joints")


def _metric(args: argparse.Namespace) -> Metric:
    if args.metric == "posetrack":
        return PoseTrackMetric(mode=args.mode)
    if args.metric == "hota":
        return HOTAMetric(mode=args.hota_mode)
    if args.metric == "oks":
        return OKSMetric(coco_dir=args.oks_coco_dir)
    if args.metric == "stability":
        return StabilityMetric(normaliser=args.stability_norm)
    return PCKMetric(PCKOptions(alpha=args.pck_alpha, normaliser=args.pck_norm,
                                visibility=args.pck_visibility, all_joints=args.pck_all_joints))


def _interval_row(keys: list[str], report: BootstrapReport, label: str) -> list[str]:
    cells = []
    for key in keys:
        iv = report.intervals[key]
        cells.append("" if math.isnan(iv.lo) else f"[{iv.lo:.1f}, {iv.hi:.1f}]")
    return [label, *cells]


def _cell_keys(result: MetricResult, table: Table) -> list[str]:
    """The headline keys behind a table's columns, in order."""
    row_label = table.frame.iloc[0, 0]
    keys = []
    for column in list(table.frame.columns)[1:]:
        parts = column.split(" ")
        keys.append(f"{parts[0]}/{parts[1]}" if len(parts) == 2 else f"{row_label}/{column}")
    cells = result.headline()
    missing = [k for k in keys if k not in cells]
    if missing:  # pragma: no cover - a table whose columns are not headline cells
        raise RuntimeError(f"table columns without headline values: {missing}")
    return keys


def render(result: MetricResult, fmt: str, report: BootstrapReport | None = None,
           diff: BootstrapReport | None = None) -> str:
    """The printed tables (one decimal, as the official ones), with interval and difference
    rows when given."""
    out = []
    for table in result.tables():
        rows = table.frame.values.tolist()
        keys = _cell_keys(result, table)
        if report is not None:
            rows.append(_interval_row(keys, report, f"{report.level:.0%} CI"))
        if diff is not None:
            rows.append(["difference", *(diff.intervals[k].value for k in keys)])
            rows.append(_interval_row(keys, diff, f"{diff.level:.0%} CI (diff)"))
        shown = Table.from_rows(table.name, table.title, list(table.frame.columns), rows)
        out.append(shown.render(fmt))
    return "\n".join(out).rstrip("\n")


def run(args: argparse.Namespace) -> int:
    if args.bootstrap < 0:
        raise UserError("must be 0 or more", field="--bootstrap")
    if args.compare_pred and args.bootstrap == 0:
        args.bootstrap = 1000
    if not 0 < args.ci_level < 1:
        raise UserError("must be between 0 and 1", field="--ci-level")
    videos = [v for v in args.videos.split(",") if v] if args.videos else None
    metric = _metric(args)
    result = metric.evaluate(args.gt, args.pred, videos=videos)
    other = metric.evaluate(args.gt, args.compare_pred, videos=videos) if args.compare_pred else None
    report = diff = None
    if args.bootstrap:
        report = bootstrap(result, args.bootstrap, seed=args.seed, level=args.ci_level)
    if other is not None:
        diff = paired_bootstrap(result, other, args.bootstrap, seed=args.seed, level=args.ci_level)

    doc = result.summary()
    doc["inputs"] = {"gt": str(args.gt), "pred": str(args.pred)}
    if report is not None:
        doc["bootstrap"] = report.to_dict()
    if other is not None:
        doc["comparison"] = {"compare_pred": str(args.compare_pred), "difference": "pred - compare_pred",
                             "compare_summary": other.summary(), "paired_bootstrap": diff.to_dict()}
    if args.per_video and isinstance(result, PoseTrackResult | HOTAResult):
        doc["per_video"] = result.per_video()
    elif args.per_video:
        doc["per_video"] = {v: result.subset([v]).headline() for v in result.videos}
    doc["provenance"] = collect(seed=args.seed if args.bootstrap else None, torch_details=False).to_dict()

    print(render(result, args.format, report, diff))
    for note in getattr(result, "notes", []):
        print(f"note: {note}")
    if args.json:
        write_json(args.json, doc)
        print(f"wrote {args.json}")
    return 0
