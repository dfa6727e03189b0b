"""One suite, every state backend: SQLite, git (real bare repositories) and PostgreSQL (a real server).

Each test plays two CI runners: separate, fresh folders with the same
manifests, one tenant (``local:``) and one shared ``state`` URL, as
ephemeral runners sharing a git branch or a database would.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest

from accessops.adapters.base import Target
from accessops.adapters.local import LocalAdapter
from accessops.apply import applier
from accessops.apply.store import open_store, parse_state_url
from accessops.cli import main
from accessops.plan.change import Action, Change
from pg_server import new_database, running_postgres
from test_engine_cli import STEP1, STEP2

BACKENDS = ["sqlite", "git", "postgresql"]


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    with running_postgres() as url:
        yield url


@dataclass
class Backend:
    """A state URL and how to make it fail (a locked database, a lost remote, a killed session)."""

    kind: str
    url: str
    root: Path
    lock_survives_kill: bool  # PostgreSQL's advisory lock ends with the killed session
    break_it: Callable[[], None] = lambda: None
    repair: Callable[[], None] = lambda: None


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Backend]:
    kind = request.param
    if kind == "sqlite":
        path = tmp_path / "shared" / "state.db"
        b = Backend(kind, str(path), tmp_path, True)
        monkeypatch.setattr("accessops.apply.state.BUSY_TIMEOUT", 0.2)
        holder: list[sqlite3.Connection] = []

        def lock_db() -> None:  # another writer holds the database: every write fails
            conn = sqlite3.connect(str(path), isolation_level=None)
            conn.execute("BEGIN EXCLUSIVE")
            holder.append(conn)

        def unlock_db() -> None:
            for conn in holder:
                conn.execute("ROLLBACK")
                conn.close()

        b.break_it, b.repair = lock_db, unlock_db
    elif kind == "git":
        remote = tmp_path / "policy.git"
        subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
        away = tmp_path / "policy.git.unreachable"
        b = Backend(kind, f"git+file://{remote}", tmp_path, True)
        b.break_it = lambda: remote.rename(away)  # the network is gone
        b.repair = lambda: away.rename(remote)
    else:
        url = new_database(request.getfixturevalue("postgres"), re.sub(r"\W", "_", request.node.name.lower())[:60])
        b = Backend(kind, url, tmp_path, False)

        def kill_sessions() -> None:  # the database drops every connection but ours
            import psycopg

            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")

        b.break_it = kill_sessions
    monkeypatch.delenv("ACCESSOPS_TARGET", raising=False)
    monkeypatch.delenv("ACCESSOPS_STATE", raising=False)
    yield b


class Runner:
    """A fresh CI runner: its own checkout folder; the tenant and the state are shared."""

    def __init__(self, backend: Backend, name: str, manifests: str = STEP1) -> None:
        self.backend = backend
        self.root = backend.root / name
        (self.root / "access").mkdir(parents=True)
        self.tenant = backend.root / "tenant.db"
        self.target = f"local:{self.tenant}"
        self.write(manifests)

    def write(self, manifests: str) -> None:
        (self.root / "access" / "org.yaml").write_text(manifests)

    def args(self) -> list[str]:
        return ["--target", self.target, "--state", self.backend.url]

    def cli(self, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
        here = os.getcwd()
        os.chdir(self.root)
        try:
            capsys.readouterr()
            code = main([argv[0], *argv[1:], *self.args()])
            out = capsys.readouterr()
            return code, out.out, out.err
        finally:
            os.chdir(here)

    def subprocess(self, script: str, *argv: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[1] / "src"), os.environ.get("PYTHONPATH", "")])}
        return subprocess.run([sys.executable, "-c", script, *argv], cwd=self.root, capture_output=True, text=True, env=env, timeout=300, check=False)

    def live(self) -> dict[str, dict[str, Any]]:
        with LocalAdapter(Target.parse(self.target)) as adapter:
            return {a: r.attrs for a, r in adapter.read(["acme"]).items()}

    def live_change(self, change: Change) -> None:
        with LocalAdapter(Target.parse(self.target)) as adapter:
            adapter.apply(change)

    def state(self) -> Any:
        return open_store(parse_state_url(self.backend.url))


def assert_consistent(runner: Runner) -> None:
    """Every last-applied record matches live, and no intent is left unsettled."""
    store = runner.state()
    try:
        applied = store.last_applied(runner.target)
        assert store.intents(runner.target) == []
    finally:
        store.close()
    live = runner.live()
    for addr, res in applied.items():
        assert addr in live, addr
        assert {k: live[addr].get(k) for k in res.attrs} == res.attrs, addr


def test_a_fresh_runner_sees_the_log_and_plans_no_changes(backend: Backend, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = Runner(backend, "runner-1"), Runner(backend, "runner-2")
    assert first.cli(capsys, "apply", "access", "--auto-approve")[0] == 0
    code, out, _ = second.cli(capsys, "log", "access")
    assert code == 0 and out.startswith("run 1  ok  ") and out.count("\n  ok ") == 15
    code, out, _ = second.cli(capsys, "plan", "access", "--detailed-exitcode")
    assert code == 0, out
    assert "No changes." in out and "changed" not in out


def test_drift_classification_survives_a_fresh_runner(backend: Backend, capsys: pytest.CaptureFixture[str]) -> None:
    first = Runner(backend, "runner-1")
    assert first.cli(capsys, "apply", "access", "--auto-approve")[0] == 0
    second = Runner(backend, "runner-2", STEP2)  # edits in git: bo becomes Viewer, cy joins, roadmap opens
    second.live_change(Change(Action.UPDATE, "member", "acme/cy@acme.test", {"role": "Member"}, {"role": "Admin"}))  # behind git's back
    code, out, _ = second.cli(capsys, "drift", "access", "--format", "json")
    assert code == 2
    origins = {c["accessops"]["address"]: c["accessops"]["notes"][0] for c in json.loads(out)["resource_changes"] if c["change"]["actions"] != ["no-op"]}
    assert origins['member["acme/cy@acme.test"]'] == "changed live"
    assert origins['workspace_member["acme/crm/bo@acme.test"]'] == "changed in git"
    assert origins['team_member["acme/platform/cy@acme.test"]'] == "changed in git"
    assert "changed in git and live" not in origins.values()


RACE = textwrap.dedent(
    """
    import sys
    from accessops.apply.store import open_store, parse_state_url
    store = open_store(parse_state_url(sys.argv[1]))
    try:
        store.acquire("race-target", sys.argv[2])
        print("won", flush=True)
    except Exception as exc:
        print("lost", exc, flush=True)
    sys.stdin.read()  # hold the lock until the test has both answers
    """
)


def test_two_processes_race_for_the_lock_and_exactly_one_wins(backend: Backend) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[1] / "src"), os.environ.get("PYTHONPATH", "")])}
    procs = [
        subprocess.Popen([sys.executable, "-c", RACE, backend.url, f"runner-{i}"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        for i in (1, 2)
    ]
    try:
        answers = [p.stdout.readline().strip() for p in procs if p.stdout]  # type: ignore[union-attr]
    finally:
        for p in procs:
            if p.stdin:
                p.stdin.close()
            p.wait(timeout=60)
    assert sorted(a.split()[0] for a in answers) == ["lost", "won"], answers
    lost = next(a for a in answers if a.startswith("lost"))
    assert re.search(r"locked by runner-[12] \(pid \d+ on .*\) since \d{4}-\d\d-\d\dT.*lock id [0-9a-f]{16}.*accessops force-unlock [0-9a-f]{16}", lost), lost


KILL_AFTER_TENANT_COMMIT = textwrap.dedent(
    """
    import os, signal, sys
    from accessops.apply import applier
    made = applier._Recorder.ok
    seen = [0]
    def ok(self, i, change):
        seen[0] += 1
        if seen[0] == int(os.environ["KILL_AT"]):  # the tenant committed this change; the state has not heard of it
            os.kill(os.getpid(), signal.SIGKILL)
        made(self, i, change)
    applier._Recorder.ok = ok
    from accessops.cli import main
    sys.exit(main(sys.argv[1:]))
    """
)


def killed_apply(runner: Runner, script: str, *, at: int) -> None:
    """Run ``apply`` under ``script``, which SIGKILLs the process at its ``at``-th hook call."""
    os.environ["KILL_AT"] = str(at)
    try:
        killed = runner.subprocess(script, "apply", "access", "--auto-approve", *runner.args())
    finally:
        del os.environ["KILL_AT"]
    assert killed.returncode == -9, killed.stderr


def recorded(runner: Runner) -> tuple[list[Any], dict[str, Any]]:
    """The apply log's runs and the last-applied resources of the runner's target."""
    store = runner.state()
    try:
        return store.runs(runner.target), store.last_applied(runner.target)
    finally:
        store.close()


def recover(runner: Runner, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Apply again; when a dead apply's lock is in the way, break it with the id the error gives."""
    code, out, err = runner.cli(capsys, "apply", "access", "--auto-approve")
    broke = ""
    if code != 0:
        found = re.search(r"accessops force-unlock ([0-9a-f]{16})", err)
        assert found, err
        code_u, out_u, err_u = runner.cli(capsys, "force-unlock", found.group(1))
        assert code_u == 0, err_u
        broke = found.group(1)
        code, out, err = runner.cli(capsys, "apply", "access", "--auto-approve")
    assert code == 0, err
    return code, broke


