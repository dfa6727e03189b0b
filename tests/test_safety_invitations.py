"""Invitations are a state machine: invited, then accepted, expired (re-sent) or cancelled."""

from __future__ import annotations

import json
from typing import Any

from safety_env import Workdir, org_doc, workdir  # noqa: F401  (workdir is a fixture)

TEAMS = "  teams:\n    - {name: platform, members: [ada@acme.test, bo@acme.test]}\n"
CRM = """\
apiVersion: accessops/v1
kind: Workspace
metadata: {{name: crm}}
spec:
  organization: acme
  members:
    - {{email: bo@acme.test, role: {role}}}
"""
ROADMAP = """\
apiVersion: accessops/v1
kind: Space
metadata: {{name: roadmap}}
spec:
  organization: acme
  kind: project
  members:
    - {{email: bo@acme.test, features: {{AI_SEARCH: {level}}}}}
"""


def plan_json(workdir: Workdir, *flags: str) -> dict[str, Any]:
    code, out, err = workdir.run("plan", "--format", "json", *flags)
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    return data


def flags_by_address(plan: dict[str, Any]) -> dict[str, list[str]]:
    return {c["accessops"]["address"]: c["accessops"].get("flags", []) for c in plan["resource_changes"] if c["change"]["actions"] != ["no-op"]}


def everything(workdir: Workdir, role: str = "Member", ws_role: str = "Viewer", level: str = "View only", teams: str = TEAMS) -> None:
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner", f"bo@acme.test:{role}"], teams=teams))
    workdir.write("crm.yaml", CRM.format(role=ws_role))
    workdir.write("roadmap.yaml", ROADMAP.format(level=level))


def test_a_member_declared_but_absent_is_invited_and_their_memberships_wait_for_acceptance(workdir: Workdir) -> None:
    everything(workdir)
    flags = flags_by_address(plan_json(workdir))
    for addr in ('team_member["acme/platform/bo@acme.test"]', 'workspace_member["acme/crm/bo@acme.test"]', 'space_member["acme/roadmap/bo@acme.test"]'):
        assert "pending_acceptance" in flags[addr], addr
    assert workdir.apply()[0] == 0
    assert workdir.live()['member["acme/bo@acme.test"]'].attrs["status"] == "invited"


def test_changes_to_an_invited_member_show_as_pending_acceptance_at_every_level(workdir: Workdir) -> None:
    everything(workdir, teams="  teams:\n    - {name: platform, members: [ada@acme.test]}\n")
    assert workdir.apply()[0] == 0
    workdir.tenant("accept", "ada@acme.test", "acme")
    everything(workdir, role="Billing", ws_role="Editor", level="Full")
    code, out, _ = workdir.run("plan")
    assert code == 0
    for addr in ('member["acme/bo@acme.test"]', 'team_member["acme/platform/bo@acme.test"]', 'workspace_member["acme/crm/bo@acme.test"]', 'space_member["acme/roadmap/bo@acme.test"]'):
        line = next(x for x in out.splitlines() if addr in x)
        assert "pending acceptance: takes effect when they join" in line, line
    assert "4 change(s) concern invited members and take effect when they accept" in out
    assert 'member["acme/ada@acme.test"]' not in out  # ada joined: nothing pending for her
    assert workdir.apply()[0] == 0
    assert "No changes" in workdir.run("plan")[1]


def test_removing_an_invited_member_cancels_the_invitation(workdir: Workdir) -> None:
    everything(workdir)
    assert workdir.apply()[0] == 0
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner"], teams="  teams:\n    - {name: platform, members: [ada@acme.test]}\n"))
    workdir.remove("crm.yaml")
    workdir.remove("roadmap.yaml")
    plan = plan_json(workdir)
    assert "cancel_invitation" in flags_by_address(plan)['member["acme/bo@acme.test"]']
    assert plan["invitations"]["cancelled"] == ['member["acme/bo@acme.test"]']
    assert all(v["removed"] == 0 for v in plan["safety"]["removals"].values())
    assert workdir.apply()[0] == 0
    assert 'member["acme/bo@acme.test"]' not in workdir.live()


def test_an_expired_invitation_is_re_sent_and_then_the_plan_is_empty(workdir: Workdir) -> None:
    everything(workdir)
    assert workdir.apply()[0] == 0
    workdir.tenant("expire_invite", "bo@acme.test", 20, "acme")
    code, out, _ = workdir.run("plan")
    assert '~ member["acme/bo@acme.test"]  (re-send invitation (expired 6 days ago))' in out
    assert "invitation to bo@acme.test expired 6 days ago (limit 14 days): re-sent by this plan" in out
    assert "ada@acme.test" not in out  # ada's invitation is fresh
    code, out, _ = workdir.apply()
    assert code == 0, out
    assert "No changes" in workdir.run("plan")[1]
    assert workdir.live()['member["acme/bo@acme.test"]'].attrs["status"] == "invited"


def test_expiry_age_is_configurable_and_a_role_change_folds_into_the_re_send(workdir: Workdir) -> None:
    everything(workdir)
    assert workdir.apply()[0] == 0
    workdir.tenant("expire_invite", "bo@acme.test", 20, "acme")
    workdir.write("accessops.toml", "[invitations]\nexpire_days = 30\n")
    assert "No changes" in workdir.run("plan")[1]
    workdir.write("accessops.toml", "[invitations]\nexpire_days = 7\n")
    everything(workdir, role="Billing")
    plan = plan_json(workdir)
    member = [c for c in plan["resource_changes"] if c["address"] == 'accessops_member.acme["bo@acme.test"]']
    assert len(member) == 1
    assert set(member[0]["accessops"]["flags"]) == {"pending_acceptance", "resend_invitation"}
    assert member[0]["change"]["after"]["role"] == "Billing"
    assert workdir.apply()[0] == 0
    assert "No changes" in workdir.run("plan")[1]


def test_an_expired_invitation_git_does_not_declare_is_reported_not_re_sent(workdir: Workdir) -> None:
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner"]).replace("  members:\n    - {email: ada@acme.test, role: Owner}\n", ""))
    assert workdir.apply()[0] == 0
    workdir.tenant("add_member", "zed@acme.test", "acme", role="Member", invited=True)
    workdir.tenant("expire_invite", "zed@acme.test", 30, "acme")
    plan = plan_json(workdir)
    assert [c for c in plan["resource_changes"] if c["change"]["actions"] != ["no-op"]] == []
    assert plan["invitations"]["expired"] == [{"address": 'member["acme/zed@acme.test"]', "invited_days_ago": 30, "expired_days_ago": 16, "resent": False}]


def test_drift_never_reports_an_invited_member_as_missing(workdir: Workdir) -> None:
    everything(workdir)
    assert workdir.apply()[0] == 0
    code, out, _ = workdir.run("drift")
    assert code == 0, out
    assert "No drift" in out
    workdir.tenant("accept", "bo@acme.test", "acme")
    assert workdir.run("drift")[0] == 0
