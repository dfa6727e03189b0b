"""SCIM Bulk (RFC 7644 §3.7) against a real scim2-server, which supports it.

The server's ``/ServiceProviderConfig`` is set by a file per test server:
Bulk advertised with the default limits, with a small ``maxOperations``, and
not advertised (one request per change, as before). Requests are counted
through the fault proxy, which forwards them unchanged.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from conformance.servers import (
    SCIM_TOKEN,
    FaultProxy,
    ScimServer,
    fault_proxy,
    scim_server,
)

from accessops.adapters.base import Target
from accessops.adapters.scim import ScimAdapter
from accessops.apply.applier import apply_changes
from accessops.apply.state import StateStore
from accessops.engine import Context, drop_vocabulary
from accessops.manifest.loader import load
from accessops.model.compile import compile_model
from accessops.plan.change import Plan
from accessops.plan.planner import make_plan
from accessops.settings import Settings

pytestmark = pytest.mark.server


def provider_config(tmp: Path, *, supported: bool, max_operations: int = 1000, max_payload: int = 1048576) -> Path:
    """A ServiceProviderConfig file for scim2-server."""
    config = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "patch": {"supported": True},
        "bulk": {"supported": supported, "maxOperations": max_operations if supported else 0, "maxPayloadSize": max_payload if supported else 0},
        "filter": {"supported": True, "maxResults": 1000},
        "changePassword": {"supported": False},
        "sort": {"supported": True},
        "etag": {"supported": True},
        "authenticationSchemes": [{"type": "oauthbearertoken", "name": "bearer_token", "description": "HTTP Bearer Token"}],
    }
    path = tmp / f"spc-{supported}-{max_operations}-{max_payload}.json"
    path.write_text(json.dumps(config))
    return path


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ScimServer]]:
    """Four servers: Bulk with default limits, with maxOperations 7, with maxPayloadSize 2,000 bytes; no Bulk."""
    tmp = tmp_path_factory.mktemp("spc")
    with (
        scim_server(args=("--service-provider-config", str(provider_config(tmp, supported=True)))) as bulk,
        scim_server(args=("--service-provider-config", str(provider_config(tmp, supported=True, max_operations=7)))) as small,
        scim_server(args=("--service-provider-config", str(provider_config(tmp, supported=True, max_payload=2000)))) as narrow,
        scim_server(args=("--service-provider-config", str(provider_config(tmp, supported=False)))) as plain,
    ):
        yield {"bulk": bulk, "small": small, "narrow": narrow, "plain": plain}


@pytest.fixture(autouse=True)
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCESSOPS_SCIM_TOKEN", SCIM_TOKEN)
    monkeypatch.delenv("ACCESSOPS_SCIM_PAGE_SIZE", raising=False)


def manifests(folder: Path, members: int, teams: int = 3) -> Path:
    """One organization: ``members`` members, each in one of ``teams`` teams."""
    emails = [f"user{i:03d}@acme.test" for i in range(members)]
    lines = [
        "apiVersion: accessops/v1", "kind: Organization", "metadata: {name: acme}", "spec:", "  profile: org-roles", "  members:",
        *(f"    - {{email: {e}, role: {'Admin' if i % 10 == 0 else 'Member'}, name: User {i}}}" for i, e in enumerate(emails)),
        "  teams:",
        *(f"    - {{name: team{t}, members: [{', '.join(e for i, e in enumerate(emails) if i % teams == t)}]}}" for t in range(teams)),
    ]
    (folder / "org.yaml").write_text("\n".join(lines) + "\n")
    return folder


def plan_for(folder: Path, adapter: ScimAdapter) -> Plan:
    """The plan as the engine makes it (without the organization profile, which SCIM cannot store)."""
    compiled = compile_model(load([folder]))
    drop_vocabulary(compiled, adapter)
    return make_plan(compiled, adapter.read(["acme"]))


def apply(adapter: ScimAdapter, plan: Plan, tmp_path: Path) -> Any:
    ctx = Context(Settings(), adapter.target, adapter)
    ctx.state = StateStore(tmp_path / "state.db")
    return ctx, apply_changes(ctx, plan, parallelism=4)


def proxied(server: ScimServer, proxy: FaultProxy, base: str) -> ScimAdapter:
    """An adapter talking to ``base`` through the proxy."""
    path = base.removeprefix(server.root)
    return ScimAdapter(Target.parse(f"scim+http://127.0.0.1:{proxy.port}{path}"))


def writes_seen(proxy: FaultProxy) -> dict[str, int]:
    """Requests the proxy forwarded that were not reads, by method and path kind."""
    counts: dict[str, int] = {}
    for seen in proxy.seen:
        if seen.method == "GET":
            continue
        parts = seen.path.split("?")[0].split("/")
        kind = parts[parts.index("v2") + 1]  # Bulk, Users or Groups
        key = f"{seen.method} {kind}"
        counts[key] = counts.get(key, 0) + 1
    return counts


def test_an_apply_from_empty_is_a_few_bulk_requests(servers: dict[str, ScimServer], tmp_path: Path) -> None:
    server = servers["bulk"]
    base = server.tenant()
    folder = manifests(tmp_path, 120)
    with fault_proxy(server.root) as proxy, proxied(server, proxy, base) as adapter:
        plan = plan_for(folder, adapter)
        before = adapter.requests
        _, result = apply(adapter, plan, tmp_path)
        used = adapter.requests - before
        assert result.ok and len(result.done) == len(plan.pending) >= 240
        assert used <= 0.2 * len(plan.pending)
        assert set(writes_seen(proxy)) == {"POST Bulk"}  # no write went one by one
        assert plan_for(folder, adapter).pending == []


def test_max_operations_is_respected(servers: dict[str, ScimServer], tmp_path: Path) -> None:
    server = servers["small"]
    base = server.tenant()
    folder = manifests(tmp_path, 20, teams=2)
    with fault_proxy(server.root) as proxy, proxied(server, proxy, base) as adapter:
        plan = plan_for(folder, adapter)
        _, result = apply(adapter, plan, tmp_path)
        assert result.ok
        # 20 users, 2 groups, one PATCH per group for the memberships: 20/7 + 2/7 + 2/7 requests, none refused
        assert writes_seen(proxy) == {"POST Bulk": math.ceil(20 / 7) + 1 + 1}
        assert all(s.status == 200 for s in proxy.seen if s.path.endswith("/Bulk"))
        assert plan_for(folder, adapter).pending == []


def test_max_payload_size_is_respected(servers: dict[str, ScimServer], tmp_path: Path) -> None:
    server = servers["narrow"]
    base = server.tenant()
    folder = manifests(tmp_path, 30, teams=2)
    with fault_proxy(server.root) as proxy, proxied(server, proxy, base) as adapter:
        plan = plan_for(folder, adapter)
        _, result = apply(adapter, plan, tmp_path)
        assert result.ok
        bulk = [s for s in proxy.seen if s.path.endswith("/Bulk")]
        assert len(bulk) > 3 and all(s.status == 200 for s in bulk)  # several requests, none refused with 413
        assert all(int(s.headers.get("Content-Length") or 0) <= 2000 for s in bulk)
        assert set(writes_seen(proxy)) == {"POST Bulk"}
        assert plan_for(folder, adapter).pending == []


def test_without_bulk_advertised_each_change_is_its_own_request(servers: dict[str, ScimServer], tmp_path: Path) -> None:
    server = servers["plain"]
    base = server.tenant()
    folder = manifests(tmp_path, 6, teams=2)
    with fault_proxy(server.root) as proxy, proxied(server, proxy, base) as adapter:
        plan = plan_for(folder, adapter)
        _, result = apply(adapter, plan, tmp_path)
        assert result.ok
        seen = writes_seen(proxy)
        assert "POST Bulk" not in seen
        assert seen["POST Users"] == 6 and seen["POST Groups"] == 2 and seen["PATCH Groups"] == 6
        assert plan_for(folder, adapter).pending == []


def test_a_refused_operation_is_that_change_and_a_rerun_converges(servers: dict[str, ScimServer], tmp_path: Path) -> None:
    server = servers["bulk"]
    base = server.tenant()
    folder = manifests(tmp_path, 10, teams=2)
    with ScimAdapter(Target.parse(f"scim+{base}")) as adapter:
        plan = plan_for(folder, adapter)
        # between plan and apply someone provisions user004 by hand: its POST is refused with 409
        made = requests.post(
            f"{base}/Users", json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "user004@acme.test"},
            headers={"Authorization": f"Bearer {SCIM_TOKEN}"}, timeout=10,
        )
        assert made.status_code == 201
        ctx, result = apply(adapter, plan, tmp_path)
        assert [c.address for c, _ in result.failed] == ['member["acme/user004@acme.test"]']
        assert "HTTP 409" in result.failed[0][1] and "(bulk)" in result.failed[0][1]
        members = [c.address for c in plan.pending if c.type == "member"]
        at = members.index('member["acme/user004@acme.test"]')
        done = {c.address for c in result.done}
        assert set(members[:at]) <= done and not set(members[at + 1 :]) & done
        assert {c.address for c in result.not_done} == {c.address for c in plan.pending} - done - {members[at]}
        recorded = ctx.state.last_applied(ctx.target.url)
        assert set(members[:at]) <= set(recorded) and members[at + 1] not in recorded
        live = adapter.read(["acme"])
        assert members[at - 1] in live and members[at + 1] not in live  # not attempted: not made
        rerun = plan_for(folder, adapter)
        assert apply(adapter, rerun, tmp_path)[1].ok
        assert plan_for(folder, adapter).pending == []


def test_a_group_gone_meanwhile_is_reported_gone_and_the_rest_is_sent(servers: dict[str, ScimServer], tmp_path: Path) -> None:
    server = servers["bulk"]
    base = server.tenant()
    folder = manifests(tmp_path, 8, teams=3)
    text = (folder / "org.yaml").read_text()
    # first the members and empty teams, then the memberships
    (folder / "org.yaml").write_text("\n".join(line.split(", members:")[0] + "}" if "name: team" in line else line for line in text.splitlines()) + "\n")
    with fault_proxy(server.root) as proxy, proxied(server, proxy, base) as adapter:
        assert apply(adapter, plan_for(folder, adapter), tmp_path)[1].ok
        (folder / "org.yaml").write_text(text)
        plan = plan_for(folder, adapter)
        assert {c.type for c in plan.pending} == {"team_member"}
        group = requests.get(f"{base}/Groups", params={"filter": 'displayName eq "team1"'}, headers={"Authorization": f"Bearer {SCIM_TOKEN}"}, timeout=10)
        gid = group.json()["Resources"][0]["id"]
        requests.delete(f"{base}/Groups/{gid}", headers={"Authorization": f"Bearer {SCIM_TOKEN}"}, timeout=10).raise_for_status()
        proxy.seen.clear()
        _, result = apply(adapter, plan, tmp_path)
        assert {c.key.split("/")[1] for c, _ in result.gone} == {"team1"}
        assert {c.key.split("/")[1] for c in result.done} == {"team0", "team2"}
        assert result.ok and not result.failed
        assert writes_seen(proxy) == {"POST Bulk": 2}  # the gone group stopped the first; the rest went again


def test_an_operation_over_max_payload_size_falls_back_to_one_request_per_change(servers: dict[str, ScimServer], tmp_path: Path) -> None:
    server = servers["narrow"]
    base = server.tenant()
    folder = manifests(tmp_path, 10, teams=1)
    text = (folder / "org.yaml").read_text().replace("name: User 5}", f"name: {'x' * 2500}}}")
    (folder / "org.yaml").write_text(text)
    with fault_proxy(server.root) as proxy, proxied(server, proxy, base) as adapter:
        plan = plan_for(folder, adapter)
        _, result = apply(adapter, plan, tmp_path)
        assert result.ok
        refused = [s for s in proxy.seen if s.path.endswith("/Bulk") and s.status == 413]
        assert len(refused) == 1  # the big operation alone; the server refused that request
        # what the earlier bulk requests made stands; from the big one on, one request per change, none twice
        assert writes_seen(proxy)["POST Users"] == 5
        assert not [s for s in proxy.seen if s.status == 409]
        assert plan_for(folder, adapter).pending == []
