"""Issue 14 item 4: the Markdown of the initial 10k-member plan against its text, measured in one run.

It writes the organization with ``gen_org.py``, plans it against an empty
local tenant with ``accessops plan --out plan.out`` (every resource to
create, and the access delta of every member the plan compares), then times,
each as a fresh process and best of ``--runs``:

* **text**: ``accessops show plan.out``;
* **markdown**: ``accessops show plan.out --format markdown``.

``ratio`` is markdown seconds / text seconds (target ≤ 2.0). Both processes
read and check the same saved plan first; the in-process figures below the
table time only the rendering of the already loaded plan JSON, and the size
line says what the comment kept under its 60,000-character cap.

    python bench/markdown_render.py                   # 10k members, best of 3
    python bench/markdown_render.py --members 50000 --runs 1
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def timed(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, str]:
    """Seconds of one whole process, and its stdout."""
    start = time.perf_counter()
    proc = subprocess.run(argv, check=False, env=env, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr[-500:]}")
    return seconds, proc.stdout


def in_process(plan_file: Path) -> tuple[float, float]:
    """Seconds to render the loaded plan as text and as Markdown, best of 3 each."""
    from accessops.apply.planfile import read_plan_file
    from accessops.render.output import render

    saved = read_plan_file(plan_file)
    saved.plan.meta["plan_file"] = plan_file.name
    plan_json = saved.plan.to_json(states=False)
    best = {}
    for fmt in ("text", "markdown"):
        runs = []
        for _ in range(3):
            start = time.perf_counter()
            render(plan_json, fmt)
            runs.append(time.perf_counter() - start)
        best[fmt] = min(runs)
    return best["text"], best["markdown"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3, help="best of N per timing (default 3)")
    parser.add_argument("--keep", help="keep the generated files here")
    args = parser.parse_args()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="accessops-md-"))
    work.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, NO_COLOR="1", ACCESSOPS_CACHE_DIR=str(work / "cache"))
    cli = [sys.executable, "-m", "accessops"]
    try:
        subprocess.run([sys.executable, str(HERE / "gen_org.py"), "--members", str(args.members), "--out", "manifests"],
                       cwd=work, env=env, check=True, stdout=subprocess.DEVNULL)
        (work / "tenant.db").unlink(missing_ok=True)
        (work / "plan.out").unlink(missing_ok=True)
        timed([*cli, "plan", "manifests", "--target", "local:tenant.db", "--out", "plan.out"], env, work)
        text_s, md_s = [], []
        text = markdown = ""
        for _ in range(args.runs):  # interleaved, so both see the same machine load
            s, text = timed([*cli, "show", "plan.out"], env, work)
            text_s.append(s)
            s, markdown = timed([*cli, "show", "plan.out", "--format", "markdown"], env, work)
            md_s.append(s)
        render_text, render_md = in_process(work / "plan.out")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(f"accessops Markdown render (python {sys.version.split()[0]}, {os.cpu_count()} CPU, best of {args.runs}; whole processes)")
    print(f"{'members':>8} {'text MB':>8} {'text s':>7} {'md s':>7} {'ratio':>6} {'render text s':>14} {'render md s':>12} {'ratio':>6}")
    plan_mb = len(text.encode()) / 1e6
    print(f"{args.members:>8} {plan_mb:>8.1f} {min(text_s):>7.2f} {min(md_s):>7.2f} {min(md_s) / min(text_s):>6.2f} "
          f"{render_text:>14.2f} {render_md:>12.2f} {render_md / render_text:>6.2f}")
    note = re.search(r"^> (… .*)$", markdown, re.MULTILINE)
    print(f"text plan: {len(text):,} characters; markdown comment: {len(markdown):,} characters, "
          f"{len(re.findall('^#### ', markdown, re.MULTILINE))} sections")
    print(f"cut note: {note.group(1) if note else '(nothing cut)'}")
    print("ratio = whole-process `show --format markdown` / whole-process `show` of the same saved plan (target <= 2.0);")
    print("render = the renderer alone on the loaded plan JSON, in process")


if __name__ == "__main__":
    main()
