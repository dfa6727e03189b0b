"""Issue 15 on a real scim2-server: provisioned members, deactivated accounts, objects created live.

* SCIM creates users active: a plan never labels new SCIM members "pending acceptance".
* ``active: false`` is a suspended (deactivated) account, not an invitation:
  drift reports it, ``audit`` lists it, ``explain --live`` says no access while suspended.
* An Admin user created directly in the SCIM server is drift ("changed
  outside accessops") in the text, in ``resource_drift`` and in the Markdown heading.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from conformance.servers import SCIM_TOKEN, ScimServer, scim_server

from accessops.plan.terraform_json import native
from accessops.cli import main

pytestmark = pytest.mark.server

ORG_YAML = """apiVersion: accessops/v1
kind: Organization
metadata: {name: acme}
spec:
  profile: org-roles
  members:
    - {email: ada@acme.test, role: Admin}
    - {email: bo@acme.test, role: Member}
  teams:
    - {name: platform, members: [ada@acme.test, bo@acme.test]}
"""


@pytest.fixture(scope="module")
def server() -> Iterator[ScimServer]:
    with scim_server() as running:
        yield running


@pytest.fixture
def target(server: ScimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh tenant; the manifests in tmp_path (the working directory)."""
    monkeypatch.setenv("ACCESSOPS_SCIM_TOKEN", SCIM_TOKEN)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "org.yaml").write_text(ORG_YAML)
    return f"scim+{server.tenant()}"


def raw(method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    """A request behind accessops's back."""
    resp = requests.request(method, url, json=body, headers={"Authorization": f"Bearer {SCIM_TOKEN}"}, timeout=10)
    resp.raise_for_status()
    return resp.json() if resp.content else None


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def deactivate(target: str, email: str) -> None:
    base = target.removeprefix("scim+")
    user = raw("GET", f'{base}/Users?filter=userName eq "{email}"')["Resources"][0]
    op = {"op": "replace", "path": "active", "value": False}
    raw("PATCH", f"{base}/Users/{user['id']}", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [op]})


def test_new_scim_members_are_never_pending_acceptance(target: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "plan", "org.yaml", "--target", target, "--format", "json")
    assert code == 0
    plan = json.loads(out)
    assert plan["invitations"]["pending_acceptance"] == []
    assert not any("pending_acceptance" in (rc.get("flags") or []) for rc in plan["resource_changes"])
    assert all(entry["pending_acceptance"] is False for entry in plan["access_delta"])
    member = next(native(rc) for rc in plan["resource_changes"] if native(rc)["address"] == 'member["acme/ada@acme.test"]')
    assert "provisioned active: the target has no invitations" in member["notes"]
    code, out, _ = cli(capsys, "plan", "org.yaml", "--target", target)
    assert "pending acceptance" not in out


def test_a_member_deactivated_live_is_suspended_in_drift_audit_and_explain(target: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(capsys, "apply", "org.yaml", "--target", target, "--auto-approve")[0] == 0
    assert cli(capsys, "drift", "org.yaml", "--target", target)[0] == 0
    deactivate(target, "bo@acme.test")

    code, out, _ = cli(capsys, "drift", "org.yaml", "--target", target, "--format", "json")
    assert code == 2, out
    drift = {native(d)["address"]: native(d) for d in json.loads(out)["resource_drift"]}
    bo = drift['member["acme/bo@acme.test"]']
    assert bo["before"]["status"] == "active" and bo["after"]["status"] == "suspended"

    code, out, _ = cli(capsys, "explain", "bo", "org.yaml", "--live", "--target", target)
    assert code == 0
    assert "bo is suspended (deactivated live); suspended members have no access while suspended" in out
    assert "invited" not in out

    code, out, _ = cli(capsys, "audit", "org.yaml", "--target", target, "--format", "json")
    org = json.loads(out)["organizations"][0]
    assert org["pending_invitations"] == []
    gone = {g["member"]: g for g in org["no_longer_on_account"]}
    assert gone["bo@acme.test"]["status"] == "suspended" and "team platform" in gone["bo@acme.test"]["still_holds"]
    assert org["seats"]["suspended"] == 1 and org["seats"]["invited"] == 0


def test_an_admin_created_directly_in_scim_is_changed_outside_accessops(target: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(capsys, "apply", "org.yaml", "--target", target, "--auto-approve")[0] == 0
    base = target.removeprefix("scim+")
    raw("POST", f"{base}/Users", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "mallory@evil.test", "active": True, "roles": [{"value": "Admin", "primary": True}]})
    address = 'member["acme/mallory@evil.test"]'

    code, out, _ = cli(capsys, "drift", "org.yaml", "--target", target)
    assert code == 2
    outside, _, actions = out.partition("accessops will perform the following actions:")
    assert "Objects changed outside accessops since the last apply:" in outside and address in outside
    assert address in actions  # and the plan removes it

    code, out, _ = cli(capsys, "plan", "org.yaml", "--target", target, "--format", "json")
    drift = {native(d)["address"]: native(d) for d in json.loads(out)["resource_drift"]}
    assert drift[address]["actions"] == ["create"] and drift[address]["after"]["role"] == "Admin"
    assert drift[address]["origin"] == "changed live"

    code, out, _ = cli(capsys, "drift", "org.yaml", "--target", target, "--format", "markdown")
    assert "Changed outside accessops (1)" in out and "mallory@evil.test" in out
