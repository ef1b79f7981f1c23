"""The mapping engine's error types, one family so callers catch one thing.

Why: integrators read these messages, never tracebacks. Every error names its place: a mapping problem names the
mapping file and line (``clever.yaml:12: ...``), a source problem the data file and line (``students.csv:4: ...``),
and a problem with one value is raised without a place and given the row's place by the engine.

* MappingError              a mapping file is wrong (compile time); str() is "file:line: message"
  * SourceError             a data file cannot be read at all (missing, truncated zip, undecodable, malformed)
  * RowError                one value of one row cannot be computed (bad date, unknown code); the row is rejected
"""
from __future__ import annotations


class MappingError(Exception):
    """A problem located in a file (``file`` and ``line`` may be unknown)."""

    def __init__(self, message: str, file: str | None = None, line: int | None = None):
        super().__init__(message)
        self.message, self.file, self.line = message, file, line

    def at(self, file: str | None, line: int | None, prefix: str = "") -> "MappingError":
        """The same error placed in a file (a compile error raised deep inside, placed by the caller)."""
        error = type(self)(f"{prefix}{self.message}", file if self.file is None else self.file,
                           line if self.line is None else self.line)
        return error

    def __str__(self) -> str:
        if self.file is None:
            return self.message
        return f"{self.file}:{self.line}: {self.message}" if self.line else f"{self.file}: {self.message}"


class MappingErrors(MappingError):
    """Several problems found at once in mapping files; str() lists them one per line."""

    def __init__(self, errors: list[MappingError]):
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors

    def __str__(self) -> str:
        return self.message


class SourceError(MappingError):
    """A source cannot be read; the message already starts with the file (and line when known)."""


class RowError(MappingError):
    """A value of one row cannot be computed; ``field`` is the target field path once known."""

    def __init__(self, message: str, file: str | None = None, line: int | None = None, field: str = ""):
        super().__init__(message, file, line)
        self.field = field
