"""The planner: attribute diffs, managed scopes, cascades, ordering, modes."""

from __future__ import annotations

from pathlib import Path

from fakes import MemoryAdapter, apply_all

from accessops.manifest.loader import load
from accessops.model.compile import compile_model
from accessops.model.resource import Resource
from accessops.plan.change import Action
from accessops.plan.planner import PlanOptions, make_plan

ORG = """\
apiVersion: accessops/v1
kind: Organization
metadata: {name: acme}
spec:
  profile: union
  members:
    - {email: ada@acme.test, role: Owner}
    - {email: bo@acme.test, role: Member}
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
    - {email: bo@acme.test, role: Editor, custom_roles: [support]}
  tables:
    - {name: customers, edit: [support], fields: [{name: address, read: [support]}]}
"""


def compiled(tmp_path: Path, text: str = ORG):
    (tmp_path / "org.yaml").write_text(text)
    return compile_model(load([tmp_path]))


def actions(plan) -> dict[str, str]:
    return {c.address: c.action.value for c in plan.pending}


def test_create_everything_then_nothing(tmp_path: Path) -> None:
    desired = compiled(tmp_path)
    live = MemoryAdapter()
    plan = make_plan(desired, live.read(["acme"]))
    assert set(actions(plan).values()) == {"create"}
    apply_all(live, plan.pending)
    assert make_plan(desired, live.read(["acme"])).pending == []


def test_creates_follow_dependencies_and_deletes_run_in_reverse(tmp_path: Path) -> None:
    plan = make_plan(compiled(tmp_path), {})
    order = [c.address for c in plan.pending]
    assert order.index('custom_role["acme/support"]') < order.index('workspace_member["acme/crm/bo@acme.test"]')
    assert order.index('team["acme/platform"]') < order.index('team_member["acme/platform/ada@acme.test"]')
    live = MemoryAdapter()
    apply_all(live, plan.pending)
    no_support = (
        ORG.replace("custom_roles: [{name: support}]", "custom_roles: []")
        .replace(", custom_roles: [support]", ", custom_roles: []")
        .replace("edit: [support], fields: [{name: address, read: [support]}]", "fields: []")
    )
    plan2 = make_plan(compiled(tmp_path, no_support), live.read(["acme"]))
    assert [(c.address, c.action) for c in plan2.pending] == [
        ('workspace_member["acme/crm/bo@acme.test"]', Action.UPDATE),  # revoke the grant first
        ('table_permission["acme/crm/customers"]', Action.UPDATE),  # edit left out: unrestricted again
        ('field_permission["acme/crm/customers/address"]', Action.DELETE),
        ('custom_role["acme/support"]', Action.DELETE),  # then the role
    ]


def test_left_out_field_is_unmanaged_never_emptied(tmp_path: Path) -> None:
    live = MemoryAdapter()
    apply_all(live, make_plan(compiled(tmp_path), {}).pending)
    # a member edited live gains a name; the manifest does not mention names
    addr = 'member["acme/bo@acme.test"]'
    live.resources[addr] = Resource("member", "acme/bo@acme.test", {"role": "Member", "name": "Bo"})
    assert make_plan(compiled(tmp_path), live.read(["acme"])).pending == []


def test_left_out_collection_is_unmanaged(tmp_path: Path) -> None:
    live = MemoryAdapter()
    apply_all(live, make_plan(compiled(tmp_path), {}).pending)
    without_teams = ORG.replace("  teams:\n    - {name: platform, members: [ada@acme.test, bo@acme.test]}\n", "")
    assert actions(make_plan(compiled(tmp_path, without_teams), live.read(["acme"]))) == {}


def test_removed_member_leaves_every_membership(tmp_path: Path) -> None:
    live = MemoryAdapter()
    apply_all(live, make_plan(compiled(tmp_path), {}).pending)
    no_bo = ORG.replace("    - {email: bo@acme.test, role: Member}\n", "").replace(", bo@acme.test]", "]").replace(
        "  members:\n    - {email: bo@acme.test, role: Editor, custom_roles: [support]}\n", "  members: []\n"
    )
    got = actions(make_plan(compiled(tmp_path, no_bo), live.read(["acme"])))
    assert got == {
        'member["acme/bo@acme.test"]': "delete",
        'team_member["acme/platform/bo@acme.test"]': "delete",
        'workspace_member["acme/crm/bo@acme.test"]': "delete",
    }


