"""Subcommands of the CLI. Each module `<name>_cmd` has NAME, a docstring (its help),
configure(parser) and run(args) -> exit status. A command is listed here only once it works.

Only the names live here: the CLI imports the one module a command line asks for, so that
start-up stays cheap (see `vposebench.cli`).
"""

COMMAND_NAMES = ["run", "list", "synth", "convert", "train", "predict", "evaluate", "leaderboard",
                 "check", "demo"]
