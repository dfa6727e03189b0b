"""Team grants on every adapter, through the real CLI against the real servers (issue 13).

local and Directus hold a team grant per person: apply, plan again gives no
changes, export then plan gives no changes. SCIM has no workspaces, so a
team grant into one is refused in one line before anything is written.
"""

from __future__ import annotations

import pytest
from directus_server import ADMIN_EMAIL
from harness import AdapterUnderTest


def team_yaml(domain: str, admin: str | None = None) -> str:
    """An org with team support (bo, cy) granted Editor + custom role support in workspace crm."""
    members = [f"{p}@{domain}" for p in ("ada", "bo", "cy")]
    rows = [f"    - {{email: {admin}, role: Admin}}"] if admin else []
    rows += [f"    - {{email: {members[0]}, role: Admin}}"] + [f"    - {{email: {m}, role: Member}}" for m in members[1:]]
    direct = [f"    - {{email: {admin}, role: Admin}}"] if admin else []
    direct += [f"    - {{email: {members[0]}, role: Admin}}"]
    return (
        "apiVersion: accessops/v1\nkind: Organization\nmetadata:\n  name: acme\nspec:\n  profile: workspace-roles\n  members:\n"
        + "\n".join(rows)
        + f"\n  teams:\n    - {{name: support, members: [{members[1]}, {members[2]}]}}\n"
        + "  custom_roles:\n    - {name: support, description: Answers customers}\n---\n"
        + "apiVersion: accessops/v1\nkind: Workspace\nmetadata:\n  name: crm\nspec:\n  organization: acme\n  members:\n"
        + "\n".join(direct)
        + "\n  teams:\n    - {team: support, role: Editor, custom_roles: [support]}\n"
    )


@pytest.mark.parametrize("name", ["local", "directus"])
def test_team_grant_round_trips(name: str, request: pytest.FixtureRequest) -> None:
    adapter: AdapterUnderTest = request.getfixturevalue(f"{name}_adapter")
    if name == "directus":
        text, domain = team_yaml("example.com", ADMIN_EMAIL), "example.com"
    else:
        text, domain = team_yaml("acme.test"), "acme.test"
    adapter.write(text)
    run = adapter.cli("apply", "--auto-approve")
    assert run.returncode == 0, run.stdout + run.stderr
    assert f'workspace_member["acme/crm/cy@{domain}"]' in adapter.live_addresses()
    again = adapter.cli("plan", "--detailed-exitcode")
    assert again.returncode == 0, again.stdout + again.stderr
    exported = adapter.workdir / "exported"
    import os
    import subprocess
    import sys

    env = {**os.environ, **adapter.env, "NO_COLOR": "1"}
    done = subprocess.run([sys.executable, "-m", "accessops", "export", "--target", adapter.target, "-o", str(exported)],
                          cwd=adapter.workdir, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    text = (exported / "acme.yaml").read_text()
    if name == "local":  # teams live there, so the per-person grants fold back into the team grant
        assert "team: support" in text
    replan = subprocess.run([sys.executable, "-m", "accessops", "plan", str(exported), "--target", adapter.target, "--detailed-exitcode"],
                            cwd=adapter.workdir, env=env, capture_output=True, text=True, timeout=120)
    assert replan.returncode == 0, replan.stdout + replan.stderr


def test_scim_refuses_a_team_grant_into_a_workspace(scim_adapter: AdapterUnderTest) -> None:
    adapter = scim_adapter
    adapter.write(team_yaml("acme.test"))
    before = adapter.live_addresses()
    run = adapter.cli("apply", "--auto-approve")
    assert run.returncode == 1
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "cannot express workspace" in lines[0], run.stderr
    assert adapter.live_addresses() == before
