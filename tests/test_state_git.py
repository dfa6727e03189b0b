"""The git state backend against real repositories: layout, commits, retries, git:origin as actions/checkout leaves it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from accessops.apply.state_git import GitStore, org_file, target_dir
from accessops.apply.store import parse_state_url
from accessops.cli import main
from accessops.errors import AccessOpsError
from accessops.plan.change import Action, Change
from test_engine_cli import STEP1

ENV = {"GIT_AUTHOR_NAME": "dev", "GIT_AUTHOR_EMAIL": "dev@acme.test", "GIT_COMMITTER_NAME": "dev", "GIT_COMMITTER_EMAIL": "dev@acme.test"}


def git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env={**os.environ, **ENV}).stdout.strip()


@pytest.fixture
def policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A bare policy repository and a checkout of it with the manifests committed, as the current folder."""
    monkeypatch.delenv("ACCESSOPS_TARGET", raising=False)
    monkeypatch.delenv("ACCESSOPS_STATE", raising=False)
    bare = tmp_path / "policy.git"
    git("init", "-q", "--bare", "-b", "main", str(bare))
    work = tmp_path / "checkout"
    git("init", "-q", "-b", "main", str(work))
    (work / "access").mkdir()
    (work / "access" / "org.yaml").write_text(STEP1)
    git("add", ".", cwd=work)
    git("commit", "-qm", "manifests", cwd=work)
    git("remote", "add", "origin", f"file://{bare}", cwd=work)
    git("push", "-q", "origin", "main", cwd=work)
    monkeypatch.chdir(work)
    return tmp_path


def test_each_apply_is_one_commit_with_summary_commit_and_actor_and_a_diffable_layout(policy: Path) -> None:
    head = git("rev-parse", "HEAD")
    target = f"local:{policy / 'tenant.db'}"
    state = f"git+file://{policy / 'policy.git'}"
    assert main(["apply", "access", "--auto-approve", "--target", target, "--state", state]) == 0
    bare = policy / "policy.git"
    log = git("--git-dir", str(bare), "log", "--format=%B%x00", "accessops-state").split("\0")
    message = log[0].strip()
    assert message.splitlines()[0] == f"apply ok: 15 to add, 0 to change, 0 to destroy on {target}"
    assert f"Manifests commit: {head}" in message and "Actor: " in message and "Results: 15 ok" in message
    files = git("--git-dir", str(bare), "ls-tree", "-r", "--name-only", "accessops-state").splitlines()
    assert sorted(files) == ["runs/000001.json", f"{target_dir(target)}/applied/acme.json"]
    text = git("--git-dir", str(bare), "show", f"accessops-state:{target_dir(target)}/applied/acme.json")
    data = json.loads(text)
    assert text == json.dumps(data, indent=2, sort_keys=True)  # pretty and sorted: one attribute per line
    assert data["resources"]['member["acme/bo@acme.test"]'] == {"type": "member", "key": "acme/bo@acme.test", "attrs": {"role": "Member"}}
    assert not git("--git-dir", str(bare), "for-each-ref", "refs/accessops/")  # the lock was released

    # a second apply is a second commit whose diff is the one changed line
    (policy / "checkout" / "access" / "org.yaml").write_text(STEP1.replace("{email: bo@acme.test, role: Member}", "{email: bo@acme.test, role: Admin}"))
    assert main(["apply", "access", "--auto-approve", "--target", target, "--state", state]) == 0
    diff = git("--git-dir", str(bare), "diff", "accessops-state~1", "accessops-state", "--", f"{target_dir(target)}/applied/acme.json")
    assert [ln for ln in diff.splitlines() if ln[:1] in "+-" and not ln.startswith(("+++", "---"))] == ['-        "role": "Member"', '+        "role": "Admin"']


