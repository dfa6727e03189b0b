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


class TargetError(AccessOpsError):
    """The target cannot be reached, refused credentials, or answered badly."""


class ConfigError(AccessOpsError):
    """The settings file or a flag is wrong."""


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
