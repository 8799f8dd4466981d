"""No module reaches into another module's private (``_name``) names.

A private name is a module's own business; a name that other modules use gets a public name
in the module that owns it. The check parses every module under bench/, methods/ and datasets/
and reports ``from X import _name`` and ``X._name`` where ``X`` was bound by an import.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE_FOLDERS = ("bench", "methods", "datasets")


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _source_files() -> Iterator[Path]:
    for folder in SOURCE_FOLDERS:
        yield from sorted((ROOT / folder).rglob("*.py"))


def private_uses(tree: ast.AST) -> list[str]:
    """Each cross-module use of a private name in a parsed module, as 'line: text'."""
    imported: set[str] = set()
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                imported.add(alias.asname or alias.name)
                if _is_private(alias.name):
                    found.append((node.lineno, f"from {'.' * node.level}{node.module or ''} import {alias.name}"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _is_private(node.attr):
            root = node.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in imported:
                found.append((node.lineno, ast.unparse(node)))
    return [f"{line}: {text}" for line, text in sorted(found)]


def test_the_check_sees_both_forms() -> None:
    code = "from .a import _x, y\nimport b.c as c\nc._helper()\ny._z\nself._own\n"
    assert private_uses(ast.parse(code)) == ["1: from .a import _x", "3: c._helper", "4: y._z"]


def test_no_module_imports_private_names() -> None:
    offences = []
    for path in _source_files():
        for use in private_uses(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            offences.append(f"{path.relative_to(ROOT)}:{use}")
    assert not offences, "private names used across modules:\n" + "\n".join(offences)
