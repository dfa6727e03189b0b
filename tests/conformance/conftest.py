"""Adapters under test for the one conformance suite every adapter passes.

HOW TO ADD AN ADAPTER (e.g. ``directus``)
-----------------------------------------
1. Write a fixture ``<name>_adapter(tmp_path, ...) -> AdapterUnderTest``
   below (start the real server in a session-scoped fixture; a missing
   server binary must ``pytest.fail``, never skip).
2. Add ``"<name>": True`` to :data:`ADAPTERS` (``True`` when it talks HTTP:
   it then also gets the network cases: bad token, unreachable server,
   paging, 429 with Retry-After, 5xx with backoff).
3. Fill :class:`AdapterUnderTest`: the target URL, the environment the CLI
   needs, manifests that fit what the adapter supports, a ``live_edit`` that
   changes the live system behind the tool's back (never through
   ``accessops``), an independent ``live_addresses`` read, and for HTTP
   adapters an :class:`HttpSide` so the fault proxy can sit in front.

Every case drives the real CLI in a subprocess (``python -m accessops``)
with the manifests in ``tmp_path`` as its working directory.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from harness import AdapterUnderTest, HttpSide
from servers import SCIM_TOKEN, ScimServer, free_port, scim_server

from directus_case import directus_adapter, directus_service  # noqa: F401  (fixtures)

from accessops.adapters.base import Target
from accessops.adapters.registry import open_adapter
from accessops.plan.change import Action, Change

#: adapter name -> whether it speaks HTTP (and so gets the network cases).
#: ``local`` has no network: those cases are not generated for it.
ADAPTERS: dict[str, bool] = {
    "local": False,
    "scim": True,
    "directus": True,
}

ORG = "acme"
EXAMPLE_MEMBERS = [("ada@acme.test", "Admin", "Ada Lovelace"), ("bo@acme.test", "Member", "Bo Diddley"), ("cy@acme.test", "Member", None)]
EXAMPLE_TEAM = ("platform", ["ada@acme.test", "bo@acme.test"])


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``any_adapter`` runs for every adapter; ``http_adapter`` only for those that speak HTTP."""
    if "any_adapter" in metafunc.fixturenames:
        metafunc.parametrize("any_adapter", list(ADAPTERS), indirect=True)
    if "http_adapter" in metafunc.fixturenames:
        metafunc.parametrize("http_adapter", [n for n, http in ADAPTERS.items() if http], indirect=True)


@pytest.fixture
def any_adapter(request: pytest.FixtureRequest) -> AdapterUnderTest:
    """The adapter named by the parameter."""
    adapter: AdapterUnderTest = request.getfixturevalue(f"{request.param}_adapter")
    return adapter


@pytest.fixture
def http_adapter(request: pytest.FixtureRequest) -> AdapterUnderTest:
    """An adapter that talks HTTP, named by the parameter."""
    adapter: AdapterUnderTest = request.getfixturevalue(f"{request.param}_adapter")
    assert adapter.http is not None
    return adapter


# --- the example organization (members and teams: what local and scim share) ----


def org_yaml(members: list[tuple[str, str, str | None]], team: tuple[str, list[str]], profile: str = "org-roles") -> str:
    """An Organization with members (email, role, name) and one team."""
    rows = [f"    - {{email: {e}, role: {r}" + (f", name: {n}" if n else "") + "}" for e, r, n in members]
    head = f"apiVersion: accessops/v1\nkind: Organization\nmetadata:\n  name: {ORG}\nspec:\n  profile: {profile}\n  members:\n"
    teams = f"  teams:\n    - name: {team[0]}\n      members: [{', '.join(team[1])}]\n"
    return head + "\n".join(rows) + "\n" + teams


def example_org(extra: int = 0) -> str:
    """ada, bo, cy (+ ``extra`` members) and team platform with ada and bo."""
    more = [(f"extra{i:03d}@acme.test", "Member", None) for i in range(extra)]
    return org_yaml(EXAMPLE_MEMBERS + more, EXAMPLE_TEAM)


