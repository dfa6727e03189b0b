"""Partial failure: an apply that fails at change k of 20, for every k, on the real local adapter.

After each failure the live tenant and the state store agree (no drift, the
apply log says exactly which changes were made), the next plan is exactly
the changes not made, and applying again converges to an empty plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from safety_env import TENANT, Workdir, org_doc, workdir  # noqa: F401  (workdir is a fixture)

from accessops import engine
from accessops.adapters.base import Adapter
from accessops.adapters.local import LocalAdapter
from accessops.engine import Context, apply_changes, build_plan, open_context
from accessops.errors import TargetError
from accessops.model.resource import RESOURCE_TYPES, Resource, ResourceMap
from accessops.plan.change import Action, Change, Plan
from accessops.settings import load_settings

STEP1_ORG = org_doc(
    ["ada@acme.test:Owner", "bo@acme.test:Member", "cy@acme.test:Member", "dee@acme.test:Member", "eve@acme.test:Member"],
    teams="  teams:\n    - {name: platform, members: [ada@acme.test, bo@acme.test, cy@acme.test]}\n    - {name: ops, members: [dee@acme.test]}\n",
    custom_roles="  custom_roles: [{name: support}, {name: sales}]\n",
)
STEP1_CRM = """\
apiVersion: accessops/v1
kind: Workspace
metadata: {name: crm}
spec:
  organization: acme
  members:
    - {email: bo@acme.test, role: Editor, custom_roles: [support]}
    - {email: cy@acme.test, role: Viewer}
  tables:
    - {name: customers, edit: [support], fields: [{name: address, read: [support]}]}
"""
STEP2_ORG = org_doc(
    ["ada@acme.test:Owner", "bo@acme.test:Admin", "cy@acme.test:Member", "eve@acme.test:Member", "fay@acme.test:Member", "gus@acme.test:Member"],
    teams=(
        "  teams:\n    - {name: platform, members: [ada@acme.test, bo@acme.test, fay@acme.test]}\n"
        "    - {name: ops, members: [eve@acme.test]}\n    - {name: qa, members: [gus@acme.test, ada@acme.test]}\n"
    ),
    custom_roles="  custom_roles: [{name: support}, {name: billing}]\n",
)
STEP2_CRM = """\
apiVersion: accessops/v1
kind: Workspace
metadata: {name: crm}
spec:
  organization: acme
  members:
    - {email: bo@acme.test, role: Admin, custom_roles: [support, billing]}
    - {email: fay@acme.test, role: Editor}
  tables:
    - {name: customers, edit: [billing], fields: [{name: address, read: [billing, support]}]}
    - {name: invoices, read: [billing], fields: [{name: total, read: [billing]}]}
