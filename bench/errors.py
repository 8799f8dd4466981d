"""The one convention for errors in user input.

Anything a user can get wrong (a missing file, malformed JSON, a wrong field, mismatched frame
counts, duplicate track ids, an unknown name) raises :class:`UserError`. The CLI prints it as
one line naming the file and field and exits with status 2, without a traceback.
"""

from __future__ import annotations

from os import PathLike


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
        """`<path>: <field>: <message>`, leaving out the parts that are unknown."""
        parts = [p for p in (self.path, self.field) if p]
        return ": ".join([*parts, self.message])


class UnknownNameError(UserError, KeyError):
    """A registry lookup for a name nobody registered."""

    def __str__(self) -> str:  # KeyError would quote the message
        return self.format()
