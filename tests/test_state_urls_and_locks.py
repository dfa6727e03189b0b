"""``state`` as a URL, settings of the manifest folder, lock identity, force-unlock, --lock-timeout, state migrate."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from accessops.adapters.base import Target
from accessops.apply.store import StateURL, canonical_target, open_store, parse_duration, parse_state_url, target_identity
from accessops.cli import main
from accessops.engine import lock_key
from accessops.errors import ConfigError
from pg_server import new_database, running_postgres
from test_engine_cli import STEP1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("state.db", StateURL("sqlite", "/base/state.db")),
        ("/abs/s.db", StateURL("sqlite", "/abs/s.db")),
        ("git+file:///srv/policy.git", StateURL("git", "file:///srv/policy.git")),
        ("git+file:///srv/policy.git?branch=audit/state", StateURL("git", "file:///srv/policy.git", "audit/state")),
        ("git+https://github.com/acme/policy.git", StateURL("git", "https://github.com/acme/policy.git")),
        ("git+ssh://git@github.com/acme/policy.git", StateURL("git", "ssh://git@github.com/acme/policy.git")),
        ("git:origin", StateURL("git", "origin", remote_name=True)),
        ("postgresql://state@db:5432/accessops", StateURL("postgresql", "postgresql://state@db:5432/accessops")),
        ("postgres://db/accessops", StateURL("postgresql", "postgres://db/accessops")),
    ],
)
def test_state_urls_name_their_backend(text: str, expected: StateURL) -> None:
    assert parse_state_url(text, Path("/base")) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("git+flie:///srv/x.git", "unknown scheme 'git+flie'"),
        ("s3://bucket/state", "unknown scheme 's3'"),
        ("git:", "git:REMOTE needs a remote name"),
        ("git:../../etc", "git:REMOTE needs a remote name"),
        ("git+file:///x?branch=../../HEAD", "not a usable branch name"),
        ("git+file:///x?branch=-delete", "not a usable branch name"),
        ("git+file:///x?depth=1", "unknown option 'depth'"),
        ("git+https://bot:hunter2@github.com/acme/p.git", "a password in the URL is refused"),
        ("postgresql://bot:hunter2@db/state", "a password in the URL is refused; set PGPASSWORD"),
        ("git+https://hunter2@github.com/acme/p.git", "a password in the URL is refused"),
        ("postgresql://db/state?password=hunter2", "a password in the URL is refused"),
        ("git+https://bot:hunter2@github.com/acme/p.git?branch=../x", "not a usable branch name"),
        ("", "empty"),
    ],
)
def test_bad_state_urls_are_refused(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)) as caught:
        parse_state_url(text)
    assert "hunter2" not in str(caught.value)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ACCESSOPS_TARGET", raising=False)
    monkeypatch.delenv("ACCESSOPS_STATE", raising=False)
    (tmp_path / "access").mkdir()
    (tmp_path / "access" / "org.yaml").write_text(STEP1)
    return tmp_path


@pytest.mark.parametrize("state", ["git+file:///nowhere/policy.git", "git+flie:///nowhere/policy.git"])
def test_a_git_or_unknown_state_url_never_becomes_a_sqlite_file(repo: Path, state: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apply", "access", "--auto-approve", "--state", state]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: state ")
    assert not [p for p in repo.rglob("*") if "git+" in str(p) or p.suffix == ".db"]  # no "git+file:" file, no state file, no tenant


def test_apply_planfile_from_the_repository_root_honours_the_manifest_folders_settings(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "access" / "accessops.toml").write_text('target = "local:tenant.db"\nstate = "state/accessops-state.db"\n')
    plan_dir = repo / "runner-temp"
    plan_dir.mkdir()
    assert main(["plan", "access", "--out", str(plan_dir / "plan.out")]) == 0
    assert main(["apply", str(plan_dir / "plan.out"), "--auto-approve"]) == 0
    assert (repo / "access" / "state" / "accessops-state.db").is_file()
    assert not list(repo.glob(".accessops/*state*"))  # not the default state beside the current folder
    capsys.readouterr()
    assert main(["log", "access"]) == 0
    assert capsys.readouterr().out.startswith("run 1  ok  ")


def test_state_from_the_environment(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCESSOPS_STATE", str(repo / "env-state.db"))
    assert main(["apply", "access", "--auto-approve"]) == 0
    assert (repo / "env-state.db").is_file()


def test_lock_identity_is_the_canonical_target(tmp_path: Path) -> None:
    assert canonical_target(Target.parse("local:x/tenant.db"), tmp_path) == canonical_target(Target.parse("local:./x/../x/tenant.db"), tmp_path)
    assert target_identity(Target.parse("local:x/tenant.db"), tmp_path) == target_identity(Target.parse(f"local:{tmp_path}/x/tenant.db"), Path("/"))
    same = {
        target_identity(Target.parse(u), tmp_path)
        for u in ("scim+https://IdP.example.com/scim/v2", "scim+https://idp.example.com:443/scim/v2/", "scim+https://idp.example.com/scim//v2?x=1#frag")
    }
    assert len(same) == 1
    assert target_identity(Target.parse("scim+https://idp.example.com:8443/scim/v2"), tmp_path) not in same
    assert target_identity(Target.parse("directus+http://localhost:8055"), tmp_path).startswith("directus-")


def test_local_x_and_local_dot_x_share_one_lock(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = open_store(parse_state_url(str(repo / "state.db")))
    lock = store.acquire(lock_key(Target.parse("local:t/tenant.db")), "ci@runner-7")
    try:
        capsys.readouterr()
        assert main(["apply", "access", "--auto-approve", "--target", "local:./t/tenant.db", "--state", "state.db"]) == 1
        err = capsys.readouterr().err
        assert f"locked by ci@runner-7 (pid {os.getpid()}" in err and f"lock id {lock.id}" in err
        assert f"accessops force-unlock {lock.id} --state {repo / 'state.db'}" in err
        assert main(["force-unlock", "0123456789abcdef", "--state", "state.db"]) == 1
        assert capsys.readouterr().err.startswith("error: no lock '0123456789abcdef' in state ")
        assert main(["force-unlock", lock.id, "--state", "state.db"]) == 0
        assert "is broken" in capsys.readouterr().out
        assert main(["apply", "access", "--auto-approve", "--target", "local:t/tenant.db", "--state", "state.db"]) == 0
    finally:
        store.close()


HOLD = """
import sys
from accessops.adapters.base import Target
from accessops.apply.store import open_store, parse_state_url
from accessops.engine import lock_key
store = open_store(parse_state_url(sys.argv[1]))
store.acquire(lock_key(Target.parse(sys.argv[2])), "holder@elsewhere")
print("held", flush=True)
sys.stdin.read()
store.release(lock_key(Target.parse(sys.argv[2])))
"""


def test_lock_timeout_waits_for_the_holder(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = f"local:{repo / 'tenant.db'}"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(repo / "state.db"), target], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        args = ["apply", "access", "--auto-approve", "--target", target, "--state", "state.db"]
        assert main(args) == 1
        assert "locked by holder@elsewhere" in capsys.readouterr().err
        release = threading.Timer(1.0, lambda: holder.stdin.close() if holder.stdin else None)
        release.start()
        assert main([*args, "--lock-timeout", "2m"]) == 0  # waited for the release instead of failing
    finally:
        if holder.stdin and not holder.stdin.closed:
            holder.stdin.close()
        holder.wait(timeout=60)


@pytest.mark.parametrize(("text", "seconds"), [("30s", 30.0), ("2m", 120.0), ("1h", 3600.0), ("1m30s", 90.0), ("45", 45.0), ("500ms", 0.5)])
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_a_bad_lock_timeout_is_a_usage_error(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["apply", "access", "--lock-timeout", "soon"])
    assert done.value.code == 1 and "expected a duration like 30s" in capsys.readouterr().err


def test_state_migrate_copies_last_applied_and_the_log_between_all_three_backends(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = f"local:{repo / 'tenant.db'}"
    assert main(["apply", "access", "--auto-approve", "--target", target, "--state", "first.db"]) == 0
    (repo / "access" / "org.yaml").write_text(STEP1.replace("{email: cy@acme.test, role: Member}", "{email: cy@acme.test, role: Admin}"))
    assert main(["apply", "access", "--auto-approve", "--target", target, "--state", "first.db"]) == 0
    subprocess.run(["git", "init", "-q", "--bare", str(repo / "policy.git")], check=True)
    with running_postgres() as server:
        pg = new_database(server, "migrated")
        chain = [str(repo / "first.db"), f"git+file://{repo / 'policy.git'}", pg, str(repo / "last.db")]
        for source, dest in zip(chain, chain[1:]):
            capsys.readouterr()
            assert main(["state", "migrate", "--to", dest, "--target", target, "--state", source]) == 0
            assert "Copied 15 last-applied resource(s) of 1 target(s) and 2 run(s)" in capsys.readouterr().out
        assert main(["state", "migrate", "--to", pg, "--target", target, "--state", chain[0]]) == 1
        assert "already holds state" in capsys.readouterr().err
        stores = [open_store(parse_state_url(u)) for u in chain]
        try:
            dumps = [s.dump() for s in stores]
        finally:
            for s in stores:
                s.close()
    for dump in dumps[1:]:
        assert dump.applied == dumps[0].applied
        assert [(r.id, r.status, r.actor, r.planned, [(c.seq, c.address, c.result) for c in r.changes]) for r in dump.runs] == [
            (r.id, r.status, r.actor, r.planned, [(c.seq, c.address, c.result) for c in r.changes]) for r in dumps[0].runs
        ]
    assert main(["plan", "access", "--detailed-exitcode", "--target", target, "--state", chain[-1]]) == 0
