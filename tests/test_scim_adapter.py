"""The scim adapter against a real scim2-server: reads, PATCH deltas, ETags, paging, errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from conformance.servers import SCIM_TOKEN, FaultProxy, ScimServer, fault_proxy, scim_server

from accessops.adapters.base import ItemGoneError, Target
from accessops.adapters.scim import ScimAdapter
from accessops.errors import TargetError
from accessops.plan.change import Action, Change

pytestmark = pytest.mark.server
ORG = "acme"


@pytest.fixture(scope="module")
def server() -> Iterator[ScimServer]:
    with scim_server() as running:
        yield running


@pytest.fixture
def base(server: ScimServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh tenant's base URL, with the token in the environment."""
    monkeypatch.setenv("ACCESSOPS_SCIM_TOKEN", SCIM_TOKEN)
    monkeypatch.delenv("ACCESSOPS_SCIM_PAGE_SIZE", raising=False)
    return server.tenant()


def open_scim(base: str) -> ScimAdapter:
    return ScimAdapter(Target.parse(f"scim+{base}"))


def raw(method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    """A request made behind the adapter's back."""
    resp = requests.request(method, url, json=body, headers={"Authorization": f"Bearer {SCIM_TOKEN}"}, timeout=10)
    resp.raise_for_status()
    return resp.json() if resp.content else None


def user_by_email(base: str, email: str) -> dict[str, Any]:
    found: dict[str, Any] = raw("GET", f'{base}/Users?filter=userName eq "{email}"')["Resources"][0]
    return found


def create(type_: str, key: str, **attrs: Any) -> Change:
    return Change(Action.CREATE, type_, key, None, attrs)


def seed_acme(adapter: ScimAdapter) -> None:
    """ada (Admin) and bo (Member); team platform with ada."""
    for change in (
        create("member", "acme/ada@acme.test", role="Admin", name="Ada"),
        create("member", "acme/bo@acme.test", role="Member"),
        create("team", "acme/platform"),
        create("team_member", "acme/platform/ada@acme.test"),
    ):
        adapter.apply(change)


def test_created_members_and_teams_read_back_as_declared(base: str) -> None:
    with open_scim(base) as adapter:
        seed_acme(adapter)
    with open_scim(base) as adapter:
        live = adapter.read([ORG])
    assert {a: r.attrs for a, r in live.items()} == {
        'organization["acme"]': {},
        'member["acme/ada@acme.test"]': {"role": "Admin", "name": "Ada", "status": "active"},
        'member["acme/bo@acme.test"]': {"role": "Member", "name": None, "status": "active"},
        'team["acme/platform"]': {},
        'team_member["acme/platform/ada@acme.test"]': {},
    }


def test_role_and_name_change_is_a_patch_of_those_attributes(base: str) -> None:
    with open_scim(base) as adapter:
        seed_acme(adapter)
        before = adapter.read([ORG])['member["acme/bo@acme.test"]'].attrs
        adapter.apply(Change(Action.UPDATE, "member", "acme/bo@acme.test", before, {**before, "role": "Billing", "name": "Bo"}))
    user = user_by_email(base, "bo@acme.test")
    assert user["roles"] == [{"value": "Billing", "primary": True}]
    assert user["displayName"] == "Bo"


def test_membership_changes_are_patch_deltas_with_if_match(server: ScimServer, base: str) -> None:
    with open_scim(base) as adapter:
        seed_acme(adapter)
    with fault_proxy(server.root) as proxy, open_scim(base.replace(server.root, proxy.root)) as adapter:
        adapter.read([ORG])
        adapter.apply(create("team_member", "acme/platform/bo@acme.test"))
        adapter.apply(Change(Action.DELETE, "team_member", "acme/platform/ada@acme.test", {}, None))
    writes = [s for s in proxy.seen if "/Groups" in s.path and s.method != "GET"]
    assert [s.method for s in writes] == ["PATCH", "PATCH"]
    assert all(s.headers.get("If-Match") for s in writes)
    group = raw("GET", f"{base}/Groups")["Resources"][0]
    assert [m["value"] for m in group["members"]] == [user_by_email(base, "bo@acme.test")["id"]]


def test_listing_longer_than_two_pages_is_read_completely(server: ScimServer, base: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with open_scim(base) as adapter:
        for i in range(7):
            adapter.apply(create("member", f"acme/m{i}@acme.test", role="Member"))
    monkeypatch.setenv("ACCESSOPS_SCIM_PAGE_SIZE", "3")
    with fault_proxy(server.root) as proxy, open_scim(base.replace(server.root, proxy.root)) as adapter:
        live = adapter.read([ORG])
        assert adapter.requests == len(proxy.seen)
    assert sum(r.type == "member" for r in live.values()) == 7
    assert len(proxy.requests_to("/Users")) == 3


def test_inactive_user_reads_as_suspended_not_invited(base: str) -> None:
    """Issue 15: ``active: false`` is how identity providers offboard people; SCIM has no invitation."""
    raw("POST", f"{base}/Users", {"userName": "Cy@Acme.test", "active": False})
    with open_scim(base) as adapter:
        live = adapter.read([ORG])
    assert live['member["acme/cy@acme.test"]'].attrs["status"] == "suspended"


def test_deleting_a_member_that_vanished_raises_item_gone(base: str) -> None:
    with open_scim(base) as adapter:
        seed_acme(adapter)
        live = adapter.read([ORG])
        raw("DELETE", f"{base}/Users/{user_by_email(base, 'bo@acme.test')['id']}")
        with pytest.raises(ItemGoneError, match="bo@acme.test"):
            adapter.apply(Change(Action.DELETE, "member", "acme/bo@acme.test", live['member["acme/bo@acme.test"]'].attrs, None))


def test_member_changed_since_read_is_refused_not_overwritten(base: str) -> None:
    with open_scim(base) as adapter:
        seed_acme(adapter)
        before = adapter.read([ORG])['member["acme/bo@acme.test"]'].attrs
        uid = user_by_email(base, "bo@acme.test")["id"]
        raw("PATCH", f"{base}/Users/{uid}", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "displayName", "value": "Someone else"}]})
        with pytest.raises(TargetError, match="changed on the server since it was read"):
            adapter.apply(Change(Action.UPDATE, "member", "acme/bo@acme.test", before, {**before, "role": "Admin"}))


