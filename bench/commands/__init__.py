"""Subcommands of the CLI. Each module has NAME, a docstring (its help), configure(parser)
and run(args) -> exit status. A command is listed here only once it works."""

from . import (
    check_cmd,
    convert_cmd,
    demo_cmd,
    evaluate_cmd,
    leaderboard_cmd,
    list_cmd,
    predict_cmd,
    run_cmd,
    synth_cmd,
    train_cmd,
)

COMMANDS = [run_cmd, list_cmd, synth_cmd, convert_cmd, train_cmd, predict_cmd, evaluate_cmd, leaderboard_cmd,
            check_cmd, demo_cmd]
