"""The local adapter reads back exactly what compile produced and apply wrote."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accessops.adapters.base import ItemGoneError, Target
from accessops.adapters.local import LocalAdapter
from accessops.errors import TargetError
from accessops.manifest.loader import load
from accessops.model.compile import compile_model
from accessops.model.resource import MANAGED_TYPES, RESOURCE_TYPES, ResourceMap
from accessops.plan.change import Action, Change

EXAMPLES = sorted(p for p in (Path(__file__).parent.parent / "examples" / "policies").iterdir() if p.is_dir())
LIVE_ONLY = RESOURCE_TYPES["member"].readonly


def open_tenant(tmp_path: Path) -> LocalAdapter:
    """A fresh tenant in a folder that does not exist yet (parents are created)."""
    return LocalAdapter(Target.parse(f"local:{tmp_path}/new/dir/tenant.db"))


def create_all(adapter: LocalAdapter, resources: ResourceMap) -> None:
    """Create every resource in plan order."""
    changes = [Change(Action.CREATE, r.type, r.key, None, dict(r.attrs)) for r in resources.values()]
    for change in sorted(changes, key=Change.sort_key):
        adapter.apply(change)


def managed(attrs: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in attrs.items() if k not in LIVE_ONLY}


def seed(adapter: LocalAdapter) -> None:
    """A small org with one of every resource type."""
    for type_, key, attrs in [
        ("organization", "acme", {"profile": "union", "seats": 10}),
        ("custom_role", "acme/support", {"description": "Support desk"}),
        ("org_permission", "acme/delete_organization", {"role": "Owner"}),
        ("member", "acme/ada@acme.test", {"role": "Owner", "global_admin": True, "name": "Ada"}),
        ("member", "acme/bo@acme.test", {"role": "Member"}),
        ("team", "acme/platform", {"description": "Platform"}),
        ("team_member", "acme/platform/bo@acme.test", {}),
        ("workspace", "acme/crm", {"profile": "union"}),
        ("workspace_member", "acme/crm/bo@acme.test", {"role": "Editor", "custom_roles": ["support"], "sections": {"Billing": "None", "General": "Full"}}),
        ("app_permission", "acme/crm/desk", {"allow": ["Editor", "support"]}),
        ("table_permission", "acme/crm/customers", {"read": ["Viewer", "support"], "delete": []}),
        ("field_permission", "acme/crm/customers/address", {"read": ["support"]}),
        ("space_type", "acme/client-project", {"kind": "project"}),
        ("space_type_role", "acme/client-project/reviewer", {"permissions": ["archive_space", "update_space"]}),
        ("space", "acme/roadmap", {"kind": "project", "type": "client-project", "private": False, "auto_join": True}),
        ("space_member", "acme/roadmap/bo@acme.test", {"role": "reviewer", "features": {"AI_SEARCH": "Full"}, "settings": {"SETTINGS_GENERAL": "View only"}}),
    ]:
        adapter.apply(Change(Action.CREATE, type_, key, None, attrs))


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_every_example_reads_back_as_compiled(example: Path, tmp_path: Path) -> None:
    desired = compile_model(load([example])).resources
    with open_tenant(tmp_path) as adapter:
        create_all(adapter, desired)
        live = adapter.read(sorted({r.org for r in desired.values()}))
    assert set(live) == set(desired)
    for addr, want in desired.items():
        have = managed(live[addr].attrs)
        assert {k: have.get(k) for k in want.attrs} == want.attrs, addr


def test_every_resource_type_is_supported_and_round_trips(tmp_path: Path) -> None:
    with open_tenant(tmp_path) as adapter:
        seed(adapter)
        live = adapter.read(["acme"])
    assert {r.type for r in live.values()} == MANAGED_TYPES == set(LocalAdapter.supports)
    assert live['table_permission["acme/crm/customers"]'].attrs == {"read": ["Viewer", "support"], "delete": []}
    assert live['app_permission["acme/crm/desk"]'].attrs == {"allow": ["Editor", "support"]}
    assert live['space_member["acme/roadmap/bo@acme.test"]'].attrs == {
        "role": "reviewer",
        "features": {"AI_SEARCH": "Full"},
        "settings": {"SETTINGS_GENERAL": "View only"},
    }
    ada = live['member["acme/ada@acme.test"]'].attrs
    assert ada["global_admin"] is True and ada["status"] == "invited" and "joined_at" not in ada
    assert ada["invited_at"].endswith("Z")


def test_unmanaged_attrs_stay_absent_and_empty_collections_read_as_empty(tmp_path: Path) -> None:
    with open_tenant(tmp_path) as adapter:
        seed(adapter)
        adapter.apply(Change(Action.CREATE, "space", "acme/bare", None, {}))
        adapter.apply(Change(Action.CREATE, "workspace_member", "acme/crm/ada@acme.test", None, {}))
        adapter.apply(Change(Action.CREATE, "table_permission", "acme/crm/open", None, {}))
        live = adapter.read(["acme"])
    assert live['space["acme/bare"]'].attrs == {}
    assert live['workspace_member["acme/crm/ada@acme.test"]'].attrs == {"custom_roles": [], "sections": {}}
    assert live['table_permission["acme/crm/open"]'].attrs == {}


def test_update_sets_only_the_attrs_it_names(tmp_path: Path) -> None:
    with open_tenant(tmp_path) as adapter:
        seed(adapter)
        before = adapter.read(["acme"])
        adapter.apply(Change(Action.UPDATE, "workspace_member", "acme/crm/bo@acme.test", None, {"sections": {"Members": "View only"}}))
        adapter.apply(Change(Action.UPDATE, "table_permission", "acme/crm/customers", None, {"delete": None, "edit": ["Editor"]}))
        # the planner's ``after`` carries live-only member attributes; they are never written
        adapter.apply(Change(Action.UPDATE, "member", "acme/bo@acme.test", None, {"role": "Admin", "status": "active"}))
        after = adapter.read(["acme"])
    assert after['workspace_member["acme/crm/bo@acme.test"]'].attrs == {"role": "Editor", "custom_roles": ["support"], "sections": {"Members": "View only"}}
    assert after['table_permission["acme/crm/customers"]'].attrs == {"read": ["Viewer", "support"], "edit": ["Editor"]}
    bo = after['member["acme/bo@acme.test"]'].attrs
    assert bo["role"] == "Admin" and bo["status"] == "invited"
    assert {a for a in after if after[a] != before[a]} == {
        'workspace_member["acme/crm/bo@acme.test"]',
        'table_permission["acme/crm/customers"]',
        'member["acme/bo@acme.test"]',
    }


def test_deleting_a_member_removes_every_membership(tmp_path: Path) -> None:
    with open_tenant(tmp_path) as adapter:
        seed(adapter)
        adapter.apply(Change(Action.DELETE, "member", "acme/bo@acme.test", {}, None))
        live = adapter.read(["acme"])
    assert not [a for a in live if "bo@acme.test" in a]


def test_deleting_a_custom_role_removes_its_assignments_and_associations(tmp_path: Path) -> None:
    with open_tenant(tmp_path) as adapter:
        seed(adapter)
        adapter.apply(Change(Action.DELETE, "custom_role", "acme/support", {}, None))
        live = adapter.read(["acme"])
    assert live['workspace_member["acme/crm/bo@acme.test"]'].attrs["custom_roles"] == []
    assert live['app_permission["acme/crm/desk"]'].attrs == {"allow": ["Editor"]}
    assert live['table_permission["acme/crm/customers"]'].attrs == {"read": ["Viewer"], "delete": []}
    assert live['field_permission["acme/crm/customers/address"]'].attrs == {"read": []}


def test_a_custom_role_created_later_owns_the_role_lists_that_named_it(tmp_path: Path) -> None:
    with open_tenant(tmp_path) as adapter:
        seed(adapter)
        adapter.apply(Change(Action.UPDATE, "app_permission", "acme/crm/desk", None, {"allow": ["auditor"]}))
        adapter.apply(Change(Action.CREATE, "custom_role", "acme/auditor", None, {}))
        adapter.apply(Change(Action.DELETE, "custom_role", "acme/auditor", {}, None))
        assert adapter.read(["acme"])['app_permission["acme/crm/desk"]'].attrs == {"allow": []}


def test_deleting_the_organization_removes_everything_in_it(tmp_path: Path) -> None:
    with open_tenant(tmp_path) as adapter:
        seed(adapter)
        adapter.apply(Change(Action.DELETE, "organization", "acme", {}, None))
        assert adapter.read(["acme"]) == {}
        counts = [adapter.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("members", "team_members", "space_member_scopes", "field_permission_roles")]
    assert counts == [0, 0, 0, 0]


def test_replace_recreates_the_object_without_what_it_owned(tmp_path: Path) -> None:
    with open_tenant(tmp_path) as adapter:
        seed(adapter)
        adapter.apply(Change(Action.REPLACE, "space", "acme/roadmap", {}, {"kind": "teamspace", "private": True}))
        live = adapter.read(["acme"])
    assert live['space["acme/roadmap"]'].attrs == {"kind": "teamspace", "private": True}
    assert 'space_member["acme/roadmap/bo@acme.test"]' not in live


@pytest.mark.parametrize("action", [Action.UPDATE, Action.DELETE])
def test_changing_a_vanished_object_raises_item_gone(action: Action, tmp_path: Path) -> None:
    with open_tenant(tmp_path) as adapter:
        seed(adapter)
        for type_, key in [("member", "acme/nobody@acme.test"), ("team_member", "acme/platform/ada@acme.test"), ("space_member", "acme/gone/bo@acme.test")]:
            with pytest.raises(ItemGoneError, match=key):
                adapter.apply(Change(action, type_, key, {}, {"role": "x"} if action is Action.UPDATE and type_ != "team_member" else {}))
        assert adapter.writes == 16  # the seed's; failed changes are not writes


def test_creating_twice_or_under_a_missing_parent_is_an_error(tmp_path: Path) -> None:
    with open_tenant(tmp_path) as adapter:
        seed(adapter)
        with pytest.raises(TargetError, match="already exists"):
            adapter.apply(Change(Action.CREATE, "team", "acme/platform", None, {}))
        for type_, key in (("team_member", "acme/platform/bo@acme.test"), ("member", "acme/bo@acme.test"), ("organization", "acme"),
                           ("workspace_member", "acme/crm/bo@acme.test"), ("org_permission", "acme/delete_organization")):
            with pytest.raises(TargetError, match=r"already exists in the local tenant"):  # every table is unique on its key
                adapter.apply(Change(Action.CREATE, type_, key, None, {}))
        with pytest.raises(TargetError, match="workspace 'nowhere' does not exist"):
            adapter.apply(Change(Action.CREATE, "app_permission", "acme/nowhere/desk", None, {}))


def test_a_membership_of_someone_unknown_invites_them_as_member(tmp_path: Path) -> None:
    with open_tenant(tmp_path) as adapter:
        seed(adapter)
        adapter.apply(Change(Action.CREATE, "workspace_member", "acme/crm/new@acme.test", None, {"role": "Viewer"}))
        member = adapter.read(["acme"])['member["acme/new@acme.test"]'].attrs
    assert member["role"] == "Member" and member["status"] == "invited"


def test_read_of_unknown_or_no_orgs_is_empty_and_other_orgs_are_not_read(tmp_path: Path) -> None:
    with open_tenant(tmp_path) as adapter:
        seed(adapter)
        adapter.apply(Change(Action.CREATE, "organization", "other", None, {"profile": "union"}))
        adapter.apply(Change(Action.CREATE, "member", "other/ada@acme.test", None, {}))
        assert adapter.read([]) == {} and adapter.read(["ghost"]) == {}
        assert set(adapter.read(["other"])) == {'organization["other"]', 'member["other/ada@acme.test"]'}
        assert adapter.organizations() == ["acme", "other"]


names = st.text(alphabet="abcdefgh-", min_size=1, max_size=8)
levels = st.sampled_from(["None", "View only", "Full"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    roles=st.lists(names, max_size=5),
    sections=st.dictionaries(names, levels, max_size=4),
    features=st.dictionaries(names, levels, max_size=4),
    private=st.one_of(st.none(), st.booleans()),
    allow=st.one_of(st.none(), st.lists(names, max_size=4)),
)
def test_any_attrs_read_back_normalised(
    tmp_path: Path, roles: list[str], sections: dict[str, str], features: dict[str, str], private: bool | None, allow: list[str] | None
) -> None:
    with open_tenant(tmp_path) as adapter:
        if adapter.organizations():  # hypothesis reuses tmp_path between examples
            adapter.apply(Change(Action.DELETE, "organization", "acme", {}, None))
        seed(adapter)
        for role in set(roles) - {"support"}:
            adapter.apply(Change(Action.CREATE, "custom_role", f"acme/{role}", None, {}))
        wm = {"custom_roles": roles, "sections": sections}
        adapter.apply(Change(Action.UPDATE, "workspace_member", "acme/crm/bo@acme.test", None, wm))
        adapter.apply(Change(Action.UPDATE, "space_member", "acme/roadmap/bo@acme.test", None, {"features": features}))
        adapter.apply(Change(Action.UPDATE, "space", "acme/roadmap", None, {"private": private}))
        adapter.apply(Change(Action.UPDATE, "app_permission", "acme/crm/desk", None, {"allow": allow}))
        live = adapter.read(["acme"])
    assert live['workspace_member["acme/crm/bo@acme.test"]'].attrs["custom_roles"] == sorted(set(roles))
    got = live['workspace_member["acme/crm/bo@acme.test"]'].attrs["sections"]
    assert got == dict(sorted(sections.items())) and list(got) == sorted(sections)
    assert live['space_member["acme/roadmap/bo@acme.test"]'].attrs["features"] == dict(sorted(features.items()))
    assert live['space["acme/roadmap"]'].attrs.get("private") == private
    assert live['app_permission["acme/crm/desk"]'].attrs.get("allow") == (None if allow is None else sorted(set(allow)))
