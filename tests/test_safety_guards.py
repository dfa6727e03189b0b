"""Every safety guard refuses with exit 3 and writes nothing; its override lets the change through."""

from __future__ import annotations

import pytest
from safety_env import Workdir, org_doc, workdir  # noqa: F401  (workdir is a fixture)

TEAM = "  teams:\n    - {{name: platform, members: [{}]}}\n"


def people(n: int, domain: str = "acme.test") -> list[str]:
    return [f"p{i:02d}@{domain}" for i in range(n)]


def setup_team(workdir: Workdir, n: int = 12) -> list[str]:
    """ada (Owner) and ``n`` people in team platform, all joined."""
    emails = people(n)
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner", *[f"{e}:Member" for e in emails]], teams=TEAM.format(", ".join(emails))))
    assert workdir.apply()[0] == 0
    workdir.accept_all()
    return emails


# --- seats --------------------------------------------------------------------------------


def over_seats(workdir: Workdir) -> None:
    """4 seats, 3 declared members and a contractor git ignores; then one more invite."""
    workdir.write("accessops.toml", '[ignore]\npatterns = ["*@contractor.test"]\n')
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner", "bo@acme.test", "cy@acme.test"], seats=4))
    assert workdir.apply()[0] == 0
    workdir.tenant("add_member", "dan@contractor.test", "acme")
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner", "bo@acme.test", "cy@acme.test", "eve@acme.test"], seats=4))


def test_seats_refuse_an_invite_over_the_limit_naming_both_numbers(workdir: Workdir) -> None:
    over_seats(workdir)
    assert workdir.run("validate")[0] == 0  # the manifest alone fits; live members do not
    err = workdir.refused_without_writing("apply", "--auto-approve")
    assert "5 members (1 active, 4 invited) would exceed its 4 seats; the plan invites 1" in err
    assert workdir.refused_without_writing("plan")


def test_seats_raised_in_the_manifest_let_the_invite_through(workdir: Workdir) -> None:
    over_seats(workdir)
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner", "bo@acme.test", "cy@acme.test", "eve@acme.test"], seats=5))
    assert workdir.apply()[0] == 0
    assert 'member["acme/eve@acme.test"]' in workdir.live()


# --- removal budgets ----------------------------------------------------------------------------


def test_removing_over_a_quarter_of_team_memberships_is_refused(workdir: Workdir) -> None:
    emails = setup_team(workdir)
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner", *[f"{e}:Member" for e in emails]], teams=TEAM.format(", ".join(emails[4:]))))
    err = workdir.refused_without_writing("apply", "--auto-approve")
    assert "cannot remove 4 of 12 team memberships (33%, limit 25%)" in err
    err = workdir.refused_without_writing("apply", "--auto-approve", "--allow-removals", "memberships=3")
    assert "acknowledges 3, not 4" in err


def test_acknowledging_the_exact_number_removes_them(workdir: Workdir) -> None:
    emails = setup_team(workdir)
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner", *[f"{e}:Member" for e in emails]], teams=TEAM.format(", ".join(emails[4:]))))
    code, out, _ = workdir.apply("--allow-removals", "memberships=4")
    assert code == 0
    assert "removing 4 of 12 team memberships (33%, limit 25%): acknowledged" in out
    assert sum(1 for r in workdir.live().values() if r.type == "team_member") == 8


def test_a_budget_in_settings_acknowledges_too(workdir: Workdir) -> None:
    emails = setup_team(workdir)
    workdir.write("accessops.toml", "[guards.budgets.memberships]\nmax_share = 0.5\n")
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner", *[f"{e}:Member" for e in emails]], teams=TEAM.format(", ".join(emails[4:]))))
    assert workdir.apply()[0] == 0


def test_removing_org_members_over_budget_counts_members_and_their_memberships(workdir: Workdir) -> None:
    emails = setup_team(workdir)
    keep = emails[5:]
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner", *[f"{e}:Member" for e in keep]], teams=TEAM.format(", ".join(keep))))
    err = workdir.refused_without_writing("plan")
    assert "cannot remove 5 of 13 org members (38%, limit 25%)" in err
    assert "cannot remove 5 of 12 team memberships (42%, limit 25%)" in err
    assert workdir.apply("--allow-removals", "members=5", "--allow-removals", "memberships=5")[0] == 0


