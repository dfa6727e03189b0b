"""``accessops tenant``: real drift made the way the product's own users make it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from accessops.adapters.base import Target
from accessops.adapters.local import LocalAdapter
from accessops.cli import main
from accessops.model.resource import ResourceMap
from accessops.plan.terraform_json import native
from test_local_roundtrip import seed

TENANT = ".accessops/tenant.db"


@pytest.fixture
def tenant(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A seeded tenant at the default location under a fresh working directory."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ACCESSOPS_TARGET", raising=False)
    with LocalAdapter(Target.parse(f"local:{TENANT}")) as adapter:
        seed(adapter)
    return tmp_path / TENANT


def live(path: Path) -> ResourceMap:
    with LocalAdapter(Target.parse(f"local:{path}")) as adapter:
        return adapter.read(adapter.organizations())


def member(path: Path, email: str, org: str = "acme") -> dict[str, object]:
    return live(path)[f'member["{org}/{email}"]'].attrs


def test_accept_makes_an_invited_member_active(tenant: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tenant", "accept", "Bo@acme.test"]) == 0
    bo = member(tenant, "bo@acme.test")
    assert bo["status"] == "active" and str(bo["joined_at"]).endswith("Z")
    assert "bo@acme.test accepted" in capsys.readouterr().out
    assert main(["tenant", "accept", "bo@acme.test"]) == 1
    assert "already active, not invited" in capsys.readouterr().err


def test_set_role_add_and_remove_member(tenant: Path) -> None:
    assert main(["tenant", "set-role", "bo@acme.test", "Admin"]) == 0
    assert member(tenant, "bo@acme.test")["role"] == "Admin"
    assert main(["tenant", "add-member", "cy@acme.test", "--role", "Billing"]) == 0
    cy = member(tenant, "cy@acme.test")
    assert (cy["role"], cy["status"]) == ("Billing", "active") and cy["joined_at"]
    assert main(["tenant", "add-member", "dee@acme.test", "--invited"]) == 0
    assert member(tenant, "dee@acme.test")["status"] == "invited"
    assert main(["tenant", "remove-member", "bo@acme.test"]) == 0
    assert not [a for a in live(tenant) if "bo@acme.test" in a]  # every membership went with them


def test_set_private_and_expire_invite(tenant: Path) -> None:
    assert main(["tenant", "set-private", "roadmap", "true"]) == 0
    assert live(tenant)['space["acme/roadmap"]'].attrs["private"] is True
    assert main(["tenant", "expire-invite", "ada@acme.test", "--days", "30"]) == 0
    assert str(member(tenant, "ada@acme.test")["invited_at"]) < str(member(tenant, "bo@acme.test")["invited_at"])


def test_set_actor_is_the_adapter_identity(tenant: Path) -> None:
    assert main(["tenant", "set-actor", "Ada@acme.test"]) == 0
    with LocalAdapter(Target.parse(f"local:{tenant}")) as adapter:
        assert adapter.identity() == "ada@acme.test"


def test_list_shows_members_with_status(tenant: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["tenant", "accept", "bo@acme.test"])
    capsys.readouterr()
    assert main(["tenant", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[:4] for line in lines] == [["acme", "ada@acme.test", "Owner", "invited"], ["acme", "bo@acme.test", "Member", "active"]]
    assert main(["tenant", "list", "--format", "json"]) == 0
    assert [row["status"] for row in json.loads(capsys.readouterr().out)] == ["invited", "active"]


def test_org_must_be_chosen_when_the_tenant_holds_several(tenant: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["tenant", "set-actor", "x@y.test"])
    with LocalAdapter(Target.parse(f"local:{tenant}")) as adapter:
        from accessops.plan.change import Action, Change

        adapter.apply(Change(Action.CREATE, "organization", "beta", None, {"profile": "union"}))
        adapter.apply(Change(Action.CREATE, "member", "beta/bo@acme.test", None, {}))
    capsys.readouterr()
    assert main(["tenant", "accept", "bo@acme.test"]) == 1
    assert "holds 2 organizations (acme, beta); choose one with --org" in capsys.readouterr().err
    assert main(["tenant", "accept", "bo@acme.test", "--org", "beta"]) == 0
    assert member(tenant, "bo@acme.test", "beta")["status"] == "active"
    assert member(tenant, "bo@acme.test")["status"] == "invited"


def test_target_from_flag_or_environment(tenant: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    moved = tmp_path / "elsewhere.db"
    tenant.rename(moved)
    for suffix in ("-wal", "-shm"):
        Path(str(tenant) + suffix).unlink(missing_ok=True)
    assert main(["tenant", "--target", f"local:{moved}", "accept", "bo@acme.test"]) == 0
    monkeypatch.setenv("ACCESSOPS_TARGET", f"local:{moved}")
    assert main(["tenant", "set-role", "bo@acme.test", "Admin"]) == 0
    assert member(moved, "bo@acme.test")["role"] == "Admin"


def test_errors_name_the_object_in_one_line(tenant: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cases = [
        (["tenant", "accept", "nobody@acme.test"], "error: no member nobody@acme.test in organization acme"),
        (["tenant", "set-private", "ghost", "false"], "error: no space 'ghost' in organization acme"),
        (["tenant", "add-member", "bo@acme.test"], "error: bo@acme.test is already a member of acme"),
        (["tenant", "--target", "local:missing.db", "list"], "error: no local tenant at missing.db"),
        (["tenant", "--target", "scim+https://x.test/scim", "list"], "error: accessops tenant acts on local tenants only"),
        (["tenant", "set-role", "bo@acme.test", "Admin", "--org", "nope"], "error: no organization 'nope'"),
    ]
    for argv, message in cases:
        assert main(argv) == 1, argv
        err = capsys.readouterr().err
        assert err.startswith(message) and err.count("\n") == 1, err


SUSPEND_ORG = """apiVersion: accessops/v1
kind: Organization
metadata: {name: acme}
spec:
  profile: union
  members:
    - {email: ada@acme.test, role: Owner}
    - {email: bo@acme.test, role: Admin}
