"""GitHub Actions annotations: errors also printed as ``::error file=…,line=…,col=…::message``.

Under GitHub Actions (``GITHUB_ACTIONS=true``) the runner turns such a line
into an annotation on the pull request's diff, at the manifest line. The
values come from user files (names, paths, YAML content), so they are
escaped as the runner unescapes them: in the message ``%``, CR and LF; in
properties also ``:`` and ``,``. With every line break escaped, a message
stays one line and can never start a second workflow command.

The lines go to stderr, beside the plain ``error:`` lines, so that stdout
stays clean for ``--format json``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping
from typing import Protocol, TextIO

TITLE = "accessops"


def enabled(env: Mapping[str, str] | None = None) -> bool:
    """Whether this process runs as a GitHub Actions step."""
    return (os.environ if env is None else env).get("GITHUB_ACTIONS") == "true"


def escape_data(text: str) -> str:
    """A workflow command's message: ``%``, CR and LF percent-encoded (``%`` first)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value: as data, and ``:`` and ``,`` too."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workspace_path(path: str, env: Mapping[str, str] | None = None) -> str:
    """``path`` relative to the checkout (``GITHUB_WORKSPACE``), which is how annotations name files."""
    root = (os.environ if env is None else env).get("GITHUB_WORKSPACE")
    if not root:
        return path
    full = os.path.abspath(path)
    rel = os.path.relpath(full, os.path.abspath(root))
    return path if rel.startswith("..") else rel


def error_line(message: str, *, file: str | None = None, line: int = 0, col: int = 0, title: str = TITLE, env: Mapping[str, str] | None = None) -> str:
    """One ``::error ...::message`` line (without the newline)."""
    props = []
    if file:
        props.append(f"file={escape_property(workspace_path(file, env))}")
        if line:
            props.append(f"line={int(line)}")
            if col:
                props.append(f"col={int(col)}")
    props.append(f"title={escape_property(title)}")
    return f"::error {','.join(props)}::{escape_data(message)}"


class _Located(Protocol):
    """What a located problem (errors.Problem) offers."""

    @property
    def file(self) -> str: ...
    @property
    def line(self) -> int: ...
    @property
    def column(self) -> int: ...
    @property
    def path(self) -> str: ...
    @property
    def message(self) -> str: ...


def annotate_problems(problems: Iterable[_Located], stream: TextIO | None = None) -> None:
    """Manifest problems, each at its file, line and column, when running under GitHub Actions."""
    if not enabled():
        return
    out = stream or sys.stderr
    for p in problems:
        message = f"{p.path}: {p.message}" if p.path else p.message
        out.write(error_line(message, file=p.file, line=p.line, col=p.column) + "\n")


def annotate(message: str, *, title: str = TITLE, stream: TextIO | None = None) -> None:
    """One error that no file line owns (a refusal, a target error), when running under GitHub Actions."""
    if enabled():
        (stream or sys.stderr).write(error_line(message, title=title) + "\n")


def annotate_error(exc: BaseException, stream: TextIO | None = None) -> None:
    """The CLI's error path: problems at their lines, refusals one by one, anything else as one annotation."""
    if not enabled():
        return
    problems = getattr(exc, "problems", None)
    refusals = getattr(exc, "refusals", None)
    if problems:
        annotate_problems(problems, stream)
    elif refusals:
        for r in refusals:
            annotate(r.message, title=f"{TITLE}: refused by {r.guard}", stream=stream)
    else:
        annotate(str(exc), stream=stream)