def test_a_count_limit_refuses_even_under_the_share(workdir: Workdir) -> None:
    emails = setup_team(workdir)
    workdir.write("accessops.toml", "[guards.budgets.memberships]\nmax_count = 1\n")
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner", *[f"{e}:Member" for e in emails]], teams=TEAM.format(", ".join(emails[2:]))))
    assert "cannot remove 2 of 12 team memberships (limit 1)" in workdir.refused_without_writing("plan")


def test_invited_people_are_never_counted_as_removals(workdir: Workdir) -> None:
    emails = people(12)
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner", *emails], teams=TEAM.format(", ".join(emails))))
    assert workdir.apply()[0] == 0  # nobody accepted: every invitation is pending
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner", *emails[6:]], teams=TEAM.format(", ".join(emails[6:]))))
    code, out, _ = workdir.apply()
    assert code == 0, out
    assert "6 pending invitation(s) cancelled (not counted as removals)" in out
    assert 'member["acme/p00@acme.test"]' not in workdir.live()


def test_owner_admin_grants_have_their_own_budget(workdir: Workdir) -> None:
    admins = people(10)
    workdir.write("org.yaml", org_doc([f"{e}:Admin" for e in admins] + ["ada@acme.test:Owner"]))
    assert workdir.apply()[0] == 0
    workdir.accept_all()
    workdir.write("org.yaml", org_doc([f"{e}:Member" for e in admins[:3]] + [f"{e}:Admin" for e in admins[3:]] + ["ada@acme.test:Owner"]))
    assert "cannot remove 3 of 11 owner/admin grants (27%, limit 25%)" in workdir.refused_without_writing("plan")
    assert workdir.apply("--allow-removals", "admins=3")[0] == 0


# --- who must stay ---------------------------------------------------------------------------------


def test_the_last_owner_cannot_be_demoted(workdir: Workdir) -> None:
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner", "bo@acme.test:Member"]))
    assert workdir.apply()[0] == 0
    workdir.accept_all()
    workdir.write("org.yaml", org_doc(["ada@acme.test:Member", "bo@acme.test:Member"]))
    err = workdir.refused_without_writing("apply", "--auto-approve")
    assert "organization acme would keep 0 active Admin/Owner member(s), minimum 1; the plan removes or demotes ada@acme.test" in err


def test_an_invited_owner_does_not_replace_the_last_active_one(workdir: Workdir) -> None:
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner"]))
    assert workdir.apply()[0] == 0
    workdir.accept_all()
    workdir.write("org.yaml", org_doc(["bo@acme.test:Owner"]))
    assert "would keep 0 active" in workdir.refused_without_writing("plan")


def test_a_suspended_owner_does_not_replace_the_last_active_one(workdir: Workdir) -> None:
    """Issue 15: a deactivated Owner has no access, so demoting the only active one is refused."""
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner", "bo@acme.test:Owner"]))
    assert workdir.apply()[0] == 0
    workdir.accept_all()
    workdir.tenant("suspend", "bo@acme.test", "acme")
    workdir.write("org.yaml", org_doc(["ada@acme.test:Member", "bo@acme.test:Owner"]))
    err = workdir.refused_without_writing("apply", "--auto-approve")
    assert "organization acme would keep 0 active Admin/Owner member(s), minimum 1; the plan removes or demotes ada@acme.test" in err


def test_min_admins_zero_allows_it(workdir: Workdir) -> None:
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner", "bo@acme.test:Member"]))
    assert workdir.apply()[0] == 0
    workdir.accept_all()
    workdir.write("accessops.toml", "[guards]\nmin_admins = 0\n")
    workdir.write("org.yaml", org_doc(["ada@acme.test:Member", "bo@acme.test:Member"]))
    assert workdir.apply()[0] == 0
    assert workdir.live()['member["acme/ada@acme.test"]'].attrs["role"] == "Member"


