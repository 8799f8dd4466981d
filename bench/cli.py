"""The `vposebench` command line: one subcommand per module in `vposebench.commands`."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from . import __version__
from .commands import COMMANDS
from .errors import UserError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vposebench",
        description="Benchmark and evaluation suite for temporal (video) human pose "
        "estimation and tracking.",
    )
    parser.add_argument("--version", action="version", version=f"vposebench {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        doc = (command.__doc__ or "").strip()
        summary = doc.splitlines()[0] if doc else None
        sp = sub.add_parser(command.NAME, help=summary, description=doc or None,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
        command.configure(sp)
        sp.set_defaults(_run=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: user errors become one line on stderr and exit status 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args._run(args) or 0)
    except UserError as exc:
        print(f"vposebench {args.command}: error: {exc.format()}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        print(f"vposebench {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
