"""The ``accessops`` command line: the one place exceptions become exit codes.

Each command lives in its own module exposing ``register(subparsers)``;
its handler returns an exit code. A new command is one line in
:data:`COMMANDS` (name, module, summary): only the module of the command
being run is imported. Exit codes: 0 success, 1 error, 2 changes
or drift (``--detailed-exitcode`` / ``drift``), 3 refused by a safety guard
or a failing policy.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from accessops import __version__
from accessops.cli.parsing import Parser, Version, command_in, inherit_options, parser_for, polish_help
from accessops.secrets import guard_streams, restore_streams

# Every command: name -> (module that registers it, one-line summary), in the
# order ``--help`` lists them. Only the module of the command being run is
# imported (plus every module for ``completion``), so ``accessops --version``
# and ``--help`` load nothing heavy; a new command is one line here. A module
# may register several names (cmd_explain: explain and who-can). The summary
# is shown by ``accessops --help``; a test keeps it equal to the module's own.
COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("accessops.cli.cmd_validate", "check manifests; every error with file:line:col"),
    "plan": ("accessops.cli.cmd_plan", "show the changes that would make live access match the manifests"),
    "apply": ("accessops.cli.cmd_apply", "make the changes (from manifests, or exactly those of a saved plan)"),
    "show": ("accessops.cli.cmd_show", "render a saved plan file"),
    "drift": ("accessops.cli.cmd_drift", "report differences between manifests and live access (exit 2 when any)"),
    "export": ("accessops.cli.cmd_export", "write manifests describing the live tenant"),
    "explain": ("accessops.cli.cmd_explain", "every capability of a member, with its chain of reasons"),
    "who-can": ("accessops.cli.cmd_explain", "the members who can do ACTION on RESOURCE, and why"),
    "audit": ("accessops.cli.cmd_audit", "weekly access checklist on the live system"),
    "tenant": ("accessops.cli.cmd_tenant", "change a local tenant behind git's back (accept invites, change roles, ...)"),
    "log": ("accessops.cli.cmd_log", "show the apply log: runs, actors, commits, each change's result"),
    "force-unlock": ("accessops.cli.cmd_force_unlock", "break a lock left by a dead apply (the id a refused apply printed)"),
    "state": ("accessops.cli.cmd_state", "work with the state store itself (state migrate --to URL)"),
    "schema": ("accessops.cli.cmd_schema", "print the JSON Schema of manifests (generated from the models)"),
    "profiles": ("accessops.cli.cmd_profiles", "list built-in profiles, or show one (or a profile file)"),
    "completion": ("accessops.cli.cmd_completion", "print shell completion for bash, zsh or fish"),
}


def _global_options(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument("--debug", action="store_true", default=default, help="show tracebacks for errors")
    parser.add_argument("-v", "--verbose", action="count", default=default, help="more detail (e.g. request counts)")
    parser.add_argument("--no-color", action="store_true", default=default, help="never colour output (NO_COLOR is honoured too)")


def _register(sub: argparse._SubParsersAction, module_name: str) -> None:  # type: ignore[type-arg]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        return  # a command not built yet
    module.register(sub)


def build_parser(argv: Sequence[str] | None = None, *, every: bool = False) -> argparse.ArgumentParser:
    """The top-level parser: the command ``argv`` names in full, the others as one-line stubs.

    With ``every``, every command is built in full (for ``completion``).
    The global options work before or after the command
    (``accessops --no-color plan`` and ``accessops plan --no-color``).
    """
    parser = Parser(
        prog="accessops",
        description="Permissions as code: plan, apply, drift and explain SaaS workspace access from YAML in git.",
    )
    parser.add_argument("--version", action=Version, version=f"accessops {__version__}")
    _global_options(parser, None)
    parser.set_defaults(debug=False, verbose=0, no_color=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    chosen = command_in(list(argv or []), COMMANDS)
    wanted = list(COMMANDS) if every else [chosen] if chosen else []
    for name in wanted:  # in full: the command being run (every one for completion)
        if name not in sub.choices:
            _register(sub, COMMANDS[name][0])
    for name, (_, summary) in COMMANDS.items():  # the rest as one-line stubs
        if name not in sub.choices:
            sub.add_parser(name, help=summary, add_help=False)
    for command in sub.choices.values():
        _global_options(command, argparse.SUPPRESS)
        inherit_options(command)
    from accessops.cli.examples import EXAMPLES

    polish_help(parser, EXAMPLES)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code. Nothing it prints carries a credential."""
    # pydantic would scan every installed distribution for its plugins when the
    # models are built (a cost that grows with the environment, paid on every
    # run); accessops uses none. Setting the variable yourself overrides this.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    originals = guard_streams()
    try:
        return _main(argv)
    finally:
        restore_streams(originals)


def _wants_json(words: list[str]) -> bool:
    """Whether the command line asks for ``--format json`` (read before argparse, which may have refused it)."""
    return "--format=json" in words or any(a == "--format" and b == "json" for a, b in zip(words, words[1:]))


def _main(argv: Sequence[str] | None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(words)
    try:
        args, extra = parser.parse_known_args(words)
        if extra:  # show the usage of the command the stray words were given to
            parser_for(parser, args).error(f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as exc:
        if exc.code not in (0, None) and _wants_json(words):  # a usage error is an error too
            from accessops.cli.common import print_json

            print_json({"error": {"message": Parser.last_error or "usage error", "file": None, "line": None, "column": None, "exit_code": exc.code}})
        raise
    if not getattr(args, "func", None):
        parser.print_help()
        return 1
    # after parsing: --version and --help never need these
    import traceback

    from accessops.cli.common import WatchedStream, report_error
    from accessops.errors import AccessOpsError

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