def test_a_killed_apply_is_force_unlocked_and_the_rerun_converges_without_losing_a_record(backend: Backend, capsys: pytest.CaptureFixture[str]) -> None:
    runner = Runner(backend, "runner-1")
    killed_apply(runner, KILL_AFTER_TENANT_COMMIT, at=6)
    sixth = 'team["acme/platform"]'
    assert sixth in runner.live()  # the tenant has the sixth change ...

    _, broke = recover(runner, capsys)
    assert bool(broke) == backend.lock_survives_kill
    assert_consistent(runner)
    runs, applied = recorded(runner)
    assert [r.status for r in runs] == ["ok", "interrupted"]
    interrupted = {c.address: (c.result, c.error) for c in runs[1].changes}
    assert interrupted[sixth] == ("ok", "confirmed from live after its run was interrupted")  # ... and so does the state
    assert sixth in applied and len(applied) == 15
    code, out, _ = Runner(backend, "runner-2").cli(capsys, "plan", "access", "--detailed-exitcode")
    assert code == 0 and "No changes." in out
    # the record is right, so a live change to that object is drift, "changed live"
    runner.live_change(Change(Action.DELETE, "team", "acme/platform", {}, None))
    code, out, _ = runner.cli(capsys, "drift", "access", "--format", "json")
    assert {c["accessops"]["address"]: c["accessops"]["notes"][0] for c in json.loads(out)["resource_changes"] if c["change"]["actions"] != ["no-op"]}[sixth] == "changed live"


