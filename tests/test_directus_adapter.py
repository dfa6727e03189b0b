"""The directus adapter against a real Directus 11 (SQLite) started by the tests.

Walks seed 003 through config versions: step 1 creates roles, members,
table and field permissions; a member then logs in and is refused a denied
field; step 2 changes and removes; after each step a fresh plan is empty.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from directus_server import ADMIN_EMAIL, DirectusServer, running_directus

from accessops.adapters.base import Target
from accessops.adapters.directus import TOKEN_ENV, DirectusAdapter
from accessops.errors import RefusedError, TargetError
from accessops.manifest.loader import load
from accessops.model.compile import compile_model
from accessops.plan.change import Action, Change, Plan
from accessops.plan.planner import make_plan

pytestmark = pytest.mark.server

PASSWORD = "member-password-1"

ORG = """\
apiVersion: accessops/v1
kind: Organization
metadata: {name: acme}
spec:
  profile: workspace-roles
  members:
    - {email: admin@example.com, role: Admin}
    - {email: ada@example.com, role: Member, name: Ada Lovelace}
    - {email: bo@example.com, role: Member}
%(more)s
  custom_roles:
    - {name: support, description: Answers customers}
    - {name: delivery, description: Ships orders}
"""

CRM_STEP1 = """\
apiVersion: accessops/v1
kind: Workspace
metadata: {name: crm}
spec:
  organization: acme
  members:
    - {email: admin@example.com, role: Admin}
    - {email: ada@example.com, role: Editor, custom_roles: [delivery]}
    - {email: bo@example.com, role: Viewer, custom_roles: [support]}
  tables:
    - name: customers
      read: [Editor, Viewer, support, delivery]
      create: [Editor]
      edit: [Editor, support]
      delete: []
      fields:
        - {name: address, read: [Editor, delivery]}
    - name: orders
      read: [Editor, delivery]
"""

CRM_STEP2 = """\
apiVersion: accessops/v1
kind: Workspace
metadata: {name: crm}
spec:
  organization: acme
  members:
    - {email: admin@example.com, role: Admin}
    - {email: bo@example.com, role: Editor, custom_roles: []}
  tables:
    - name: customers
      read: [Editor, Viewer]
      create: [Editor]
      edit: [Editor]
      delete: [Editor]
      fields:
        - {name: email, read: [Editor]}
"""


@pytest.fixture(scope="module")
def directus() -> Iterator[DirectusServer]:
    """A fresh Directus with the customers and orders collections."""
    with running_directus() as server:
        yield server


@pytest.fixture
def adapter(directus: DirectusServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[DirectusAdapter]:
    """An adapter holding the server's admin token."""
    monkeypatch.setenv(TOKEN_ENV, directus.token)
    with DirectusAdapter(Target.parse(directus.target)) as a:
        yield a


def write(tmp: Path, org: str, crm: str, more: str = "") -> Path:
    """Manifests of one step in a folder."""
    (tmp / "org.yaml").write_text(ORG % {"more": more})
    (tmp / "crm.yaml").write_text(crm)
    return tmp


def plan_for(folder: Path, adapter: DirectusAdapter) -> Plan:
    """The plan from the manifests in ``folder`` against the live Directus."""
    compiled = compile_model(load([folder]))
    # the engine leaves out vocabulary the target cannot store; Directus stores it
    return make_plan(compiled, adapter.read(["acme"]))


def apply_all(plan: Plan, adapter: DirectusAdapter) -> None:
    """Apply every change in plan order, as the applier does."""
    for change in plan.pending:
        adapter.apply(change)


def converge(folder: Path, adapter: DirectusAdapter) -> Plan:
    """Apply the manifests; return the plan made afterwards."""
    apply_all(plan_for(folder, adapter), adapter)
    return plan_for(folder, adapter)


def test_fresh_directus_reads_only_its_admin(adapter: DirectusAdapter) -> None:
    live = adapter.read(["acme"])
    assert adapter.identity() == ADMIN_EMAIL
    assert 'member["acme/admin@example.com"]' in live
    # admin through Directus's own Administrator role, not accessops's org Admin policy
    assert live['member["acme/admin@example.com"]'].attrs["role"] == "Member"
    assert 'organization["acme"]' not in live


def test_step1_applies_and_plans_no_changes_after(adapter: DirectusAdapter, directus: DirectusServer, tmp_path: Path) -> None:
    folder = write(tmp_path, ORG, CRM_STEP1)
    after = converge(folder, adapter)
    assert after.pending == []
    live = adapter.read(["acme"])
    assert live['workspace_member["acme/crm/bo@example.com"]'].attrs == {"role": "Viewer", "custom_roles": ["support"]}
    assert live['member["acme/bo@example.com"]'].attrs["status"] == "invited"
    assert live['member["acme/ada@example.com"]'].attrs["name"] == "Ada Lovelace"
    assert live['field_permission["acme/crm/customers/address"]'].attrs == {"read": ["Editor", "delivery"]}
    assert live['table_permission["acme/crm/customers"]'].attrs["delete"] == []
    # what Directus itself holds: roles with policies, admin access only for Admin
    policies = {p["name"]: p for p in directus.api("GET", "/policies", params={"limit": "-1"})}
    assert policies["Admin"]["admin_access"] and not policies["Editor"]["admin_access"]
    assert policies["support"]["app_access"]
    roles = {r["name"] for r in directus.api("GET", "/roles", params={"limit": "-1"})}
    assert {"Admin", "Editor", "Viewer", "None", "support", "delivery"} <= roles


