"""Make keypoint-HOTA comparison cases: random PoseTrack21 folders (hota_cases) scored by the kit.

The PoseTrack21 kit is not part of the suite. Run it from a copy of anDoer/PoseTrack21 (commit
3e61960, folder ``eval/posetrack21``) in an environment of its own (Python 3.8, numpy 1.22.0,
scipy 1.7.3, Shapely 1.8.0, tqdm: the kit's pins):

    python tests/helpers/make_hota_cases.py --kit /tmp/pt21kit --python /tmp/kitenv/bin/python \\
        --out tests/bench/metrics/data/hota_cases

Each case is stored as one gzipped JSON: the GT and prediction documents, how they were made,
and the kit's own return values (combined: every per-alpha array, 19 x 16; per video: the
alpha means, 16 values) or the error it raised.
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, so `helpers` imports
from helpers.hota_cases import make_hota_case  # noqa: E402
from helpers.posetrack_cases import write_case  # noqa: E402

#: (name, seed, make_hota_case options)
CASES = (
    [(f"h21_{s:02d}", 1000 + s, {"videos": 1 + s % 3}) for s in range(16)]
    + [(f"h21_crash_{kind}", 2000 + k, {"videos": 2, "crash": kind})
       for k, kind in enumerate(("no_gt_annotation", "all_gt_ignored"))]
)

#: run inside the kit's environment: evaluate GT_DIR against SEQUENCES_DIR, print JSON
_DRIVER = r'''
import json, sys, traceback
sys.path.insert(0, sys.argv[1])
import numpy as np
import posetrack21.trackeval as trackeval

def plain(res, alpha_means=False):
    out = {}
    for k, v in res.items():
        v = np.asarray(v, dtype=float)
        out[k] = (v.mean(axis=0) if alpha_means and v.ndim == 2 else v).tolist()
    return out

config = {**trackeval.Evaluator.get_default_eval_config(),
          **trackeval.datasets.PoseTrack.get_default_dataset_config()}
config.update(GT_FOLDER=sys.argv[2], TRACKERS_FOLDER=sys.argv[3], USE_PARALLEL=False, PRINT_RESULTS=False,
              PRINT_PAPER_SUMMARY=False, TIME_PROGRESS=False, PRINT_CONFIG=False, OUTPUT_PAPER_SUMMARY=False,
              LOG_ON_ERROR=None, BREAK_ON_ERROR=True, ASSURE_SINGLE_TRACKER=False)
eval_keys = trackeval.Evaluator.get_default_eval_config().keys()
data_keys = trackeval.datasets.PoseTrack.get_default_dataset_config().keys()
try:
    evaluator = trackeval.Evaluator({k: v for k, v in config.items() if k in eval_keys})
    dataset = trackeval.datasets.PoseTrack({k: v for k, v in config.items() if k in data_keys})
    out, _ = evaluator.evaluate([dataset], [trackeval.metrics.HOTAeypoints()])
    res = out["PoseTrack"]["sequences"]
    doc = {"returncode": 0,
           "combined": plain(res["COMBINED_SEQ"]["person"]["HOTAeypoints"]),
           "per_sequence": {k: plain(v["person"]["HOTAeypoints"], True) for k, v in res.items() if k != "COMBINED_SEQ"}}
except Exception as exc:
    doc = {"returncode": 1, "error": f"{type(exc).__name__}: {exc}".strip()[:300]}
print(json.dumps(doc))
'''


def run_kit_folder(python: str, kit: Path, gt: Path, pred: Path, **popen: object) -> dict:
    """The kit's return values on one GT folder and prediction folder (the kit wants the
    predictions in a folder named ``sequences``: a link to `pred`). `popen` goes to
    subprocess.run (e.g. ``preexec_fn``)."""
    with tempfile.TemporaryDirectory() as tmp:
        sequences = Path(tmp) / "sequences"
        sequences.symlink_to(Path(pred).resolve(), target_is_directory=True)
        driver = Path(tmp) / "driver.py"
        driver.write_text(_DRIVER)
        proc = subprocess.run([python, str(driver), str(kit), f"{gt}/", str(sequences)],
                              capture_output=True, text=True, cwd=kit, **popen)
    if proc.returncode != 0:
        return {"returncode": proc.returncode, "error": proc.stderr.strip().splitlines()[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kit", type=Path, required=True, help="the kit's eval/posetrack21 folder")
    parser.add_argument("--python", required=True, help="interpreter with the kit's dependencies")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, seed, options in CASES:
        case = make_hota_case(seed, **options)
        with tempfile.TemporaryDirectory() as tmp:
            gt, pred = write_case(case, Path(tmp))
            kit = run_kit_folder(args.python, args.kit, gt, pred)
        doc = {"name": name, "seed": seed, "options": options, "kit": kit, **case}
        with gzip.open(args.out / f"{name}.json.gz", "wt", encoding="utf-8") as handle:
            json.dump(doc, handle, separators=(",", ":"))
        print(name, "ok" if kit["returncode"] == 0 else kit["error"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
