"""No source module over 400 lines without a stated reason: such a module's docstring says
why ("Over 400 lines on purpose: ...")."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 400
REASON = "Over 400 lines on purpose:"


def test_long_modules_state_why():
    unexplained = []
    for folder in ("bench", "methods", "datasets"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            if text.count("\n") > LIMIT and REASON not in (ast.get_docstring(ast.parse(text)) or ""):
                unexplained.append(f"{path.relative_to(ROOT)}: {text.count(chr(10))} lines")
    assert not unexplained, "modules over 400 lines without a reason in their docstring:\n" + "\n".join(unexplained)