WORKSPACE = """\
apiVersion: accessops/v1
kind: Workspace
metadata: {{name: crm}}
spec:
  organization: acme
  members:
{members}"""


def test_a_workspace_keeps_its_last_admin(workdir: Workdir) -> None:
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner", "bo@acme.test:Member"]))
    workdir.write("crm.yaml", WORKSPACE.format(members="    - {email: bo@acme.test, role: Admin}\n"))
    assert workdir.apply()[0] == 0
    workdir.accept_all()
    workdir.write("crm.yaml", WORKSPACE.format(members="    - {email: bo@acme.test, role: Editor}\n"))
    assert "workspace acme/crm would keep 0 active Admin member(s), minimum 1; the plan removes or demotes bo@acme.test" in workdir.refused_without_writing("plan")
    workdir.write("crm.yaml", WORKSPACE.format(members="    - {email: bo@acme.test, role: Editor}\n    - {email: ada@acme.test, role: Admin}\n"))
    assert workdir.apply()[0] == 0  # a joined member takes over first


def test_the_identity_the_apply_runs_as_is_never_removed_or_demoted(workdir: Workdir) -> None:
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner", "bo@acme.test:Owner"]))
    assert workdir.apply()[0] == 0
    workdir.accept_all()
    workdir.tenant("set_actor", "bo@acme.test")
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner", "bo@acme.test:Member"]))
    err = workdir.refused_without_writing("apply", "--auto-approve")
    assert 'the apply runs as bo@acme.test and would lose its own access: demote (Owner -> Member) member["acme/bo@acme.test"]' in err
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner"]))
    assert "remove member[\"acme/bo@acme.test\"]" in workdir.refused_without_writing("plan")
    workdir.tenant("set_actor", "ada@acme.test")  # the only way past: apply as someone else
    assert workdir.apply()[0] == 0


def test_an_admin_is_never_narrowed_by_a_restricted_picker(workdir: Workdir) -> None:
    """Seed 003: Admin never appears in restricted pickers and always keeps full access."""
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner"], custom_roles="  custom_roles: [{name: support}]\n"))
    workdir.write("crm.yaml", WORKSPACE.format(members="    - {email: ada@acme.test, role: Admin}\n") + "  tables:\n    - {name: customers, edit: [Admin, support]}\n")
    code, _, err = workdir.run("plan")
    assert code == 1 and "Admin" in err and "tables" in err


# --- custom-role deletion cascade --------------------------------------------------------------------


ROLES = "  custom_roles: [{name: support}]\n"
CRM_USES = WORKSPACE.format(members="    - {email: bo@acme.test, role: Editor, custom_roles: [support]}\n") + "  tables:\n    - {name: customers, edit: [support]}\n"
CRM_UNMANAGED = "apiVersion: accessops/v1\nkind: Workspace\nmetadata: {name: crm}\nspec:\n  organization: acme\n"


def with_role_in_use(workdir: Workdir) -> None:
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner", "bo@acme.test"], custom_roles=ROLES))
    workdir.write("crm.yaml", CRM_USES)
    assert workdir.apply()[0] == 0
    # git drops the role but leaves the workspace's members and tables unmanaged
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner", "bo@acme.test"], custom_roles="  custom_roles: []\n"))
    workdir.write("crm.yaml", CRM_UNMANAGED)


def test_deleting_a_custom_role_still_in_use_is_refused_and_shows_the_cascade(workdir: Workdir) -> None:
    with_role_in_use(workdir)
    code, out, err = workdir.run("plan", "--format", "json")
    assert code == 3
    assert "deleting custom role acme/support would also remove 2 use(s) the manifests keep" in err
    import json

    change = next(c["accessops"] for c in json.loads(out)["resource_changes"] if c["address"] == 'accessops_custom_role.acme["support"]')
    assert set(change["flags"]) >= {"irreversible", "cascade"}
    assert any('workspace_member["acme/crm/bo@acme.test"] custom_roles' in n and 'table_permission["acme/crm/customers"] edit' in n for n in change["notes"])
    workdir.refused_without_writing("apply", "--auto-approve")


