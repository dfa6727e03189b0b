"""The applier with a batching adapter: runs handed over whole, outcomes recorded exactly per change."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fakes import MemoryAdapter

from accessops.adapters.base import ItemGoneError
from accessops.apply.applier import apply_changes
from accessops.apply.state import StateStore
from accessops.engine import Context
from accessops.plan.change import Action, Change, Plan
from accessops.settings import Settings


class BatchAdapter(MemoryAdapter):
    """Takes runs; answers the outcomes a test sets per key (``gone``, ``fail``, ``stop``: list ends there)."""

    batch_writes = True

    def __init__(self, answers: dict[str, str] | None = None) -> None:
        super().__init__()
        self.runs: list[list[str]] = []
        self.answers = answers or {}

    def apply_batch(self, changes: Sequence[Change]) -> list[BaseException | None]:
        self.runs.append([c.key for c in changes])
        outcomes: list[BaseException | None] = []
        for change in changes:
            answer = self.answers.get(change.key)
            if answer == "stop":
                return outcomes
            if answer == "gone":
                outcomes.append(ItemGoneError(change.address))
            elif answer == "fail":
                outcomes.append(RuntimeError("refused"))
            else:
                self.apply(change)
                outcomes.append(None)
        return outcomes


def plan_of(members: int, team_members: int) -> Plan:
    changes = [Change(Action.CREATE, "member", f"acme/u{i:02d}@a.test", None, {"role": "Member"}) for i in range(members)]
    changes.append(Change(Action.CREATE, "team", "acme/t", None, {}))
    changes += [Change(Action.CREATE, "team_member", f"acme/t/u{i:02d}@a.test", None, {}) for i in range(team_members)]
    return Plan(changes=sorted(changes, key=Change.sort_key))


def run(adapter: BatchAdapter, plan: Plan, tmp_path: Path) -> tuple[Context, list[str]]:
    ctx = Context(Settings(), adapter.target, adapter)
    ctx.state = StateStore(tmp_path / "state.db")
    apply_changes(ctx, plan, parallelism=4)
    logged = ctx.state.runs(limit=1)[0]
    return ctx, [c.result for c in logged.changes]


def test_each_run_of_one_type_is_one_batch(tmp_path: Path) -> None:
    adapter = BatchAdapter()
    _, results = run(adapter, plan_of(5, 3), tmp_path)
    assert [len(r) for r in adapter.runs] == [5, 1, 3]
    assert results == ["ok"] * 9


def test_a_gone_change_is_reported_and_the_run_goes_on(tmp_path: Path) -> None:
    adapter = BatchAdapter({"acme/u01@a.test": "gone"})
    _, results = run(adapter, plan_of(4, 0), tmp_path)
    assert results == ["ok", "gone", "ok", "ok", "ok"]


def test_a_failure_in_a_batch_is_that_change_and_later_runs_are_not_attempted(tmp_path: Path) -> None:
    adapter = BatchAdapter({"acme/u02@a.test": "fail"})
    ctx, results = run(adapter, plan_of(4, 2), tmp_path)
    # the adapter made the change after the failed one too: it is recorded done, exactly
    assert results == ["ok", "ok", "failed", "ok", "not attempted", "not attempted", "not attempted"]
    assert len(adapter.runs) == 1
    recorded = ctx.state.last_applied(ctx.target.url)
    assert 'member["acme/u03@a.test"]' in recorded and 'member["acme/u02@a.test"]' not in recorded


def test_a_short_answer_leaves_the_rest_not_attempted(tmp_path: Path) -> None:
    adapter = BatchAdapter({"acme/u02@a.test": "stop"})
    ctx, results = run(adapter, plan_of(4, 1), tmp_path)
    assert results == ["ok", "ok", "not attempted", "not attempted", "not attempted", "not attempted"]
    assert 'member["acme/u02@a.test"]' not in ctx.state.last_applied(ctx.target.url)


def test_the_default_batch_applies_one_by_one_and_stops_at_a_failure() -> None:
    adapter = MemoryAdapter()
    changes = plan_of(3, 0).pending[:3]
    adapter.resources['member["acme/u01@a.test"]'] = None  # type: ignore[assignment]
    update = [Change(Action.UPDATE, "member", "acme/gone@a.test", {"role": "Member"}, {"role": "Admin"}), *changes]
    outcomes = MemoryAdapter.apply_batch(adapter, update)
    assert isinstance(outcomes[0], ItemGoneError) and outcomes[1:] == [None, None, None]
