"""`UserError` and the CLI's one-line convention: control characters escaped, empty texts handled,
warnings on one line too."""

from __future__ import annotations

import warnings

import pytest

from vposebench import cli
from vposebench.errors import InputWarning, UserError, first_line, one_line


def test_control_characters_are_escaped_so_the_error_stays_one_line():
    error = UserError("bad\nvalue", path="gt/a\nb.json", field="images[0]\r")
    assert error.format() == "gt/a\\nb.json: images[0]\\r: bad\\nvalue"
    assert one_line("tab\there \x1b[31mred\x7f \u2028end") == "tab\\there \\x1b[31mred\\x7f \\u2028end"
    assert one_line("plain ascii, ünïcode and 中文 stay") == "plain ascii, ünïcode and 中文 stay"


def test_first_line_of_an_empty_or_multi_line_text():
    assert first_line("") == ""
    assert first_line("\n\nsecond\nthird") == "second"
    assert first_line("x" * 500, limit=10) == "xxxxxxxxx…"


def test_an_empty_message_still_names_the_file():
    assert UserError("", path="model.ckpt").format() == "model.ckpt: (no details)"


def test_warnings_from_a_command_are_one_line_each(monkeypatch, capsys):
    from vposebench.commands import list_cmd

    def warn(args):
        warnings.warn(InputWarning("no GT video of this name; not evaluated", path="pred/x\ny.json"), stacklevel=2)
        warnings.warn("something\nelse", UserWarning, stacklevel=2)
        return 0

    monkeypatch.setattr(list_cmd, "run", warn)
    assert cli.main(["list"]) == 0
    assert capsys.readouterr().err == (
        "vposebench list: warning: pred/x\\ny.json: no GT video of this name; not evaluated\n"
        "vposebench list: warning: something\\nelse\n")


@pytest.mark.parametrize("argv", [["--help"], ["list", "--help"], ["--version"]])
def test_help_and_version_return_0_in_process(argv, capsys):
    assert cli.main(argv) == 0
    assert capsys.readouterr().out