def test_undeclared_workspace_is_deleted_with_its_children(tmp_path: Path) -> None:
    live = MemoryAdapter()
    apply_all(live, make_plan(compiled(tmp_path), {}).pending)
    org_only = ORG.split("---")[0]
    got = actions(make_plan(compiled(tmp_path, org_only), live.read(["acme"])))
    assert got == {
        'workspace["acme/crm"]': "delete",
        'workspace_member["acme/crm/bo@acme.test"]': "delete",
        'table_permission["acme/crm/customers"]': "delete",
        'field_permission["acme/crm/customers/address"]': "delete",
    }
    plan = make_plan(compiled(tmp_path, org_only), live.read(["acme"]))
    assert plan.pending[-1].address == 'workspace["acme/crm"]'  # children first


def test_kind_change_is_a_replace(tmp_path: Path) -> None:
    space = "---\napiVersion: accessops/v1\nkind: Space\nmetadata: {name: road}\nspec: {organization: acme, kind: project}\n"
    live = MemoryAdapter()
    apply_all(live, make_plan(compiled(tmp_path, ORG + space), {}).pending)
    plan = make_plan(compiled(tmp_path, ORG + space.replace("project", "drive")), live.read(["acme"]))
    assert [(c.address, c.action) for c in plan.pending] == [('space["acme/road"]', Action.REPLACE)]
    assert plan.counts() == {"add": 1, "change": 0, "destroy": 1}


def test_replace_recreates_declared_children_and_drops_the_rest(tmp_path: Path) -> None:
    space = (
        "---\napiVersion: accessops/v1\nkind: Space\nmetadata: {name: road}\n"
        "spec: {organization: acme, kind: project, members: [{email: ada@acme.test}]}\n"
    )
    live = MemoryAdapter()
    apply_all(live, make_plan(compiled(tmp_path, ORG + space), {}).pending)
    live.resources['space_member["acme/road/bo@acme.test"]'] = Resource("space_member", "acme/road/bo@acme.test", {})
    plan = make_plan(compiled(tmp_path, ORG + space.replace("project", "drive")), live.read(["acme"]))
    assert [(c.address, c.action) for c in plan.pending] == [
        ('space["acme/road"]', Action.REPLACE),
        ('space_member["acme/road/ada@acme.test"]', Action.CREATE),
    ]


def test_additive_mode_never_deletes(tmp_path: Path) -> None:
    live = MemoryAdapter()
    apply_all(live, make_plan(compiled(tmp_path), {}).pending)
    live.resources['member["acme/cy@acme.test"]'] = Resource("member", "acme/cy@acme.test", {"role": "Member"})
    assert actions(make_plan(compiled(tmp_path), live.read(["acme"]))) == {'member["acme/cy@acme.test"]': "delete"}
    assert make_plan(compiled(tmp_path), live.read(["acme"]), PlanOptions(additive=frozenset({"member"}))).pending == []


def test_ignore_patterns_are_never_touched(tmp_path: Path) -> None:
    live = MemoryAdapter()
    apply_all(live, make_plan(compiled(tmp_path), {}).pending)
    live.resources['member["acme/x@contractor.test"]'] = Resource("member", "acme/x@contractor.test", {"role": "Member"})
    live.resources['member["acme/bo@acme.test"]'] = Resource("member", "acme/bo@acme.test", {"role": "Owner"})
    plan = make_plan(compiled(tmp_path), live.read(["acme"]), PlanOptions(ignore=("*@contractor.test", "bo@*")))
    assert plan.pending == []


def test_changes_to_invited_member_are_pending_acceptance(tmp_path: Path) -> None:
    live = MemoryAdapter()
    apply_all(live, make_plan(compiled(tmp_path), {}).pending)  # members are created invited
    promoted = ORG.replace("{email: bo@acme.test, role: Member}", "{email: bo@acme.test, role: Admin}")
    (change,) = make_plan(compiled(tmp_path, promoted), live.read(["acme"])).pending
    assert change.flags == ("pending_acceptance",)
    assert "pending acceptance" in change.notes[0]


def test_fingerprints_cover_every_touched_object(tmp_path: Path) -> None:
    plan = make_plan(compiled(tmp_path), {})
    assert set(plan.fingerprints) == {c.address for c in plan.pending}
