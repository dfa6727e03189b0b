"""The engine through the CLI on the local tenant: steps, stale plans, lock, export, drift, exit codes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from accessops.adapters.base import Target
from accessops.adapters.local import LocalAdapter
from accessops.apply.state import StateStore
from accessops.engine import lock_key
from accessops.cli import main

STEP1 = """\
apiVersion: accessops/v1
kind: Organization
metadata: {name: acme}
spec:
  profile: union
  seats: 10
  members:
    - {email: ada@acme.test, role: Owner}
    - {email: bo@acme.test, role: Member}
    - {email: cy@acme.test, role: Member}
  teams:
    - {name: platform, members: [ada@acme.test, bo@acme.test]}
  custom_roles: [{name: support}]
---
apiVersion: accessops/v1
kind: Workspace
metadata: {name: crm}
spec:
  organization: acme
  members:
    - {email: ada@acme.test, role: Admin}
    - {email: bo@acme.test, role: Editor, custom_roles: [support]}
  tables:
    - {name: customers, edit: [support], fields: [{name: address, read: [support]}]}
---
apiVersion: accessops/v1
kind: Space
metadata: {name: roadmap}
spec: {organization: acme, kind: project, private: true, members: [{email: ada@acme.test}]}
"""
# step 2 changes: bo becomes Viewer, cy joins the team, roadmap opens up
STEP2 = (
    STEP1.replace("{email: bo@acme.test, role: Editor, custom_roles: [support]}", "{email: bo@acme.test, role: Viewer, custom_roles: [support]}")
    .replace("members: [ada@acme.test, bo@acme.test]", "members: [ada@acme.test, bo@acme.test, cy@acme.test]")
    .replace("private: true", "private: false")
)
# step 3 removes: cy leaves the organization, the space goes
STEP3 = STEP2.replace("    - {email: cy@acme.test, role: Member}\n", "").replace(", cy@acme.test]", "]").split("---\napiVersion: accessops/v1\nkind: Space")[0]


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ACCESSOPS_TARGET", raising=False)
    (tmp_path / "policies").mkdir()
    return tmp_path


def write(repo: Path, text: str) -> None:
    (repo / "policies" / "org.yaml").write_text(text)


def live(repo: Path) -> dict[str, dict]:
    with LocalAdapter(Target.parse(f"local:{repo / '.accessops/tenant.db'}")) as adapter:
        return {a: r.attrs for a, r in adapter.read(["acme"]).items()}


def run(*argv: str) -> int:
    return main(list(argv))


def test_step1_create_step2_change_step3_remove(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, STEP1)
    assert run("apply", "policies", "--auto-approve") == 0
    state = live(repo)
    assert state['member["acme/bo@acme.test"]']["status"] == "invited"
    assert state['workspace_member["acme/crm/bo@acme.test"]']["role"] == "Editor"
    assert state['space["acme/roadmap"]']["private"] is True
    assert run("plan", "policies", "--detailed-exitcode") == 0

    write(repo, STEP2)
    assert run("plan", "policies", "--detailed-exitcode") == 2
    assert run("apply", "policies", "--auto-approve") == 0
    state = live(repo)
    assert state['workspace_member["acme/crm/bo@acme.test"]']["role"] == "Viewer"
    assert 'team_member["acme/platform/cy@acme.test"]' in state
    assert state['space["acme/roadmap"]']["private"] is False

    write(repo, STEP3)
    capsys.readouterr()
    assert run("apply", "policies", "--auto-approve") == 0
    out = capsys.readouterr().out
    assert "Apply complete! Resources: 0 added, 0 changed, 4 destroyed." in out
    state = live(repo)
    assert 'member["acme/cy@acme.test"]' not in state
    assert 'team_member["acme/platform/cy@acme.test"]' not in state
    assert not any(a.startswith("space") for a in state)
    assert run("plan", "policies", "--detailed-exitcode") == 0


def test_plan_json_is_terraform_shaped_and_text_ends_with_summary(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, STEP1)
    assert run("plan", "policies", "--format", "json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["format_version"]
    rc = data["resource_changes"][0]
    assert set(rc) >= {"address", "type", "name", "change"}
    assert set(rc["change"]) >= {"actions", "before", "after"}
    assert rc["change"]["actions"] == ["create"] and rc["change"]["before"] is None
    assert run("plan", "policies", "--no-color") == 0
    text = capsys.readouterr().out
    assert text.rstrip().endswith(f"Plan: {data['accessops']['summary']['add']} to add, 0 to change, 0 to destroy.")
    assert "\x1b[" not in text  # no colour off a terminal


def test_saved_plan_applies_exactly_and_stale_plan_is_refused(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, STEP1)
    assert run("apply", "policies", "--auto-approve") == 0
    write(repo, STEP2)
    assert run("plan", "policies", "--out", "plan.json") == 0
    assert run("show", "plan.json", "--format", "json") == 0
    # someone changes bo's workspace grant in the product after the plan was made
    with LocalAdapter(Target.parse("local:.accessops/tenant.db")) as adapter:
        from accessops.plan.change import Action, Change

        before = adapter.read(["acme"])['workspace_member["acme/crm/bo@acme.test"]'].attrs
        adapter.apply(Change(Action.UPDATE, "workspace_member", "acme/crm/bo@acme.test", before, {**before, "role": "Admin"}))
    snapshot = live(repo)
    capsys.readouterr()
    assert run("apply", "plan.json", "--auto-approve") == 3  # refused
    assert "stale" in capsys.readouterr().err
    assert live(repo) == snapshot  # nothing written


def test_saved_plan_checksum_protects_against_edits(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, STEP1)
    assert run("plan", "policies", "--out", "plan.json") == 0
    data = json.loads((repo / "plan.json").read_text())
    data["resource_changes"][0]["change"]["after"]["seats"] = 999  # the plan JSON is the file's top level
    (repo / "plan.json").write_text(json.dumps(data))
    assert run("apply", "plan.json", "--auto-approve") == 1
    assert "checksum" in capsys.readouterr().err


def test_lock_refuses_a_second_apply_and_names_the_holder(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, STEP1)
    assert run("plan", "policies") == 0  # creates the state store
    store = StateStore(repo / ".accessops/state.db")
    key = lock_key(Target.parse("local:./.accessops/tenant.db"))  # the canonical target: ./ or not, one lock
    store.acquire(key, "ci@runner-7")
    try:
        capsys.readouterr()
        assert run("apply", "policies", "--auto-approve") == 1
        assert "ci@runner-7" in capsys.readouterr().err
    finally:
        store.release(key)
        store.close()
    assert run("apply", "policies", "--auto-approve") == 0


def test_export_round_trips(repo: Path) -> None:
    write(repo, STEP1)
    assert run("apply", "policies", "--auto-approve") == 0
    assert run("export", "-o", "exported") == 0
    assert run("validate", "exported") == 0
    assert run("plan", "exported", "--detailed-exitcode") == 0


def test_drift_made_with_tenant_commands_is_found_and_classified(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, STEP1)
    assert run("apply", "policies", "--auto-approve") == 0
    assert run("drift", "policies") == 0
    assert run("tenant", "set-role", "bo@acme.test", "Admin", "--org", "acme") == 0  # behind git's back
    write(repo, STEP1.replace("{email: cy@acme.test, role: Member}", "{email: cy@acme.test, role: Admin}"))  # in git
    capsys.readouterr()
    assert run("drift", "policies", "--format", "json") == 2
    data = json.loads(capsys.readouterr().out)
    origins = {rc["accessops"]["address"]: rc["accessops"]["notes"][0] for rc in data["resource_changes"] if rc["change"]["actions"] != ["no-op"]}
    assert origins == {'member["acme/bo@acme.test"]': "changed live", 'member["acme/cy@acme.test"]': "changed in git"}
    assert [d["address"] for d in data["resource_drift"]] == ['accessops_member.acme["bo@acme.test"]']
    # both: git and the product changed the same member
    write(repo, STEP1.replace("{email: bo@acme.test, role: Member}", "{email: bo@acme.test, role: Billing}"))
    assert run("drift", "policies", "--format", "json") == 2
    data = json.loads(capsys.readouterr().out)
    assert {rc["accessops"]["address"]: rc["accessops"]["notes"][0] for rc in data["resource_changes"] if rc["change"]["actions"] != ["no-op"]} == {'member["acme/bo@acme.test"]': "changed in git and live"}


def test_exit_codes(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, STEP1)
    assert run("validate", "policies") == 0
    assert run("plan", "policies", "--detailed-exitcode") == 2  # changes
    assert run("apply", "policies") == 1  # no terminal and no --auto-approve
    assert "auto-approve" in capsys.readouterr().err
    write(repo, STEP1 + "---\nkind: Nope\n")
    assert run("plan", "policies") == 1  # invalid manifests
    write(repo, STEP1.replace("seats: 10", "seats: 2"))
    assert run("validate", "policies") == 1  # more declared members than seats
    write(repo, STEP1)
    assert run("plan", "policies", "--target", "nope:x") == 1  # unknown adapter
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1].startswith("error: ") and "Traceback" not in err


def test_verbose_reports_requests_and_writes(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, STEP1)
    capsys.readouterr()
    assert run("apply", "policies", "--auto-approve", "-v") == 0
    err = capsys.readouterr().err
    assert re.search(r"^local: \d+ request\(s\), 15 write\(s\)$", err, re.M), err


def test_no_manifests_is_an_error_not_an_empty_plan(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("plan", "policies") == 1
    assert "error: policies: no manifests found (*.yaml or *.yml)" in capsys.readouterr().err
