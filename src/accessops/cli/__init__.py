"""The ``accessops`` command line: the one place exceptions become exit codes.

Each command lives in its own module exposing ``register(subparsers)``;
its handler returns an exit code. Exit codes: 0 success, 1 error, 2 changes
or drift (``--detailed-exitcode`` / ``drift``), 3 refused by a safety guard
or a failing policy.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn

from accessops import __version__
from accessops.cli.common import WatchedStream, print_json, report_error
from accessops.errors import AccessOpsError
from accessops.secrets import guard_streams, restore_streams

# Command modules, in the order ``--help`` lists them.
COMMAND_MODULES = [
    "accessops.cli.cmd_validate",
    "accessops.cli.cmd_plan",
    "accessops.cli.cmd_apply",
    "accessops.cli.cmd_show",
    "accessops.cli.cmd_drift",
    "accessops.cli.cmd_export",
    "accessops.cli.cmd_explain",
    "accessops.cli.cmd_audit",
    "accessops.cli.cmd_tenant",
    "accessops.cli.cmd_log",
    "accessops.cli.cmd_force_unlock",
    "accessops.cli.cmd_state",
    "accessops.cli.cmd_schema",
    "accessops.cli.cmd_profiles",
]


class _Parser(argparse.ArgumentParser):
    """Usage errors exit 1: exit 2 means "changes found" in this CLI."""

    #: The last usage error, for ``--format json`` (see :func:`_main`).
    last_error = ""

    def error(self, message: str) -> NoReturn:
        from accessops.secrets import redact_urls_in

        self.print_usage(sys.stderr)
        message = redact_urls_in(message)  # "unrecognized arguments: --target https://u:TOKEN@..." must not echo the token
        _Parser.last_error = f"{self.prog}: error: {message}"
        self.exit(1, f"{self.prog}: error: {message}\n")


def _global_options(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument("--debug", action="store_true", default=default, help="show tracebacks for errors")
    parser.add_argument("-v", "--verbose", action="count", default=default, help="more detail (e.g. request counts)")
    parser.add_argument("--no-color", action="store_true", default=default, help="never colour output (NO_COLOR is honoured too)")


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every available command.

    The global options work before or after the command
    (``accessops --no-color plan`` and ``accessops plan --no-color``).
    """
    parser = _Parser(
        prog="accessops",
        description="Permissions as code: plan, apply, drift and explain SaaS workspace access from YAML in git.",
    )
    parser.add_argument("--version", action="version", version=f"accessops {__version__}")
    _global_options(parser, None)
    parser.set_defaults(debug=False, verbose=0, no_color=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # a command not built yet
                continue
            raise
        module.register(sub)
    for command in sub.choices.values():
        _global_options(command, argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code. Nothing it prints carries a credential."""
    originals = guard_streams()
    try:
        return _main(argv)
    finally:
        restore_streams(originals)


def _wants_json(words: list[str]) -> bool:
    """Whether the command line asks for ``--format json`` (read before argparse, which may have refused it)."""
    return "--format=json" in words or any(a == "--format" and b == "json" for a, b in zip(words, words[1:]))


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    words = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(words)
    except SystemExit as exc:
        if exc.code not in (0, None) and _wants_json(words):  # a usage error is an error too
            print_json({"error": {"message": _Parser.last_error or "usage error", "file": None, "line": None, "column": None, "exit_code": exc.code}})
        raise
    if not getattr(args, "func", None):
        parser.print_help()
        return 1
    debug = args.debug or os.environ.get("ACCESSOPS_DEBUG") == "1"
    json_format = getattr(args, "format", None) == "json"
    stdout = sys.stdout = WatchedStream(sys.stdout)
    try:
        code: int = args.func(args)
        return code
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1
    except Exception as exc:  # the one place an error becomes a message and an exit code
        if debug:
            traceback.print_exc()
        code = exc.exit_code if isinstance(exc, AccessOpsError) else 1
        return report_error(exc, code, json_format=json_format, stdout_written=stdout.written)
    finally:
        sys.stdout = stdout.inner