def test_allow_cascade_deletes_the_role_with_its_uses(workdir: Workdir) -> None:
    with_role_in_use(workdir)
    assert workdir.apply("--allow-cascade")[0] == 0
    live = workdir.live()
    assert 'custom_role["acme/support"]' not in live
    assert live['workspace_member["acme/crm/bo@acme.test"]'].attrs["custom_roles"] == []
    assert live['table_permission["acme/crm/customers"]'].attrs["edit"] == []


def test_dropping_the_uses_in_git_too_needs_no_override_but_stays_irreversible(workdir: Workdir) -> None:
    with_role_in_use(workdir)
    workdir.write("crm.yaml", WORKSPACE.format(members="    - {email: bo@acme.test, role: Editor, custom_roles: []}\n") + "  tables: []\n")
    code, out, _ = workdir.apply()
    assert code == 0, out
    assert "irreversible: deleting a custom role" in out


# --- management modes ------------------------------------------------------------------------------------


def test_additive_members_are_never_deleted(workdir: Workdir) -> None:
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner", "bo@acme.test"]))
    assert workdir.apply()[0] == 0
    workdir.write("accessops.toml", '[modes]\nmembers = "additive"\n')
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner"]))
    code, out, _ = workdir.run("plan")
    assert code == 0 and "No changes" in out
    workdir.remove("accessops.toml")
    assert "member[\"acme/bo@acme.test\"]" in workdir.run("plan", "--additive", "teams")[1]  # other kinds stay authoritative
    assert "No changes" in workdir.run("plan", "--additive", "members")[1]


def test_ignored_patterns_are_never_touched(workdir: Workdir) -> None:
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner"]))
    assert workdir.apply()[0] == 0
    workdir.tenant("add_member", "dan@contractor.test", "acme")
    assert 'member["acme/dan@contractor.test"]' in workdir.run("plan")[1]
    assert "No changes" in workdir.run("plan", "--ignore", "*@contractor.test")[1]
    workdir.write("accessops.toml", '[ignore]\npatterns = ["*@contractor.test"]\n')
    assert workdir.apply()[0] == 0
    assert 'member["acme/dan@contractor.test"]' in workdir.live()


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[modes]\nmembers = "sometimes"\n', "unknown mode 'sometimes'"),
        ('[modes]\nfriends = "additive"\n', "unknown kind 'friends'"),
        ("[guards.budgets]\nmax_share = 25\n", "max_share is a fraction"),
        ("[guards]\nallow_removals = {people = 3}\n", "unknown kind 'people'"),
    ],
)
def test_bad_guard_settings_are_one_line_errors(workdir: Workdir, toml: str, message: str) -> None:
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner"]))
    workdir.write("accessops.toml", toml)
    code, _, err = workdir.run("plan")
    assert code == 1 and message in err and len(err.strip().splitlines()) == 1


# --- credentials ------------------------------------------------------------------------------------


def test_a_manifest_carrying_a_credential_is_refused_without_echoing_it(workdir: Workdir, monkeypatch: pytest.MonkeyPatch) -> None:
    token = "sekrit-XYZ-0123456789"
    monkeypatch.setenv("ACCESSOPS_SCIM_TOKEN", token)
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner"]).replace("role: Owner}", f"role: Owner, name: {token}}}"))
    before = workdir.runs()
    code, out, err = workdir.run("apply", "--auto-approve")
    assert code == 3 and "a manifest value contains a credential" in err
    assert token not in out + err and "[REDACTED]" in out
    assert workdir.live() == {} and workdir.runs() == before


def test_after_allow_cascade_the_next_plan_and_drift_show_no_drift(workdir: Workdir) -> None:
    """Issue 15: the cascade's own removals are not "changed live" on the next plan."""
    import json

    with_role_in_use(workdir)
    assert workdir.apply("--allow-cascade")[0] == 0
    code, out, _ = workdir.run("plan", "--format", "json", "--detailed-exitcode")
    plan = json.loads(out)
    assert plan.get("resource_drift", []) == [], plan.get("resource_drift")
    assert code == 0
    code, out, _ = workdir.run("drift")
    assert code == 0, out
