"""The one convention for errors in user input.

Anything a user can get wrong (a missing file, malformed JSON, a wrong field, mismatched frame
counts, duplicate track ids, an unknown name) raises :class:`UserError`. The CLI prints it as
one line naming the file and field and exits with status 2, without a traceback. Control
characters in any part (a file name with a newline, a terminal escape) are printed escaped, so
the line stays one line. Input that is read but worth a word (a prediction file no GT video
matches) gives an :class:`InputWarning`, which the CLI prints as one line too. What is
refused, input by input: docs/errors.md.
"""

from __future__ import annotations

import unicodedata
from os import PathLike

#: Unicode categories printed escaped: control characters and line/paragraph separators
_ESCAPED_CATEGORIES = ("Cc", "Zl", "Zp")


def one_line(text: str) -> str:
    """`text` with control characters (newlines, tabs, escapes, separators) written as
    Python escapes (``\\n``, ``\\x1b``, ``\\u2028``); everything else is kept."""
    if text.isprintable():
        return text
    return "".join(
        c.encode("unicode_escape").decode("ascii") if unicodedata.category(c) in _ESCAPED_CATEGORIES else c
        for c in text
    )


def first_line(text: str, *, limit: int = 300) -> str:
    """The first non-blank line of `text` (an exception's message), at most `limit`
    characters; "" for an empty text."""
    line = next((s.strip() for s in text.splitlines() if s.strip()), "")
    return line if len(line) <= limit else line[: limit - 1] + "…"


class UserError(Exception):
    """An error in user input: one clear message naming the file and the field."""

    exit_status = 2

    def __init__(
        self,
        message: str,
        *,
        path: str | PathLike[str] | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.path = None if path is None else str(path)
        self.field = field
        super().__init__(self.format())

    def format(self) -> str:
        """`<path>: <field>: <message>` on one line, leaving out the parts that are unknown."""
        parts = [p for p in (self.path, self.field) if p]
        return one_line(": ".join([*parts, self.message or "(no details)"]))


class UnknownNameError(UserError, KeyError):
    """A registry lookup for a name nobody registered."""

    def __str__(self) -> str:  # KeyError would quote the message
        return self.format()


class InputWarning(UserWarning):
    """Input that is used (or skipped) as it is, but that the user should hear about."""

    def __init__(self, message: str, *, path: str | PathLike[str] | None = None) -> None:
        self.message = message
        self.path = None if path is None else str(path)
        super().__init__(self.format())

    def format(self) -> str:
        """`<path>: <message>` on one line."""
        return one_line(f"{self.path}: {self.message}" if self.path else self.message)
