"""Issue 13's comparison: the same organization written per person and per team.

For each size it writes both layouts with ``gen_org.py`` (``--layout people``
and ``--layout teams``), counts manifest lines three ways (all files; the
workspace and space files; the grant entries alone, i.e. the ``members`` and
``teams`` lists of workspaces and spaces, as the generator writes them),
applies each layout to its own new local tenant, and times a whole-process
``accessops plan`` in sync (best of ``--runs``), with the parse cache off so
that both layouts pay for their YAML.

    python bench/team_layout.py                 # 10k members
    python bench/team_layout.py --sizes 1000,10000
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from gen_org import _dump, generate  # noqa: E402


def lines(text: str) -> int:
    """Lines of a YAML text."""
    return text.count("\n")


def grant_lines(files: dict[str, str]) -> int:
    """Lines the generator's style spends on workspace and space grants (members and teams lists)."""
    total = 0
    for rel, text in files.items():
        if not rel.startswith(("workspaces/", "spaces/")):
            continue
        for doc in yaml.safe_load_all(text):
            spec = (doc or {}).get("spec") or {}
            grants = {k: spec[k] for k in ("members", "teams") if k in spec}
            if grants:
                total += lines(_dump(grants))
    return total


def plan_seconds(manifests: Path, work: Path, runs: int) -> float:
    """Best whole-process ``accessops plan`` in sync after one apply."""
    env = dict(os.environ, ACCESSOPS_PARSE_CACHE="off", NO_COLOR="1")
    target = f"local:{work / 'tenant.db'}"
    cli = [sys.executable, "-m", "accessops"]
    subprocess.run([*cli, "apply", str(manifests), "--target", target, "--auto-approve"], env=env, cwd=work, check=True, stdout=subprocess.DEVNULL)
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run([*cli, "plan", str(manifests), "--target", target, "--detailed-exitcode"], env=env, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        best = min(best, time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"plan of {manifests} is not in sync ({done.returncode}): {done.stderr.decode()[-400:]}")
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="accessops-teams-"))
    print(f"team layout vs per-person layout (python {sys.version.split()[0]}, {os.cpu_count()} CPU, plan best of {args.runs}, parse cache off)")
    print(f"{'members':>8} {'layout':>7} {'all lines':>10} {'ws+space':>9} {'grants':>8} {'plan s':>7}")
    try:
        for members in (int(s) for s in args.sizes.split(",")):
            figures = {}
            for layout in ("people", "teams"):
                files = generate(members, layout=layout)
                folder = root / f"{layout}{members}"
                for rel, text in files.items():
                    (folder / "m" / rel).parent.mkdir(parents=True, exist_ok=True)
                    (folder / "m" / rel).write_text(text)
                every = sum(lines(t) for t in files.values())
                ws_space = sum(lines(t) for r, t in files.items() if r.startswith(("workspaces/", "spaces/")))
                grants = grant_lines(files)
                seconds = plan_seconds(folder / "m", folder, args.runs)
                figures[layout] = (every, ws_space, grants, seconds)
                print(f"{members:>8} {layout:>7} {every:>10} {ws_space:>9} {grants:>8} {seconds:>7.2f}", flush=True)
            p, t = figures["people"], figures["teams"]
            print(f"{members:>8} {'ratio':>7} {p[0] / t[0]:>9.1f}x {p[1] / t[1]:>8.1f}x {p[2] / t[2]:>7.1f}x {t[3] / p[3]:>6.2f}x")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print("ratio: lines per-person / per-team (fewer is better for teams); plan: teams / per-person seconds (<= 1.0: no slower)")


if __name__ == "__main__":
    main()
