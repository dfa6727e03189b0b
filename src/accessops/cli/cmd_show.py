"""``accessops show PLANFILE``: render a saved plan."""

from __future__ import annotations

import argparse
from pathlib import Path

from accessops.cli.common import add_format
from accessops.engine import read_plan
from accessops.render.output import emit_plan


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``show`` command."""
    p = sub.add_parser("show", help="render a saved plan file", description=__doc__)
    p.add_argument("planfile", metavar="PLANFILE")
    add_format(p, plan_template=True)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Exit 0."""
    plan = read_plan(Path(args.planfile))
    plan.meta["plan_file"] = args.planfile
    emit_plan(plan.to_json(states=args.format == "json"), args)  # the views need no state sections
    return 0
