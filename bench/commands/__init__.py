"""Subcommands of the CLI. Each module has NAME, a docstring (its help), configure(parser)
and run(args) -> exit status. A command is listed here only once it works.

Modules are imported when a command needs them, so that e.g. ``vposebench evaluate`` does not
pay for torch and pandas, which only training, prediction and the tables use.
"""

from __future__ import annotations

import importlib
from types import ModuleType

#: command name -> module, in the order `vposebench --help` lists them
MODULES: dict[str, str] = {
    "run": "run_cmd", "list": "list_cmd", "synth": "synth_cmd", "convert": "convert_cmd",
    "train": "train_cmd", "predict": "predict_cmd", "evaluate": "evaluate_cmd",
    "leaderboard": "leaderboard_cmd", "check": "check_cmd", "demo": "demo_cmd",
}


def load(name: str) -> ModuleType:
    """The module of command `name` (imported on first use)."""
    return importlib.import_module(f".{MODULES[name]}", __name__)
