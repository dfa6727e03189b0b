"""``accessops apply``: make live access match the manifests, or apply a saved plan exactly.

On a terminal it asks for ``yes``; without one it refuses unless
``--auto-approve``. A saved plan is a proposal: apply re-reads live access,
re-derives the plan from the manifests the plan records (or ``--manifests``)
and applies only when that gives exactly the saved changes and every guard
and policy passes. Without the manifests it needs a valid signature made
with ACCESSOPS_PLAN_KEY. A stale, edited, forged or refused plan exits 3 and
nothing is written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from accessops.apply.applier import parallelism_for
from accessops.cli.common import add_paths, add_target, use_color
from accessops.apply.planfile import read_plan_file
from accessops.engine import (
    ApplyResult,
    acquire_lock,
    apply_changes,
    build_plan,
    is_plan_file,
    open_context,
    reconcile_state,
    release_lock,
    settings_for,
)
from accessops.trusted_apply import check_saved_plan, open_saved_context
from accessops.errors import AccessOpsError
from accessops.plan.change import Change, Plan
from accessops.progress import working
from accessops.plan.checks import raise_if_refused
from accessops.plan.guards_config import add_guard_flags
from accessops.model.names import escape_controls
from accessops.render.text import render_text


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``apply`` command."""
    p = sub.add_parser("apply", help="make the changes (from manifests, or exactly those of a saved plan)", description=__doc__)
    add_paths(p)
    add_target(p)
    add_guard_flags(p)
    p.add_argument(
        "--manifests",
        action="append",
        metavar="PATH",
        help="with a saved plan: the manifests to re-derive it from (repeatable; default: the paths the plan records)",
    )
    p.add_argument("--auto-approve", action="store_true", help="do not ask for confirmation (needed without a terminal)")
    p.add_argument(
        "--parallelism",
        type=int,
        metavar="N",
        help="at most N concurrent writes, for adapters that allow it (default: [apply] parallelism, else 4; local and directus write one at a time)",
    )
    p.add_argument(
        "--lock-timeout",
        type=_duration,
        default=0.0,
        metavar="DURATION",
        help="wait up to DURATION (30s, 2m) for another apply's lock instead of failing at once",
    )
    p.set_defaults(func=run)


def _duration(text: str) -> float:
    from accessops.apply.store import parse_duration
    from accessops.errors import ConfigError

    try:
        return parse_duration(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc).split(": ", 1)[-1]) from None


def _git_commit(paths: list[str]) -> str | None:
    try:
        from accessops.apply.state import git_commit
    except ImportError:
        return None
    return git_commit(Path(paths[0]) if paths else Path.cwd())


def run(args: argparse.Namespace) -> int:
    """Exit 0 when applied (or nothing to do), 1 on failure, 3 when refused."""
    paths = args.paths or ["."]
    if len(paths) == 1 and is_plan_file(Path(paths[0])):
        return _apply_saved(Path(paths[0]), args)
    if args.manifests:
        raise AccessOpsError("--manifests goes with a saved plan (apply PLANFILE --manifests PATH); give manifest paths directly otherwise")
    settings = settings_for(args)
    ctx = open_context(paths, settings, read_live=False)
    ctx.verbose = args.verbose
    try:
        acquire_lock(ctx, args.lock_timeout)
        try:
            assert ctx.model is not None
            with working(f"reading live access from {ctx.target.scheme}"):
                ctx.live = ctx.adapter.read(ctx.model.org_names)
            reconcile_state(ctx)
            plan = build_plan(ctx, paths)
            print(render_text(plan.to_json(states=False), color=use_color(args)))
            raise_if_refused(plan)
            if not plan.pending:
                return 0
            _confirm(args)
            result = apply_changes(ctx, plan, commit=_git_commit(paths), on_change=_reporter(args, plan), parallelism=parallelism_for(ctx, args.parallelism))
        finally:
            release_lock(ctx)
    finally:
        ctx.close()
    return _report(result, plan)


def _apply_saved(path: Path, args: argparse.Namespace) -> int:
    saved = read_plan_file(path)
    ctx = open_saved_context(saved, args)
    ctx.verbose = args.verbose
    try:
        acquire_lock(ctx, args.lock_timeout)
        try:
            plan = check_saved_plan(ctx, saved)
            print(render_text(plan.to_json(states=False), color=use_color(args)))
            raise_if_refused(plan)
            if not plan.pending:
                return 0
            _confirm(args)
            result = apply_changes(ctx, plan, commit=plan.manifests.get("commit"), on_change=_reporter(args, plan), parallelism=parallelism_for(ctx, args.parallelism))
        finally:
            release_lock(ctx)
    finally:
        ctx.close()
    return _report(result, plan)


def _confirm(args: argparse.Namespace) -> None:
    if args.auto_approve:
        return
    if not sys.stdin.isatty():
        raise AccessOpsError("refusing to apply without a terminal to confirm; review the plan and pass --auto-approve")
    answer = input("\nDo you want to apply these changes? Only 'yes' will be accepted: ")
    if answer.strip() != "yes":
        raise AccessOpsError("apply cancelled")


_VERB = {"create": "created", "update": "updated", "delete": "deleted", "replace": "replaced"}


def _reporter(args: argparse.Namespace, plan: Plan):  # type: ignore[no-untyped-def]
    total = len(plan.pending)

    def report(i: int, change: Change, result: str) -> None:
        if result == "ok":
            if args.verbose or total <= 200:
                print(f"{change.address}: {_VERB[change.action.value]}")
        else:
            print(f"{change.address}: {escape_controls(result)}", file=sys.stderr)

    return report


def _report(result: ApplyResult, plan: Plan) -> int:
    c = {"add": 0, "change": 0, "destroy": 0}
    for ch in result.done:
        a = ch.action.value
        if a in ("create", "replace"):
            c["add"] += 1
        if a == "update":
            c["change"] += 1
        if a in ("delete", "replace"):
            c["destroy"] += 1
    for change, why in result.gone:
        print(f"warning: {change.address}: gone before it could be changed ({escape_controls(why)}); skipped", file=sys.stderr)
    if result.ok:
        print(f"\nApply complete! Resources: {c['add']} added, {c['change']} changed, {c['destroy']} destroyed.")
        return 0
    total = len(plan.pending)
    change, why = result.failed[0]
    k = plan.pending.index(change) + 1
    print(
        f"error: apply failed at change {k} of {total}: {change.address}: {escape_controls(why)}\n"  # why: a server's words
        f"  done: {len(result.done)} change(s) applied and recorded; not done: {len(result.not_done) + 1} "
        f"(the failed one and {len(result.not_done)} after it). Run plan again to see what remains.",
        file=sys.stderr,
    )
    return 1