def test_git_origin_uses_the_checkouts_remote_and_config_and_leaves_the_work_tree_alone(policy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    work = policy / "checkout"
    # as actions/checkout leaves it: origin is an https URL and the credential is in the local config
    git("remote", "set-url", "origin", "https://git.example.invalid/acme/policy.git", cwd=work)
    git("config", "http.https://git.example.invalid/.extraheader", "AUTHORIZATION: basic c2VjcmV0", cwd=work)
    git("config", f"url.file://{policy / 'policy.git'}.insteadOf", "https://git.example.invalid/acme/policy.git", cwd=work)
    before = (git("rev-parse", "HEAD", cwd=work), git("symbolic-ref", "HEAD", cwd=work))
    target = f"local:{policy / 'tenant.db'}"
    assert main(["apply", "access", "--auto-approve", "--target", target, "--state", "git:origin?branch=access-state"]) == 0
    assert git("--git-dir", str(policy / "policy.git"), "rev-parse", "--verify", "-q", "refs/heads/access-state")
    assert (git("rev-parse", "HEAD", cwd=work), git("symbolic-ref", "HEAD", cwd=work)) == before
    assert git("status", "--porcelain", cwd=work) == ""
    capsys.readouterr()
    assert main(["log", "access", "--target", target, "--state", "git:origin?branch=access-state"]) == 0
    assert capsys.readouterr().out.startswith("run 1  ok  ")
    assert main(["plan", "access", "--target", target, "--state", "git:nosuchremote"]) == 1
    assert "has no remote 'nosuchremote'" in capsys.readouterr().err


def test_a_push_rejected_because_the_branch_moved_is_replayed_never_forced(policy: Path) -> None:
    url = parse_state_url(f"git+file://{policy / 'policy.git'}")
    one, two = GitStore(url), GitStore(url)  # both fetched the same (empty) branch
    try:
        for store, who in ((one, "ada"), (two, "bo")):
            change = Change(Action.CREATE, "member", f"acme/{who}@acme.test", None, {"role": "Member"})
            run = store.begin_run(f"local:{who}", who, changes=[change])
            store.record_applied(f"local:{who}", change)
            store.record_change(run, 0, change, "ok")
            store.finish_run(run, "ok")
    finally:
        one.close()
        two.close()
    bare = str(policy / "policy.git")
    history = git("--git-dir", bare, "rev-list", "--parents", "accessops-state").splitlines()
    assert len(history) == 2 and history[0].split()[1] == history[1].split()[0]  # linear: bo's commit sits on ada's
    fresh = GitStore(url)
    try:
        assert [(r.id, r.actor) for r in fresh.runs()] == [(2, "bo"), (1, "ada")]
        assert list(fresh.last_applied("local:ada")) == ['member["acme/ada@acme.test"]']
    finally:
        fresh.close()


def test_a_remote_that_refuses_the_push_is_an_error_not_a_retry(policy: Path) -> None:
    hook = policy / "policy.git" / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'branch protection: accessops-state is read-only' >&2\nexit 1\n")
    hook.chmod(0o755)
    store = GitStore(parse_state_url(f"git+file://{policy / 'policy.git'}"))
    try:
        change = Change(Action.CREATE, "team", "acme/x", None, {})
        store.record_applied("local:t", change)
        with pytest.raises(AccessOpsError, match="git push to the state repository failed"):
            store.flush("x")
    finally:
        store.close()


@pytest.mark.parametrize("key", ["../../../etc/passwd/x", "..", ".hidden/x", "a b/x", "acme%2F/x"])
def test_organization_files_never_escape_their_folder(key: str) -> None:
    path = org_file("local:t", key)
    folder = f"{target_dir('local:t')}/applied/"
    assert path.startswith(folder) and "/" not in path[len(folder) :] and not path[len(folder) :].startswith(".")


def test_state_from_shallow_checkouts_as_actions_checkout_makes_them(policy: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    target = f"local:{policy / 'tenant.db'}"
    edits = [STEP1, STEP1.replace("{email: cy@acme.test, role: Member}", "{email: cy@acme.test, role: Admin}")]
    for i, manifests in enumerate(edits):
        work = policy / "checkout"
        (work / "access" / "org.yaml").write_text(manifests)
        git("commit", "-q", "--allow-empty", "-am", f"edit {i}", cwd=work)
        git("push", "-q", "origin", "main", cwd=work)
        runner = policy / f"runner-{i}"  # a fresh runner: fetch-depth 1, origin only
        git("clone", "-q", "--depth", "1", f"file://{policy / 'policy.git'}", str(runner))
        monkeypatch.chdir(runner)
        assert main(["apply", "access", "--auto-approve", "--target", target, "--state", "git:origin"]) == 0
    capsys.readouterr()
    assert main(["log", "access", "--target", target, "--state", "git:origin"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("run 2  ok  ") and "\nrun 1  ok  " in out
    assert main(["plan", "access", "--target", target, "--state", "git:origin", "--detailed-exitcode"]) == 0


def _push_files(policy: Path, ref: str, files: dict[str, str]) -> None:
    """Someone pushes these files as ``ref`` (a damaged state, a forged lock)."""
    work = policy / "forger"
    git("init", "-q", str(work))
    for name, text in files.items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_text(text)
    git("add", ".", cwd=work)
    git("commit", "-qm", "forged", cwd=work)
    git("push", "-q", "--force", f"file://{policy / 'policy.git'}", f"HEAD:{ref}", cwd=work)


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"runs/000001.json": "{not json"}, "runs/000001.json in commit .* is not valid JSON"),
        ({"runs/000001.json": '{"id": 1}'}, "runs/000001.json is damaged"),
    ],
)
def test_a_damaged_state_branch_is_a_one_line_error_naming_the_file(policy: Path, files: dict[str, str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    _push_files(policy, "refs/heads/accessops-state", files)
    assert main(["log", "access", "--state", f"git+file://{policy / 'policy.git'}"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert __import__("re").search(message, err), err


def test_a_forged_lock_ref_is_a_one_line_error(policy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from accessops.adapters.base import Target
    from accessops.engine import lock_key

    target = f"local:{policy / 'tenant.db'}"
    _push_files(policy, f"refs/accessops/lock/{lock_key(Target.parse(target))}", {"lock.json": '{"holder": 1}'})
    assert main(["apply", "access", "--auto-approve", "--target", target, "--state", f"git+file://{policy / 'policy.git'}"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is damaged" in err and "git push --delete" in err


class _RecordingServer:
    """A loopback HTTP server that refuses every git request, recording the Authorization headers it got."""

    def __init__(self) -> None:
        import http.server
        import threading

        seen: list[list[str]] = []

        class Refuse(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                seen.append(self.headers.get_all("Authorization") or [])
                self.send_response(403)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.seen = seen
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Refuse)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/acme/policy.git"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_the_state_token_reaches_git_as_a_header_never_a_url_or_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """``ACCESSOPS_GIT_TOKEN`` is sent as actions/checkout sends it; a real git talks to a real loopback server."""
    import base64

    server = _RecordingServer()
    try:
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("ACCESSOPS_GIT_TOKEN", "ghs_secret123")
        assert main(["log", "--state", "git+" + server.url]) == 1
    finally:
        server.close()
    assert server.seen and server.seen[0] == ["basic " + base64.b64encode(b"x-access-token:ghs_secret123").decode()]
    err = capsys.readouterr().err
    assert err.startswith("error: state ") and "ghs_secret123" not in err


def test_a_checkout_with_its_own_header_gets_no_second_one(policy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server = _RecordingServer()
    work = policy / "checkout"
    try:
        git("remote", "set-url", "origin", server.url, cwd=work)
        git("config", f"http.{server.url.split('/acme')[0]}/.extraheader", "AUTHORIZATION: basic b3du", cwd=work)  # persist-credentials: true
        monkeypatch.setenv("ACCESSOPS_GIT_TOKEN", "ghs_secret123")
        assert main(["log", "access", "--state", "git:origin"]) == 1
    finally:
        server.close()
    assert server.seen and all(headers == ["basic b3du"] for headers in server.seen), server.seen


def test_a_run_the_branch_refused_keeps_its_lock_and_journal_until_force_unlock(policy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import re

    hook = policy / "policy.git" / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\nwhile read old new ref; do [ \"$ref\" = refs/heads/accessops-state ] && { echo 'state branch is frozen' >&2; exit 1; }; done\nexit 0\n")
    hook.chmod(0o755)
    target = f"local:{policy / 'tenant.db'}"
    args = ["--target", target, "--state", f"git+file://{policy / 'policy.git'}"]
    assert main(["apply", "access", "--auto-approve", *args]) == 1
    err = capsys.readouterr().err
    kept = re.search(r"lock ([0-9a-f]{16}) is kept with its intents", err)
    assert kept and "git push to the state repository failed" in err, err
    assert git("--git-dir", str(policy / "policy.git"), "for-each-ref", "--format=%(refname)", "refs/accessops/lock/").startswith("refs/accessops/lock/")
    hook.unlink()
    assert main(["force-unlock", kept.group(1), *args]) == 0
    assert main(["apply", "access", "--auto-approve", *args]) == 0
    capsys.readouterr()
    assert main(["log", "access", *args]) == 0
    out = capsys.readouterr().out
    assert out.count("confirmed from live after its run was interrupted") == 15 and "interrupted" in out.splitlines()[0]
    assert main(["plan", "access", "--detailed-exitcode", *args]) == 0