def smaller_org() -> tuple[str, list[str]]:
    """The example without cy, and without bo in the team."""
    return (
        org_yaml(EXAMPLE_MEMBERS[:2], (EXAMPLE_TEAM[0], ["ada@acme.test"])),
        ['member["acme/cy@acme.test"]', 'team_member["acme/platform/bo@acme.test"]'],
    )


EXAMPLE_ADDRESSES = [
    'organization["acme"]',
    *(f'member["acme/{e}"]' for e, _, _ in EXAMPLE_MEMBERS),
    'team["acme/platform"]',
    'team_member["acme/platform/ada@acme.test"]',
    'team_member["acme/platform/bo@acme.test"]',
]


# --- local ---------------------------------------------------------------------------


@pytest.fixture
def local_adapter(tmp_path: Path) -> AdapterUnderTest:
    """The embedded SQLite tenant; live edits go through the adapter's own apply, not the CLI."""
    target = f"local:{tmp_path / 'tenant.db'}"

    def live_edit() -> str:
        with open_adapter(Target.parse(target)) as adapter:
            before = adapter.read([ORG])['member["acme/bo@acme.test"]'].attrs
            adapter.apply(Change(Action.UPDATE, "member", "acme/bo@acme.test", dict(before), {**before, "role": "Admin"}))
        return 'member["acme/bo@acme.test"]'

    def live_addresses() -> set[str]:
        with open_adapter(Target.parse(target)) as adapter:
            return set(adapter.read([ORG]))

    return AdapterUnderTest("local", target, {}, tmp_path, example_org, smaller_org, live_edit, live_addresses, EXAMPLE_ADDRESSES)


# --- scim ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def scim_service() -> Iterator[ScimServer]:
    """One scim2-server for the session; each test gets its own tenant."""
    with scim_server() as server:
        yield server


def _scim_raw(method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    resp = requests.request(method, url, json=body, headers={"Authorization": f"Bearer {SCIM_TOKEN}"}, timeout=10)
    resp.raise_for_status()
    return resp.json() if resp.content else None


@pytest.fixture
def scim_adapter(tmp_path: Path, scim_service: ScimServer) -> AdapterUnderTest:
    """A fresh scim2-server tenant; live edits are raw SCIM PATCH requests."""
    base = scim_service.tenant()
    tenant_path = base.removeprefix(scim_service.root)

    def live_edit() -> str:
        user = _scim_raw("GET", f'{base}/Users?filter=userName eq "bo@acme.test"')["Resources"][0]
        patch = {"op": "replace", "path": "roles", "value": [{"value": "Admin", "primary": True}]}
        _scim_raw("PATCH", f"{base}/Users/{user['id']}", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [patch]})
        return 'member["acme/bo@acme.test"]'

    def live_addresses() -> set[str]:
        users = _scim_raw("GET", f"{base}/Users?count=1000")["Resources"]
        groups = _scim_raw("GET", f"{base}/Groups?count=1000")["Resources"]
        emails = {u["id"]: u["userName"].lower() for u in users}
        found = {'organization["acme"]'} | {f'member["acme/{e}"]' for e in emails.values()}
        for g in groups:
            found.add(f'team["acme/{g["displayName"]}"]')
            found |= {f'team_member["acme/{g["displayName"]}/{emails[m["value"]]}"]' for m in g.get("members") or ()}
        return found

    http = HttpSide(
        upstream=scim_service.root,
        via=lambda proxy_root: f"scim+{proxy_root}{tenant_path}",
        bad_credentials_env={"ACCESSOPS_SCIM_TOKEN": "wrong-token"},
        unreachable_target=f"scim+http://127.0.0.1:{free_port()}/v2",
        small_pages_env={"ACCESSOPS_SCIM_PAGE_SIZE": "2"},
        listing_path="/Users",
        secret=SCIM_TOKEN,
    )
    env = {"ACCESSOPS_SCIM_TOKEN": SCIM_TOKEN}
    return AdapterUnderTest("scim", f"scim+{base}", env, tmp_path, example_org, smaller_org, live_edit, live_addresses, EXAMPLE_ADDRESSES, http)