"""
PLANNED = 20


class FaultyAdapter(Adapter):
    """The real local adapter, failing at the k-th change it is asked to apply.

    ``before``: the write is refused before anything happens (a 500, a
    timeout). ``inside``: the statements run in the tenant's transaction,
    then the failure strikes before commit (a crash mid-write).
    """

    scheme = "local"
    supports = LocalAdapter.supports

    def __init__(self, inner: LocalAdapter, fail_at: int, mode: str) -> None:
        super().__init__(inner.target)
        self.inner, self.fail_at, self.mode = inner, fail_at, mode
        self.calls = 0

    def read(self, orgs: Sequence[str]) -> ResourceMap:
        """The real read."""
        return self.inner.read(orgs)

    def identity(self) -> str | None:
        """The real identity."""
        return self.inner.identity()

    def apply(self, change: Change) -> None:
        """Apply, or fail at the chosen change."""
        self.calls += 1
        if self.calls != self.fail_at:
            self.inner.apply(change)
            return
        if self.mode == "before":
            raise TargetError(f"injected failure at change {self.calls}")
        with self.inner.transaction() as db:
            self.inner.write(db, change)
            raise TargetError(f"injected crash inside the transaction of change {self.calls}")

    def close(self) -> None:
        """Close the real adapter."""
        self.inner.close()


def context(root: Path) -> Context:
    settings = load_settings([str(root)], target=f"local:{root / TENANT}")
    return open_context([str(root)], settings)


def plan_now(root: Path) -> tuple[Plan, ResourceMap]:
    """A fresh plan against the tenant (and what was last applied)."""
    ctx = context(root)
    try:
        return build_plan(ctx, [str(root)]), ctx.last_applied
    finally:
        ctx.close()


def apply_now(root: Path, wrap: Any = None) -> tuple[engine.ApplyResult, Plan]:
    ctx = context(root)
    try:
        if wrap is not None:
            ctx.adapter = wrap(ctx.adapter)
        plan = build_plan(ctx, [str(root)])
        return apply_changes(ctx, plan), plan
    finally:
        ctx.close()


def shape(changes: list[Change]) -> list[tuple[str, str, Any]]:
    return [(c.address, c.action.value, c.after) for c in changes]


def expected_state(last: ResourceMap, done: list[Change]) -> dict[str, dict[str, Any]]:
    """What the state store should hold after ``done`` on top of ``last``."""
    out = {a: dict(r.attrs) for a, r in last.items()}
    for c in done:
        if c.action is Action.DELETE:
            out.pop(c.address, None)
            continue
        kept = {k: v for k, v in (c.after or {}).items() if k not in RESOURCE_TYPES[c.type].readonly}
        out[c.address] = {**out.get(c.address, {}), **kept} if c.action is Action.UPDATE else kept
    return out


def step1(workdir: Workdir) -> None:
    workdir.write("org.yaml", STEP1_ORG)
    workdir.write("crm.yaml", STEP1_CRM)
    # applied under the same target spelling as plan_now, so the state store
    # knows step 1 (drift tells objects created live from those applied)
    assert apply_now(workdir.root)[0].ok
    workdir.write("org.yaml", STEP2_ORG)
    workdir.write("crm.yaml", STEP2_CRM)


def test_the_step2_plan_has_twenty_changes_of_every_kind_and_no_refusal(workdir: Workdir) -> None:
    step1(workdir)
    plan, _ = plan_now(workdir.root)
    assert len(plan.pending) == PLANNED
    assert {c.action for c in plan.pending} == {Action.CREATE, Action.UPDATE, Action.DELETE}
    assert "refusals" not in plan.extras


@pytest.mark.parametrize("mode", ["before", "inside"])
@pytest.mark.parametrize("k", range(1, PLANNED + 1))
def test_failure_at_change_k_leaves_a_consistent_state_and_the_rerun_converges(workdir: Workdir, k: int, mode: str) -> None:
    step1(workdir)
    planned, last_before = plan_now(workdir.root)
    result, plan = apply_now(workdir.root, lambda real: FaultyAdapter(real, k, mode))
    assert shape(plan.pending) == shape(planned.pending)

    # what the applier says it did
    assert [c.address for c in result.done] == [c.address for c in plan.pending[: k - 1]]
    assert [c.address for c, _ in result.failed] == [plan.pending[k - 1].address]
    assert [c.address for c in result.not_done] == [c.address for c in plan.pending[k:]]

    # the live tenant holds exactly the changes made: the next plan is the rest, with no drift
    remaining, last_applied = plan_now(workdir.root)
    assert shape(remaining.pending) == shape(plan.pending[k - 1 :])
    assert remaining.drift == []

    # the state store recorded exactly the changes made, and the log says which
    assert {a: r.attrs for a, r in last_applied.items()} == expected_state(last_before, result.done)
    ctx = context(workdir.root)
    try:
        run = ctx.state.runs(limit=1)[0]
    finally:
        ctx.close()
    assert run.status == "failed" and run.planned == PLANNED
    assert [c.result for c in run.changes] == ["ok"] * (k - 1) + ["failed"] + ["not attempted"] * (PLANNED - k)
    assert "injected" in (run.changes[k - 1].error or "")

    # rerunning converges
    again, _ = apply_now(workdir.root)
    assert again.ok and len(again.done) == PLANNED - k + 1
    final, _ = plan_now(workdir.root)
    assert final.pending == [] and final.drift == []


class FaultyBatches(LocalAdapter):
    """The real local adapter, batching three changes per transaction, failing whenever it writes one chosen change.

    ``before``: refused before its statements; ``inside``: after them, inside
    the transaction. The failure strikes in the batch and again in the
    one-by-one pass that follows it, as a change that really fails would.
    """

    batch_limit = 3

    def __init__(self, inner: LocalAdapter, address: str, mode: str) -> None:
        inner.close()
        super().__init__(inner.target)
        self.address, self.mode = address, mode

    def write(self, db: Any, change: Change) -> None:
        """Write, or fail at the chosen change."""
        if change.address == self.address and self.mode == "before":
            raise TargetError(f"injected failure at {change.address}")
        super().write(db, change)
        if change.address == self.address:
            raise TargetError(f"injected crash inside the transaction of {change.address}")


@pytest.mark.parametrize("mode", ["before", "inside"])
@pytest.mark.parametrize("k", range(1, PLANNED + 1))
def test_failure_at_change_k_inside_a_batch_leaves_a_consistent_state_and_the_rerun_converges(workdir: Workdir, k: int, mode: str) -> None:
    step1(workdir)
    planned, last_before = plan_now(workdir.root)
    address = planned.pending[k - 1].address
    result, plan = apply_now(workdir.root, lambda real: FaultyBatches(real, address, mode))

    assert [c.address for c in result.done] == [c.address for c in plan.pending[: k - 1]]
    assert [c.address for c, _ in result.failed] == [address]
    assert [c.address for c in result.not_done] == [c.address for c in plan.pending[k:]]
    remaining, last_applied = plan_now(workdir.root)
    assert shape(remaining.pending) == shape(plan.pending[k - 1 :]) and remaining.drift == []
    assert {a: r.attrs for a, r in last_applied.items()} == expected_state(last_before, result.done)
    ctx = context(workdir.root)
    try:
        run = ctx.state.runs(limit=1)[0]
    finally:
        ctx.close()
    assert [c.result for c in run.changes] == ["ok"] * (k - 1) + ["failed"] + ["not attempted"] * (PLANNED - k)
    again, _ = apply_now(workdir.root)
    assert again.ok and len(again.done) == PLANNED - k + 1
    final, _ = plan_now(workdir.root)
    assert final.pending == [] and final.drift == []


def test_the_cli_reports_what_was_and_was_not_done_with_exit_1(workdir: Workdir, monkeypatch: pytest.MonkeyPatch) -> None:
    step1(workdir)
    real_open = engine.open_target

    def faulty_open(settings: Any) -> tuple[Any, Adapter]:
        target, adapter = real_open(settings)
        return target, FaultyAdapter(adapter, 7, "before")  # type: ignore[arg-type]

    import accessops.cli.cmd_apply as cmd_apply

    with monkeypatch.context() as patch:
        patch.setattr(engine, "open_target", faulty_open)
        patch.setattr(cmd_apply, "open_target", faulty_open, raising=False)
        code, out, err = workdir.apply()
    assert code == 1
    assert "error: apply failed at change 7 of 20" in err
    assert "done: 6 change(s) applied and recorded; not done: 14 (the failed one and 13 after it)" in err
    assert workdir.apply()[0] == 0
    assert "No changes" in workdir.run("plan")[1]


def test_an_object_gone_meanwhile_is_reported_and_the_rest_goes_on(workdir: Workdir) -> None:
    step1(workdir)
    ctx = context(workdir.root)
    try:
        plan = build_plan(ctx, [str(workdir.root)])
        workdir.tenant("remove_member", "bo@acme.test", "acme")  # behind the plan's back
        result = apply_changes(ctx, plan)
    finally:
        ctx.close()
    gone = [c.address for c, _ in result.gone]
    assert 'member["acme/bo@acme.test"]' in gone and not result.failed
    assert len(result.done) + len(result.gone) == PLANNED
    assert workdir.apply()[0] == 0  # bo is declared: invited again
    final, _ = plan_now(workdir.root)
    assert final.pending == [] and 'member["acme/bo@acme.test"]' in workdir.live()


def test_a_resource_read_back_is_never_half_written(workdir: Workdir) -> None:
    """The crash inside a transaction leaves the object exactly as before (spot check on one update)."""
    step1(workdir)
    before = workdir.live()
    plan, _ = plan_now(workdir.root)
    k = next(i for i, c in enumerate(plan.pending, 1) if c.address == 'workspace_member["acme/crm/bo@acme.test"]')
    result, _ = apply_now(workdir.root, lambda real: FaultyAdapter(real, k, "inside"))
    assert result.failed
    after = workdir.live()
    addr = 'workspace_member["acme/crm/bo@acme.test"]'
    assert after[addr] == Resource(before[addr].type, before[addr].key, before[addr].attrs)
