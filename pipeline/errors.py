"""Exceptions that end a file's (or the run's) processing, each with its exit status.

The constructor takes only a code from the catalogue and optional field names, so no value
read from a document can reach a message, a log line or a traceback's text.

>>> err = InputError("encrypted")
>>> err.exit_status, err.code
(2, 'encrypted')
"""

from __future__ import annotations

from typing import ClassVar

from pipeline.messages import ERRORS, error_message


class HokenmaskError(Exception):
    """Base class: ``code`` (stable, from the catalogue), Japanese ``message``, ``exit_status``."""

    exit_status: ClassVar[int] = 2
    default_code: ClassVar[str] = "internal_error"

    def __init__(self, code: str | None = None, *, fields: tuple[str, ...] = ()) -> None:
        code = code or self.default_code
        if code not in ERRORS:
            # An unknown code is a programming error; report it as internal, never echo it.
            fields, code = (), "internal_error"
        self.code: str = code
        self.fields: tuple[str, ...] = tuple(fields)
        self.message: str = error_message(code, self.fields)
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r})"


class InputError(HokenmaskError):
    """An input file that cannot be read (exit status 2); the others are still processed."""

    exit_status: ClassVar[int] = 2
    default_code: ClassVar[str] = "corrupt"


class UsageError(HokenmaskError):
    """Bad command line or policy file (exit status 64)."""

    exit_status: ClassVar[int] = 64
    default_code: ClassVar[str] = "bad_arguments"


class InternalError(HokenmaskError):
    """A failure of ours on a readable file (exit status 2): the page is never reported clean."""

    exit_status: ClassVar[int] = 2
    default_code: ClassVar[str] = "internal_error"
