"""``accessops log``: the apply log of a target, newest run first.

Each run shows when it ran, who ran it, the manifests' git commit and the
result of every change, as the state store recorded it.
"""

from __future__ import annotations

import argparse

from accessops.adapters.base import Target
from accessops.apply.records import ApplyRun
from accessops.cli.common import add_paths, add_target, print_json
from accessops.errors import ConfigError
from accessops.plan.change import Action
from accessops.settings import load_settings


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``log`` command."""
    p = sub.add_parser("log", help="show the apply log: runs, actors, commits, each change's result", description=__doc__)
    add_paths(p)
    add_target(p)
    p.add_argument("--limit", type=int, default=20, metavar="N", help="at most N runs (default 20)")
    p.add_argument("--all-targets", action="store_true", help="runs of every target recorded in the state file")
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    p.set_defaults(func=run)


def render_run(run: ApplyRun) -> list[str]:
    """A run as text: one header line, then one line per change."""
    commit = f"commit {run.git_commit[:12]}" if run.git_commit else "no commit"
    ended = run.finished_at or "(unfinished)"
    lines = [f"run {run.id}  {run.status}  {run.started_at} -> {ended}  {run.actor}  {commit}  {run.target}"]
    digest = next((v for k, v in sorted(run.meta.items()) if "digest" in k and isinstance(v, str)), None)
    if digest:
        lines[0] += f"  manifests {digest[:19]}"
    for change in run.changes:
        symbol = Action(change.action).symbol if change.action in Action._value2member_map_ else "?"
        error = f": {change.error}" if change.error else ""
        lines.append(f"  {change.result:<13} {symbol:>3} {change.address}{error}")
    return lines


def run(args: argparse.Namespace) -> int:
    """Print the log; exit 0 (1 when there is no state file)."""
    settings = load_settings(args.paths or [], target=args.target, state=args.state)
    try:
        target = Target.parse(settings.target)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    from accessops.engine import open_state, redact

    store = open_state(settings, target, create=False)
    try:
        runs = store.runs(None if args.all_targets else redact(target.url), args.limit)
    finally:
        store.close()
    if args.format == "json":
        print_json([r.to_json() for r in runs])
        return 0
    if not runs:
        print(f"No applies recorded for {redact(target.url)}.")
    for i, r in enumerate(runs):
        if i:
            print()
        print("\n".join(render_run(r)))
    return 0
