"""The engine benchmark of issue 3: validate, plan and apply at 1k, 10k and 50k members.

For each size it generates an organization with bench/gen_org.py (teams,
workspaces, tables, fields and spaces in proportion), then runs every step
in a fresh subprocess of this script, so each step's peak memory is that
process's own ``ru_maxrss``:

* ``validate``: ``accessops validate`` (the CLI's ``main``, in process);
* ``apply``: from an empty local tenant, the path of ``accessops apply
  --auto-approve`` (open, lock, read, plan, render, write each change);
* ``apply again``: the same with nothing left to do;
* ``plan in sync``: ``open_context`` + ``build_plan`` + text rendering, as
  ``accessops plan`` runs them (every guard, lint, policy and the access
  delta included), in process so that the figure is the engine's and not
  the interpreter's start-up;
* ``plan 1% drift``: the same after 1% of the members were changed behind
  git's back with the tenant's own operations (role changed, removed, an
  invitation accepted elsewhere, a stranger added).

Three figures per size:

* ``ratio``: plan time / the time PyYAML's CSafeLoader takes to parse the
  same files (``yaml.load_all`` over every file, results kept), best of 3
  each, in the same process. The cyclic GC is paused for the baseline too,
  as the product pauses it for its own phases; that makes the baseline
  faster and the ratio stricter (with the GC running PyYAML takes ~1.5x);
* ``peak MB``: ``ru_maxrss`` of the step's subprocess (interpreter included);
* ``writes/change``: adapter writes divided by planned changes; apply
  must make exactly one per change and the second apply none (asserted).
  A write is one change made in the tenant, whether alone or in a batch:
  the notes give the tenant transactions they took (the local adapter
  commits up to 500 changes at once), which must be fewer than the changes.

    python bench/run.py                      # 1k, 10k, 50k
    python bench/run.py --sizes 1000,10000
    python bench/run.py --quick              # best of 2 instead of best of 3
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).parent))

RATIO_BAR = 2.0  # at 10k members (issue 3)
STEPS = ("validate", "apply", "apply-again", "plan-sync", "drift", "plan-drift")


# --- the worker: one step in its own process ------------------------------------------


def _peak_mb() -> float:
    """This process's peak resident memory so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _best(reps: int, fn: Any) -> tuple[float, Any]:
    """The best wall time of ``reps`` runs of ``fn`` and the last result."""
    best, result = float("inf"), None
    for _ in range(reps):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def yaml_baseline(org: Path) -> Any:
    """PyYAML's CSafeLoader over every manifest file, keeping the documents."""
    from accessops.manifest.loader import manifest_files

    with _paused_gc():
        return [list(yaml.load_all(p.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)) for p in manifest_files([org])]


@contextlib.contextmanager
def _paused_gc() -> Any:
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _settings(org: Path, work: Path) -> Any:
    from accessops.engine import settings_for

    return settings_for(argparse.Namespace(paths=[str(org)], target=f"local:{work / 'tenant.db'}", state=str(work / "state.db")))


def plan_once(org: Path, work: Path) -> Any:
    """What ``accessops plan`` does after parsing its arguments: the plan and its text."""
    from accessops.engine import build_plan, open_context
    from accessops.render.text import render_text
    from accessops.runtime import paused_gc

    with paused_gc():  # as cmd_plan.run does
        ctx = open_context([str(org)], _settings(org, work))
        try:
            plan = build_plan(ctx, [str(org)])
        finally:
            ctx.close()
        render_text(plan.to_json(states=False), color=False)
    return plan


