"""Subcommands of the CLI. Each module has NAME, a docstring (its help), configure(parser)
and run(args) -> exit status. A command is listed here only once it works."""

from . import list_cmd, synth_cmd

COMMANDS = [list_cmd, synth_cmd]
