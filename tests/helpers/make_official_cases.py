"""Make comparison cases: random folders (posetrack_cases) scored by the official PoseTrack evaluation.

The official code is not part of the suite. Run it from a copy of leonid-pishchulin/poseval
(master 4258a157) with motmetrics 1.4.0 in an environment of its own:

    python tests/helpers/make_official_cases.py --poseval /tmp/poseval \\
        --python /tmp/venv/bin/python --out tests/bench/metrics/data/official_cases

Each case is stored as one gzipped JSON: the GT and prediction documents, how they were made,
and the official ``total_AP_metrics.json`` / ``total_MOT_metrics.json`` (or the error it raised).
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
from helpers.posetrack_cases import make_case, write_case  # noqa: E402

#: (name, seed, make_case options)
CASES = (
    [(f"r18_{s:02d}", s, {"fmt": "pt18", "videos": 2 + s % 2}) for s in range(16)]
    + [(f"r17_{s:02d}", 100 + s, {"fmt": "pt17", "videos": 2 + s % 2}) for s in range(8)]
    + [(f"r18_noscore_{s}", 200 + s, {"fmt": "pt18", "videos": 1, "missing_scores": True}) for s in range(3)]
    + [(f"r17_noscore_{s}", 300 + s, {"fmt": "pt17", "videos": 1, "missing_scores": True}) for s in range(3)]
    + [(f"r18_repeated_gt_ids_{s}", 400 + s, {"fmt": "pt18", "videos": 2, "repeated_gt_ids": True}) for s in range(3)]
)


def run_official(python: str, poseval: Path, gt: Path, pred: Path, out: Path) -> dict:
    proc = subprocess.run([python, "-m", "poseval.evaluate", "-g", f"{gt}/", "-p", f"{pred}/", "-e", "-t",
                           "-o", str(out)], cwd=poseval, capture_output=True, text=True)
    if proc.returncode != 0:
        return {"returncode": proc.returncode, "error": proc.stderr.strip().splitlines()[-1]}
    ap = json.loads((out / "total_AP_metrics.json").read_text())
    mot = json.loads((out / "total_MOT_metrics.json").read_text())
    return {"returncode": 0, "ap_full": {k: ap[k] for k in ("ap", "pre", "rec")},
            "mot_full": {k: mot[k] for k in ("mota", "motp", "pre", "rec")}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--poseval", type=Path, required=True, help="folder holding the poseval package")
    parser.add_argument("--python", required=True, help="interpreter with the official code's dependencies")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, seed, options in CASES:
        case = make_case(seed, **options)
        with tempfile.TemporaryDirectory() as tmp:
            gt, pred = write_case(case, Path(tmp))
            official = run_official(args.python, args.poseval, gt, pred, Path(tmp) / "out")
        doc = {"name": name, "seed": seed, "options": options, "official": official, **case}
        with gzip.open(args.out / f"{name}.json.gz", "wt", encoding="utf-8") as handle:
            json.dump(doc, handle, separators=(",", ":"))
        print(name, "ok" if official["returncode"] == 0 else official["error"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
