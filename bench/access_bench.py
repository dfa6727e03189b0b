"""Wall time of ``explain`` and ``who-can`` on a generated organization (10k members by default).

Generates the organization with bench/gen_org.py, then times each step in
process (load + compile, engine index, one explain, one who-can) and the two
commands end to end as a user runs them.

    python bench/access_bench.py [--members 10000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from gen_org import write_org  # noqa: E402

from accessops.access.engine import AccessEngine  # noqa: E402
from accessops.access.policies import model_profiles  # noqa: E402
from accessops.manifest.loader import load  # noqa: E402
from accessops.model.compile import compile_model  # noqa: E402


def timed(label: str, fn, *args):  # type: ignore[no-untyped-def]
    """Run ``fn`` once, print its wall time, return its result."""
    start = time.perf_counter()
    result = fn(*args)
    print(f"{label:<42} {time.perf_counter() - start:8.3f} s")
    return result


def main() -> None:
    """Generate, then time explain and who-can."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--keep", type=Path, help="write the organization here and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = write_org(args.keep or Path(tmp) / "org", args.members)
        model = timed("load + validate manifests", load, [out])
        resources = timed("compile", lambda: compile_model(model).resources)
        engine = timed("index (AccessEngine)", AccessEngine, resources, model_profiles(model))
        org = sorted(engine.views)[0]
        email = engine.members(org)[len(engine.members(org)) // 2]
        caps = timed(f"explain {email}", engine.explain, email)
        action, resource = next((a, r) for a, r in engine.vocabulary(org) if "/" in r and a == "read" and r.count("/") == 3)
        answers = timed(f"who-can {action} {resource}", engine.who_can, action, resource)
        print(f"  {len(resources)} resources, {len(engine.members(org))} members, {len(caps)} capabilities of one member, {sum(a.allowed for a in answers)} can")
        local = resource.split("/", 1)[1]
        for argv in (["explain", email, str(out)], ["who-can", action, local, str(out)]):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "accessops", *argv], check=True, stdout=subprocess.DEVNULL)
            print(f"{'accessops ' + ' '.join(argv[:-1]):<42} {time.perf_counter() - start:8.3f} s (end to end)")


if __name__ == "__main__":
    main()
