"""The audit checklist: invitations by age, seats, broad scopes, unused roles, blank screens, no team."""

from __future__ import annotations

from datetime import datetime, timezone

from accessops.access.audit import audit
from accessops.cli.cmd_audit import render_markdown, render_text

from access_state import State

NOW = datetime(2024, 3, 1, tzinfo=timezone.utc)


def report() -> dict:
    s = State(seats=4).member("o@a.test", "Owner").member("old@a.test", status="invited", invited_at="2024-01-01T00:00:00Z")
    s.member("new@a.test", status="invited", invited_at="2024-02-28T00:00:00+00:00").member("loner@a.test")
    s.team("core", "o@a.test").custom_role("ghost").workspace("crm").ws_member("crm", "loner@a.test", "None", ["ghost"])
    s.space("p").space_member("p", "o@a.test", features={k: "Full" for k in ["GOOGLE_SEARCH", "AI_SEARCH", "ATTRIBUTION", "TECHNICAL", "CONTENT_ANALYSIS", "CONTENT_EDITOR", "CUSTOM_REPORTS", "AI_AGENTS", "WORKFLOWS", "AUTOMATIONS", "BRAND_KIT"]}, settings={"SETTINGS_GENERAL": "Full"})
    return audit(s.resources, s.profiles(), NOW)["organizations"][0]


def test_audit_checklist() -> None:
    org = report()
    assert [(i["member"], i["age_days"], i["stale"]) for i in org["pending_invitations"]] == [("old@a.test", 60, True), ("new@a.test", 2, False)]
    assert org["seats"] == {"limit": 4, "active": 2, "invited": 2, "suspended": 0, "used": 4, "free": 0, "over": False}
    assert org["unused_custom_roles"] == ["ghost"]
    assert org["blank_screen_members"] == [{"member": "loner@a.test", "workspace": "crm"}]
    assert [b["member"] for b in org["broad_full_scopes"]] == ["o@a.test"]
    assert org["members_in_no_team"] == ["loner@a.test", "new@a.test", "old@a.test"]


def test_audit_renders_text_and_markdown() -> None:
    data = {"organizations": [report()]}
    text = "\n".join(render_text(data))
    assert "old@a.test: invited 60 day(s) ago (stale)" in text and "Seat usage: 4 of 4 used, 0 free" in text
    md = "\n".join(render_markdown(data))
    assert md.startswith("## Access audit: acme") and "- [ ] **Custom roles no permission uses** (1)" in md


# Seed 002 weekly checklist: "Remove access for users no longer on account."
def test_audit_lists_suspended_members_and_members_of_nothing_who_still_hold_access() -> None:
    s = State().member("o@a.test", "Owner").member("gone@a.test", "Admin", status="suspended").team("core", "gone@a.test")
    s.workspace("crm").ws_member("crm", "gone@a.test", "Editor").ws_member("crm", "ghost@a.test", "Viewer")
    org = audit(s.resources, s.profiles(), NOW)["organizations"][0]
    assert org["no_longer_on_account"] == [
        {"member": "gone@a.test", "status": "suspended", "still_holds": ["org role Admin", "team core", "workspace crm"]},
        {"member": "ghost@a.test", "status": "not a member", "still_holds": ["workspace crm"]},
    ]
    assert org["seats"]["suspended"] == 1 and org["seats"]["active"] == 1
    # in manifests a workspace-only person is a Member (seed 001), not someone who left
    desired = audit(s.resources, s.profiles(), NOW, live=False)["organizations"][0]
    assert [g["member"] for g in desired["no_longer_on_account"]] == ["gone@a.test"]
    text = "\n".join(render_text({"organizations": [org]}))
    assert "gone@a.test: suspended, still holds org role Admin, team core, workspace crm" in text


# Seed 002 weekly checklist: "Re-check project assignment breadth for each member."
def test_audit_rechecks_project_assignment_breadth() -> None:
    s = State(profile="scoped-access").member("ad@a.test", "Admin").member("wide@a.test").member("narrow@a.test")
    for p in ("p1", "p2", "p3", "p4"):
        s.space(p).space_member(p, "ad@a.test")
    for p in ("p1", "p2"):
        s.space_member(p, "wide@a.test")
    s.space_member("p3", "narrow@a.test")
    org = audit(s.resources, s.profiles(), NOW)["organizations"][0]
    assert org["project_assignment_breadth"] == [{"member": "wide@a.test", "projects": ["p1", "p2"], "of": 4}]
    md = "\n".join(render_markdown({"organizations": [org]}))
    assert "- [ ] **Project assignment breadth** (1)" in md and "wide@a.test: 2 of 4 projects (p1, p2)" in md
