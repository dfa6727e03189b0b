"""How the command line is parsed: usage errors, option order, and help text.

Kept apart from the command table in ``accessops.cli`` so that building a
parser imports nothing but argparse: ``accessops --version`` and ``--help``
must start instantly (the pre-commit hook runs accessops on every commit).
"""

from __future__ import annotations

import argparse
import os
import re
import sys

TYPE_CHECKING = False  # typing itself costs start-up time
if TYPE_CHECKING:
    from typing import NoReturn

_DOUBLE_BACKTICKS = re.compile(r"``(.+?)``", re.DOTALL)


def _columns() -> int:
    """The terminal's width as shutil.get_terminal_size() finds it, without importing shutil (and bz2, lzma)."""
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns if sys.__stdout__ else 80
    except (AttributeError, ValueError, OSError):
        return 80


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions keep their paragraphs and examples their lines; the width is found cheaply."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24, width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position, width if width is not None else _columns() - 2)


class Parser(argparse.ArgumentParser):
    """Usage errors exit 1 (exit 2 means "changes found" in this CLI) and show the usage of the command at fault."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    #: The last usage error, for ``--format json`` (see ``accessops.cli._main``).
    last_error = ""

    def error(self, message: str) -> NoReturn:
        from accessops.secrets import redact_urls_in

        self.print_usage(sys.stderr)
        message = redact_urls_in(message)  # "unrecognized arguments: --target https://u:TOKEN@..." must not echo the token
        Parser.last_error = f"{self.prog}: error: {message}"
        self.exit(1, f"{self.prog}: error: {message}\n")


class Version(argparse.Action):
    """``--version``: print and exit, without argparse's help formatter (which imports shutil, bz2, lzma)."""

    def __init__(self, option_strings: list[str], version: str, dest: str = argparse.SUPPRESS, help: str = "show the version and exit") -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)
        self.version = version

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object, option_string: str | None = None) -> None:
        sys.stdout.write(self.version + "\n")
        parser.exit(0)


def command_in(argv: list[str], names: object) -> str | None:
    """The command ``argv`` names: its first word that is not an option (global options take no value)."""
    for word in argv:
        if word == "--":
            return None
        if not word.startswith("-"):
            return word if word in names else None  # type: ignore[operator]
    return None


def subcommands(parser: argparse.ArgumentParser) -> argparse._SubParsersAction | None:  # type: ignore[type-arg]
    """The parser's subcommand action, if it has one."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return None


def inherit_options(parser: argparse.ArgumentParser) -> None:
    """Let a command's options follow its subcommand and that subcommand's arguments.

    ``accessops tenant accept bo@acme.test --target local:t.db`` works like
    ``accessops tenant --target local:t.db accept bo@acme.test``. The copies
    default to SUPPRESS, so a value given before the subcommand survives.
    """
    sub = subcommands(parser)
    if sub is None:
        return
    import copy

    inherited = [a for a in parser._actions if a.option_strings and not isinstance(a, (argparse._HelpAction, Version))]
    for child in dict.fromkeys(sub.choices.values()):  # aliases map to the same parser
        for action in inherited:
            if any(s in child._option_string_actions for s in action.option_strings):
                continue
            clone = copy.copy(action)
            clone.default, clone.required = argparse.SUPPRESS, False
            child._add_action(clone)
        inherit_options(child)


def parser_for(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.ArgumentParser:
    """The deepest (sub)command parser ``args`` went through: the one whose usage a usage error shows."""
    while (sub := subcommands(parser)) is not None:
        chosen = getattr(args, sub.dest, None) if sub.dest != argparse.SUPPRESS else None
        if chosen not in sub.choices:
            break
        parser = sub.choices[chosen]
    return parser


def plain(text: str | None) -> str | None:
    """Docstring text as help: reST double backticks become plain words."""
    return _DOUBLE_BACKTICKS.sub(r"\1", text) if text else text


def polish_help(parser: argparse.ArgumentParser, examples: dict[str, str], path: str = "") -> None:
    """Plain descriptions and per-command examples, for every (sub)command parser."""
    parser.description = plain(parser.description)
    for action in parser._actions:
        action.help = plain(action.help)
    if path in examples and not parser.epilog:
        parser.epilog = "examples:\n" + examples[path]
    sub = subcommands(parser)
    if sub is None:
        return
    for choice in sub._choices_actions:
        choice.help = plain(choice.help)
    for name, child in sub.choices.items():
        child.formatter_class = HelpFormatter
        polish_help(child, examples, f"{path} {name}".strip())
