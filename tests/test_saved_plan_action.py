"""The action's apply step re-derives a reviewed plan from the manifests in its ``path`` input.

As apply-on-merge runs it: the plan file comes from the pull request's run,
the manifests are the merged checkout. A plan file edited on the way, or
merged manifests that differ from the planned ones (main moved), are
refused with exit 3, a "re-plan" annotation, and nothing applied.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

from test_action_run import MANIFESTS, accessops, action_step, tenant

from accessops.plan.planfile import from_file, to_file


def checkout(tmp_path: Path, name: str) -> Path:
    """A copy of the example manifests, as a job's checkout would have them."""
    return Path(shutil.copytree(MANIFESTS, tmp_path / name))


def roles(tmp_path: Path) -> str:
    return accessops("tenant", "--target", tenant(tmp_path), "list").stdout


def test_the_reviewed_plan_applies_from_the_merged_manifests(tmp_path: Path) -> None:
    planned = action_step(tmp_path, command="plan", path=str(checkout(tmp_path, "pr")), target=tenant(tmp_path))
    merged = checkout(tmp_path, "main")
    shutil.rmtree(tmp_path / "pr")  # the apply job has only the merged checkout
    applied = action_step(tmp_path, command="apply", path=str(merged), plan_file=planned.outputs["plan-file"],
                          target=tenant(tmp_path))
    assert applied.code == 0, applied.log
    assert re.search(r"^\+ .*accessops apply \S+ --manifests \S+/main ", applied.log, re.M)


def test_a_plan_edited_on_the_way_is_refused_with_replan(tmp_path: Path) -> None:
    planned = action_step(tmp_path, command="plan", path=str(checkout(tmp_path, "pr")), target=tenant(tmp_path))
    plan_file = Path(planned.outputs["plan-file"])
    envelope = from_file(json.loads(plan_file.read_text()))  # the plan is the file's top level, the rest under accessops_plan_file
    assert envelope is not None
    change = next(rc for rc in envelope["plan"]["resource_changes"] if rc["type"] == "accessops_member")
    change["change"]["after"]["role"] = "Owner"
    covered = {k: v for k, v in envelope.items() if k not in ("checksum", "signature")}
    envelope["checksum"] = hashlib.sha256(json.dumps(covered, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()
    plan_file.write_text(json.dumps(to_file(envelope)))
    applied = action_step(tmp_path, command="apply", path=str(tmp_path / "pr"), plan_file=str(plan_file), target=tenant(tmp_path))
    assert applied.code == 3 and applied.outputs["exitcode"] == "3"
    assert "::error title=Not the reviewed plan, nothing applied::" in applied.log
    assert not (tmp_path / "tenant.db").exists() or "Owner" not in roles(tmp_path)


def test_main_moved_since_the_plan_is_refused_with_replan(tmp_path: Path) -> None:
    planned = action_step(tmp_path, command="plan", path=str(checkout(tmp_path, "pr")), target=tenant(tmp_path))
    merged = checkout(tmp_path, "main")
    manifest = next(merged.rglob("*.yaml"))
    manifest.write_text(manifest.read_text() + "\n# another pull request merged first\n")
    applied = action_step(tmp_path, command="apply", path=str(merged), plan_file=planned.outputs["plan-file"],
                          target=tenant(tmp_path))
    assert applied.code == 3, applied.log
    assert "changed" in applied.log and "re-plan" in applied.log
    assert "::error title=Not the reviewed plan, nothing applied::" in applied.log
