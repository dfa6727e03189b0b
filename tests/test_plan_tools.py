"""The real Terraform-plan tools read accessops plans: checkov, terraform-compliance and Rego (regopy).

Each runs over both files a workflow has: ``plan --format json`` output and the
saved plan file (``plan --out``), whose top level is the same plan. The tools
live in their own virtualenvs (scripts/install-plan-tools.sh, run here when
they are missing), so their dependencies never meet ours; a tool that cannot
be installed fails these tests, it never skips them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import regopy

from plan_scenario import CHANGE, LAST_OWNERS, NEW_OWNERS, Planned, planned

ROOT = Path(__file__).resolve().parents[1]
REGO = ROOT / "examples/policies-rego/accessops.rego"
CHECKS = ROOT / "examples/checkov"
FEATURES = ROOT / "examples/terraform-compliance"


@cache
def tools_dir() -> Path:
    """Where scripts/install-plan-tools.sh keeps checkov and terraform-compliance (installing them if needed)."""
    done = subprocess.run(["bash", str(ROOT / "scripts/install-plan-tools.sh")], capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, f"installing the plan tools failed:\n{done.stdout}\n{done.stderr}"
    return Path(done.stdout.strip().splitlines()[-1])


def tool(venv: str, exe: str) -> str:
    path = tools_dir() / venv / "bin" / exe
    assert path.is_file(), f"{path} missing after scripts/install-plan-tools.sh"
    return str(path)


@pytest.fixture(scope="module")
def change(tmp_path_factory: pytest.TempPathFactory) -> Planned:
    return planned(tmp_path_factory.mktemp("tools-change"), CHANGE)


@pytest.fixture(scope="module")
def last_owners(tmp_path_factory: pytest.TempPathFactory) -> Planned:
    # min_admins 0: accessops's own last-admin guard lets it through, so only the Rego pack stands in the way
    return planned(tmp_path_factory.mktemp("tools-owners"), LAST_OWNERS, settings="[guards]\nmin_admins = 0\n")


def both_files(p: Planned) -> list[Path]:
    assert p.plan_file.is_file(), "plan --out wrote no file"
    return [p.json_path, p.plan_file]


# --- checkov -----------------------------------------------------------------------


def checkov(path: Path) -> dict[str, Any]:
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false", "LOG_LEVEL": "ERROR"}
    done = subprocess.run(
        [tool("checkov", "checkov"), "-f", str(path), "--framework", "terraform_plan", "--external-checks-dir", str(CHECKS),
         "--skip-download", "-o", "json"],
        capture_output=True, text=True, env=env, timeout=600,
    )
    assert done.returncode in (0, 1), done.stderr[-2000:]  # 1: some check failed
    report: dict[str, Any] = json.loads(done.stdout)
    return report


@pytest.mark.parametrize("which", [0, 1], ids=["plan-json", "saved-plan-file"])
def test_checkov_counts_every_resource_and_fails_exactly_on_new_owner_grants(change: Planned, which: int) -> None:
    report = checkov(both_files(change)[which])
    assert report["check_type"] == "terraform_plan"
    changes = change.changes
    staying = [c for c in changes if c["change"]["actions"] != ["delete"]]  # deleted objects are in no plan's planned_values
    assert report["summary"]["resource_count"] == len(staying) > 0
    assert report["summary"]["parsing_errors"] == 0
    failed = {r["resource"] for r in report["results"]["failed_checks"] if r["check_id"] == "CKV_AO_1"}
    passed = {r["resource"] for r in report["results"]["passed_checks"] if r["check_id"] == "CKV_AO_1"}
    assert failed == NEW_OWNERS
    memberships = {c["address"] for c in staying if c["type"] in ("accessops_member", "accessops_workspace_member", "accessops_space_member")}
    assert failed | passed == memberships  # the check saw every membership that stays, olivia and marcus (Owners already) pass
    assert 'accessops_member.acme["olivia@acme.test"]' in passed


def test_checkov_finds_no_new_owner_when_there_is_none(last_owners: Planned) -> None:
    report = checkov(last_owners.plan_file)
    assert not [r for r in report["results"]["failed_checks"] if r["check_id"] == "CKV_AO_1"]
    assert report["summary"]["resource_count"] == len(last_owners.changes)  # nothing deleted: every change is counted


# --- terraform-compliance ------------------------------------------------------------


def compliance(path: Path) -> subprocess.CompletedProcess[str]:
    # no terraform binary on the PATH: the plan is JSON already, terraform-compliance must not need one
    path_dirs = [d for d in os.environ.get("PATH", "").split(os.pathsep) if d and not (Path(d) / "terraform").exists()]
    env = {**os.environ, "PATH": os.pathsep.join(path_dirs)}
    assert shutil.which("terraform", path=env["PATH"]) is None
    return subprocess.run(
        [tool("terraform-compliance", "terraform-compliance"), "-p", str(path), "-f", str(FEATURES), "--no-ansi"],
        capture_output=True, text=True, timeout=600, cwd=path.parent, env=env,
    )


@pytest.mark.parametrize("which", [0, 1], ids=["plan-json", "saved-plan-file"])
def test_terraform_compliance_runs_the_feature_and_fails_on_each_new_owner(change: Planned, which: int) -> None:
    done = compliance(both_files(change)[which])
    out = done.stdout + done.stderr
    assert "not a valid" not in out and "FATAL" not in out, out[-2000:]
    assert done.returncode == 1, out[-2000:]
    assert "3 scenarios (1 passed, 2 failed)" in out, out[-2000:]
    flagged = {line.split(" in ", 1)[1].split(" resource ", 1)[0] for line in out.splitlines() if "Failure: role property in" in line}
    assert flagged == NEW_OWNERS


def test_terraform_compliance_passes_a_plan_without_new_owners(last_owners: Planned) -> None:
    done = compliance(last_owners.plan_file)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-2000:]
    # nobody is created, so "nobody joins as Owner" has nothing to look at and is skipped
    assert "3 scenarios (2 passed, 1 skipped)" in out, out[-2000:]


# --- Rego (regopy) ---------------------------------------------------------------------


def rego(path: Path) -> dict[str, list[str]]:
    """``data.main.deny`` and ``warn`` for one file, as conftest would evaluate them.

    The messages hold no double quotes: regopy 1.5.2 prints strings without
    escaping them, so its own Output could not parse an address back."""
    interpreter = regopy.Interpreter()
    interpreter.add_module("accessops", REGO.read_text())
    interpreter.set_input(json.loads(path.read_text()))
    out = interpreter.query("deny = data.main.deny; warn = data.main.warn; planned = count(data.main.planned)")
    bindings = out.results[0].bindings
    assert bindings["planned"] > 0, "the pack found no resources: it would pass vacuously"
    return {"deny": sorted(bindings["deny"]), "warn": sorted(bindings["warn"])}


@pytest.mark.parametrize("which", [0, 1], ids=["plan-json", "saved-plan-file"])
def test_rego_denies_billing_full_outside_finance_and_warns_on_new_owners(change: Planned, which: int) -> None:
    found = rego(both_files(change)[which])
    assert found["deny"] == ["workspace acme/crm: bo@acme.test gets Billing: Full but is not in team finance"]  # fiona, in finance, keeps hers
    assert found["warn"] == ["organization acme: bo@acme.test is granted Owner", "organization acme: dan@acme.test is granted Owner"]


@pytest.mark.parametrize("which", [0, 1], ids=["plan-json", "saved-plan-file"])
def test_rego_denies_removing_the_last_owners(last_owners: Planned, which: int) -> None:
    found = rego(both_files(last_owners)[which])
    assert found["deny"] == ["organization acme: the plan removes its last Owner(s): marcus@acme.test, olivia@acme.test"]
    assert found["warn"] == []


def test_rego_passes_a_plan_that_keeps_owners_and_billing_in_finance(tmp_path: Path) -> None:
    bo_full = "{email: bo@acme.test, role: Editor, sections: {Billing: Full}}"
    assert bo_full in CHANGE
    p = planned(tmp_path, CHANGE.replace(bo_full, "{email: bo@acme.test, role: Editor, sections: {Billing: View only}}"))
    assert rego(p.plan_file)["deny"] == []
