"""explain follows what the target enforces: left-out actions, undeclared tables and fields, invitations, empty targets.

The Directus side of each rule is proved against a real Directus in
``tests/conformance/test_explain_probe.py``; these are the engine, planner
and CLI halves, on the local reference adapter and on resource maps.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from access_state import State

from accessops.access.delta import plan_access_delta
from accessops.access.engine import AccessEngine
from accessops.cli import main
from accessops.cli.cmd_explain import overlay_live
from accessops.manifest.loader import load
from accessops.manifest.profiles import load_profile
from accessops.model.compile import compile_model
from accessops.model.resource import Resource
from accessops.plan.change import Action, Change
from accessops.plan.planner import make_plan

ORG = """\
apiVersion: accessops/v1
kind: Organization
metadata: {name: acme}
spec:
  profile: workspace-roles
  members:
    - {email: ada@acme.test, role: Admin}
    - {email: bo@acme.test, role: Member}
  custom_roles: [{name: support}]
---
apiVersion: accessops/v1
kind: Workspace
metadata: {name: crm}
spec:
  organization: acme
  members:
    - {email: ada@acme.test, role: Admin}
    - {email: bo@acme.test, role: Editor}
  tables:
    - {name: customers, %s}
"""


def compiled(tmp_path: Path, table: str):
    (tmp_path / "org.yaml").write_text(ORG % table)
    return compile_model(load([tmp_path]))


def res(type_: str, key: str, **attrs: object) -> Resource:
    return Resource(type_, key, dict(attrs))


# --- item 2: an action left out is unrestricted, and that is managed ------------------------


def test_a_left_out_action_lifts_a_restriction_found_live(tmp_path: Path) -> None:
    """docs/manifests.md: 'Table actions and field read left out are unrestricted' — so plan removes a live restriction."""
    desired = compiled(tmp_path, "read: [Editor]")
    table = desired.resources['table_permission["acme/crm/customers"]']
    assert table.attrs == {"read": ["Editor"], "create": None, "edit": None, "delete": None}
    live = {a: r for a, r in desired.resources.items()}
    live[table.address] = res("table_permission", table.key, read=["Editor"], create=[], edit=["support"])
    changes = make_plan(desired, live).pending
    assert [(c.address, c.action) for c in changes] == [(table.address, Action.UPDATE)]
    assert changes[0].after == {"read": ["Editor"], "create": None, "edit": None, "delete": None}


def test_unrestricted_live_reads_as_no_change(tmp_path: Path) -> None:
    desired = compiled(tmp_path, "read: [Editor]")
    live = dict(desired.resources)
    live['table_permission["acme/crm/customers"]'] = res("table_permission", "acme/crm/customers", read=["Editor"])
    assert make_plan(desired, live).pending == []


def test_local_enforces_unrestricted_after_apply(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The local reference: restrict edit, then leave it out; the tenant ends unrestricted and explain agrees with --live."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ACCESSOPS_TARGET", raising=False)
    (tmp_path / "org.yaml").write_text(ORG % "edit: [support]")
    assert main(["apply", "--auto-approve"]) == 0
    (tmp_path / "org.yaml").write_text(ORG % "read: [Editor]")
    assert main(["apply", "--auto-approve"]) == 0
    capsys.readouterr()
    assert main(["plan", "--detailed-exitcode"]) == 0
    capsys.readouterr()
    assert main(["explain", "bo"]) == 0
    assert "edit crm/customers: allowed: table edit is unrestricted" in capsys.readouterr().out
    # live, bo has not accepted the invitation: configured, not yet effective (seed 001)
    assert main(["explain", "bo", "--live"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if "edit crm/customers" in x)
    assert line.strip().startswith("edit crm/customers: denied (allowed once they accept): bo is invited")
    assert "allowed once they accept: table edit is unrestricted" in line


# --- item 4: undeclared tables and fields are answered from live state -------------------------


def live_with_notes() -> dict[str, Resource]:
    state = State(profile="workspace-roles").member("ada@acme.test", "Admin").member("bo@acme.test", "Member")
    state.workspace("crm").ws_member("crm", "ada@acme.test", "Admin").ws_member("crm", "bo@acme.test", "Editor")
    state.table("crm", "customers", read=["Editor"])
    resources = dict(state.resources)
    for r in (
        res("table", "acme/crm/notes", fields={"id": None, "title": None}),
        res("table", "acme/crm/customers", fields={"id": None, "name": None, "secret": ["Viewer"]}),
    ):
        resources[r.address] = r
    return resources


def engine_of(resources: dict[str, Resource]) -> AccessEngine:
    return AccessEngine(resources, {"acme": load_profile("workspace-roles")})


def test_an_undeclared_table_is_admin_only_and_undeclared_fields_follow_live_readers() -> None:
    engine = engine_of(live_with_notes())
    who = {c.member: c for c in engine.who_can("read", "crm/notes")}
    assert who["ada@acme.test"].allowed and not who["bo@acme.test"].allowed
    assert "table notes is not declared" in who["bo@acme.test"].reasons[0]
    assert engine.check("acme", "bo@acme.test", "read", "crm/customers/name").allowed  # readable with the table
    secret = engine.check("acme", "bo@acme.test", "read", "crm/customers/secret")
    assert not secret.allowed and "only [Viewer] read it" in secret.reasons[0]
    assert "read crm/notes/title" in {c.name for c in engine.explain("ada@acme.test")}


def test_explain_on_manifests_takes_undeclared_tables_and_invitations_from_live(tmp_path: Path) -> None:
    desired = compiled(tmp_path, "read: [Editor]").resources
    live = live_with_notes()
    live['member["acme/bo@acme.test"]'] = res("member", "acme/bo@acme.test", role="Member", status="invited")
    merged = overlay_live(desired, live)
    assert 'table["acme/crm/notes"]' in merged
    assert merged['member["acme/bo@acme.test"]'].attrs["status"] == "invited"
    engine = engine_of(merged)
    bo = engine.check("acme", "bo@acme.test", "read", "crm/customers")
    assert (bo.allowed, bo.configured) == (False, True)
    assert bo.line().startswith("read crm/customers: denied (allowed once they accept): bo is invited")


# --- item 5: deleting an undeclared collection's permissions leaves the Admin's access ----------


def test_the_delta_keeps_a_workspace_admin_on_an_undeclared_collection() -> None:
    live = live_with_notes()
    rows = res("table_permission", "acme/crm/notes", read=["Editor"], create=[], edit=[], delete=[])
    live[rows.address] = rows
    delta = plan_access_delta({}, live, [Change(Action.DELETE, rows.type, rows.key, dict(rows.attrs), None)])
    assert [(e["member"], [c["capability"] for c in e["lost"]]) for e in delta] == [
        ("bo@acme.test", ["export crm/notes", "read crm/notes", "read crm/notes/id", "read crm/notes/title"])
    ]


# --- the empty-target guard -------------------------------------------------------------------


def test_a_target_that_lost_everything_applied_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ACCESSOPS_TARGET", raising=False)
    (tmp_path / "org.yaml").write_text(ORG % "read: [Editor]")
    assert main(["apply", "--auto-approve"]) == 0
    (tmp_path / ".accessops" / "tenant.db").unlink()  # e.g. a tenant path that moved
    capsys.readouterr()
    assert main(["plan"]) == 3
    err = capsys.readouterr().err
    assert "target looks empty: wrong URL?" in err and "none of them" in err
    assert main(["plan", "--state", str(tmp_path / "fresh.db"), "--detailed-exitcode"]) == 2  # a fresh state starts over


# --- a superuser the target makes outside accessops ---------------------------------------------


def test_a_superuser_outside_accessops_is_allowed_in_workspaces_but_not_given_org_roles() -> None:
    resources = live_with_notes()
    root = res("member", "acme/root@acme.test", role="Member", status="active", superuser=True)
    resources[root.address] = root
    engine = engine_of(resources)
    notes = engine.check("acme", "root@acme.test", "delete", "crm/notes")
    assert notes.allowed and "admin access in the target that accessops does not manage" in notes.reasons[0]
    assert not engine.check("acme", "root@acme.test", "admin", "acme").allowed  # the org role stays what git says
    assert engine.allowed("acme", "root@acme.test") == {c.name for c in engine.capabilities("acme", "root@acme.test") if c.allowed}


def test_the_empty_target_guard_counts_only_the_organizations_planned() -> None:
    from accessops.errors import RefusedError
    from accessops.plan.empty_target import check_not_empty

    applied = {r.address: r for r in (res("member", "acme/ada@acme.test", role="Admin"),)}
    check_not_empty({}, applied, "local:t.db", ["globex"])  # another organization: nothing to compare
    check_not_empty({}, {}, "local:t.db", ["acme"])  # nothing applied yet
    with pytest.raises(RefusedError, match="target looks empty: wrong URL"):
        check_not_empty({}, applied, "local:t.db", ["acme"])


def test_who_can_lists_invited_members_as_allowed_once_they_accept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ACCESSOPS_TARGET", raising=False)
    (tmp_path / "org.yaml").write_text(ORG % "read: [Editor]")
    assert main(["apply", "--auto-approve"]) == 0  # local creates members invited
    capsys.readouterr()
    assert main(["who-can", "read", "crm/customers", "--live"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "read crm/customers in acme: 0 of 2 member(s), 2 more once they accept"
    assert any(line.startswith("  bo@acme.test: denied (allowed once they accept): bo is invited") for line in out)
    assert main(["who-can", "read", "crm/customers", "--live", "--format", "json"]) == 0
    import json

    members = json.loads(capsys.readouterr().out)["members"]
    assert {(m["member"], m["allowed"], m["configured"]) for m in members} == {("ada@acme.test", False, True), ("bo@acme.test", False, True)}
