"""Wall time to plan and to apply 200 Directus users with their roles and permissions.

Starts a real Directus 11 (see tests/directus_server.py; install it with
scripts/install-directus.sh), writes manifests for one organization with
200 members, 3 custom roles, a workspace where every member has a default
role and some custom roles, and table and field permissions; then times the
real CLI:

    python bench/directus_200.py            # prints one line per step
    python bench/directus_200.py --members 500

Steps timed: ``plan`` on the empty Directus, ``apply --auto-approve``, and
``plan`` again (which must find no changes), with the requests each took
(the apply's include its own read) and, for the apply, requests per change
(one write is one change). Also prints how long the server took to
bootstrap and start.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from directus_server import ADMIN_EMAIL, DirectusServer, directus_home  # noqa: E402

ROLES = ("Editor", "Viewer", "None")
CUSTOM = ("support", "delivery", "finance")


def manifests(members: int) -> tuple[str, str]:
    """The Organization and Workspace YAML for ``members`` users."""
    emails = [f"user{i:04d}@example.com" for i in range(members)]
    org = [
        "apiVersion: accessops/v1",
        "kind: Organization",
        "metadata: {name: acme}",
        "spec:",
        "  profile: workspace-roles",
        "  members:",
        f"    - {{email: {ADMIN_EMAIL}, role: Admin}}",
        *(f"    - {{email: {e}, role: Member, name: User {i}}}" for i, e in enumerate(emails)),
        "  custom_roles:",
        *(f"    - {{name: {c}, description: {c} team}}" for c in CUSTOM),
    ]
    ws = [
        "apiVersion: accessops/v1",
        "kind: Workspace",
        "metadata: {name: crm}",
        "spec:",
        "  organization: acme",
        "  members:",
        f"    - {{email: {ADMIN_EMAIL}, role: Admin}}",
    ]
    for i, e in enumerate(emails):
        custom = [CUSTOM[i % 3]] + ([CUSTOM[(i + 1) % 3]] if i % 4 == 0 else [])
        ws.append(f"    - {{email: {e}, role: {ROLES[i % 3]}, custom_roles: [{', '.join(custom)}]}}")
    ws += [
        "  tables:",
        "    - name: customers",
        "      read: [Editor, Viewer, support, delivery]",
        "      create: [Editor]",
        "      edit: [Editor, support]",
        "      delete: []",
        "      fields:",
        "        - {name: address, read: [Editor, delivery]}",
        "        - {name: email, read: [Editor, support]}",
        "    - name: orders",
        "      read: [Editor, delivery, finance]",
        "      edit: [finance]",
    ]
    return "\n".join(org) + "\n", "\n".join(ws) + "\n"


def per_change(counts: str) -> str:
    """`` = R requests per change`` from the ``-v`` line ``directus: N request(s), M write(s)``."""
    found = re.search(r"(\d+) request\(s\), (\d+) write\(s\)", counts)
    if not found or not int(found.group(2)):
        return ""
    requests, writes = int(found.group(1)), int(found.group(2))
    return f" = {requests / writes:.3f} requests per change"


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Run the CLI; return (seconds, result)."""
    started = time.monotonic()
    run = subprocess.run([sys.executable, "-m", "accessops", *argv], cwd=cwd, env=env, capture_output=True, text=True)
    return time.monotonic() - started, run


def main() -> int:
    """Run the benchmark; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=200)
    args = parser.parse_args()
    home = directus_home()
    if home is None:
        print("Directus is not installed: run scripts/install-directus.sh", file=sys.stderr)
        return 1
    server = DirectusServer(home).start()
    try:
        server.create_collections()
        print(f"directus bootstrap {server.timings['bootstrap']:.1f}s, start {server.timings['start']:.1f}s")
        work = Path(tempfile.mkdtemp(prefix="accessops-bench-"))
        org, ws = manifests(args.members)
        (work / "policy").mkdir()
        (work / "policy/org.yaml").write_text(org)
        (work / "policy/crm.yaml").write_text(ws)
        env = {**os.environ, "ACCESSOPS_DIRECTUS_TOKEN": server.token, "NO_COLOR": "1"}
        common = ["policy", "--target", server.target]
        steps = [
            ("plan (empty Directus)", ["-v", "plan", *common, "--detailed-exitcode"], 2),
            ("apply", ["-v", "apply", *common, "--auto-approve"], 0),
            ("plan again (no changes)", ["-v", "plan", *common, "--detailed-exitcode"], 0),
        ]
        for label, argv, expected in steps:
            seconds, run = timed(argv, work, env)
            summary = next((line for line in run.stdout.splitlines() if line.startswith(("Plan:", "Apply complete", "No changes"))), "")
            requests = next((line.strip() for line in (run.stdout + run.stderr).splitlines() if "request" in line.lower()), "")
            print(f"{label}: {seconds:.1f}s  {summary}  {requests}{per_change(requests)}".rstrip())
            if run.returncode != expected:
                print(f"  exit {run.returncode}, expected {expected}: {run.stderr.strip()[-500:]}", file=sys.stderr)
                return 1
        return 0
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
