"""What the Terraform-shaped plan JSON costs on a large tenant (docs/plan-json.md, "Size").

Generates an organization with bench/gen_org.py, applies it to a fresh local
tenant, then in one process times ``build_plan`` (as ``accessops plan`` runs
it), ``Plan.to_json()`` with and without the state sections, and
``json.dumps`` of the full document, and reports the peak memory.

    python bench/plan_json.py --members 10000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _peak_mb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def main() -> None:
    """Print one line per step: seconds and peak MB."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=10_000)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from accessops.engine import build_plan, open_context, settings_for

    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        subprocess.run([sys.executable, str(ROOT / "bench/gen_org.py"), "--members", str(args.members), "--out", "org"], check=True, env=env, stdout=subprocess.DEVNULL)
        subprocess.run([sys.executable, "-m", "accessops", "apply", "org", "--auto-approve"], check=True, env=env, stdout=subprocess.DEVNULL)
        ns = argparse.Namespace(paths=["org"], target=None, state=None)
        t = time.perf_counter()
        ctx = open_context(["org"], settings_for(ns))
        try:
            plan = build_plan(ctx, ["org"])
        finally:
            ctx.close()
        print(f"plan            {time.perf_counter() - t:6.2f} s  peak {_peak_mb()} MB  ({len(plan.prior)} resources)")
        t = time.perf_counter()
        plan.to_json(states=False)
        print(f"to_json (views) {time.perf_counter() - t:6.2f} s")
        t = time.perf_counter()
        data = plan.to_json()
        print(f"to_json (full)  {time.perf_counter() - t:6.2f} s  peak {_peak_mb()} MB")
        t = time.perf_counter()
        text = json.dumps(data)
        print(f"json.dumps      {time.perf_counter() - t:6.2f} s  peak {_peak_mb()} MB  ({len(text) / 1e6:.0f} MB of JSON)")


if __name__ == "__main__":
    main()
