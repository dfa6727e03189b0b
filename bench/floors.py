"""Issue 14's floors, measured in one run: whole-process plan against a whole-process
YAML parse, apply from empty against SQLite's own insert floor, and peak memory.

For each size it writes the organization with ``gen_org.py``, applies it to a
new local tenant (``accessops apply --auto-approve``, timed: the **apply**
figure), then times, each as a fresh process and best of ``--runs``:

* **yaml**: ``python -c`` that imports PyYAML and runs ``yaml.load_all`` with
  ``CSafeLoader`` over every manifest file (documents kept): the parse floor;
* **plan cold**: ``accessops plan DIR`` in sync with an empty parse cache
  (the folder is removed before each run);
* **plan warm**: the same with the cache the previous run filled.

The yaml figure and each cold plan alternate run by run (and, with
``--baseline SRC``, the cold and warm plans of that other source tree, say
the commit before a change, with its own cache folder), so that a busy box
weighs on each figure alike.

``ratio`` is plan seconds / yaml seconds. Before timing, accessops' modules
are byte-compiled (``compileall``), as ``pip install`` does and as PyYAML's
already are: with ``PYTHONDONTWRITEBYTECODE`` set (as on the team's boxes)
every plan would otherwise compile its own modules again (about 0.3 s) that
no installed copy pays (``--no-compile`` keeps that cost in). **sqlite floor** copies every row
the apply wrote into a new database with the same schema, in one transaction
with ``executemany`` (what SQLite itself needs to store the same data);
``apply ratio`` is apply seconds / that floor. ``peak MB`` is the plan
process's ``ru_maxrss`` (GNU time's ``%M``), interpreter included.

    python bench/floors.py                          # 1k, 10k, 50k
    python bench/floors.py --baseline ../old/src    # and another tree's plan, run by run
    python bench/floors.py --sizes 100000 --runs 1  # the 100k memory figure
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PARSE = (
    "import sys, pathlib, yaml\n"
    "docs = []\n"
    "for p in sorted(pathlib.Path(sys.argv[1]).rglob('*.yaml')):\n"
    "    docs.extend(yaml.load_all(p.read_text(), Loader=yaml.CSafeLoader))\n"
)


def timed(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, int]:
    """Seconds and peak KB of one process run (GNU time's maxrss via wait4)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode not in (0, 2):
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {err[-500:]}")
    return seconds, usage.ru_maxrss


def sqlite_floor(tenant: Path, work: Path) -> tuple[float, int]:
    """Seconds SQLite takes to insert every row of ``tenant`` into a fresh copy of its schema."""
    src = sqlite3.connect(tenant)
    schema = [sql for (sql,) in src.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY rowid")]
    tables = [name for (name,) in src.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
    rows = {t: src.execute(f'SELECT * FROM "{t}"').fetchall() for t in tables}
    src.close()
    dest_path = work / "floor.db"
    dest_path.unlink(missing_ok=True)
    dest = sqlite3.connect(dest_path)
    for sql in schema:
        dest.execute(sql)
    dest.commit()
    count = sum(len(r) for r in rows.values())
    start = time.perf_counter()
    with dest:
        for table, data in rows.items():
            if data:
                marks = ",".join("?" * len(data[0]))
                dest.executemany(f'INSERT INTO "{table}" VALUES ({marks})', data)
    seconds = time.perf_counter() - start
    dest.close()
    return seconds, count


def measure(members: int, runs: int, root: Path, baseline: Path | None = None) -> dict[str, float]:
    """Every figure for one size (with ``baseline``, that tree's plan too, interleaved run by run)."""
    work = root / f"m{members}"
    manifests = work / "manifests"
    subprocess.run([sys.executable, str(HERE / "gen_org.py"), "--members", str(members), "--out", str(manifests)], check=True, stdout=subprocess.DEVNULL)
    cache = work / "cache"
    env = dict(os.environ, ACCESSOPS_CACHE_DIR=str(cache), NO_COLOR="1")
    target = f"local:{work / 'tenant.db'}"
    cli = [sys.executable, "-m", "accessops"]
    apply_s, _ = timed([*cli, "apply", str(manifests), "--target", target, "--auto-approve"], env, work)
    floor_s, rows = sqlite_floor(work / "tenant.db", work)
    plan = [*cli, "plan", str(manifests), "--target", target]
    # the baseline tree plans the same tenant (a plan writes nothing) with its own cache folder
    base_cache = work / "cache-baseline"
    base_env = dict(env, ACCESSOPS_CACHE_DIR=str(base_cache), PYTHONPATH=str(baseline)) if baseline else env
    yaml: list[float] = []
    cold: list[float] = []
    base_cold: list[float] = []
    peak = 0
    for _ in range(runs):
        yaml.append(timed([sys.executable, "-c", PARSE, str(manifests)], env, work)[0])
        shutil.rmtree(cache, ignore_errors=True)
        s, kb = timed(plan, env, work)
        cold.append(s)
        peak = max(peak, kb)
        if baseline:
            shutil.rmtree(base_cache, ignore_errors=True)
            base_cold.append(timed(plan, base_env, work)[0])
    warm: list[float] = []
    base_warm: list[float] = []
    for _ in range(runs):
        s, kb = timed(plan, env, work)
        warm.append(s)
        peak = max(peak, kb)
        if baseline:
            base_warm.append(timed(plan, base_env, work)[0])
    size = sum(p.stat().st_size for p in manifests.rglob("*.yaml"))
    return {
        "members": members, "mb_yaml": size / 1e6, "yaml": min(yaml), "cold": min(cold), "warm": min(warm),
        "peak_mb": peak / 1024, "apply": apply_s, "floor": floor_s, "rows": rows,
        "base_cold": min(base_cold, default=0.0), "base_warm": min(base_warm, default=0.0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,50000")
    parser.add_argument("--runs", type=int, default=3, help="best of N per timing (default 3)")
    parser.add_argument("--keep", help="keep the generated files here")
    parser.add_argument("--no-compile", action="store_true", help="do not byte-compile accessops first (each run compiles its modules)")
    parser.add_argument("--baseline", metavar="SRC", help="also time the plan of another accessops source tree (its src folder), interleaved")
    args = parser.parse_args()
    baseline = Path(args.baseline).resolve() if args.baseline else None
    if not args.no_compile:
        import accessops

        compileall.compile_dir(str(Path(accessops.__file__).parent), quiet=1)
        if baseline:
            compileall.compile_dir(str(baseline / "accessops"), quiet=1)
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="accessops-floors-"))
    root.mkdir(parents=True, exist_ok=True)
    print(f"accessops floors (python {sys.version.split()[0]}, {os.cpu_count()} CPU, best of {args.runs}; whole processes)")
    extra = f" {'base cold':>9} {'ratio':>6} {'base warm':>9} {'ratio':>6}" if baseline else ""
    print(f"{'members':>8} {'MB yaml':>8} {'yaml s':>7} {'cold s':>7} {'ratio':>6} {'warm s':>7} {'ratio':>6} {'peak MB':>8} {'apply s':>8} {'floor s':>8} {'rows':>8} {'ratio':>6}{extra}")
    try:
        for members in (int(s) for s in args.sizes.split(",")):
            r = measure(members, args.runs, root, baseline)
            base = (
                f" {r['base_cold']:>9.2f} {r['base_cold'] / r['yaml']:>6.2f} {r['base_warm']:>9.2f} {r['base_warm'] / r['yaml']:>6.2f}"
                if baseline else ""
            )
            print(
                f"{r['members']:>8} {r['mb_yaml']:>8.1f} {r['yaml']:>7.2f} {r['cold']:>7.2f} {r['cold'] / r['yaml']:>6.2f} "
                f"{r['warm']:>7.2f} {r['warm'] / r['yaml']:>6.2f} {r['peak_mb']:>8.0f} {r['apply']:>8.2f} {r['floor']:>8.3f} "
                f"{r['rows']:>8} {r['apply'] / r['floor']:>6.1f}{base}",
                flush=True,
            )
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print("ratio = whole-process plan / whole-process CSafeLoader parse of the same files (cold: empty parse cache; warm: filled);")
    print("apply ratio = whole-process apply from empty / SQLite inserting the same rows in one transaction")


if __name__ == "__main__":
    main()