def apply_once(org: Path, work: Path) -> dict[str, Any]:
    """What ``accessops apply --auto-approve`` does; times planning and writing apart."""
    from accessops.engine import acquire_lock, apply_changes, build_plan, open_context, release_lock
    from accessops.plan.checks import raise_if_refused
    from accessops.render.text import render_text

    start = time.perf_counter()
    ctx = open_context([str(org)], _settings(org, work), read_live=False)
    try:
        acquire_lock(ctx)
        try:
            assert ctx.model is not None
            ctx.live = ctx.adapter.read(ctx.model.org_names)
            plan = build_plan(ctx, [str(org)])
            render_text(plan.to_json(states=False), color=False)
            raise_if_refused(plan)
            planned = time.perf_counter()
            requests = ctx.adapter.requests
            result = apply_changes(ctx, plan) if plan.pending else None
            transactions = ctx.adapter.requests - requests  # the local adapter counts a transaction as a request
        finally:
            release_lock(ctx)
        writes = ctx.adapter.writes
    finally:
        ctx.close()
    done = time.perf_counter()
    assert result is None or result.ok, f"apply failed: {result.failed[:1] if result else ''}"
    return {
        "changes": len(plan.pending), "writes": writes, "transactions": transactions,
        "plan_s": planned - start, "write_s": done - planned, "seconds": done - start,
    }


