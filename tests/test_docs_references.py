"""Every file, module and heading the documentation points at exists.

- Source (modules under bench/, methods/, datasets/, docs/examples/): every Markdown file cited
  in a string or a comment exists, relative to the repository root (``docs/evaluation.md``,
  ``README.md``; a bare ``metrics.md`` does not say where it is, so it fails too); so does every
  repository path (``bench/x.py``, ``tests/bench/metrics/``) and every module name
  (``vposebench.x.y``) they name.
- Markdown (every ``*.md`` of the repository): each relative link leads to a file of the
  repository, and to a heading there when it names one.
- README.md and docs/: every repository path and module name named in inline code exists (the
  notes copied into tests/data/ name files of the official kits' trees, so they are left out).

Paths starting with ``../`` point outside the repository on purpose and are skipped, and so
are paths with a placeholder (``results/<preset>``, ``*.json``).
"""

from __future__ import annotations

import importlib
import importlib.util
import io
import os
import re
import tokenize
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE_FOLDERS = ("bench", "methods", "datasets", "docs/examples")
CITATION = re.compile(r"(?<![\w/.-])[\w./-]*\w\.md\b")
#: a repository path in a string or comment: starts at a top-level folder, not inside another path
SOURCE_PATH = re.compile(r"(?<![\w/.-])((?:bench|methods|datasets|tests|docs|results|tools|\.ci)/[\w./<>*-]*[\w/>*])")
SOURCE_DOTTED = re.compile(r"(?<![\w.])(vposebench(?:\.\w+)+)")
PLACEHOLDER = re.compile(r"[<*|{]")


def strings_and_comments(source: str) -> Iterator[tuple[int, str]]:
    """(line, text) of each string and comment of a module's source; a string's line is where
    it starts."""
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type in (tokenize.STRING, tokenize.COMMENT):
            yield token.start[0], token.string


def found(pattern: re.Pattern[str], source: str) -> Iterator[tuple[int, str]]:
    """(line, match) of each match of `pattern` in the strings and comments of a module."""
    for start, text in strings_and_comments(source):
        for match in pattern.finditer(text):
            yield start + text.count("\n", 0, match.start()), match.group(match.lastindex or 0)


def cited_markdown(source: str) -> Iterator[tuple[int, str]]:
    """(line, path) of each ``*.md`` path in the strings and comments of a module's source."""
    return found(CITATION, source)


def source_modules() -> Iterator[Path]:
    for folder in SOURCE_FOLDERS:
        yield from sorted((ROOT / folder).rglob("*.py"))


def test_citations_are_found_in_strings_and_comments() -> None:
    source = '"""See docs/evaluation.md\nand ../shared/docs/metrics.md."""\nx = 1  # as metrics.md says\n'
    assert list(cited_markdown(source)) == [
        (1, "docs/evaluation.md"), (2, "../shared/docs/metrics.md"), (3, "metrics.md")]


def test_every_cited_markdown_file_exists() -> None:
    missing = []
    for path in source_modules():
        for line, cited in cited_markdown(path.read_text(encoding="utf-8")):
            if not cited.startswith("../") and not (ROOT / cited).is_file():
                missing.append(f"{path.relative_to(ROOT)}:{line}: {cited}")
    assert not missing, "docstrings cite Markdown files that are not in the repository:\n" + "\n".join(missing)


def test_paths_and_modules_are_found_in_strings_and_comments() -> None:
    source = ('"""Tested in ``tests/bench/metrics``;\nrun ``python -m vposebench.datasets.posetrack_scale``."""\n'
              'OUT = "results/<preset>"  # the kit\'s eval/datasets/posetrack.py, not ours\n')
    assert list(found(SOURCE_PATH, source)) == [(1, "tests/bench/metrics"), (3, "results/<preset>")]
    assert list(found(SOURCE_DOTTED, source)) == [(2, "vposebench.datasets.posetrack_scale")]


def test_every_path_and_module_a_docstring_names_exists() -> None:
    missing = []
    for path in source_modules():
        source = path.read_text(encoding="utf-8")
        where = path.relative_to(ROOT)
        for line, named in found(SOURCE_PATH, source):
            if not PLACEHOLDER.search(named) and not (ROOT / named).exists():
                missing.append(f"{where}:{line}: {named} (no such file or folder)")
        for line, named in found(SOURCE_DOTTED, source):
            if not dotted_name_resolves(named):
                missing.append(f"{where}:{line}: {named} (no such module or name)")
    assert not missing, "docstrings and comments name what the repository does not have:\n" + "\n".join(missing)


# ---------------------------------------------------------------- links in the Markdown files
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^\s*(```|~~~)")


def project_docs() -> list[Path]:
    """README.md and every Markdown file under docs/."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def markdown_files() -> list[Path]:
    """Every Markdown file of the repository (hidden folders, build outputs and the virtual
    environment left out)."""
    out = []
    for folder, subfolders, files in os.walk(ROOT):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith((".", "__"))
                               and d != "build" and not d.endswith(".egg-info"))
        out += [Path(folder) / name for name in sorted(files) if name.endswith(".md")]
    return out


def test_markdown_files_cover_the_docs_and_the_data_notes() -> None:
    files = {path.relative_to(ROOT).as_posix() for path in markdown_files()}
    assert {path.relative_to(ROOT).as_posix() for path in project_docs()} <= files
    assert "tests/data/conformance/hota/README.md" in files
    assert not any(name.startswith((".venv/", "build/")) for name in files)


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
    for path in project_docs():
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
