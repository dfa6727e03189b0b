"""Options and helpers shared by command modules."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any


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
