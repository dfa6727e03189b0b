"""``accessops export``: write manifests from the live tenant.

Planning the exported manifests against the same target gives no changes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from accessops.cli.common import add_target
from accessops.engine import open_target, settings_for
from accessops.errors import AccessOpsError
from accessops.model.decompile import decompile
from accessops.model.team_export import fold_team_grants

HEADER = "# Exported from a {target} target by accessops export.\n"


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``export`` command."""
    p = sub.add_parser("export", help="write manifests describing the live tenant", description=__doc__)
    add_target(p)
    p.add_argument("-o", "--output", metavar="DIR", help="folder to write one file per organization (default: stdout)")
    p.add_argument("--org", action="append", metavar="NAME", help="organization(s) to export (default: all the target holds)")
    p.set_defaults(func=run, paths=[])


def run(args: argparse.Namespace) -> int:
    """Exit 0."""
    settings = settings_for(args)
    target, adapter = open_target(settings)
    with adapter:
        orgs = args.org or adapter.organizations()
        if not orgs:
            raise AccessOpsError(f"target {target} holds no organization to export (name one with --org)")
        live = adapter.read(orgs)
    for org in orgs:
        text = HEADER.format(target=target.scheme) + yaml.safe_dump_all(fold_team_grants(decompile(live, org)), sort_keys=False, allow_unicode=True)
        if args.output:
            out = Path(args.output)
            out.mkdir(parents=True, exist_ok=True)
            (out / f"{org}.yaml").write_text(text)
            print(f"wrote {out / f'{org}.yaml'}", file=sys.stderr)
        else:
            sys.stdout.write(text)
    return 0
