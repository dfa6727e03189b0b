"""``accessops log``: the apply log as a person or a script reads it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from accessops.apply.state import StateStore
from accessops.cli import main
from accessops.plan.change import Action, Change

TARGET = "local:.accessops/tenant.db"


@pytest.fixture
def logged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A state file beside the default tenant with one failed run."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ACCESSOPS_TARGET", raising=False)
    store = StateStore(tmp_path / ".accessops" / "state.db")
    run = store.begin_run(TARGET, "ada@ci", "0123456789abcdef0123", 2)
    store.record_change(run, 0, Change(Action.CREATE, "member", "acme/bo@acme.test", None, {}), "ok")
    store.record_change(run, 1, Change(Action.DELETE, "team", "acme/old", {}, None), "failed", "team is locked")
    store.finish_run(run, "failed")
    other = store.begin_run("local:other.db", "bo@laptop", None, 0)
    store.finish_run(other, "ok")
    store.close()
    return tmp_path


def test_log_shows_runs_with_actor_commit_and_results(logged: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["log"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("run 1  failed  ") and "ada@ci  commit 0123456789ab  local:.accessops/tenant.db" in out[0]
    assert out[1].split() == ["ok", "+", 'member["acme/bo@acme.test"]']
    assert out[2].split(None, 2)[:2] == ["failed", "-"] and out[2].endswith('team["acme/old"]: team is locked')
    assert len(out) == 3  # the other target's run is not shown


def test_log_json_and_all_targets(logged: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["log", "--all-targets", "--format", "json"]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert [(r["id"], r["target"], r["status"]) for r in runs] == [(2, "local:other.db", "ok"), (1, TARGET, "failed")]
    assert runs[1]["changes"][1] == {**runs[1]["changes"][1], "result": "failed", "error": "team is locked"}


def test_log_without_state_is_a_one_line_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ACCESSOPS_TARGET", raising=False)
    assert main(["log"]) == 1
    assert capsys.readouterr().err.startswith("error: no state file at ")


def test_the_log_records_and_shows_the_plans_manifest_digest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from accessops.apply.applier import run_meta
    from accessops.plan.change import Plan

    plan = Plan(changes=[], meta={"created_at": "2026-12-01T00:00:00+00:00", "organizations": ["acme"]})
    plan.manifests = {"paths": ["access"], "files": [{"path": "access/org.yaml", "sha256": "ab" * 32}], "settings": None, "commit": "c0ffee"}  # type: ignore[attr-defined]
    meta = run_meta(plan)
    assert meta["manifest_digest"].startswith("sha256:") and len(meta["manifest_digest"]) == 71  # type: ignore[union-attr]
    assert (meta["manifest_files"], meta["manifest_commit"], meta["created_at"]) == (1, "c0ffee", "2026-12-01T00:00:00+00:00")
    assert "organizations" not in meta
    plan.manifests["files"][0]["sha256"] = "cd" * 32  # type: ignore[attr-defined]
    assert run_meta(plan)["manifest_digest"] != meta["manifest_digest"]  # another manifest, another digest

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ACCESSOPS_TARGET", raising=False)
    store = StateStore(tmp_path / ".accessops" / "state.db")
    run = store.begin_run(TARGET, "ada@ci", "c0ffee", changes=[], meta=meta)
    store.finish_run(run, "ok")
    store.close()
    assert main(["log"]) == 0
    assert f"manifests {str(meta['manifest_digest'])[:19]}" in capsys.readouterr().out
    assert main(["log", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["meta"]["manifest_digest"] == meta["manifest_digest"]