def test_member_is_refused_a_denied_field_and_given_an_allowed_one(adapter: DirectusAdapter, directus: DirectusServer, tmp_path: Path) -> None:
    converge(write(tmp_path, ORG, CRM_STEP1), adapter)
    directus.activate("bo@example.com", PASSWORD)
    directus.activate("ada@example.com", PASSWORD)
    bo = directus.login("bo@example.com", PASSWORD)
    asked = bo.get(f"{directus.url}/items/customers", params={"fields": "name,address"}, timeout=15)
    assert asked.status_code == 403  # Viewer + support may not read address
    everything = bo.get(f"{directus.url}/items/customers", timeout=15)
    assert everything.status_code == 200
    row = everything.json()["data"][0]
    assert "name" in row and "address" not in row  # "all fields" leaves the denied one out
    assert bo.get(f"{directus.url}/items/orders", timeout=15).status_code == 403  # no table read
    ada = directus.login("ada@example.com", PASSWORD)
    allowed = ada.get(f"{directus.url}/items/customers", params={"fields": "name,address"}, timeout=15)
    assert allowed.status_code == 200
    assert allowed.json()["data"][0]["address"] == "address of customers 1"
    assert ada.get(f"{directus.url}/items/orders", timeout=15).status_code == 200


def test_step2_changes_and_removes_then_converges(adapter: DirectusAdapter, directus: DirectusServer, tmp_path: Path) -> None:
    converge(write(tmp_path, ORG, CRM_STEP1), adapter)
    step2 = write(tmp_path, ORG, CRM_STEP2)
    plan = plan_for(step2, adapter)
    removed = {c.address for c in plan.pending if c.action is Action.DELETE}
    assert 'workspace_member["acme/crm/ada@example.com"]' in removed
    assert 'table_permission["acme/crm/orders"]' in removed
    assert 'field_permission["acme/crm/customers/address"]' in removed
    apply_all(plan, adapter)
    assert plan_for(step2, adapter).pending == []
    live = adapter.read(["acme"])
    assert 'field_permission["acme/crm/customers/email"]' in live
    assert live['workspace_member["acme/crm/bo@example.com"]'].attrs == {"role": "Editor", "custom_roles": []}
    orders = directus.api("GET", "/permissions", params={"filter[collection][_eq]": "orders", "filter[policy][_nnull]": "true"})
    assert orders == []


def test_change_behind_the_tools_back_is_read(adapter: DirectusAdapter, directus: DirectusServer, tmp_path: Path) -> None:
    folder = write(tmp_path, ORG, CRM_STEP1)
    converge(folder, adapter)
    support = [p for p in directus.api("GET", "/policies", params={"limit": "-1"}) if p["name"] == "support"][0]
    directus.api("POST", "/permissions", json={"policy": support["id"], "collection": "orders", "action": "read", "fields": ["*"], "permissions": {}})
    plan = plan_for(folder, adapter)
    assert [c.address for c in plan.pending] == ['table_permission["acme/crm/orders"]']
    assert plan.pending[0].before is not None and plan.pending[0].before["read"] == ["Editor", "delivery", "support"]
    apply_all(plan, adapter)
    assert plan_for(folder, adapter).pending == []


def test_listings_are_read_completely_page_by_page(adapter: DirectusAdapter, directus: DirectusServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    more = "\n".join(f"    - {{email: extra{i:02d}@example.com, role: Member}}" for i in range(7))
    converge(write(tmp_path, ORG, CRM_STEP1, more), adapter)
    with DirectusAdapter(Target.parse(directus.target)) as whole:
        everything = whole.read(["acme"])
    with DirectusAdapter(Target.parse(directus.target + "?page_size=2")) as paged:
        assert paged.read(["acme"]) == everything
        assert paged.requests > whole.requests + 5  # it really went page by page


def test_removing_the_identity_is_refused(adapter: DirectusAdapter) -> None:
    adapter.read(["acme"])
    gone = Change(Action.DELETE, "member", "acme/admin@example.com", {"role": "Admin"}, None)
    with pytest.raises(RefusedError, match="identity"):
        adapter.apply(gone)


def test_bad_token_is_one_line(directus: DirectusServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, "not-the-token")
    with DirectusAdapter(Target.parse(directus.target)) as a, pytest.raises(TargetError) as err:
        a.read(["acme"])
    assert "credentials refused" in str(err.value) and "\n" not in str(err.value)
    assert "not-the-token" not in str(err.value)


def test_unreachable_server_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from directus_server import free_port

    monkeypatch.setenv(TOKEN_ENV, "t")
    with DirectusAdapter(Target.parse(f"directus+http://127.0.0.1:{free_port()}")) as a, pytest.raises(TargetError, match="cannot connect"):
        a.read(["acme"])


def test_missing_token_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    with pytest.raises(TargetError, match=TOKEN_ENV):
        DirectusAdapter(Target.parse("directus+http://127.0.0.1:1"))


def test_emails_directus_refuses_fail_in_one_line(adapter: DirectusAdapter) -> None:
    adapter.read(["acme"])
    change = Change(Action.CREATE, "member", "acme/ada@acme.test", None, {"role": "Member"})
    with pytest.raises(TargetError) as err:
        adapter.apply(change)
    assert "\n" not in str(err.value) and "email" in str(err.value)
