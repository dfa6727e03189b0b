"""``accessops export``: write manifests from the live tenant.

Planning the exported manifests against the same target gives no changes.
With ``-o DIR`` each organization goes to one file in DIR, and nothing is
ever written outside DIR: organization names are checked (adapters refuse a
live name like ``../../x``; ``--org`` is checked here), mapped to a file name
that is safe on every file system, and the resolved path (symlinks followed)
must still be in DIR.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import yaml

from accessops.cli.common import add_target
from accessops.engine import open_target, settings_for
from accessops.errors import AccessOpsError, ConfigError
from accessops.model.decompile import decompile
from accessops.model.names import name_problem, shown
from accessops.model.team_export import fold_team_grants

#: characters some file system cannot hold in a name (besides those no name holds), percent-encoded
_UNSAFE_IN_FILE_NAMES = re.compile(r'[%:*?<>|]|[. ]$')

HEADER = "# Exported from a {target} target by accessops export.\n"


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``export`` command."""
    p = sub.add_parser("export", help="write manifests describing the live tenant", description=__doc__)
    add_target(p)
    p.add_argument("-o", "--output", metavar="DIR", help="folder to write one file per organization (default: stdout)")
    p.add_argument("--org", action="append", metavar="NAME", help="organization(s) to export (default: all the target holds)")
    p.add_argument("--profile", metavar="NAME", default="union", help="profile to write for an organization whose target stores none, e.g. scim (default: union)")
    p.set_defaults(func=run, paths=[])


def profile_supports(name: str | None) -> list[str] | None:
    """The concepts a built-in or file profile supports; None when it cannot be loaded (everything is written)."""
    from accessops.manifest.profiles import load_profile

    try:
        return list(load_profile(name or "union").supports)
    except Exception:  # an unknown profile: export everything, validation will say what is wrong
        return None


def run(args: argparse.Namespace) -> int:
    """Exit 0."""
    settings = settings_for(args)
    for org in args.org or []:
        problem = name_problem(org)
        if problem:
            raise ConfigError(f"--org {shown(org)}: {problem}")
    target, adapter = open_target(settings)
    with adapter:
        orgs = args.org or adapter.organizations()
        if not orgs:
            raise AccessOpsError(f"target {target} holds no organization to export (name one with --org)")
        live = adapter.read(orgs)
    files = output_files(Path(args.output), orgs) if args.output else {}
    for org in orgs:
        docs = fold_team_grants(decompile(live, org, profile_supports, args.profile))
        text = HEADER.format(target=target.scheme) + yaml.safe_dump_all(docs, sort_keys=False, allow_unicode=True)
        if args.output:
            files[org].write_text(text, encoding="utf-8")
            print(f"wrote {files[org]}", file=sys.stderr)
        else:
            sys.stdout.write(text)
    return 0


def file_name(org: str) -> str:
    """The export file of organization ``org``: its name, with what a file system cannot hold percent-encoded."""
    return _UNSAFE_IN_FILE_NAMES.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), org) + ".yaml"


def output_files(folder: Path, orgs: list[str]) -> dict[str, Path]:
    """Organization -> the file it is written to, each checked to lie directly in ``folder``.

    Refuses (before anything is written) a name that is not a name, two
    organizations whose files would be one (on a case-insensitive file
    system too), and a file that resolves outside the folder (a symlink).
    """
    folder.mkdir(parents=True, exist_ok=True)
    root = folder.resolve()
    files: dict[str, Path] = {}
    taken: dict[str, str] = {}
    for org in orgs:
        problem = name_problem(org)
        if problem:
            raise AccessOpsError(f"organization {shown(org)}: {problem}; not exported")
        name = file_name(org)
        if name.lower() in taken:
            raise AccessOpsError(f"organizations {shown(taken[name.lower()])} and {shown(org)} would both be exported to {name}")
        taken[name.lower()] = org
        path = folder / name
        if path.resolve().parent != root:
            raise AccessOpsError(f"organization {shown(org)}: {path} resolves outside {folder}; not exported")
        files[org] = path
    return files
