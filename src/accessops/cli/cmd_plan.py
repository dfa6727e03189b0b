"""``accessops plan``: show what would change to make live access match the manifests."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from accessops.cli.common import add_format, add_paths, add_target
from accessops.engine import build_plan, open_context, save_plan, settings_for
from accessops.plan.change import Plan
from accessops.plan.guards_config import add_guard_flags
from accessops.render.output import emit_plan
from accessops.runtime import paused_gc


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``plan`` command."""
    p = sub.add_parser("plan", help="show the changes that would make live access match the manifests", description=__doc__)
    add_paths(p)
    add_target(p)
    add_guard_flags(p)
    add_format(p, plan_template=True)
    p.add_argument("--out", metavar="FILE", help="save the plan for `apply FILE`: bound to the manifests' digest, with live fingerprints; signed when ACCESSOPS_PLAN_KEY is set")
    p.add_argument("--detailed-exitcode", action="store_true", help="exit 2 when there are changes, 0 when none")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Exit 0 (or 2 with --detailed-exitcode when there are changes)."""
    paths = args.paths or ["."]
    with paused_gc():  # one pause for the whole plan: each resume sweeps every object made meanwhile
        ctx = open_context(paths, settings_for(args))
        ctx.verbose = args.verbose
        try:
            plan = build_plan(ctx, paths)
        finally:
            ctx.close()
        finish_plan(plan, args)
    if args.out:
        save_plan(plan, Path(args.out))
        print(f"\nSaved the plan to {args.out}. To apply exactly these changes: accessops apply {args.out}", file=sys.stderr)
    return 2 if args.detailed_exitcode and plan.pending else 0


def finish_plan(plan: Plan, args: argparse.Namespace) -> None:
    """Print the plan in the chosen format; raise if a policy or guard refuses it."""
    emit_plan(plan.to_json(states=args.format == "json"), args)  # the views need no state sections
    from accessops.plan.checks import raise_if_refused

    raise_if_refused(plan)