def test_a_kill_between_a_batchs_tenant_commit_and_its_records_loses_no_record(backend: Backend, capsys: pytest.CaptureFixture[str]) -> None:
    """The three members are one tenant transaction; the kill comes while their outcomes wait for their one state transaction."""
    runner = Runner(backend, "runner-1")
    killed_apply(runner, KILL_AFTER_TENANT_COMMIT, at=4)  # the ok of the second member: the first is not recorded either
    members = ['member["acme/ada@acme.test"]', 'member["acme/bo@acme.test"]', 'member["acme/cy@acme.test"]']
    assert set(members) <= set(runner.live()) and 'team["acme/platform"]' not in runner.live()  # the batch, whole; nothing after it
    recover(runner, capsys)
    assert_consistent(runner)
    runs, applied = recorded(runner)
    assert [r.status for r in runs] == ["ok", "interrupted"]
    interrupted = {c.address: (c.result, c.error) for c in runs[1].changes}
    if backend.kind != "git":  # the git backend pushes once per run: a killed run recorded nothing before its intents settle
        assert interrupted['organization["acme"]'] == ("ok", None)  # its batch was recorded before the next began
    for address in members:
        assert interrupted[address] == ("ok", "confirmed from live after its run was interrupted")
    assert interrupted['team["acme/platform"]'] == ("not attempted", "not seen live after its run was interrupted")
    assert len(applied) == 15 and set(members) <= set(applied)
    code, out, _ = Runner(backend, "runner-2").cli(capsys, "plan", "access", "--detailed-exitcode")
    assert code == 0 and "No changes." in out


