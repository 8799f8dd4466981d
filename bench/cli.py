"""The `vposebench` command line: one subcommand per module in `vposebench.commands`.

Start-up is cheap on purpose: this module imports only the standard library and the light
parts of the package, installs the Ctrl-C handler, and only then imports the command asked for
(torch and friends come with it), so an interrupt at any moment ends in one line. Every error
(bad arguments included) is one line on stderr and exit status 2; Ctrl-C is ``interrupted``
and exit status 130; warnings are one line each.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import warnings
from collections.abc import Sequence
from types import ModuleType

from . import __version__
from .commands import COMMAND_NAMES
from .errors import InputWarning, UserError, first_line, one_line
from .interrupts import stop_on_interrupt

#: the exit status of a command stopped by Ctrl-C (128 + SIGINT, as shells report it)
INTERRUPTED = 130
PROG = "vposebench"


class OneLineParser(argparse.ArgumentParser):
    """argparse with its errors on one line (no usage block), like every other error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {one_line(message)} (see {self.prog} --help)\n")


def command_modules(name: str | None = None) -> list[ModuleType]:
    """The command modules, in listing order; with `name`, only that command's (cheap imports)."""
    names = [name] if name in COMMAND_NAMES else COMMAND_NAMES
    return [importlib.import_module(f".commands.{n}_cmd", __package__) for n in names]


def _requested_command(argv: Sequence[str]) -> str | None:
    """The command word of `argv` (its first argument that is not an option)."""
    return next((a for a in argv if not a.startswith("-")), None)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The full parser; with a known `command`, only that command's arguments are configured
    (the others stay listed, so that a wrong name still shows every choice)."""
    parser = OneLineParser(
        prog=PROG,
        description="Benchmark and evaluation suite for temporal (video) human pose "
        "estimation and tracking.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    configured = {module.NAME: module for module in command_modules(command)}
    for name in COMMAND_NAMES:
        module = configured.get(name)
        if module is None:
            sub.add_parser(name)
            continue
        doc = (module.__doc__ or "").strip()
        summary = doc.splitlines()[0] if doc else None
        sp = sub.add_parser(name, help=summary, description=doc or None,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
        module.configure(sp)
        sp.set_defaults(_run=module.run)
    return parser


def _say(command: str | None, kind: str | None, text: str) -> None:
    """One line on stderr: ``vposebench <command>: <kind>: <text>``."""
    prefix = f"{PROG} {command}" if command else PROG
    print(": ".join(p for p in (prefix, kind, one_line(text)) if p), file=sys.stderr, flush=True)


def _show_warning(command: str | None):
    """A `warnings.showwarning` that prints each warning as one line."""
    def show(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ARG001
        _say(command, "warning", message.format() if isinstance(message, InputWarning) else str(message))
    return show


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: user errors become one line on stderr and exit status 2, Ctrl-C the line
    ``interrupted`` and exit status 130."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = _requested_command(argv)
    command = command if command in COMMAND_NAMES else None
    with stop_on_interrupt(), warnings.catch_warnings():
        try:
            warnings.showwarning = _show_warning(command)
            parser = build_parser(command)
            args = parser.parse_args(argv)
            logging.basicConfig(
                level=logging.INFO if args.verbose else logging.WARNING,
                format="%(levelname)s %(name)s: %(message)s",
            )
            return int(args._run(args) or 0)
        except UserError as exc:
            _say(command, "error", exc.format())
            return exc.exit_status
        except KeyboardInterrupt as exc:
            note = first_line(str(exc))
            _say(command, None, f"interrupted ({note})" if note else "interrupted")
            return INTERRUPTED
        except SystemExit as exc:  # argparse: --help, --version and usage errors (already printed)
            if isinstance(exc.code, str):
                _say(command, "error", exc.code)
                return 2
            return 0 if exc.code is None else exc.code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