def make_drift(org: Path, work: Path) -> dict[str, Any]:
    """1% of the members changed behind git's back, with the tenant's own operations."""
    from accessops.adapters.base import Target
    from accessops.adapters.local import LocalAdapter
    from accessops.adapters.local_tenant import Tenant

    adapter = LocalAdapter(Target.parse(f"local:{work / 'tenant.db'}"))
    try:
        tenant = Tenant(adapter)
        rows = [r for r in tenant.members() if r.role in ("Member", "Maintainer")]
        n = max(4, len(tenant.members()) // 100)
        step = max(1, len(rows) // n)
        chosen = rows[::step][:n]
        counts = {"role changed": 0, "removed": 0, "added": 0}
        for i, row in enumerate(chosen):
            if i % 4 == 3:
                tenant.remove_member(row.email)  # every membership goes with them
                counts["removed"] += 1
            else:
                tenant.set_role(row.email, "Maintainer" if row.role == "Member" else "Member")
                counts["role changed"] += 1
        for i in range(max(1, n // 10)):
            tenant.add_member(f"stranger{i}@elsewhere.test", role="Member")
            counts["added"] += 1
    finally:
        adapter.close()
    return {"drifted_members": sum(counts.values()), **counts}


def worker(step: str, org: Path, work: Path, reps: int) -> dict[str, Any]:
    """Run one step and report its figures (times in seconds, memory in MB)."""
    out: dict[str, Any] = {"step": step}
    if step == "validate":
        from accessops.cli import main

        def validate() -> int:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                return main(["validate", str(org)])

        out["seconds"], rc = _best(reps, validate)
        assert rc == 0, f"validate exited {rc}"
    elif step in ("apply", "apply-again"):
        out.update(apply_once(org, work))
        if step == "apply":
            assert out["writes"] == out["changes"] > 0, f"{out['writes']} writes for {out['changes']} changes"
            assert 0 < out["transactions"] < out["changes"], f"{out['transactions']} tenant transactions for {out['changes']} changes (batches expected)"
        else:
            assert out["changes"] == 0 and out["writes"] == 0, f"second apply: {out['changes']} changes, {out['writes']} writes"
    elif step == "drift":
        out.update(make_drift(org, work))
    else:
        out["seconds"], plan = _best(reps, lambda: plan_once(org, work))
        out["peak_mb"] = _peak_mb()  # before the baseline's documents add to it
        out["changes"] = len(plan.pending)
        out["delta_members"] = len(plan.extras.get("access_delta", []))
        out["yaml_s"], _ = _best(reps, lambda: yaml_baseline(org))
        out["ratio"] = out["seconds"] / out["yaml_s"]
    out.setdefault("peak_mb", _peak_mb())
    return out


# --- the driver -----------------------------------------------------------------------------


def run_step(step: str, org: Path, work: Path, reps: int) -> dict[str, Any]:
    """One step in a fresh interpreter; its JSON report."""
    cmd = [sys.executable, __file__, "--worker", step, "--org", str(org), "--work", str(work), "--reps", str(reps)]
    done = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"})
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"step {step} failed (exit {done.returncode})")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def bench_size(members: int, root: Path, reps: int) -> dict[str, dict[str, Any]]:
    """Every step at one size."""
    from gen_org import write_org

    org = write_org(root / f"org{members}", members)
    work = root / f"work{members}"
    work.mkdir()
    results = {}
    for step in STEPS:
        print(f"  {members} members: {step} ...", file=sys.stderr, flush=True)
        results[step] = run_step(step, org, work, reps)
    files = sorted(org.rglob("*.yaml"))
    results["org"] = {"files": len(files), "mb": sum(p.stat().st_size for p in files) / 1e6}
    return results


def table(all_results: dict[int, dict[str, dict[str, Any]]]) -> str:
    """The results as a fixed-width table."""
    head = f"{'members':>8} {'step':<14} {'seconds':>8} {'yaml s':>7} {'ratio':>6} {'peak MB':>8} {'changes':>8} {'writes':>7} {'w/change':>8}  notes"
    lines = [head, "-" * len(head)]
    for members, r in all_results.items():
        lines.append(f"{members:>8} {'(manifests)':<14} {'':>8} {'':>7} {'':>6} {'':>8} {'':>8} {'':>7} {'':>8}  {r['org']['files']} files, {r['org']['mb']:.1f} MB of YAML")
        for step in STEPS:
            s = r[step]
            if step == "drift":
                lines.append(f"{members:>8} {'(drift made)':<14} {'':>8} {'':>7} {'':>6} {s['peak_mb']:>8.0f} {'':>8} {'':>7} {'':>8}  "
                             f"{s['role changed']} roles changed, {s['removed']} removed, {s['added']} added behind git's back")
                continue
            yaml_s = f"{s['yaml_s']:.3f}" if "yaml_s" in s else ""
            ratio = f"{s['ratio']:.2f}" if "ratio" in s else ""
            changes = str(s.get("changes", ""))
            writes = str(s.get("writes", ""))
            per = ""
            if "writes" in s:
                per = f"{s['writes'] / s['changes']:.2f}" if s["changes"] else "0 / 0"
            notes = ""
            if step.startswith("apply"):
                notes = f"plan {s['plan_s']:.2f} s + writes {s['write_s']:.2f} s"
                if s.get("transactions"):
                    notes += f" in {s['transactions']} tenant transactions"
            elif step.startswith("plan"):
                notes = f"delta: {s['delta_members']} member(s)"
            lines.append(f"{members:>8} {step:<14} {s['seconds']:>8.2f} {yaml_s:>7} {ratio:>6} {s['peak_mb']:>8.0f} {changes:>8} {writes:>7} {per:>8}  {notes}")
    return "\n".join(lines)


def main() -> None:
    """Parse options; run the worker, or drive every size and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,50000", help="member counts, comma separated (default 1000,10000,50000)")
    parser.add_argument("--quick", action="store_true", help="best of 2 per timing instead of 3")
    parser.add_argument("--keep", type=Path, help="generate and work in this folder and keep it")
    parser.add_argument("--json", action="store_true", help="also print every figure as JSON")
    parser.add_argument("--worker", choices=STEPS, help=argparse.SUPPRESS)
    parser.add_argument("--org", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--reps", type=int, default=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.org, args.work, args.reps)))
        return
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    reps = 2 if args.quick else 3  # the first run also pays for imports
    with tempfile.TemporaryDirectory(prefix="accessops-bench-") as tmp:
        root = args.keep or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        results = {n: bench_size(n, root, reps) for n in sizes}
    print(f"accessops engine benchmark (python {sys.version.split()[0]}, {os.cpu_count()} CPU, best of {reps} per timing)")
    print(table(results))
    print("ratio = plan seconds / PyYAML CSafeLoader seconds on the same files, same process; peak MB = ru_maxrss of the step's own process")
    if args.json:
        print(json.dumps(results, indent=1))
    failed = [n for n, r in results.items() if n == 10_000 and any(r[s]["ratio"] > RATIO_BAR for s in ("plan-sync", "plan-drift"))]
    if failed:
        raise SystemExit(f"ratio above {RATIO_BAR} at 10k members")


if __name__ == "__main__":
    main()
