"""Every Markdown file a docstring or comment cites exists in the repository, and every
relative link in README.md and docs/ leads to a file of the repository (and to a heading there
when it names one), and every repository path (`bench/x.py`) and module name (`vposebench.x.y`)
they name in inline code exists.

A citation is a path ending in ``.md`` inside a string or a comment of a module under bench/,
methods/, datasets/ or docs/examples/, relative to the repository root (``docs/evaluation.md``, ``README.md``);
a bare ``metrics.md`` does not say where it is, so it fails too. Paths starting with ``../``
point outside the repository on purpose and are skipped.
"""

from __future__ import annotations

import importlib
import importlib.util
import io
import re
import tokenize
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE_FOLDERS = ("bench", "methods", "datasets", "docs/examples")
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


# ---------------------------------------------------------------- links in the Markdown files
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^\s*(```|~~~)")


def markdown_files() -> list[Path]:
    """README.md and every Markdown file under docs/."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def prose_lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, line) outside fenced code blocks, inline code removed."""
    fenced = False
    for number, line in enumerate(text.splitlines(), start=1):
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            yield number, re.sub(r"`[^`]*`", "", line)


def heading_anchors(text: str) -> set[str]:
    """The anchors GitHub makes for a file's headings: lower case, punctuation dropped, spaces
    as hyphens, a repeated heading numbered -1, -2, ..."""
    anchors: set[str] = set()
    fenced = False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
        match = None if fenced else re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if match:
            slug = re.sub(r"[^\w\- ]", "", match.group(1).lower()).replace(" ", "-")
            candidate, n = slug, 0
            while candidate in anchors:
                n += 1
                candidate = f"{slug}-{n}"
            anchors.add(candidate)
    return anchors


def test_heading_anchors_follow_github() -> None:
    text = "# Title\n## `posetrack`: AP & MOTA (official)\n## Notes\n## Notes\n```\n# not a heading\n```\n"
    assert heading_anchors(text) == {"title", "posetrack-ap--mota-official", "notes", "notes-1"}


def test_every_relative_link_and_anchor_resolves() -> None:
    broken = []
    for path in markdown_files():
        text = path.read_text(encoding="utf-8")
        for number, line in prose_lines(text):
            for target in LINK.findall(line):
                if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:, ...
                    continue
                file_part, _, anchor = target.partition("#")
                linked = (path.parent / file_part).resolve() if file_part else path
                where = f"{path.relative_to(ROOT)}:{number}: {target}"
                if not linked.exists():
                    broken.append(f"{where} (no such file)")
                elif not linked.is_relative_to(ROOT):
                    broken.append(f"{where} (outside the repository)")
                elif anchor and linked.suffix == ".md" and \
                        anchor not in heading_anchors(linked.read_text(encoding="utf-8")):
                    broken.append(f"{where} (no such heading)")
    assert not broken, "Markdown links that do not resolve:\n" + "\n".join(broken)


# ------------------------------------------------- files and modules named in the Markdown files
REPO_PATH = re.compile(r"`((?:bench|methods|datasets|tests|docs|results|tools|\.ci)/[^`\s]*)`")
DOTTED = re.compile(r"`(vposebench(?:\.\w+)+)")


def dotted_name_resolves(name: str) -> bool:
    """`vposebench.a.b.C.d`: the longest prefix that is a module exists and holds the rest as
    attributes (a module that needs a missing optional extra counts as found)."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        module_name = ".".join(parts[:end])
        try:
            found = importlib.util.find_spec(module_name) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            continue
        try:
            obj = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:  # e.g. distributed, for the cluster modules
            return not (exc.name or "").startswith("vposebench")
        for attribute in parts[end:]:
            if not hasattr(obj, attribute):
                return False
            obj = getattr(obj, attribute)
        return True
    return False


def test_named_files_and_modules_exist() -> None:
    missing = []
    for path in markdown_files():
        text = path.read_text(encoding="utf-8")
        where = path.relative_to(ROOT)
        for number, line in enumerate(text.splitlines(), start=1):
            for named in REPO_PATH.findall(line):
                named = named.split("::")[0].rstrip(".,")  # a pytest node id names its file
                if not re.search(r"[<*|]", named) and not (ROOT / named).exists():
                    missing.append(f"{where}:{number}: {named} (no such file or folder)")
            for named in DOTTED.findall(line):
                if not dotted_name_resolves(named):
                    missing.append(f"{where}:{number}: {named} (no such module or name)")
    assert not missing, "README.md and docs/ name what the repository does not have:\n" + "\n".join(missing)
