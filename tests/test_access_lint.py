"""Built-in lint rules: one table-driven test per code, and raising a code to an error."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from accessops.access.lint import lint
from accessops.cli import main

from access_state import State


def codes(state: State, errors: tuple[str, ...] = ()) -> list[tuple[str, str, str]]:
    return [(w.code, w.subject, w.level) for w in lint(state.resources, state.profiles(), errors)]


def test_lint_rules_table() -> None:
    s = State().member("o@a.test", "Owner").member("bo@a.test").member("blank@a.test").member("wide@a.test")
    s.matrix("delete_teams", "Admin").matrix("delete_organization", "Owner")
    s.custom_role("unused").custom_role("support").workspace("crm").table("crm", "t", read=["support"])
    s.ws_member("crm", "bo@a.test", "None", ["support"]).ws_member("crm", "blank@a.test", "None", ["unused"])
    s.ws_member("crm", "wide@a.test", "Viewer", sections={"General": "Full", "Integrations": "Full", "Members": "Full", "Billing": "Full"})
    rows = [
        ("AO101", 'org_permission["acme/delete_teams"]'),
        ("AO102", 'custom_role["acme/unused"]'),
        ("AO103", 'workspace_member["acme/crm/blank@a.test"]'),
        ("AO104", 'workspace_member["acme/crm/wide@a.test"]'),
        ("AO105", 'organization["acme"]'),  # 14 of the 16 matrix keys unassigned
    ]
    found = codes(s)
    for code, subject in rows:
        assert (code, subject, "warning") in found
    assert len(found) == len(rows)  # delete_organization Owner-only, support used, bo not blank


def test_a_code_can_be_raised_to_an_error() -> None:
    s = State().custom_role("unused")
    assert codes(s, ("AO102",)) == [("AO102", 'custom_role["acme/unused"]', "error")]


def test_validate_fails_on_a_raised_lint_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(Path(__file__).parent / "fixtures" / "access" / "policy-holds" / "org.yaml", tmp_path / "org.yaml")
    (tmp_path / "org.yaml").write_text((tmp_path / "org.yaml").read_text().replace("    - {name: delivery}", "    - {name: delivery}\n    - {name: ghost}"))
    assert main(["validate", str(tmp_path)]) == 0
    assert "warning: AO102 unused-custom-role" in capsys.readouterr().err
    (tmp_path / "accessops.toml").write_text('[lint]\nerrors = ["AO102"]\n')
    assert main(["validate", str(tmp_path)]) == 1
    assert "error: AO102 unused-custom-role" in capsys.readouterr().err


WARNED = """apiVersion: accessops/v1
kind: Organization
metadata: {name: acme}
spec:
  profile: union
  members:
    - {email: o@acme.test, role: Owner}
    - {email: blank@acme.test}
    - {email: wide@acme.test}
  custom_roles: [{name: ghost}]
  permissions: {delete_teams: Admin}
---
apiVersion: accessops/v1
kind: Workspace
metadata: {name: crm}
spec:
  organization: acme
  members:
    - {email: blank@acme.test, role: None, custom_roles: [ghost]}
    - {email: wide@acme.test, role: Viewer, sections: {General: Full, Members: Full, Billing: Full}}
"""


def test_validate_json_carries_warnings_that_are_not_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 15: ``validate --format json`` used to drop AO101-AO104 unless raised to errors."""
    import json

    (tmp_path / "org.yaml").write_text(WARNED)
    capsys.readouterr()
    assert main(["validate", "--format", "json", str(tmp_path)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is True
    assert {w["code"] for w in report["lint"]} >= {"AO101", "AO102", "AO103", "AO104", "AO105"}
    assert all(w["level"] == "warning" for w in report["lint"]) and report["warnings"] == len(report["lint"])
    (tmp_path / "accessops.toml").write_text('[lint]\nerrors = ["AO102"]\n')
    assert main(["validate", "--format", "json", str(tmp_path)]) == 1
    report = json.loads(capsys.readouterr().out)
    levels = {w["code"]: w["level"] for w in report["lint"]}
    assert levels["AO102"] == "error" and levels["AO101"] == "warning"
