"""The applier's bounded parallel writes: truly concurrent, bounded, lanes in order, stops on failure."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from fakes import MemoryAdapter

from accessops.apply.applier import apply_changes, lane_of, parallelism_for
from accessops.apply.state import StateStore
from accessops.engine import Context
from accessops.plan.change import Action, Change, Plan
from accessops.settings import Settings


class ParallelAdapter(MemoryAdapter):
    """Records how many writes run at once and the order within each lane."""

    parallel_writes = True

    def __init__(self, barrier: threading.Barrier | None = None, fail_on: str | None = None) -> None:
        super().__init__()
        self.lock = threading.Lock()
        self.active = 0
        self.most = 0
        self.order: list[str] = []
        self.barrier = barrier
        self.fail_on = fail_on

    def apply(self, change: Change) -> None:
        with self.lock:
            self.active += 1
            self.most = max(self.most, self.active)
        try:
            if self.barrier is not None and change.type == "member":
                self.barrier.wait()  # only two writes in flight together pass this
            if change.key == self.fail_on:
                raise RuntimeError("the server said no")
            time.sleep(0.005)
            with self.lock:
                super().apply(change)
                self.order.append(change.key)
        finally:
            with self.lock:
                self.active -= 1


def plan_of(members: int, team_members: int) -> Plan:
    changes = [Change(Action.CREATE, "member", f"acme/u{i:02d}@a.test", None, {"role": "Member"}) for i in range(members)]
    changes.append(Change(Action.CREATE, "team", "acme/t", None, {}))
    changes += [Change(Action.CREATE, "team_member", f"acme/t/u{i:02d}@a.test", None, {}) for i in range(team_members)]
    return Plan(changes=sorted(changes, key=Change.sort_key))


@pytest.fixture
def ctx(tmp_path: Path):
    def make(adapter: MemoryAdapter) -> Context:
        c = Context(Settings(), adapter.target, adapter)
        c.state = StateStore(tmp_path / "state.db")
        return c

    return make


def test_writes_really_run_side_by_side_within_the_bound(ctx) -> None:
    adapter = ParallelAdapter(barrier=threading.Barrier(2, timeout=10))
    result = apply_changes(ctx(adapter), plan_of(12, 6), parallelism=3)
    assert result.ok and len(result.done) == 19
    assert 2 <= adapter.most <= 3
    lane = [k for k in adapter.order if k.startswith("acme/t/")]
    assert lane == sorted(lane)  # one team's memberships, in plan order


def test_a_failure_stops_the_run_and_the_rest_is_not_attempted(ctx) -> None:
    adapter = ParallelAdapter(fail_on="acme/u03@a.test")
    c = ctx(adapter)
    result = apply_changes(c, plan_of(8, 4), parallelism=4)
    assert [ch.key for ch, _ in result.failed] == ["acme/u03@a.test"]
    assert not any(k.startswith("acme/t") for k in adapter.order)  # later batches never started
    assert {ch.key for ch in result.not_done} >= {"acme/t", *(f"acme/t/u{i:02d}@a.test" for i in range(4))}
    applied = c.state.last_applied(c.target.url)
    assert set(applied) == {f'member["{k}"]' for k in adapter.order}  # the state store holds exactly what was done


def test_parallelism_is_one_for_adapters_that_write_one_at_a_time(ctx) -> None:
    assert parallelism_for(ctx(MemoryAdapter()), 8) == 1
    assert parallelism_for(ctx(ParallelAdapter()), 8) == 8
    assert parallelism_for(ctx(ParallelAdapter()), None) == 4


def test_memberships_of_one_parent_share_a_lane() -> None:
    a = Change(Action.CREATE, "team_member", "acme/t/a@a.test", None, {})
    b = Change(Action.CREATE, "team_member", "acme/t/b@a.test", None, {})
    other = Change(Action.CREATE, "team_member", "acme/u/a@a.test", None, {})
    assert lane_of(a) == lane_of(b) != lane_of(other)
