"""A table is a pandas view over result records (or over one evaluation's scores), rendered
with tabulate (Markdown, LaTeX) or written as CSV; the one renderer of every printed table. Cells hold :class:`~vposebench.records.Estimate` (value with its interval),
plain numbers or text."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pandas as pd
from tabulate import tabulate

from ..errors import UserError
from ..records import Estimate

FORMATS = ("markdown", "latex", "csv")


@dataclasses.dataclass
class Table:
    """A rendered-ready table: a title, a frame of cells and notes printed under it."""

    name: str
    title: str
    frame: pd.DataFrame
    notes: list[str] = dataclasses.field(default_factory=list)
    digits: int = 1

    @classmethod
    def from_rows(cls, name: str, title: str, header: list[str], rows: list[list[Any]],
                  **options: Any) -> Table:
        """A table from a header and rows of cells (first column: the row label)."""
        return cls(name, title, pd.DataFrame(rows, columns=header), **options)

    @property
    def empty(self) -> bool:
        return self.frame.empty

    def render(self, fmt: str = "markdown") -> str:
        if fmt == "markdown":
            return render_markdown(self)
        if fmt == "latex":
            return render_latex(self)
        if fmt == "csv":
            return render_csv(self)
        raise UserError(f"unknown table format {fmt!r} (known: {', '.join(FORMATS)})")


def _number(value: float | None, digits: int) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return f"{value:.{digits}f}"


def format_cell(cell: Any, digits: int, *, latex: bool = False) -> str:
    """Text of one cell: a Estimate as `value [low, high]`, numbers with `digits` decimals."""
    if isinstance(cell, Estimate):
        text = _number(cell.value, digits)
        if cell.value is not None and cell.ci_low is not None and cell.ci_high is not None:
            ci = f"[{_number(cell.ci_low, digits)}, {_number(cell.ci_high, digits)}]"
            text = f"{text} {{\\scriptsize {ci}}}" if latex else f"{text} {ci}"
        return text
    if cell is None:
        return "-"
    if isinstance(cell, bool):
        return "yes" if cell else "no"
    if isinstance(cell, int):
        return f"{cell:,}" if not latex else f"{cell:,}".replace(",", "{,}")
    if isinstance(cell, float):
        return _number(cell, digits)
    text = str(cell)
    return latex_escape(text) if latex else text


def latex_escape(text: str) -> str:
    for char, repl in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("$", r"\$"),
                       ("#", r"\#"), ("_", r"\_"), ("{", r"\{"), ("}", r"\}"), ("~", r"\~{}"),
                       ("^", r"\^{}")):
        text = text.replace(char, repl)
    for char, repl in (("Δ", r"$\Delta$"), ("−", "$-$"), ("±", r"$\pm$")):
        text = text.replace(char, repl)
    return text


def _rows(table: Table, *, latex: bool) -> list[list[str]]:
    return [[format_cell(cell, table.digits, latex=latex) for cell in row]
            for row in table.frame.itertuples(index=False)]


def render_markdown(table: Table) -> str:
    body = tabulate(_rows(table, latex=False), headers=list(table.frame.columns),
                    tablefmt="pipe", disable_numparse=True)
    notes = "".join(f"\n\n{note}" for note in table.notes)
    return f"**{table.title}**\n\n{body}{notes}\n"


def render_latex(table: Table) -> str:
    """A booktabs table; cells are escaped here, so tabulate's raw LaTeX format is used."""
    headers = [latex_escape(str(c)) for c in table.frame.columns]
    body = tabulate(_rows(table, latex=True), headers=headers, tablefmt="latex_raw",
                    disable_numparse=True)
    lines = body.splitlines()
    rules = [i for i, line in enumerate(lines) if line.strip() == "\\hline"]
    for i, rule in zip(rules, ("\\toprule", "\\midrule", "\\bottomrule")):
        lines[i] = rule
    caption = latex_escape(table.title)
    notes = "".join(f"\n% {note}" for note in table.notes)
    return ("\\begin{table}[t]\n\\centering\n\\caption{" + caption + "}\n"
            + "\n".join(lines) + "\n\\end{table}" + notes + "\n")


def render_csv(table: Table) -> str:
    """One column per value; a Estimate column adds `<name> ci_low` and `<name> ci_high`."""
    out: dict[str, list[Any]] = {}
    for column in table.frame.columns:
        values = table.frame[column].tolist()
        if any(isinstance(v, Estimate) for v in values):
            out[column] = [v.value if isinstance(v, Estimate) else v for v in values]
            out[f"{column} ci_low"] = [v.ci_low if isinstance(v, Estimate) else None for v in values]
            out[f"{column} ci_high"] = [v.ci_high if isinstance(v, Estimate) else None for v in values]
        else:
            out[column] = values
    return pd.DataFrame(out).to_csv(index=False, float_format="%.10g", lineterminator="\n")
