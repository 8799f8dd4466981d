"""The `vposebench` command line: one subcommand per module in `vposebench.commands`."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from . import __version__
from .commands import MODULES, load
from .errors import UserError


def chosen_command(argv: Sequence[str]) -> str | None:
    """The subcommand named in `argv` (the first word that is not an option), if it is one."""
    word = next((a for a in argv if not a.startswith("-")), None)
    return word if word in MODULES else None


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every subcommand, or with `only`, of that one (the others are listed by
    name but their modules are not imported)."""
    parser = argparse.ArgumentParser(
        prog="vposebench",
        description="Benchmark and evaluation suite for temporal (video) human pose "
        "estimation and tracking.",
    )
    parser.add_argument("--version", action="version", version=f"vposebench {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in MODULES:
        if only is not None and name != only:
            sub.add_parser(name)
            continue
        command = load(name)
        doc = (command.__doc__ or "").strip()
        summary = doc.splitlines()[0] if doc else None
        sp = sub.add_parser(command.NAME, help=summary, description=doc or None,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
        command.configure(sp)
        sp.set_defaults(_run=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: user errors become one line on stderr and exit status 2."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(chosen_command(argv))
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
