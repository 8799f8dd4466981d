"""Print the leaderboard or a paper table from the result records.

Tables are views over the JSON records under RESULTS/records (written by `vposebench run`).
`--table all` prints every table that has records.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..atomic import atomic_write
from ..outputs import check_output_file
from ..results_store import ResultsStore, require_records
from ..tables.base import FORMATS
from ..tables.output import build_tables

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
    text = "\n".join(table.render(args.format) for table in build_tables(records, args.table))
    if args.out:
        with atomic_write(args.out) as handle:
            handle.write(text)
    else:
        print(text, end="")
    return 0
