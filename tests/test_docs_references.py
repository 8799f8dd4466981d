"""Every Markdown file a docstring or comment cites exists in the repository.

A citation is a path ending in ``.md`` inside a string or a comment of a module under bench/,
methods/ or datasets/, relative to the repository root (``docs/evaluation.md``, ``README.md``);
a bare ``metrics.md`` does not say where it is, so it fails too. Paths starting with ``../``
point outside the repository on purpose and are skipped.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE_FOLDERS = ("bench", "methods", "datasets")
CITATION = re.compile(r"(?<![\w/.-])[\w./-]*\w\.md\b")


def cited_markdown(source: str) -> Iterator[tuple[int, str]]:
    """(line, path) of each ``*.md`` path in the strings and comments of a module's source."""
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type in (tokenize.STRING, tokenize.COMMENT):
            for match in CITATION.finditer(token.string):
                yield token.start[0], match.group(0)


def test_citations_are_found_in_strings_and_comments() -> None:
    source = '"""See docs/evaluation.md and ../shared/docs/metrics.md."""\nx = 1  # as metrics.md says\n'
    assert list(cited_markdown(source)) == [
        (1, "docs/evaluation.md"), (1, "../shared/docs/metrics.md"), (2, "metrics.md")]


def test_every_cited_markdown_file_exists() -> None:
    missing = []
    for folder in SOURCE_FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for line, cited in cited_markdown(path.read_text(encoding="utf-8")):
                if not cited.startswith("../") and not (ROOT / cited).is_file():
                    missing.append(f"{path.relative_to(ROOT)}:{line}: {cited}")
    assert not missing, "docstrings cite Markdown files that are not in the repository:\n" + "\n".join(missing)
