"""The state store: last applied per target, the append-only apply log, one lock per target."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from accessops.adapters.base import Target
from accessops.apply.state import LockedError, StateStore, default_state_path, git_commit
from accessops.plan.change import Action, Change

TARGET = "local:.accessops/tenant.db"
ADA = Change(Action.CREATE, "member", "acme/ada@acme.test", None, {"role": "Admin", "name": "Ada"})


@pytest.fixture
def store(tmp_path: Path) -> StateStore:
    s = StateStore(tmp_path / "state" / "state.db")
    yield s
    s.close()


def test_last_applied_follows_each_successful_change(store: StateStore) -> None:
    store.record_applied(TARGET, ADA)
    store.record_applied(TARGET, Change(Action.CREATE, "team", "acme/platform", None, {}))
    store.record_applied(TARGET, Change(Action.UPDATE, "member", ADA.key, None, {"role": "Owner", "status": "active", "invited_at": "x"}))
    store.record_applied(TARGET, Change(Action.DELETE, "team", "acme/platform", {}, None))
    store.record_applied("local:elsewhere.db", Change(Action.CREATE, "team", "acme/other", None, {}))
    applied = store.last_applied(TARGET)
    assert list(applied) == [ADA.address]
    assert applied[ADA.address].attrs == {"role": "Owner", "name": "Ada"}  # merged, live-only attrs dropped
    store.forget_applied(TARGET, ADA)
    assert store.last_applied(TARGET) == {}


def test_last_applied_survives_reopening(tmp_path: Path) -> None:
    with_path = tmp_path / "s.db"
    first = StateStore(with_path)
    first.record_applied(Target.parse(TARGET), ADA)
    first.close()
    again = StateStore(with_path)
    assert again.last_applied(TARGET)[ADA.address].attrs == ADA.after
    again.close()


def test_apply_log_records_runs_and_changes_newest_first(store: StateStore) -> None:
    first = store.begin_run(TARGET, "ada@host", "abc123", 2)
    store.record_change(first, 0, ADA, "ok")
    store.record_change(first, 1, Change(Action.DELETE, "team", "acme/x", {}, None), "failed", "boom")
    store.finish_run(first, "failed")
    second = store.begin_run(TARGET, "bo@host", None, 0)
    runs = store.runs(TARGET)
    assert [r.id for r in runs] == [second, first]
    assert runs[0].status == "running" and runs[0].finished_at is None
    done = runs[1]
    assert (done.actor, done.git_commit, done.planned, done.status) == ("ada@host", "abc123", 2, "failed")
    assert [(c.seq, c.address, c.action, c.result, c.error) for c in done.changes] == [
        (0, ADA.address, "create", "ok", None),
        (1, 'team["acme/x"]', "delete", "failed", "boom"),
    ]
    assert done.to_json()["changes"][1]["error"] == "boom"
    assert store.runs("local:other.db") == []


def test_the_apply_log_is_append_only(store: StateStore) -> None:
    run = store.begin_run(TARGET, "ada@host", None, 1)
    store.record_change(run, 0, ADA, "ok")
    store.finish_run(run, "ok")
    for sql in (
        "UPDATE run_changes SET result = 'failed'",
        "DELETE FROM run_changes",
        "DELETE FROM runs",
        "UPDATE runs SET status = 'failed'",
    ):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            store.db.execute(sql)
    with pytest.raises(sqlite3.IntegrityError):  # a result outside the closed set
        store.record_change(run, 1, ADA, "maybe")
    assert store.runs()[0].changes[0].result == "ok"


def test_a_second_apply_is_refused_naming_the_holder(tmp_path: Path) -> None:
    one, two = StateStore(tmp_path / "s.db"), StateStore(tmp_path / "s.db")
    lock = one.acquire(TARGET, "ada@ci-runner")
    with pytest.raises(LockedError, match=rf"locked by ada@ci-runner \(pid {lock.pid} on .*\) since {lock.since}; lock id {lock.id}\..* accessops force-unlock {lock.id} --state "):
        two.acquire(TARGET, "bo@laptop")
    with pytest.raises(LockedError):  # force never breaks a live holder
        two.acquire(TARGET, "bo@laptop", force=True)
    two.acquire("local:other.db", "bo@laptop")  # one lock per target
    one.release(TARGET)
    assert two.acquire(TARGET, "bo@laptop").holder == "bo@laptop"
    one.close()
    two.close()


def test_a_lock_left_by_a_dead_process_is_broken_only_with_force(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    code = f"from accessops.apply.state import StateStore; StateStore({str(path)!r}).acquire({TARGET!r}, 'crashed@here')"
    subprocess.run([sys.executable, "-c", code], check=True)  # exits holding the lock
    store = StateStore(path)
    with pytest.raises(LockedError, match=r"crashed@here .*That process is gone\..*accessops force-unlock [0-9a-f]{16} "):
        store.acquire(TARGET, "ada@here")
    assert store.acquire(TARGET, "ada@here", force=True).holder == "ada@here"
    store.close()


def test_release_leaves_another_process_lock_alone(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    subprocess.run([sys.executable, "-c", f"from accessops.apply.state import StateStore; StateStore({str(path)!r}).acquire({TARGET!r}, 'other')"], check=True)
    store = StateStore(path)
    store.release(TARGET)
    held = store.holder(TARGET)
    assert held is not None and held.holder == "other"
    store.close()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("local:.accessops/tenant.db", "/root/.accessops/state.db"),
        ("local:/abs/t/tenant.db", "/abs/t/state.db"),
        ("local:t/state.db", "/root/t/state.state.db"),
        ("scim+https://api.example.com:8443/scim/v2", "/root/.accessops/state-api.example.com-8443.db"),
        ("directus+http://localhost/", "/root/.accessops/state-localhost.db"),
    ],
)
def test_default_state_path_sits_beside_the_target(url: str, expected: str) -> None:
    assert default_state_path(Target.parse(url), Path("/root")) == Path(expected)


def test_git_commit_inside_and_outside_a_work_tree(tmp_path: Path) -> None:
    assert git_commit(tmp_path) is None
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t", "HOME": str(tmp_path)}
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "org.yaml").write_text("x: 1\n")
    assert git_commit(tmp_path / "org.yaml") is None  # no commit yet
    subprocess.run(["git", "-C", str(tmp_path), "add", "org.yaml"], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "commit", "-qm", "first"], check=True, env=env)
    head = subprocess.run(["git", "-C", str(tmp_path), "rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()
    assert git_commit(tmp_path / "org.yaml") == head == git_commit(tmp_path)


def test_a_version_1_state_file_is_migrated_and_keeps_its_log(tmp_path: Path) -> None:
    from accessops.adapters.local_schema import migrate
    from accessops.apply.state import MIGRATIONS

    path = tmp_path / "old.db"
    conn = sqlite3.connect(str(path), isolation_level=None)
    migrate(conn, MIGRATIONS[:1])
    conn.execute("INSERT INTO runs (target, started_at, actor, planned, status) VALUES ('local:t', 'then', 'ada@old', 1, 'running')")
    conn.close()
    store = StateStore(path)
    try:
        (old,) = store.runs()
        assert (old.actor, old.status, old.meta) == ("ada@old", "running", {})
        store.mark_interrupted("local:t")  # the next run, holding the lock, finds it dead
        assert store.runs()[0].status == "interrupted"
    finally:
        store.close()


def test_intents_are_recorded_with_the_run_and_confirmed_by_each_outcome(store: StateStore) -> None:
    bo = Change(Action.CREATE, "member", "acme/bo@acme.test", None, {"role": "Member"})
    run = store.begin_run(TARGET, "ada@host", "abc", changes=[ADA, bo], meta={"manifest_digest": "sha256:00"})
    assert [(i.seq, i.change) for i in store.intents(TARGET)] == [(0, ADA), (1, bo)]
    store.record_applied(TARGET, ADA)
    store.record_change(run, 0, ADA, "ok")
    assert [i.change for i in store.intents(TARGET)] == [bo]  # one left: the process dies here
    assert store.runs()[0].meta == {"manifest_digest": "sha256:00"} and store.runs()[0].planned == 2
    store.begin_run(TARGET, "bo@host", None, changes=[])  # the next run (under the lock) marks the dead one
    assert [r.status for r in store.runs()] == ["running", "interrupted"]


def test_a_file_that_is_not_a_state_store_names_the_file(tmp_path: Path) -> None:
    from accessops.errors import AccessOpsError

    bad = tmp_path / "notes.txt"
    bad.write_text("this is not a database " * 100)
    with pytest.raises(AccessOpsError, match="not a usable state file") as caught:  # one line naming the file
        StateStore(bad)
    assert str(getattr(caught.value, "file", "")).endswith("notes.txt")
    with pytest.raises(AccessOpsError, match="is a folder"):
        StateStore(tmp_path)


def test_an_outcome_and_its_last_applied_record_are_one_transaction(store: StateStore) -> None:
    run = store.begin_run(TARGET, "ada@host", None, changes=[ADA])
    with pytest.raises(sqlite3.IntegrityError):  # the log line is refused (a result outside the closed set) ...
        store.record_change(run, 0, ADA, "maybe", applied_to=TARGET)
    assert store.last_applied(TARGET) == {} and len(store.intents(TARGET)) == 1  # ... so neither record nor confirmation happened
    store.record_change(run, 0, ADA, "ok", applied_to=TARGET)
    assert list(store.last_applied(TARGET)) == [ADA.address] and store.intents(TARGET) == []
    store.record_change(run, 1, ADA, "gone", "404", applied_to=TARGET)
    assert store.last_applied(TARGET) == {}


def test_a_damaged_intent_names_the_state_file(store: StateStore) -> None:
    from accessops.errors import FileError

    store.begin_run(TARGET, "ada@host", None, changes=[ADA])
    store.db.execute("UPDATE intents SET change = '{\"type\": 1}'")
    with pytest.raises(FileError, match="damaged: the intent 0 of run 1 is not a change"):
        store.intents(TARGET)


def test_intents_are_stored_compact_and_those_stored_in_the_terraform_form_still_read(store: StateStore) -> None:
    import json

    flagged = Change(Action.UPDATE, "workspace_member", "acme/crm/ada@acme.test", {"role": "Viewer"}, {"role": "Editor"}, ("why",), ("pending_acceptance",))
    store.begin_run(TARGET, "ada@host", None, changes=[ADA, flagged])
    (text,) = store.db.execute("SELECT change FROM intents WHERE seq = 1").fetchone()
    assert json.loads(text) == {"action": "update", "type": "workspace_member", "key": "acme/crm/ada@acme.test", "before": {"role": "Viewer"},
                                "after": {"role": "Editor"}, "notes": ["why"], "flags": ["pending_acceptance"]}
    store.db.execute("UPDATE intents SET change = ? WHERE seq = 0", (json.dumps(ADA.to_json()),))  # what a killed older version left
    assert [i.change for i in store.intents(TARGET)] == [ADA, flagged]


@pytest.mark.parametrize(
    "damaged",
    [
        '{"action": "create", "type": "member", "key": "acme", "before": null, "after": {}}',  # a key with too few segments
        '{"action": "create", "type": "nothing", "key": "acme/x", "before": null, "after": {}}',
        '{"action": "explode", "type": "member", "key": "acme/x", "before": null, "after": {}}',
        '{"action": "create", "type": "member", "key": "acme/x", "before": null, "after": ["role"]}',
        '["not", "a", "change"]',
    ],
)
def test_a_damaged_compact_intent_names_the_state_file(store: StateStore, damaged: str) -> None:
    from accessops.errors import FileError

    store.begin_run(TARGET, "ada@host", None, changes=[ADA])
    store.db.execute("UPDATE intents SET change = ?", (damaged,))
    with pytest.raises(FileError, match="damaged: the intent 0 of run 1 is not a change"):
        store.intents(TARGET)
