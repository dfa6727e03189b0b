"""The access delta: one case per kind of change, highlights, and no delta without changes."""

from __future__ import annotations

from typing import Any

from accessops.access.delta import access_delta, apply_changes, plan_access_delta, render_access_delta_text
from accessops.plan.change import Action, Change

from access_state import State


def base() -> State:
    s = State().member("o@a.test", "Owner").member("bo@a.test").custom_role("support").workspace("crm")
    s.ws_member("crm", "bo@a.test", "Viewer").table("crm", "customers", edit=["support"])
    return s.matrix("delete_organization", "Owner")


def change(action: Action, type_: str, key: str, before: dict[str, Any] | None, after: dict[str, Any] | None, flags: tuple[str, ...] = ()) -> Change:
    return Change(action, type_, key, before, after, flags=flags)


def entry(delta: list[dict[str, Any]], member: str) -> dict[str, Any]:
    return next(e for e in delta if e["member"] == member)


def test_no_resource_changes_has_no_delta() -> None:
    s = base()
    noop = change(Action.NOOP, "member", "acme/bo@a.test", {"role": "Member"}, {"role": "Member"})
    assert plan_access_delta(s.resources, s.resources, []) == []
    assert plan_access_delta(s.resources, s.resources, [noop]) == []


def test_member_role_change_highlights_owner_and_delete() -> None:
    s = base()
    c = change(Action.UPDATE, "member", "acme/bo@a.test", {"role": "Member"}, {"role": "Owner"})
    delta = plan_access_delta(s.resources, s.resources, [c], s.profiles())
    bo = entry(delta, "bo@a.test")
    gained = {g["capability"]: g["highlight"] for g in bo["gained"]}
    assert gained["delete_organization acme"] == "delete"
    assert gained["admin acme"] == "admin"
    assert gained["manage_billing acme"] == "billing"
    assert bo["lost"] == []
    assert [e["member"] for e in delta] == ["bo@a.test"]  # a member change touches only that member


def test_custom_role_grant_gains_table_edit() -> None:
    s = base()
    c = change(Action.UPDATE, "workspace_member", "acme/crm/bo@a.test", {"role": "Viewer"}, {"role": "Viewer", "custom_roles": ["support"]})
    bo = entry(plan_access_delta(s.resources, s.resources, [c], s.profiles()), "bo@a.test")
    assert {"capability": "edit crm/customers", "highlight": None} in bo["gained"]


def test_table_permission_change_affects_everyone_it_names() -> None:
    s = base().member("e@a.test").ws_member("crm", "e@a.test", "Editor")
    c = change(Action.UPDATE, "table_permission", "acme/crm/customers", {"edit": ["support"]}, {"edit": ["support"], "delete": ["support"]})
    delta = plan_access_delta(s.resources, s.resources, [c], s.profiles())
    e = entry(delta, "e@a.test")
    assert {"capability": "delete crm/customers", "highlight": "delete"} in e["lost"]


def test_removing_a_workspace_membership_loses_access() -> None:
    s = base()
    c = change(Action.DELETE, "workspace_member", "acme/crm/bo@a.test", {"role": "Viewer"}, None)
    bo = entry(plan_access_delta(s.resources, s.resources, [c], s.profiles()), "bo@a.test")
    assert "read crm/customers" in [x["capability"] for x in bo["lost"]] and bo["gained"] == []


def test_new_member_is_pending_acceptance() -> None:
    s = base()
    c = change(Action.CREATE, "member", "acme/new@a.test", None, {"role": "Member"})
    w = change(Action.CREATE, "workspace_member", "acme/crm/new@a.test", None, {"role": "Editor"})
    new = entry(plan_access_delta(s.resources, s.resources, [c, w], s.profiles()), "new@a.test")
    assert new["pending_acceptance"] is True and new["lost"] == []
    assert "read crm/customers" in [g["capability"] for g in new["gained"]]


def test_space_made_private_loses_view() -> None:
    s = State(profile="spaces").member("u@a.test", "User").space("roadmap", kind="teamspace")
    c = change(Action.UPDATE, "space", "acme/roadmap", {"kind": "teamspace"}, {"kind": "teamspace", "private": True})
    u = entry(plan_access_delta(s.resources, s.resources, [c], s.profiles()), "u@a.test")
    assert {"capability": "view_space roadmap", "highlight": None} in u["lost"]


def test_update_keeps_live_only_attributes() -> None:
    s = State().member("inv@a.test", "Member", status="invited")
    c = change(Action.UPDATE, "member", "acme/inv@a.test", {"role": "Member", "status": "invited"}, {"role": "Owner"})
    after = apply_changes(s.resources, [c])
    assert after['member["acme/inv@a.test"]'].attrs == {"role": "Owner", "status": "invited"}
    assert access_delta(s.resources, after, s.profiles()) == []  # invited: no access before or after


def test_render_text_marks_gains_losses_and_highlights() -> None:
    delta = [{"member": "bo@a.test", "organization": "acme", "pending_acceptance": False,
              "gained": [{"capability": "delete crm/customers", "highlight": "delete"}],
              "lost": [{"capability": "Billing:View crm", "highlight": "billing"}]}]
    lines = render_access_delta_text(delta)
    assert lines[0] == "Access delta:"
    assert "    + delete crm/customers  <- delete" in lines
    assert "    - Billing:View crm  <- billing" in lines
    assert lines[-1].startswith("Access: 1 member(s) affected, 1 capability(ies) gained, 1 lost")
    assert render_access_delta_text([]) == []
