"""One access change, planned on a real local tenant, for the plan-JSON and plan-tool tests.

``BASE`` is applied first; ``CHANGE`` is then planned, both as ``plan --format
json`` (stdout) and as a saved plan file (``plan --out``). Against the base it:

* grants Owner twice: bo (Member -> Owner, an update) and dan (new, a create);
* removes cy (a delete, with cy's workspace grant);
* gives bo ``Billing: Full`` in crm although bo is not in team finance
  (fiona, who is, keeps hers);
* keeps olivia and marcus as Owners.

``LAST_OWNERS`` demotes both remaining Owners instead (min_admins 0 lets the
plan through accessops's own guard, so the Rego pack must catch it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SRC = Path(__file__).resolve().parents[1] / "src"

BASE = """\
apiVersion: accessops/v1
kind: Organization
metadata: {name: acme}
spec:
  profile: union
  seats: 20
  members:
    - {email: olivia@acme.test, role: Owner}
    - {email: marcus@acme.test, role: Owner}
    - {email: fiona@acme.test, role: Billing}
    - {email: bo@acme.test, role: Member}
    - {email: cy@acme.test, role: Member}
  teams:
    - {name: finance, members: [fiona@acme.test]}
---
apiVersion: accessops/v1
kind: Workspace
metadata: {name: crm}
spec:
  organization: acme
  members:
    - {email: fiona@acme.test, role: Viewer, sections: {Billing: Full}}
    - {email: bo@acme.test, role: Editor, sections: {Billing: View only}}
    - {email: cy@acme.test, role: Viewer}
"""

CHANGE = (
    BASE.replace("{email: bo@acme.test, role: Member}", "{email: bo@acme.test, role: Owner}")
    .replace("    - {email: cy@acme.test, role: Member}\n", "    - {email: cy@acme.test, role: Member}\n    - {email: dan@acme.test, role: Owner}\n")
    .replace("    - {email: cy@acme.test, role: Member}\n", "")
    .replace("    - {email: cy@acme.test, role: Viewer}\n", "")
    .replace("sections: {Billing: View only}", "sections: {Billing: Full}")
)

LAST_OWNERS = BASE.replace("{email: olivia@acme.test, role: Owner}", "{email: olivia@acme.test, role: Admin}").replace(
    "{email: marcus@acme.test, role: Owner}", "{email: marcus@acme.test, role: Member}"
)

#: The resource changes CHANGE makes that grant Owner (Terraform addresses).
NEW_OWNERS = {'accessops_member.acme["bo@acme.test"]', 'accessops_member.acme["dan@acme.test"]'}


def accessops(cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """Run the real CLI of this worktree in ``cwd``."""
    env = {**os.environ, "PYTHONPATH": str(SRC), "NO_COLOR": "1"}
    env.pop("ACCESSOPS_TARGET", None)
    return subprocess.run([sys.executable, "-m", "accessops", *argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@dataclass
class Planned:
    """A planned change: stdout JSON, the saved file, and where they are."""

    root: Path
    json_path: Path  # plan --format json > this
    plan_file: Path  # plan --out this
    data: dict[str, Any]

    @property
    def changes(self) -> list[dict[str, Any]]:
        """``resource_changes``."""
        return list(self.data["resource_changes"])


def planned(root: Path, change: str = CHANGE, settings: str = "") -> Planned:
    """Apply ``BASE`` in ``root``, then plan ``change`` to a JSON file and a saved plan file."""
    (root / "access").mkdir(parents=True, exist_ok=True)
    if settings:
        (root / "accessops.toml").write_text(settings)
    (root / "access" / "acme.yaml").write_text(BASE)
    done = accessops(root, "apply", "access", "--auto-approve")
    assert done.returncode == 0, done.stderr
    (root / "access" / "acme.yaml").write_text(change)
    shown = accessops(root, "plan", "access", "--format", "json")
    assert shown.returncode in (0, 3), shown.stderr  # 3: refused by a guard, the plan still printed
    json_path = root / "plan.json"
    json_path.write_text(shown.stdout)
    saved = accessops(root, "plan", "access", "--out", "access.tfplan.json")
    assert saved.returncode in (0, 3), saved.stderr
    return Planned(root, json_path, root / "access.tfplan.json", json.loads(shown.stdout))
