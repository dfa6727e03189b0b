"""The local adapter's batches: many changes per tenant transaction, one state transaction per batch, exact per-change outcomes."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from accessops.adapters.base import ItemGoneError, Target
from accessops.adapters.local import LocalAdapter
from accessops.apply.applier import apply_changes
from accessops.apply.records import Outcome
from accessops.apply.state import StateStore
from accessops.engine import Context
from accessops.errors import TargetError
from accessops.plan.change import Action, Change, Plan
from accessops.settings import Settings
from test_local_roundtrip import open_tenant, seed
from test_local_transactions import snapshot


def member(i: int) -> Change:
    return Change(Action.CREATE, "member", f"acme/u{i:04d}@acme.test", None, {"role": "Member"})


def traced(db: sqlite3.Connection) -> list[str]:
    """The transaction statements ``db`` runs from now on."""
    seen: list[str] = []
    db.set_trace_callback(lambda sql: seen.append(sql) if sql in ("BEGIN IMMEDIATE", "COMMIT", "ROLLBACK") else None)
    return seen


def test_a_batch_is_one_transaction(tmp_path: Path) -> None:
    with open_tenant(tmp_path) as adapter:
        seed(adapter)
        writes, requests = adapter.writes, adapter.requests
        seen = traced(adapter.db)
        assert adapter.apply_batch([member(i) for i in range(5)]) == [None] * 5
        assert seen == ["BEGIN IMMEDIATE", "COMMIT"]
        assert (adapter.writes - writes, adapter.requests - requests) == (5, 1)  # five changes written, one transaction
        assert {f'member["acme/u{i:04d}@acme.test"]' for i in range(5)} <= set(adapter.read(["acme"]))


def test_a_failing_change_rolls_the_batch_back_and_the_one_by_one_pass_names_it(tmp_path: Path) -> None:
    """The bad change invites its member before its unknown custom role is found: nothing of it may stay."""
    with open_tenant(tmp_path) as adapter:
        seed(adapter)
        before = snapshot(adapter)
        writes = adapter.writes
        bad = Change(Action.CREATE, "workspace_member", "acme/crm/new@acme.test", None, {"role": "Viewer", "custom_roles": ["ghost"]})
        seen = traced(adapter.db)
        outcomes = adapter.apply_batch([member(1), member(2), bad, member(4)])
        assert outcomes[:2] == [None, None] and len(outcomes) == 3  # stops at the failure: the fourth is not attempted
        assert isinstance(outcomes[2], TargetError) and "custom role 'ghost' does not exist" in str(outcomes[2])
        assert seen[:2] == ["BEGIN IMMEDIATE", "ROLLBACK"]  # the batch, undone whole, then one transaction per change
        assert seen[2:] == ["BEGIN IMMEDIATE", "COMMIT", "BEGIN IMMEDIATE", "COMMIT", "BEGIN IMMEDIATE", "ROLLBACK"]
        assert adapter.writes - writes == 2
        after = snapshot(adapter)
        emails = sorted(row[2] for row in after["members"])
        assert emails == sorted([row[2] for row in before["members"]] + ["u0001@acme.test", "u0002@acme.test"])
        assert after["workspace_members"] == before["workspace_members"]


def test_a_gone_change_in_a_batch_is_reported_and_the_rest_are_made(tmp_path: Path) -> None:
    with open_tenant(tmp_path) as adapter:
        seed(adapter)
        gone = Change(Action.UPDATE, "member", "acme/nobody@acme.test", {"role": "Member"}, {"role": "Admin"})
        outcomes = adapter.apply_batch([member(1), gone, member(3)])
        assert outcomes[0] is None and isinstance(outcomes[1], ItemGoneError) and outcomes[2] is None
        live = adapter.read(["acme"])
        assert 'member["acme/u0001@acme.test"]' in live and 'member["acme/u0003@acme.test"]' in live


class DyingAdapter(LocalAdapter):
    """Dies (a crash, not an error) after the statements of its third change ran, before the batch commits."""

    def __init__(self, target: Target) -> None:
        super().__init__(target)
        self.calls = 0

    def write(self, db: sqlite3.Connection, change: Change) -> None:
        super().write(db, change)
        self.calls += 1
        if self.calls == 3:
            raise KeyboardInterrupt("killed mid-batch")


def test_a_crash_inside_a_batch_leaves_the_tenant_as_it_was(tmp_path: Path) -> None:
    url = f"local:{tmp_path}/tenant.db"
    with LocalAdapter(Target.parse(url)) as adapter:
        seed(adapter)
        before = snapshot(adapter)
    with DyingAdapter(Target.parse(url)) as dying, pytest.raises(KeyboardInterrupt):
        dying.apply_batch([member(i) for i in range(5)])
    with LocalAdapter(Target.parse(url)) as reopened:
        assert snapshot(reopened) == before


@pytest.fixture
def ctx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Context]:
    """A local tenant that batches 40 changes at a time, with a SQLite state store."""
    monkeypatch.setattr(LocalAdapter, "batch_limit", 40)
    adapter = LocalAdapter(Target.parse(f"local:{tmp_path}/tenant.db"))
    context = Context(Settings(), adapter.target, adapter)
    context.state = StateStore(tmp_path / "state.db")
    try:
        yield context
    finally:
        context.state.close()
        adapter.close()


def test_the_applier_commits_the_tenant_and_the_state_once_per_batch(ctx: Context) -> None:
    adapter = ctx.adapter
    changes = [Change(Action.CREATE, "organization", "acme", None, {"profile": "union"}), *(member(i) for i in range(100))]
    tenant, state = traced(adapter.db), traced(ctx.state.db)
    told: list[tuple[int, str]] = []
    result = apply_changes(ctx, Plan(changes=changes), on_change=lambda i, c, outcome: told.append((i, outcome)))
    assert result.ok and len(result.done) == 101
    batches = 1 + 3  # the organization, then the members in 40 + 40 + 20
    assert tenant.count("COMMIT") == batches and adapter.requests == batches and adapter.writes == 101
    assert state.count("COMMIT") == 1 + batches  # the run with its intents, then each batch's records
    assert told == [(i, "ok") for i in range(101)]  # every change reported, in plan order
    run = ctx.state.runs(limit=1)[0]
    assert [c.result for c in run.changes] == ["ok"] * 101 and run.status == "ok"
    assert len(ctx.state.last_applied(ctx.target.url)) == 101 and ctx.state.intents(ctx.target.url) == []


def test_the_applier_reports_a_failure_inside_a_batch_as_that_change(ctx: Context) -> None:
    adapter = ctx.adapter
    duplicate = Change(Action.CREATE, "member", "acme/u0010@acme.test", None, {"role": "Member"})
    changes = [Change(Action.CREATE, "organization", "acme", None, {}), *(member(i) for i in range(50)), duplicate, *(member(i) for i in range(50, 60))]
    result = apply_changes(ctx, Plan(changes=changes))
    assert [c.address for c, _ in result.failed] == [duplicate.address] and "already exists" in result.failed[0][1]
    assert len(result.done) == 51 and len(result.not_done) == 10
    run = ctx.state.runs(limit=1)[0]
    assert [c.result for c in run.changes] == ["ok"] * 51 + ["failed"] + ["not attempted"] * 10
    assert len(ctx.state.last_applied(ctx.target.url)) == 51
    assert len(adapter.read(["acme"])) == 51  # the tenant holds exactly what was recorded


def test_a_batch_of_records_is_written_whole_or_not_at_all(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state.db")
    try:
        changes = [member(i) for i in range(3)]
        run = store.begin_run("local:t", "me", changes=changes)
        bad = [Outcome(0, changes[0], "ok"), Outcome(1, changes[1], "ok"), Outcome(1, changes[2], "ok")]  # a duplicate log line
        with pytest.raises(sqlite3.IntegrityError):
            store.record_changes(run, bad, applied_to="local:t")
        assert store.last_applied("local:t") == {} and len(store.intents("local:t")) == 3 and store.runs()[0].changes == []
        store.record_changes(run, [Outcome(i, c, "ok") for i, c in enumerate(changes)], applied_to="local:t")
        assert len(store.last_applied("local:t")) == 3 and store.intents("local:t") == []
    finally:
        store.close()


def test_a_batch_that_replaces_an_organization_never_reuses_its_old_id(tmp_path: Path) -> None:
    """Organization ids are cached only in batches that cannot change them: here the second member must join the new acme."""
    with open_tenant(tmp_path) as adapter:
        seed(adapter)
        adapter.apply(Change(Action.CREATE, "organization", "beta", None, {}))  # so the new acme cannot get the old one's rowid
        replace = Change(Action.REPLACE, "organization", "acme", {"profile": "union"}, {"profile": "union", "seats": 5})
        seen = traced(adapter.db)
        assert adapter.apply_batch([member(1), replace, member(2)]) == [None, None, None]
        assert seen == ["BEGIN IMMEDIATE", "COMMIT"]  # in one go: no stale id failed it into the one-by-one pass
        live = adapter.read(["acme"])
        assert 'member["acme/u0002@acme.test"]' in live and 'member["acme/u0001@acme.test"]' not in live  # u1 went with the old acme
        assert adapter.db.execute("SELECT count(*) FROM members WHERE org_id NOT IN (SELECT id FROM organizations)").fetchone() == (0,)


def test_memberships_of_someone_new_in_one_batch_invite_them_once(tmp_path: Path) -> None:
    """The member the first membership invites is the one the second finds (ids are cached within a batch)."""
    with open_tenant(tmp_path) as adapter:
        seed(adapter)
        adapter.apply(Change(Action.CREATE, "team", "acme/ops", None, {}))
        joins = [Change(Action.CREATE, "team_member", f"acme/{team}/new@acme.test", None, {}) for team in ("ops", "platform")]
        seen = traced(adapter.db)
        assert adapter.apply_batch(joins) == [None, None] and seen == ["BEGIN IMMEDIATE", "COMMIT"]
        rows = adapter.db.execute("SELECT m.id, m.status FROM members m WHERE m.email = 'new@acme.test'").fetchall()
        assert len(rows) == 1 and rows[0][1] == "invited"
        assert adapter.db.execute("SELECT count(*) FROM team_members WHERE member_id = ?", (rows[0][0],)).fetchone() == (2,)
        live = adapter.read(["acme"])
        assert {'team_member["acme/ops/new@acme.test"]', 'team_member["acme/platform/new@acme.test"]'} <= set(live)


def test_outcomes_of_one_address_in_one_batch_fold_in_order() -> None:
    """Settling two interrupted runs can give one address two outcomes: the second update merges over the first."""
    from accessops.apply.records import applied_by_outcomes

    first = Change(Action.UPDATE, "member", "acme/bo@acme.test", {}, {"role": "Admin"})
    second = Change(Action.UPDATE, "member", "acme/bo@acme.test", {}, {"name": "Bo"})
    stored = {"role": "Member", "global_admin": False}
    final = applied_by_outcomes([Outcome(0, first, "ok"), Outcome(1, second, "ok")], lambda address: dict(stored))
    assert final[first.address] is not None and final[first.address].attrs == {"role": "Admin", "global_admin": False, "name": "Bo"}  # type: ignore[union-attr]
    gone = applied_by_outcomes([Outcome(0, first, "ok"), Outcome(1, second, "gone")], lambda address: dict(stored))
    assert gone == {first.address: None}
    failed = applied_by_outcomes([Outcome(0, first, "failed"), Outcome(1, member(1), "not attempted")], lambda address: None)
    assert failed == {}