KILL_INSIDE_A_BATCH = textwrap.dedent(
    """
    import os, signal, sys
    from accessops.adapters.local import LocalAdapter
    made = LocalAdapter.write
    seen = [0]
    def write(self, db, change):
        made(self, db, change)
        seen[0] += 1
        if seen[0] == int(os.environ["KILL_AT"]):  # the batch's statements ran; its transaction never commits
            os.kill(os.getpid(), signal.SIGKILL)
    LocalAdapter.write = write
    from accessops.cli import main
    sys.exit(main(sys.argv[1:]))
    """
)


def test_a_kill_inside_a_batchs_transaction_leaves_none_of_it_and_the_rerun_converges(backend: Backend, capsys: pytest.CaptureFixture[str]) -> None:
    runner = Runner(backend, "runner-1")
    killed_apply(runner, KILL_INSIDE_A_BATCH, at=4)  # the second of the three members, mid-transaction
    live = runner.live()
    assert 'custom_role["acme/support"]' in live and not any(a.startswith("member[") for a in live)  # the batch, rolled back whole
    recover(runner, capsys)
    assert_consistent(runner)
    runs, applied = recorded(runner)
    assert [r.status for r in runs] == ["ok", "interrupted"]
    interrupted = {c.address: (c.result, c.error) for c in runs[1].changes}
    assert interrupted['member["acme/ada@acme.test"]'] == ("not attempted", "not seen live after its run was interrupted")
    assert len(applied) == 15
    code, out, _ = Runner(backend, "runner-2").cli(capsys, "plan", "access", "--detailed-exitcode")
    assert code == 0 and "No changes." in out


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
def test_a_batch_of_records_is_one_transaction(backend: Backend) -> None:
    """A log line the database refuses (a second outcome for one change) takes the whole batch's records with it."""
    from accessops.apply.records import Outcome

    from accessops.errors import AccessOpsError

    store = Runner(backend, "runner-1").state()
    try:
        changes = [Change(Action.CREATE, "member", f"acme/u{i}@acme.test", None, {"role": "Member"}) for i in range(3)]
        run = store.begin_run("local:t", "me", changes=changes)
        with pytest.raises((sqlite3.IntegrityError, AccessOpsError)):
            store.record_changes(run, [Outcome(0, changes[0], "ok"), Outcome(1, changes[1], "ok"), Outcome(1, changes[2], "ok")], applied_to="local:t")
        assert store.last_applied("local:t") == {} and len(store.intents("local:t")) == 3 and store.runs("local:t")[0].changes == []
        store.record_changes(run, [Outcome(i, c, "ok") for i, c in enumerate(changes)], applied_to="local:t")
        assert len(store.last_applied("local:t")) == 3 and store.intents("local:t") == []
        assert [c.result for c in store.runs("local:t")[0].changes] == ["ok"] * 3
        # an update merges over the recorded row, a gone object is forgotten, a failure leaves its row
        promote = Change(Action.UPDATE, "member", "acme/u0@acme.test", {"role": "Member"}, {"name": "U"})
        later = [promote, Change(Action.UPDATE, "member", "acme/u1@acme.test", {}, {"role": "Admin"}), Change(Action.DELETE, "member", "acme/u2@acme.test", {}, None)]
        second = store.begin_run("local:t", "me", changes=later)
        store.record_changes(second, [Outcome(0, later[0], "ok"), Outcome(1, later[1], "gone", "404"), Outcome(2, later[2], "failed", "500")], applied_to="local:t")
        applied = store.last_applied("local:t")
        assert {a: r.attrs for a, r in applied.items()} == {'member["acme/u0@acme.test"]': {"role": "Member", "name": "U"}, 'member["acme/u2@acme.test"]': {"role": "Member"}}
    finally:
        store.close()


