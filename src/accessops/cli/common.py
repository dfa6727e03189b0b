"""Options and helpers shared by command modules."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from accessops.errors import AccessOpsError, ManifestError, describe, file_error_of


def add_paths(parser: argparse.ArgumentParser, *, nargs: str = "*") -> None:
    """Manifest paths (files or folders); defaults to the current directory."""
    parser.add_argument("paths", nargs=nargs, metavar="PATH", help="manifest files or folders (default: .)")


def add_target(parser: argparse.ArgumentParser) -> None:
    """``--target URL``; ACCESSOPS_TARGET or the settings file otherwise."""
    parser.add_argument(
        "--target",
        metavar="URL",
        help="live system: local:PATH (default local:.accessops/tenant.db), scim+https://HOST/BASE, directus+http://HOST; env ACCESSOPS_TARGET",
    )
    parser.add_argument(
        "--state",
        metavar="URL",
        help="state store: a path (SQLite; default beside the target), git:origin, git+https://HOST/REPO, git+file:///PATH, postgresql://…; env ACCESSOPS_STATE",
    )


def add_format(
    parser: argparse.ArgumentParser, choices: tuple[str, ...] = ("text", "json", "markdown"), *, plan_template: bool = False
) -> None:
    """``--format``; with ``plan_template``, also ``--template`` for the plan's Markdown."""
    parser.add_argument("--format", choices=choices, default="text", help="output format (default: text)")
    if plan_template:
        from accessops.render.markdown import add_template_option

        add_template_option(parser)


def use_color(args: argparse.Namespace, stream: Any = None) -> bool:
    """Colour only on a terminal, never with --no-color or NO_COLOR."""
    stream = stream or sys.stdout
    if getattr(args, "no_color", False) or os.environ.get("NO_COLOR"):
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


def print_json(data: Any) -> None:
    """Pretty JSON on stdout."""
    print(json.dumps(data, indent=2, sort_keys=False, default=str))


# --- errors: the one place they become messages -------------------------------------------


class WatchedStream:
    """Pass writes through and remember whether anything was written (so an error knows stdout is empty)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.written = False

    def write(self, text: str) -> int:
        """Write through."""
        if text:
            self.written = True
        return int(self.inner.write(text))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def error_object(exc: BaseException, exit_code: int) -> dict[str, Any]:
    """The JSON form of an error: message, file, line, column, exit code (and every problem of bad manifests).

    ``{"error": {"message": ..., "file": ..., "line": ..., "column": ..., "exit_code": 1}}``;
    file, line and column are null when the error has none. Other outputs
    (CI annotations) can build on this too.
    """
    message = str(exc) if isinstance(exc, ManifestError) else error_lines(exc)[0].removeprefix("error: ")
    record: dict[str, Any] = {"message": message, "file": None, "line": None, "column": None, "exit_code": exit_code}
    if isinstance(exc, ManifestError) and exc.problems:
        first = exc.problems[0]
        record.update(file=first.file, line=first.line or None, column=first.column or None)
        record["problems"] = [p.as_dict() for p in exc.problems]
    elif (located := file_error_of(exc)) is not None:
        record.update(file=located.file, line=located.line, column=located.column)
    return {"error": record}


def error_lines(exc: BaseException) -> list[str]:
    """The ``error: ...`` lines for stderr: one per manifest problem, else exactly one."""
    from accessops.model.names import escape_controls  # the error path only: start-up stays light

    # a name in a message (a live one no check has seen) cannot break the line or forge another
    if isinstance(exc, ManifestError) and exc.problems:
        return [f"error: {escape_controls(str(problem))}" for problem in exc.problems]
    text = escape_controls(" ".join(describe(exc).split("\n")))  # one line, whatever the message holds
    if isinstance(exc, AccessOpsError) or file_error_of(exc) is not None:
        return [f"error: {text}"]
    return [f"error: internal error: {text} (run with --debug for a traceback)"]


def report_error(exc: BaseException, exit_code: int, *, json_format: bool, stdout_written: bool) -> int:
    """Print ``exc`` as one-line error(s) on stderr, and with ``--format json`` as an error object on stdout.

    The JSON object is printed only when the command wrote nothing to
    stdout yet (a refused plan has already printed its JSON, refusals
    included), so stdout always holds exactly one JSON document. Returns
    ``exit_code``.
    """
    try:
        for line in error_lines(exc):
            print(line, file=sys.stderr)
        from accessops.cli.annotations import annotate_error

        annotate_error(exc)  # under GitHub Actions only: ::error file=…,line=…::
        if json_format and not stdout_written:
            print_json(error_object(exc, exit_code))
    except BrokenPipeError:  # the reader went away (``| head``): nothing more to tell it
        pass
    return exit_code
