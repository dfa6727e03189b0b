"""Start-up time of the accessops command line, as a ratio to ``python -c pass``.

The pre-commit hook runs ``accessops validate`` on every commit, and CI runs
the CLI many times, so start-up is a feature. Each case runs in a fresh
interpreter the way the ``accessops`` console script starts it (``from
accessops.cli import main``); runs of all cases are interleaved so machine
noise hits them alike, and the median of each is reported.

Targets (issue 12): ``--version`` at most 5x ``python -c pass``, and
``validate`` of one small file at most 10x. The script exits 1 when a target
is missed.

Two baselines are measured, because the interpreter's own start-up differs
from machine to machine:

* ``site``: plain ``python``, with site-packages and whatever its ``.pth``
  files run (on some machines that alone is most of the time);
* ``-S``: ``python -S`` with the source tree and site-packages on
  ``PYTHONPATH``: no ``.pth`` hooks, so the ratio shows accessops's own cost.

    python bench/startup.py              # 21 runs per case
    python bench/startup.py --runs 51 --json
    python bench/startup.py --python /tmp/venv/bin/python   # another interpreter
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SMALL_FILE = ROOT / "examples" / "policies" / "seed000-matrix" / "organization.yaml"
ENTRY = "import sys; from accessops.cli import main; sys.exit(main())"
CASES: dict[str, list[str]] = {
    "python -c pass": ["-c", "pass"],
    "accessops --version": ["-c", ENTRY, "--version"],
    "accessops --help": ["-c", ENTRY, "--help"],
    "accessops validate FILE": ["-c", ENTRY, "validate", str(SMALL_FILE)],
    "accessops schema": ["-c", ENTRY, "schema"],
}
TARGETS = {"accessops --version": 5.0, "accessops validate FILE": 10.0}


def _time(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])}... failed: {done.stderr.decode()[-500:]}")
    return elapsed


def _site_packages(python: str) -> list[str]:
    code = "import sysconfig; p = sysconfig.get_paths(); print(p['purelib']); print(p['platlib'])"
    return subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout.split()


def measure(python: str, runs: int, isolated: bool) -> dict[str, float]:
    """Median seconds per case."""
    env = dict(os.environ)
    # Installed packages run from cached bytecode; so must the source tree here
    # (some machines set PYTHONDONTWRITEBYTECODE, which would time the compiler).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "accessops-bench-pycache")
    flags: list[str] = []
    src = str(ROOT / "src")
    if isolated:
        flags = ["-S"]
        env["PYTHONPATH"] = os.pathsep.join([src, *_site_packages(python)])
    else:
        env["PYTHONPATH"] = os.pathsep.join([src, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    samples: dict[str, list[float]] = {name: [] for name in CASES}
    for name, args in CASES.items():  # warm the file cache and the bytecode
        _time([python, *flags, *args], env)
    for _ in range(runs):
        for name, args in CASES.items():
            samples[name].append(_time([python, *flags, *args], env))
    return {name: statistics.median(s) for name, s in samples.items()}


def main() -> int:
    """Print the table (or JSON); exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--python", default=sys.executable, help="the interpreter to time (a venv with accessops's dependencies), default this one")
    args = parser.parse_args()
    results = {mode: measure(args.python, args.runs, mode == "-S") for mode in ("site", "-S")}
    missed = []
    for mode, medians in results.items():
        base = medians["python -c pass"]
        for name, target in TARGETS.items():
            if medians[name] / base > target:
                missed.append(f"{name} ({mode}): {medians[name] / base:.1f}x > {target:.0f}x")
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(f"accessops start-up ({args.python}, python {platform.python_version()}, {os.cpu_count()} CPU, median of {args.runs} runs)")
        print(f"{'case':<26} {'site s':>8} {'ratio':>6} {'-S s':>8} {'ratio':>6} {'target':>7}")
        for name in CASES:
            cells = []
            for mode in ("site", "-S"):
                m = results[mode]
                cells.append(f"{m[name]:>8.3f} {m[name] / m['python -c pass']:>5.1f}x")
            target = f"<= {TARGETS[name]:.0f}x" if name in TARGETS else ""
            print(f"{name:<26} {' '.join(cells)} {target:>7}")
    for line in missed:
        print(f"missed: {line}", file=sys.stderr)
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