def test_saved_plan_applies_without_a_read_by_looking_ids_up(base: str) -> None:
    with open_scim(base) as adapter:
        seed_acme(adapter)
    with open_scim(base) as adapter:  # a new process applying a saved plan
        adapter.apply(create("team_member", "acme/platform/bo@acme.test"))
        adapter.apply(Change(Action.DELETE, "member", "acme/ada@acme.test", {}, None))
    with open_scim(base) as adapter:
        live = adapter.read([ORG])
    assert sorted(a for a in live if a.startswith("team_member")) == ['team_member["acme/platform/bo@acme.test"]']
    assert 'member["acme/ada@acme.test"]' not in live


def test_missing_token_names_the_variable(base: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ACCESSOPS_SCIM_TOKEN")
    with pytest.raises(TargetError, match="ACCESSOPS_SCIM_TOKEN") as err:
        open_scim(base)
    assert "\n" not in str(err.value)


def test_wrong_token_is_refused_in_one_line(base: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCESSOPS_SCIM_TOKEN", "not-the-token")
    with open_scim(base) as adapter, pytest.raises(TargetError, match="HTTP 401") as err:
        adapter.read([ORG])
    assert "not-the-token" not in str(err.value) and "\n" not in str(err.value)


def test_a_target_holds_one_organization(base: str) -> None:
    with open_scim(base) as adapter, pytest.raises(TargetError, match="one organization"):
        adapter.read(["acme", "beta"])


def test_identity_comes_from_the_actor_variable(base: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with open_scim(base) as adapter:
        assert adapter.identity() is None
        monkeypatch.setenv("ACCESSOPS_SCIM_ACTOR", "Ops@Acme.test")
        assert adapter.identity() == "ops@acme.test"


def test_proxy_injects_nothing_unless_told(server: ScimServer, base: str) -> None:
    """Guard for the fault proxy the conformance suite relies on."""
    proxy: FaultProxy
    with fault_proxy(server.root) as proxy:
        assert requests.get(f"{base.replace(server.root, proxy.root)}/Users", headers={"Authorization": f"Bearer {SCIM_TOKEN}"}, timeout=10).status_code == 200
    assert [s.status for s in proxy.seen] == [200]


def test_parallel_apply_converges_against_the_real_server(base: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """``apply --parallelism 4``: 40 users and two teams' memberships side by side, then nothing left to do."""
    from accessops.cli import main

    members = "\n".join(f"    - {{email: u{i:02d}@acme.test, role: Member}}" for i in range(40))
    team_a = ", ".join(f"u{i:02d}@acme.test" for i in range(0, 40, 2))
    team_b = ", ".join(f"u{i:02d}@acme.test" for i in range(1, 40, 2))
    (tmp_path / "org.yaml").write_text(
        "apiVersion: accessops/v1\nkind: Organization\nmetadata: {name: acme}\nspec:\n  profile: union\n"
        f"  members:\n{members}\n  teams:\n    - {{name: even, members: [{team_a}]}}\n    - {{name: odd, members: [{team_b}]}}\n"
    )
    monkeypatch.chdir(tmp_path)
    target = f"scim+{base}"
    assert main(["apply", "org.yaml", "--target", target, "--auto-approve", "--parallelism", "4"]) == 0
    assert main(["plan", "org.yaml", "--target", target, "--detailed-exitcode"]) == 0
    live = open_scim(base).read([ORG])
    assert sum(1 for a in live if a.startswith("team_member")) == 40


def test_the_token_may_come_from_a_file(base: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """ACCESSOPS_SCIM_TOKEN_FILE, or [credentials] scim_token_file in accessops.toml, instead of the variable."""
    from accessops.cli import main

    monkeypatch.delenv("ACCESSOPS_SCIM_TOKEN")
    secret = tmp_path / "scim.token"
    secret.write_text(SCIM_TOKEN + "\n")
    monkeypatch.setenv("ACCESSOPS_SCIM_TOKEN_FILE", str(secret))
    with open_scim(base) as adapter:
        assert adapter.read([ORG]) is not None
    monkeypatch.delenv("ACCESSOPS_SCIM_TOKEN_FILE")
    folder = tmp_path / "policy"
    folder.mkdir()
    (folder / "org.yaml").write_text("apiVersion: accessops/v1\nkind: Organization\nmetadata: {name: acme}\nspec: {profile: union, members: []}\n")
    (folder / "accessops.toml").write_text(f'target = "scim+{base}"\n[credentials]\nscim_token_file = "../scim.token"\n')
    monkeypatch.chdir(tmp_path)
    assert main(["plan", "policy", "--detailed-exitcode"]) in (0, 2)