"""


def test_a_suspended_member_is_drift_has_no_access_and_is_audited(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 15: deactivation is modelled on the reference adapter too, distinct from an invitation."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ACCESSOPS_TARGET", raising=False)
    (tmp_path / "org.yaml").write_text(SUSPEND_ORG)
    assert main(["apply", "--auto-approve", "org.yaml"]) == 0
    for email in ("ada@acme.test", "bo@acme.test"):
        assert main(["tenant", "accept", email]) == 0
    assert main(["drift", "org.yaml"]) == 0
    assert main(["tenant", "suspend", "bo@acme.test"]) == 0
    assert main(["tenant", "suspend", "bo@acme.test"]) == 1  # already suspended: one line, exit 1
    assert member(tmp_path / TENANT, "bo@acme.test")["status"] == "suspended"
    capsys.readouterr()

    assert main(["drift", "org.yaml", "--format", "json"]) == 2
    drift = json.loads(capsys.readouterr().out)["resource_drift"]
    assert [(native(d)["address"], native(d)["after"]["status"]) for d in drift] == [('member["acme/bo@acme.test"]', "suspended")]
    assert main(["explain", "bo", "org.yaml", "--live"]) == 0
    assert "suspended members have no access while suspended" in capsys.readouterr().out
    assert main(["audit", "--format", "json"]) == 0
    org = json.loads(capsys.readouterr().out)["organizations"][0]
    assert [g["member"] for g in org["no_longer_on_account"]] == ["bo@acme.test"] and org["seats"]["suspended"] == 1

    assert main(["tenant", "reactivate", "bo@acme.test"]) == 0
    assert main(["drift", "org.yaml"]) == 0
