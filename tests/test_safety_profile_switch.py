"""Switching an organization's profile can take every admin right away: the guards and the access delta see it.

The last-owner guard judges the state before by the profile live has, and
the state after by the profile the manifests name; the access delta does
the same, so a switch that strips Owner of its bypass shows as a loss.
"""

from __future__ import annotations

import json
from pathlib import Path

from safety_env import Workdir, org_doc, workdir  # noqa: F401  (workdir is a fixture)

UNION = Path(__file__).resolve().parent.parent / "src" / "accessops" / "profiles" / "union.yaml"


def flat_profile(workdir: Workdir) -> None:
    """``.profiles/flat.yaml``: union's vocabulary, but no organization role bypasses anything."""
    text = UNION.read_text().replace("name: union", "name: flat", 1)
    head, sep, rest = text.partition("workspace_roles:")
    (workdir.root / ".profiles").mkdir(exist_ok=True)  # hidden: not read as a manifest
    workdir.write(".profiles/flat.yaml", head.replace("    bypass: true\n", "") + sep + rest)


def owner_and_member(workdir: Workdir) -> None:
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner", "bo@acme.test:Member"]))
    code, _, err = workdir.apply()
    assert code == 0, err
    workdir.accept_all()


def test_a_profile_where_no_role_bypasses_is_refused_as_losing_the_owner(workdir: Workdir) -> None:
    owner_and_member(workdir)
    flat_profile(workdir)
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner", "bo@acme.test:Member"]).replace("profile: union", "profile: .profiles/flat.yaml"))
    err = workdir.refused_without_writing("apply", "--auto-approve")
    assert "organization acme would keep 0 active" in err
    assert "the plan removes or demotes ada@acme.test (profile union -> .profiles/flat.yaml)" in err


def test_a_profile_without_the_owner_role_is_refused_when_members_are_not_managed(workdir: Workdir) -> None:
    owner_and_member(workdir)
    doc = org_doc([]).replace("profile: union", "profile: org-roles").replace("  members: []\n", "")
    workdir.write("org.yaml", doc)
    err = workdir.refused_without_writing("plan")
    assert "organization acme would keep 0 active Admin member(s), minimum 1" in err
    assert "ada@acme.test (profile union -> org-roles)" in err


def test_the_owners_budget_counts_a_profile_switch(workdir: Workdir) -> None:
    owner_and_member(workdir)
    flat_profile(workdir)
    workdir.write("accessops.toml", "[guards]\nmin_admins = 0\n")
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner", "bo@acme.test:Member"]).replace("profile: union", "profile: .profiles/flat.yaml"))
    code, out, err = workdir.run("plan", "--format", "json")
    assert code == 0, err
    plan = json.loads(out)
    assert plan["safety"]["removals"]["admins"] == {"existing": 1, "removed": 1}


def test_the_access_delta_shows_the_owner_losing_admin_rights(workdir: Workdir) -> None:
    owner_and_member(workdir)
    flat_profile(workdir)
    workdir.write("accessops.toml", "[guards]\nmin_admins = 0\n")
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner", "bo@acme.test:Member"]).replace("profile: union", "profile: .profiles/flat.yaml"))
    code, out, err = workdir.run("plan", "--format", "json")
    assert code == 0, err
    delta = {entry["member"]: entry for entry in json.loads(out)["access_delta"]}
    assert delta["ada@acme.test"]["lost"], delta
    assert not delta["ada@acme.test"]["gained"]


def test_switching_with_the_owner_mapped_to_an_admin_role_passes(workdir: Workdir) -> None:
    owner_and_member(workdir)
    doc = org_doc(["ada@acme.test:Admin", "bo@acme.test:Member"]).replace("profile: union", "profile: org-roles")
    workdir.write("org.yaml", doc)
    code, _, err = workdir.apply()
    assert code == 0, err
    assert workdir.live()['member["acme/ada@acme.test"]'].attrs["role"] == "Admin"


def test_the_apply_identity_never_loses_admin_rights_through_a_switch(workdir: Workdir) -> None:
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner", "bo@acme.test:Owner"]))
    assert workdir.apply()[0] == 0
    workdir.accept_all()
    workdir.tenant("set_actor", "bo@acme.test")
    workdir.write("accessops.toml", "[guards]\nmin_admins = 0\n")
    flat_profile(workdir)
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner", "bo@acme.test:Owner"]).replace("profile: union", "profile: .profiles/flat.yaml"))
    err = workdir.refused_without_writing("apply", "--auto-approve")
    assert 'the apply runs as bo@acme.test and would lose its own access: lose admin rights (profile union -> .profiles/flat.yaml) member["acme/bo@acme.test"]' in err


WORKSPACE = """\
apiVersion: accessops/v1
kind: Workspace
metadata: {name: crm}
spec:
  organization: acme
  profile: PROFILE
  members:
    - {email: bo@acme.test, role: Admin}
"""


def test_a_workspace_switched_to_a_profile_without_admin_bypass_keeps_its_last_admin(workdir: Workdir) -> None:
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner", "bo@acme.test:Member"]))
    workdir.write("crm.yaml", WORKSPACE.replace("PROFILE", "union"))
    assert workdir.apply()[0] == 0
    workdir.accept_all()
    (workdir.root / ".profiles").mkdir()
    text = UNION.read_text().replace("name: union", "name: flat-ws", 1)
    head, sep, rest = text.partition("workspace_roles:")
    workdir.write(".profiles/flat-ws.yaml", head + sep + rest.replace("    bypass: true\n", "", 1))
    workdir.write("crm.yaml", WORKSPACE.replace("PROFILE", ".profiles/flat-ws.yaml"))
    err = workdir.refused_without_writing("plan")
    assert "workspace acme/crm would keep 0 active bypass-role member(s), minimum 1; the plan removes or demotes bo@acme.test (profile union -> .profiles/flat-ws.yaml)" in err
