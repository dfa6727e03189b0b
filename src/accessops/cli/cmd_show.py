"""``accessops show PLANFILE``: render a saved plan, and say what binds it (its manifests, a signature)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from accessops.apply.planfile import SavedPlan, read_plan_file
from accessops.cli.common import add_format
from accessops.render.output import emit_plan


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``show`` command."""
    p = sub.add_parser("show", help="render a saved plan file", description=__doc__)
    p.add_argument("planfile", metavar="PLANFILE")
    add_format(p, plan_template=True)
    p.set_defaults(func=run)


def binding(saved: SavedPlan) -> str:
    """One line on what binds a saved plan: how many manifest files, which commit, signed or not."""
    if saved.format < 2 or saved.manifests is None:
        return f"plan file format {saved.format}: not bound to its manifests; apply refuses it (re-plan)"
    files = len(saved.manifests.get("files") or [])
    commit = saved.manifests.get("commit")
    where = f" at commit {commit[:12]}" if commit else ""
    signed = "signed (hmac-sha256)" if saved.signature else "not signed"
    return f"plan file: bound to {files} manifest file(s){where}; {signed}"


def run(args: argparse.Namespace) -> int:
    """Exit 0."""
    saved = read_plan_file(Path(args.planfile))
    plan = saved.plan
    plan.meta["plan_file"] = args.planfile
    emit_plan(plan.to_json(states=args.format == "json"), args)  # the views need no state sections
    print(binding(saved), file=sys.stderr)  # stderr: stdout stays the plan alone, in the chosen format
    return 0
