"""Directus batch writes against a real Directus 11: few requests per change, exact results per change.

A run of member or workspace-member changes goes out as a handful of batch
requests. When Directus refuses a batch (here: a user created behind the
tool's back between plan and apply), the failing change is reported as
itself, the ones before it are recorded done, the rest not attempted, and a
rerun converges.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conformance.servers import fault_proxy
from directus_server import ADMIN_EMAIL, DirectusServer, running_directus

from accessops.adapters.base import ItemGoneError, Target
from accessops.adapters.directus import TOKEN_ENV, DirectusAdapter
from accessops.apply.applier import apply_changes
from accessops.apply.state import StateStore
from accessops.engine import Context
from accessops.manifest.loader import load
from accessops.model.compile import compile_model
from accessops.plan.change import Action, Plan
from accessops.plan.planner import make_plan
from accessops.settings import Settings

pytestmark = pytest.mark.server

CUSTOM = ("support", "delivery")


def manifests(folder: Path, members: int) -> Path:
    """One organization with ``members`` members, each in the workspace with a role and a custom role."""
    emails = [f"user{i:03d}@example.com" for i in range(members)]
    org = [
        "apiVersion: accessops/v1", "kind: Organization", "metadata: {name: acme}", "spec:",
        "  profile: workspace-roles", "  members:", f"    - {{email: {ADMIN_EMAIL}, role: Admin}}",
        *(f"    - {{email: {e}, role: {'Admin' if i % 5 == 0 else 'Member'}, name: User {i}}}" for i, e in enumerate(emails)),
        "  custom_roles:", *(f"    - {{name: {c}}}" for c in CUSTOM),
    ]
    ws = [
        "apiVersion: accessops/v1", "kind: Workspace", "metadata: {name: crm}", "spec:", "  organization: acme",
        "  members:", f"    - {{email: {ADMIN_EMAIL}, role: Admin}}",
        *(f"    - {{email: {e}, role: {('Editor', 'Viewer')[i % 2]}, custom_roles: [{CUSTOM[i % 2]}]}}" for i, e in enumerate(emails)),
    ]
    (folder / "org.yaml").write_text("\n".join(org) + "\n")
    (folder / "crm.yaml").write_text("\n".join(ws) + "\n")
    return folder


@pytest.fixture(scope="module")
def directus() -> Iterator[DirectusServer]:
    """A fresh Directus with the test collections."""
    with running_directus() as server:
        yield server


@pytest.fixture
def adapter(directus: DirectusServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[DirectusAdapter]:
    """An adapter on a Directus reset to its bootstrap."""
    directus.reset()
    monkeypatch.setenv(TOKEN_ENV, directus.token)
    with DirectusAdapter(Target.parse(directus.target)) as a:
        yield a


def plan_for(folder: Path, adapter: DirectusAdapter) -> Plan:
    """The plan from the manifests against the live Directus."""
    return make_plan(compile_model(load([folder])), adapter.read(["acme"]))


def context(adapter: DirectusAdapter, tmp_path: Path) -> Context:
    """An engine context writing its state next to the test."""
    ctx = Context(Settings(), adapter.target, adapter)
    ctx.state = StateStore(tmp_path / "state.db")
    return ctx


def run_requests(adapter: DirectusAdapter, plan: Plan, type_: str) -> tuple[int, int]:
    """Apply the run of ``type_`` changes through apply_batch; (changes, requests it took)."""
    run = [c for c in plan.pending if c.type == type_]
    before = adapter.requests
    assert adapter.apply_batch(run) == [None] * len(run)
    return len(run), adapter.requests - before


def test_a_run_of_members_takes_a_few_batch_requests_whatever_its_length(adapter: DirectusAdapter, tmp_path: Path) -> None:
    folder = manifests(tmp_path, 60)
    plan = plan_for(folder, adapter)
    adapter.identity()  # read once per adapter (GET /users/me), not a write
    for change in [c for c in plan.pending if c.type in ("organization", "custom_role", "workspace")]:
        adapter.apply(change)
    # 60 new users (and the admin's update) in one POST /users, the org Admins' policy in one POST /access
    assert run_requests(adapter, plan, "member") == (61, 2)
    # roles in one PATCH /users, custom roles in one POST /access
    assert run_requests(adapter, plan, "workspace_member") == (61, 2)
    assert plan_for(folder, adapter).pending == []


def test_the_whole_apply_from_empty_is_under_a_fifth_of_a_request_per_change(adapter: DirectusAdapter, tmp_path: Path) -> None:
    folder = manifests(tmp_path, 150)
    plan = plan_for(folder, adapter)
    before = adapter.requests
    result = apply_changes(context(adapter, tmp_path), plan)
    assert result.ok and len(result.done) == len(plan.pending) > 300
    assert (adapter.requests - before) <= 0.2 * len(plan.pending)
    assert plan_for(folder, adapter).pending == []


def test_a_refused_batch_reports_the_one_change_and_a_rerun_converges(adapter: DirectusAdapter, directus: DirectusServer, tmp_path: Path) -> None:
    folder = manifests(tmp_path, 12)
    plan = plan_for(folder, adapter)
    # between plan and apply someone creates one of the users by hand: POST /users of the batch is refused
    directus.api("POST", "/users", json={"email": "user007@example.com", "status": "active"})
    ctx = context(adapter, tmp_path)
    result = apply_changes(ctx, plan)
    assert [c.address for c, _ in result.failed] == ['member["acme/user007@example.com"]']
    assert "HTTP 400" in result.failed[0][1]
    members = [c.address for c in plan.pending if c.type == "member"]
    done = [c.address for c in result.done]
    failed_at = members.index('member["acme/user007@example.com"]')
    assert [a for a in done if a in members] == members[:failed_at]  # those before it are live and recorded
    assert {c.address for c in result.not_done} == {c.address for c in plan.pending} - set(done) - {members[failed_at]}
    live = adapter.read(["acme"])
    for address in members[:failed_at]:
        assert address in live
    assert 'member["acme/user008@example.com"]' not in live  # not attempted: not made
    recorded = ctx.state.last_applied(ctx.target.url)
    assert set(recorded) >= set(members[:failed_at]) and members[failed_at + 1] not in recorded
    # the rerun takes the hand-made user over and makes the rest
    rerun = plan_for(folder, adapter)
    assert 'member["acme/user007@example.com"]' in {c.address for c in rerun.pending if c.action is Action.UPDATE}
    assert apply_changes(ctx, rerun).ok
    assert plan_for(folder, adapter).pending == []


def test_a_user_gone_meanwhile_is_reported_gone_and_the_run_goes_on(adapter: DirectusAdapter, directus: DirectusServer, tmp_path: Path) -> None:
    folder = manifests(tmp_path, 6)
    plan = plan_for(folder, adapter)
    for change in [c for c in plan.pending if c.type != "workspace_member"]:
        adapter.apply(change)
    run = [c for c in plan.pending if c.type == "workspace_member"]
    gone = adapter.snapshot().users["user002@example.com"]
    del adapter.snapshot().users["user002@example.com"]  # as if removed behind the tool's back after the read
    directus.api("DELETE", f"/users/{gone.id}")
    outcomes = adapter.apply_batch(run)
    assert [type(o) for o in outcomes] == [ItemGoneError if "user002" in c.key else type(None) for c in run]
    assert [c.address for c in plan_for(folder, adapter).pending] == ['member["acme/user002@example.com"]', 'workspace_member["acme/crm/user002@example.com"]']


def test_a_5xx_on_a_batch_fails_one_change_and_the_rerun_converges(directus: DirectusServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    directus.reset()
    monkeypatch.setenv(TOKEN_ENV, directus.token)
    folder = manifests(tmp_path, 20)
    with fault_proxy(directus.url) as proxy, DirectusAdapter(Target.parse(f"directus+http://127.0.0.1:{proxy.port}")) as adapter:
        adapter.client.sleep = lambda seconds: None  # retries without waiting
        plan = plan_for(folder, adapter)
        # the workspace roles are one PATCH /users: it keeps failing, as does each single change after it
        proxy.fail("/users", 503, times=1000, method="PATCH")
        ctx = context(adapter, tmp_path)
        result = apply_changes(ctx, plan)
        first = next(c for c in plan.pending if c.type == "workspace_member")
        assert [c.address for c, _ in result.failed] == [first.address]
        assert "HTTP 503" in result.failed[0][1]
        at = plan.pending.index(first)
        assert [c.address for c in result.done] == [c.address for c in plan.pending[:at]]
        assert [c.address for c in result.not_done] == [c.address for c in plan.pending[at + 1 :]]
        logged = ctx.state.runs(limit=1)[0]
        assert [c.result for c in logged.changes] == ["ok"] * at + ["failed"] + ["not attempted"] * (len(plan.pending) - at - 1)
        # the live side holds exactly what was recorded: the rerun plans just the workspace members
        proxy.faults.clear()
        rerun = plan_for(folder, adapter)
        assert {c.type for c in rerun.pending} == {"workspace_member"} and len(rerun.pending) == len(plan.pending) - at
        assert apply_changes(ctx, rerun).ok
        assert plan_for(folder, adapter).pending == []


def test_removing_a_run_of_members_is_a_few_batch_requests(adapter: DirectusAdapter, tmp_path: Path) -> None:
    (tmp_path / "many").mkdir()
    (tmp_path / "none").mkdir()
    assert apply_changes(context(adapter, tmp_path), plan_for(manifests(tmp_path / "many", 30), adapter)).ok
    folder = manifests(tmp_path / "none", 0)
    plan = plan_for(folder, adapter)
    adapter.identity()
    # leaving the workspace: roles cleared in one PATCH /users, custom roles detached in one DELETE /access
    leaving = [c for c in plan.pending if c.type == "workspace_member"]
    before = adapter.requests
    assert adapter.apply_batch(leaving) == [None] * 30 and adapter.requests - before == 2
    removed = [c for c in plan.pending if c.type == "member"]
    before = adapter.requests
    assert adapter.apply_batch(removed) == [None] * 30 and adapter.requests - before == 1  # one DELETE /users
    assert plan_for(folder, adapter).pending == []
