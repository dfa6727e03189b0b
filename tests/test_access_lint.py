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
