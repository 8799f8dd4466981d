"""Print the leaderboard or a paper table from the result records.

Tables are views over the JSON records under RESULTS/records (written by `vposebench run`).
`--table all` prints every table that has records.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..atomic import atomic_write
from ..outputs import check_output_file
from ..registry import TABLES
from ..results_store import ResultsStore, require_records
from ..tables.base import FORMATS

NAME = "leaderboard"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--results", type=Path, default=Path("results"),
                        help="results folder holding records/ (default: results)")
    parser.add_argument("--format", choices=FORMATS, default="markdown")
    parser.add_argument("--table", default="leaderboard",
                        help="table name (see `vposebench list tables`) or 'all'")
    parser.add_argument("--out", type=Path, help="write to this file instead of printing")


def run(args: argparse.Namespace) -> int:
    if args.out:
        check_output_file(args.out, "--out")
    records = require_records(ResultsStore(args.results))
    names = TABLES.names() if args.table == "all" else [args.table]
    builders = [TABLES.get(name) for name in names]  # unknown names fail before any output
    parts = []
    for builder in builders:
        table = builder(records)
        if args.table == "all" and table.empty:
            continue
        parts.append(table.render(args.format))
    text = "\n".join(parts)
    if args.out:
        with atomic_write(args.out) as handle:
            handle.write(text)
    else:
        print(text, end="")
    return 0