def test_a_failure_while_recording_leaves_a_consistent_state(backend: Backend, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    runner = Runner(backend, "runner-1")
    made = applier._Recorder.ok
    seen = [0]

    def ok(self: Any, i: int, change: Change) -> None:
        seen[0] += 1
        if seen[0] == 3:
            backend.break_it()
        made(self, i, change)

    monkeypatch.setattr(applier._Recorder, "ok", ok)
    code, _, err = runner.cli(capsys, "apply", "access", "--auto-approve")
    lines = err.strip().splitlines()
    assert code == 1 and lines[-1].startswith("error: ") and ("state" in lines[-1]) and "Traceback" not in err, err
    assert len(lines) <= 2, err  # one line (and, when the remote is gone, that the lock could not be released)
    monkeypatch.setattr(applier._Recorder, "ok", made)
    backend.repair()
    recover(runner, capsys)
    assert_consistent(runner)
    code, out, _ = runner.cli(capsys, "plan", "access", "--detailed-exitcode")
    assert code == 0 and "No changes." in out
    assert len(runner.live()) >= 15


def test_postgresql_force_unlock_ends_a_hung_holders_session(postgres: str, tmp_path: Path) -> None:
    url = new_database(postgres, "hung_holder")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    hung = subprocess.Popen([sys.executable, "-c", RACE, url, "hung@runner"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert hung.stdout is not None and hung.stdout.readline().strip() == "won"
        store = open_store(parse_state_url(url))
        try:
            held = store.holder("race-target")
            assert held is not None and held.holder == "hung@runner"
            with pytest.raises(Exception, match="locked by hung@runner"):
                store.acquire("race-target", "me")
            assert store.force_unlock(held.id) == held
            assert store.acquire("race-target", "me").holder == "me"  # the hung session was ended with its advisory lock
        finally:
            store.close()
    finally:
        if hung.stdin:
            hung.stdin.close()
        hung.wait(timeout=60)


def test_settling_an_intent_follows_what_live_shows() -> None:
    from accessops.apply.reconcile import settled
    from accessops.apply.records import Intent
    from accessops.model.resource import Resource

    made = Change(Action.CREATE, "team", "acme/platform", None, {})
    never = Change(Action.UPDATE, "member", "acme/bo@acme.test", {"role": "Member"}, {"role": "Admin"})
    removed = Change(Action.DELETE, "member", "acme/cy@acme.test", {"role": "Member"}, None)
    live = {
        made.address: Resource("team", "acme/platform", {}),
        never.address: Resource("member", "acme/bo@acme.test", {"role": "Member", "status": "active"}),
    }
    applied = {never.address: Resource("member", "acme/bo@acme.test", {"role": "Member"}), removed.address: Resource("member", "acme/cy@acme.test", {"role": "Member"})}
    out, verdicts = settled(applied, [Intent("t", 1, i, c) for i, c in enumerate([made, never, removed])], live)
    assert [took for _, took in verdicts] == [True, False, True]
    assert set(out) == {made.address, never.address} and out[never.address].attrs == {"role": "Member"}


def test_postgresql_tables_are_created_on_first_use_once_with_their_schema_version(postgres: str) -> None:
    import threading

    import psycopg

    from accessops.apply.state_pg import MIGRATIONS

    url = new_database(postgres, "first_use")
    opened: list[Any] = []
    errors: list[BaseException] = []

    def first_use() -> None:
        try:
            opened.append(open_store(parse_state_url(url)))
        except BaseException as exc:  # collected: the test fails below naming it
            errors.append(exc)

    runners = [threading.Thread(target=first_use) for _ in range(4)]
    for t in runners:
        t.start()
    for t in runners:
        t.join(timeout=120)
    for store in opened:
        store.close()
    assert errors == [] and len(opened) == 4
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT version FROM accessops_schema").fetchall() == [(len(MIGRATIONS),)]
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE tablename LIKE 'accessops_%'")}
    assert tables == {"accessops_schema", "accessops_applied", "accessops_runs", "accessops_run_changes", "accessops_intents", "accessops_locks"}
