"""The ``directus`` adapter in the conformance suite: one real Directus, reset per test.

Imported by ``conftest.py``. Directus refuses emails whose domain is not a
real top-level domain (``acme.test`` included), so this example uses
``example.com``; the bootstrap admin is in every manifest because accessops
never removes the identity that runs the apply.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from directus_server import ADMIN_EMAIL, DirectusServer, running_directus
from harness import AdapterUnderTest, HttpSide
from servers import free_port

from accessops.adapters.base import Target
from accessops.adapters.registry import open_adapter

TOKEN_ENV = "ACCESSOPS_DIRECTUS_TOKEN"
MEMBERS = [(ADMIN_EMAIL, "Admin", None), ("ada@example.com", "Member", "Ada Lovelace"), ("bo@example.com", "Member", None), ("cy@example.com", "Member", None)]
WORKSPACE = [(ADMIN_EMAIL, "Admin", []), ("ada@example.com", "Editor", []), ("bo@example.com", "Viewer", ["support"])]


def directus_yaml(members: list[tuple[str, str, str | None]], workspace: list[tuple[str, str, list[str]]], fields: bool = True) -> str:
    """An Organization with a custom role and a Workspace with a table (and a field) permission."""
    rows = [f"    - {{email: {e}, role: {r}" + (f", name: {n}" if n else "") + "}" for e, r, n in members]
    ws_rows = [f"    - {{email: {e}, role: {r}, custom_roles: [{', '.join(c)}]}}" for e, r, c in workspace]
    field_rows = "      fields:\n        - {name: address, read: [Editor]}\n" if fields else "      fields: []\n"
    return (
        "apiVersion: accessops/v1\nkind: Organization\nmetadata:\n  name: acme\nspec:\n  profile: workspace-roles\n  members:\n"
        + "\n".join(rows)
        + "\n  custom_roles:\n    - {name: support, description: Answers customers}\n---\n"
        + "apiVersion: accessops/v1\nkind: Workspace\nmetadata:\n  name: crm\nspec:\n  organization: acme\n  members:\n"
        + "\n".join(ws_rows)
        + "\n  tables:\n    - name: customers\n      read: [Editor, Viewer, support]\n      edit: [Editor]\n"
        + field_rows
    )


def example(extra: int = 0) -> str:
    """admin, ada, bo, cy (+ ``extra`` members); bo is a Viewer with custom role support."""
    more = [(f"extra{i:03d}@example.com", "Member", None) for i in range(extra)]
    return directus_yaml(MEMBERS + more, WORKSPACE)


def smaller() -> tuple[str, list[str]]:
    """Without cy, without bo in the workspace, without the address restriction."""
    removed = ['member["acme/cy@example.com"]', 'workspace_member["acme/crm/bo@example.com"]', 'field_permission["acme/crm/customers/address"]']
    return directus_yaml(MEMBERS[:3], WORKSPACE[:2], fields=False), removed


EXPECTED = [
    'organization["acme"]',
    *(f'member["acme/{e}"]' for e, _, _ in MEMBERS),
    'custom_role["acme/support"]',
    'workspace["acme/crm"]',
    *(f'workspace_member["acme/crm/{e}"]' for e, _, _ in WORKSPACE),
    'table_permission["acme/crm/customers"]',
    'field_permission["acme/crm/customers/address"]',
]


@pytest.fixture(scope="session")
def directus_service() -> Iterator[DirectusServer]:
    """One Directus for the session with the customers collection; a missing install fails."""
    with running_directus() as server:
        yield server


@pytest.fixture
def directus_adapter(tmp_path: Path, directus_service: DirectusServer, monkeypatch: pytest.MonkeyPatch) -> AdapterUnderTest:
    """The session's Directus, reset; live edits are raw REST calls as the admin."""
    server = directus_service
    server.reset()
    monkeypatch.setenv(TOKEN_ENV, server.token)

    def live_edit() -> str:
        editor = [r for r in server.api("GET", "/roles", params={"limit": "-1"}) if r["name"] == "Editor"][0]
        bo = server.api("GET", "/users", params={"filter[email][_eq]": "bo@example.com"})[0]
        server.api("PATCH", f"/users/{bo['id']}", json={"role": editor["id"]})
        return 'workspace_member["acme/crm/bo@example.com"]'

    def live_addresses() -> set[str]:
        with open_adapter(Target.parse(server.target)) as adapter:
            return set(adapter.read(["acme"]))

    http = HttpSide(
        upstream=server.url,
        via=lambda proxy_root: f"directus+{proxy_root}",
        bad_credentials_env={TOKEN_ENV: "wrong-token"},
        unreachable_target=f"directus+http://127.0.0.1:{free_port()}",
        small_pages_env={"ACCESSOPS_DIRECTUS_PAGE_SIZE": "2"},
        listing_path="/users",
        secret=server.token,
    )
    env = {TOKEN_ENV: server.token}
    return AdapterUnderTest("directus", server.target, env, tmp_path, example, smaller, live_edit, live_addresses, EXPECTED, http)
