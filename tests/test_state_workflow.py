"""The example workflows' loop on ephemeral runners, state on the policy repository's branch (git:origin).

Each job is a fresh shallow clone of a real bare "policy" repository, runs
the action's own run step (scripts/action/run.py) from the repository root
with ``ACCESSOPS_STATE=git:origin`` as the workflows set it, and the
settings in ``access/accessops.toml``. This is the scenario the issue saw
fail: a fresh runner's drift, log and lock now see what the last apply did.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from test_action_run import ACCESSOPS, RUN, Step, parse_github_output
from test_engine_cli import STEP1

ENV = {"GIT_AUTHOR_NAME": "dev", "GIT_AUTHOR_EMAIL": "dev@acme.test", "GIT_COMMITTER_NAME": "dev", "GIT_COMMITTER_EMAIL": "dev@acme.test"}


def git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env={**os.environ, **ENV}).stdout.strip()


def job(tmp_path: Path, name: str, **inputs: str) -> tuple[Step, Path]:
    """One workflow job: actions/checkout (depth 1) into a fresh folder, then the accessops step."""
    checkout = tmp_path / name
    git("clone", "-q", "--depth", "1", f"file://{tmp_path / 'policy.git'}", str(checkout))
    out, summary = tmp_path / f"{name}.output", tmp_path / f"{name}.summary"
    out.write_text("")
    summary.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INPUT_", "ACCESSOPS_"))}
    env.update({f"INPUT_{k.upper()}": v for k, v in inputs.items()})
    env.update(
        GITHUB_OUTPUT=str(out), GITHUB_STEP_SUMMARY=str(summary), RUNNER_TEMP=str(tmp_path / f"{name}.temp"),
        ACCESSOPS=ACCESSOPS, NO_COLOR="1", ACCESSOPS_STATE="git:origin",
        PYTHONPATH=str(Path(__file__).parents[1] / "src"),
    )
    done = subprocess.run([sys.executable, str(RUN)], env=env, cwd=checkout, capture_output=True, text=True, check=False)
    return Step(done.returncode, done.stdout + done.stderr, parse_github_output(out.read_text()), summary.read_text()), checkout


def test_plan_on_the_pull_request_apply_on_merge_and_nightly_drift_share_one_state(tmp_path: Path) -> None:
    git("init", "-q", "--bare", "-b", "main", str(tmp_path / "policy.git"))
    seed = tmp_path / "seed"
    git("clone", "-q", f"file://{tmp_path / 'policy.git'}", str(seed))
    (seed / "access").mkdir()
    (seed / "access" / "org.yaml").write_text(STEP1)
    (seed / "access" / "accessops.toml").write_text(f'target = "local:{tmp_path / "tenant.db"}"\n')
    git("add", ".", cwd=seed)
    git("commit", "-qm", "access: acme", cwd=seed)
    git("push", "-q", "origin", "HEAD:main", cwd=seed)

    plan, _ = job(tmp_path, "pull-request", command="plan", path="access")
    assert plan.code == 0 and plan.outputs["exitcode"] == "2", plan.log
    apply, checkout = job(tmp_path, "apply-on-merge", command="apply", path="access", plan_file=plan.outputs["plan-file"])
    assert apply.code == 0 and "Apply complete! Resources: 15 added" in apply.log, apply.log
    assert git("status", "--porcelain", cwd=checkout) == ""  # the checkout is untouched: state went to its own branch
    history = git("--git-dir", str(tmp_path / "policy.git"), "log", "--format=%s", "accessops-state")
    assert history.startswith("apply ok: 15 to add, 0 to change, 0 to destroy on local:")
    message = git("--git-dir", str(tmp_path / "policy.git"), "log", "-1", "--format=%B", "accessops-state")
    assert "\nManifest digest: sha256:" in message and f"Manifests commit: {git('rev-parse', 'HEAD', cwd=checkout)}" in message, message

    drift, _ = job(tmp_path, "nightly-drift", command="drift", path="access")
    assert drift.code == 0 and drift.outputs["exitcode"] == "0", drift.log  # a fresh runner: no false drift

    subprocess.run(
        [sys.executable, "-m", "accessops", "tenant", "--target", f"local:{tmp_path / 'tenant.db'}", "set-role", "--org", "acme", "cy@acme.test", "Admin"],
        check=True, capture_output=True, env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")},
    )
    drift, _ = job(tmp_path, "nightly-drift-2", command="drift", path="access")
    assert drift.outputs["exitcode"] == "2", drift.log
    assert "changed live" in drift.outputs["markdown"] and "changed in git" not in drift.outputs["markdown"]
