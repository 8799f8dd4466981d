"""The README's command table is true: one row per command, and each row names exactly the
command's flags, except the ones the README says it leaves out (the metric options of
`evaluate`, the contact-sheet options of `demo`)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from vposebench.cli import command_modules
from vposebench.commands import COMMAND_NAMES
from vposebench.plan_file import load_plan

README = Path(__file__).resolve().parents[1] / "README.md"
FLAG = re.compile(r"--[a-z][a-z-]*")
#: flags the table leaves out on purpose, as its introduction says
LEFT_OUT = {
    "evaluate": {"--mode", "--hota-mode", "--oks-coco-dir", "--stability-norm", "--pck-alpha",
                 "--pck-norm", "--pck-visibility", "--pck-all-joints"},
    "demo": {"--sheet", "--sheet-frames", "--sheet-width", "--sheet-columns"},
}


def table_rows() -> dict[str, str]:
    """Command -> the first cell of its row in the README's command table."""
    rows = {}
    for line in README.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\| `vposebench (\w+)(.*?)` \|", line)
        if match:
            rows[match.group(1)] = match.group(2)
    return rows


def command_flags(name: str) -> set[str]:
    """The long options a command's parser takes (from its usage line), --help left out."""
    [module] = command_modules(name)
    parser = argparse.ArgumentParser(prog=f"vposebench {name}")
    module.configure(parser)
    return set(FLAG.findall(parser.format_usage())) - {"--help"}


def test_every_command_has_a_row() -> None:
    assert sorted(table_rows()) == sorted(COMMAND_NAMES)


def test_each_row_names_exactly_the_commands_flags() -> None:
    wrong = []
    for name, cell in table_rows().items():
        shown, real = set(FLAG.findall(cell)), command_flags(name)
        if shown - real:
            wrong.append(f"{name}: the README names flags it does not take: {sorted(shown - real)}")
        missing = real - shown - LEFT_OUT.get(name, set())
        if missing:
            wrong.append(f"{name}: the README does not name {sorted(missing)}")
    assert not wrong, "README.md, command table:\n" + "\n".join(wrong)


def test_readme_plan_example_is_a_valid_plan(tmp_path):
    """The plan file shown in the README loads: every field checked as `run --plan` checks it."""
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"```toml\n(.*?)```", text, flags=re.S)
    assert len(blocks) == 1
    path = tmp_path / "my-plan.toml"
    path.write_text(blocks[0], encoding="utf-8")
    plan = load_plan(path)
    assert [e.label for e in plan.entries] == ["CPM", "Hold"]
    assert plan.entries[1].compare_to == "CPM"
