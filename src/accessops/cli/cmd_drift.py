"""``accessops drift``: what differs between the manifests and live access, and who changed it.

Each difference is classified against the last apply: changed in git,
changed live (behind git's back), or both. Exit 2 when there is drift.
"""

from __future__ import annotations

import argparse

from accessops.cli.common import add_format, add_paths, add_target
from accessops.engine import build_plan, open_context, settings_for
from accessops.plan.change import Change
from accessops.plan.drift import classify
from accessops.render.output import emit_plan


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``drift`` command."""
    p = sub.add_parser("drift", help="report differences between manifests and live access (exit 2 when any)", description=__doc__)
    add_paths(p)
    add_target(p)
    add_format(p, plan_template=True)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Exit 0 when in sync, 2 when drift is found."""
    paths = args.paths or ["."]
    ctx = open_context(paths, settings_for(args))
    ctx.verbose = args.verbose
    try:
        plan = build_plan(ctx, paths)
        assert ctx.compiled is not None
        # re-sending an expired invitation is upkeep, not a difference
        differences = [c for c in plan.pending if "resend_invitation" not in c.flags]
        origins = classify(differences, ctx.compiled.resources, ctx.live, ctx.last_applied)
    finally:
        ctx.close()
    labelled = [
        Change(c.action, c.type, c.key, c.before, c.after, (d.origin.value,) + c.notes, c.flags)
        for c, d in zip(differences, origins)
    ]
    plan.changes = labelled
    plan.meta["command"] = "drift"
    data = plan.to_json(states=args.format == "json")
    # drift no change undoes (a member suspended live) is a difference too
    planned = {c.address for c in labelled}
    unplanned = [d for d in plan.drift if d.address not in planned]
    every = [d.origin.value for d in origins] + [d.origin.value for d in unplanned]
    data["drift_report"] = {
        "differences": len(every),
        "by_origin": {o: every.count(o) for o in sorted(set(every))},
    }
    emit_plan(data, args)
    return 2 if every else 0
