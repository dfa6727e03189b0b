"""Errors that the CLI turns into one-line messages and exit codes.

The CLI is the one place exceptions become exit codes; everything below it
raises these.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Problem:
    """One manifest problem, located at file:line:column and a path inside the document."""

    file: str
    line: int
    column: int
    path: str
    code: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file  # whole-file problems have no line
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"

    def as_dict(self) -> dict[str, object]:
        """JSON form for ``validate --format json``."""
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": self.path,
            "code": self.code,
            "message": self.message,
        }


class AccessOpsError(Exception):
    """Base of every error the CLI reports as ``error: ...`` with exit 1."""

    exit_code = 1


class ManifestError(AccessOpsError):
    """The manifests are invalid; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.file, p.line, p.column, p.code))
        first = str(self.problems[0]) if self.problems else "invalid manifests"
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        super().__init__(first + more)


class FileError(AccessOpsError):
    """A file that cannot be read, parsed or written: the message names the file (and line, when there is one)."""

    def __init__(self, file: str, message: str, line: int | None = None, column: int | None = None) -> None:
        self.file, self.line, self.column, self.message = str(file), line, column, message
        where = self.file + "".join(f":{n}" for n in (line, column) if n)
        super().__init__(f"{where}: {message}")


#: SQLite's words for a broken or unwritable file, in the words a user acts on.
_SQLITE_HINTS = {
    "file is not a database": "not a SQLite database (file is not a database); is it damaged, or the wrong file?",
    "database disk image is malformed": "the database is damaged (database disk image is malformed); restore it from a backup",
    "attempt to write a readonly database": "the database is read-only (attempt to write a readonly database)",
    "database or disk is full": "the disk is full (database or disk is full); nothing more was written",
    "unable to open database file": "cannot open the database file (unable to open database file); check the folder exists and is writable",
    "disk I/O error": "disk I/O error (is the disk full or a file-size limit reached?)",
}


def file_error_of(exc: BaseException) -> FileError | None:
    """The file-naming form of a low-level error, or None when it names no file.

    A SQLite error names its database when the connection was opened with
    :class:`accessops.dbfile.NamedConnection` (it sets ``db_file``); an
    ``OSError`` names its ``filename``.
    """
    if isinstance(exc, FileError):
        return exc
    db_file = getattr(exc, "db_file", None)
    if db_file is not None:
        text = str(exc)
        return FileError(db_file, next((hint for key, hint in _SQLITE_HINTS.items() if text.startswith(key)), text))
    if isinstance(exc, OSError) and exc.filename is not None:
        return FileError(str(exc.filename), exc.strerror or str(exc))
    return None


def describe(exc: BaseException) -> str:
    """One line for any error: ours as they are, file errors naming the file, anything else with its type."""
    if isinstance(exc, AccessOpsError):
        return str(exc)
    located = file_error_of(exc)
    return str(located) if located is not None else f"{type(exc).__name__}: {exc}"


class TargetError(AccessOpsError):
    """The target cannot be reached, refused credentials, or answered badly."""


class ConfigError(AccessOpsError):
    """The settings file or a flag is wrong."""


class SettingsError(FileError, ConfigError):
    """A value in the settings file is wrong: names the file (and line, when TOML gives one) and the key."""


@dataclass
class Refusal:
    """Why a safety guard or a policy refused; numbers included."""

    guard: str
    message: str
    override: str = ""


class RefusedError(AccessOpsError):
    """A safety guard or a failing policy refused the change. Exit 3."""

    exit_code = 3

    def __init__(self, refusals: list[Refusal]) -> None:
        self.refusals = refusals
        super().__init__("; ".join(r.message for r in refusals))


@dataclass
class StalePlanError(AccessOpsError):
    """A saved plan no longer matches the live system: refused, exit 3."""

    exit_code = 3
    changed: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        shown = ", ".join(self.changed[:5]) + (" ..." if len(self.changed) > 5 else "")
        return f"saved plan is stale: {len(self.changed)} object(s) changed since it was made ({shown}); nothing applied: re-plan"


class UntrustedPlanError(AccessOpsError):
    """A saved plan is not bound to what would be applied (edited, forged, unsigned, other manifests). Exit 3."""

    exit_code = 3
