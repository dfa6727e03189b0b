"""The composite action's run steps (scripts/action/*), run the way action.yml runs them.

Each test sets the same INPUT_* variables action.yml passes, a GITHUB_OUTPUT
file and RUNNER_TEMP, runs the real script against examples/policies with a
real local tenant in tmp_path, and reads the outputs back the way the runner does.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import venv
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUN = ROOT / "scripts" / "action" / "run.py"
INSTALL = ROOT / "scripts" / "action" / "install.sh"
MANIFESTS = ROOT / "examples" / "policies" / "seed001-org-roles"
ACCESSOPS = f"{sys.executable} -m accessops"


@dataclass
class Step:
    """What one action step left behind."""

    code: int
    log: str
    outputs: dict[str, str]
    summary: str


def parse_github_output(text: str) -> dict[str, str]:
    """Read $GITHUB_OUTPUT as the runner does: ``name=value`` or ``name<<DELIM`` ... ``DELIM``."""
    outputs: dict[str, str] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delim = line.split("<<", 1)
            end = lines.index(delim, i + 1)
            outputs[name] = "\n".join(lines[i + 1 : end])
            i = end + 1
        elif line:
            name, value = line.split("=", 1)
            outputs[name] = value
            i += 1
        else:
            i += 1
    return outputs


def tenant(tmp_path: Path) -> str:
    """A local tenant of this test (created on first use by accessops)."""
    return f"local:{tmp_path / 'tenant.db'}"


def action_step(tmp_path: Path, **inputs: str) -> Step:
    """Run scripts/action/run.py with INPUT_* set from ``inputs`` (plan_file -> INPUT_PLAN_FILE)."""
    out, summary = tmp_path / "github_output", tmp_path / "step_summary"
    out.write_text("")
    summary.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INPUT_", "ACCESSOPS_"))}
    env.update({f"INPUT_{k.upper()}": v for k, v in inputs.items()})
    env.update(GITHUB_OUTPUT=str(out), GITHUB_STEP_SUMMARY=str(summary), RUNNER_TEMP=str(tmp_path / "runner_temp"),
               ACCESSOPS=ACCESSOPS, NO_COLOR="1")
    done = subprocess.run([sys.executable, str(RUN)], env=env, cwd=tmp_path, capture_output=True, text=True, check=False)
    return Step(done.returncode, done.stdout + done.stderr, parse_github_output(out.read_text()), summary.read_text())


def accessops(*args: str) -> subprocess.CompletedProcess[str]:
    """The CLI, for setting up a scenario (acting behind git's back)."""
    return subprocess.run([sys.executable, "-m", "accessops", *args], capture_output=True, text=True, check=False)


def test_output_file_parser_reads_heredocs() -> None:
    assert parse_github_output("a=1\nmd<<EOF\nx=1\n\ny\nEOF\nb=2\n") == {"a": "1", "md": "x=1\n\ny", "b": "2"}


def test_plan_saves_the_plan_and_hands_over_the_markdown(tmp_path: Path) -> None:
    step = action_step(tmp_path, command="plan", path=str(MANIFESTS), target=tenant(tmp_path))
    assert step.code == 0, step.log  # changes are a result, not a failure
    assert step.outputs["exitcode"] == "2"
    plan_file = Path(step.outputs["plan-file"])
    assert plan_file.is_file() and plan_file.is_absolute()
    markdown = step.outputs["markdown"]
    assert re.search(r"\*\*Plan: \d+ to add, 0 to change, 0 to destroy\.\*\*", markdown)
    assert "| Resource type |" in markdown and "```diff" in markdown
    assert Path(step.outputs["markdown-file"]).read_text().rstrip("\n") == markdown.rstrip("\n")
    assert "Plan:" in step.summary
    assert re.search(r"^\+ .*accessops plan ", step.log, re.M)  # the command is echoed to the job log


def test_reviewed_plan_is_applied_and_then_nothing_is_left(tmp_path: Path) -> None:
    planned = action_step(tmp_path, command="plan", path=str(MANIFESTS), target=tenant(tmp_path))
    applied = action_step(tmp_path, command="apply", plan_file=planned.outputs["plan-file"], target=tenant(tmp_path))
    assert applied.code == 0, applied.log
    assert applied.outputs["exitcode"] == "0"
    assert "Apply complete!" in applied.outputs["markdown"]
    again = action_step(tmp_path, command="plan", path=str(MANIFESTS), target=tenant(tmp_path))
    assert again.outputs["exitcode"] == "0"
    assert "**No changes.**" in again.outputs["markdown"]


def test_stale_plan_is_refused_with_a_replan_message(tmp_path: Path) -> None:
    first = action_step(tmp_path, command="plan", path=str(MANIFESTS), target=tenant(tmp_path))
    action_step(tmp_path, command="apply", plan_file=first.outputs["plan-file"], target=tenant(tmp_path))
    (tmp_path / "reviewed.out").write_text("")
    # The pull request's plan: one member's role goes back after a change made in the product.
    assert accessops("tenant", "--target", tenant(tmp_path), "set-role", "dev@lumen.test", "Admin").returncode == 0
    reviewed = action_step(tmp_path, command="plan", path=str(MANIFESTS), target=tenant(tmp_path),
                           plan_file=str(tmp_path / "reviewed.out"))
    assert reviewed.outputs["exitcode"] == "2"
    # ... and before it is merged, someone changes that member again behind git's back.
    assert accessops("tenant", "--target", tenant(tmp_path), "set-role", "dev@lumen.test", "Billing").returncode == 0
    applied = action_step(tmp_path, command="apply", plan_file=str(tmp_path / "reviewed.out"), target=tenant(tmp_path))
    assert applied.code == 3  # refused
    assert applied.outputs["exitcode"] == "3"
    assert "::error title=Stale plan, nothing applied::" in applied.log and "Re-plan" in applied.log
    roles = accessops("tenant", "--target", tenant(tmp_path), "list").stdout
    assert re.search(r"dev@lumen\.test\s+Billing", roles)  # nothing else was applied


def test_apply_without_the_reviewed_plan_file_applies_nothing(tmp_path: Path) -> None:
    step = action_step(tmp_path, command="apply", plan_file=str(tmp_path / "missing.out"), target=tenant(tmp_path))
    assert step.code == 1 and step.outputs["exitcode"] == "1"
    assert "not found" in step.outputs["markdown"]
    assert not (tmp_path / "tenant.db").exists()


def test_drift_is_exit_2_with_a_markdown_report(tmp_path: Path) -> None:
    first = action_step(tmp_path, command="plan", path=str(MANIFESTS), target=tenant(tmp_path))
    action_step(tmp_path, command="apply", plan_file=first.outputs["plan-file"], target=tenant(tmp_path))
    clean = action_step(tmp_path, command="drift", path=str(MANIFESTS), target=tenant(tmp_path))
    assert clean.code == 0 and clean.outputs["exitcode"] == "0", clean.log
    accessops("tenant", "--target", tenant(tmp_path), "set-role", "dev@lumen.test", "Admin")
    drifted = action_step(tmp_path, command="drift", path=str(MANIFESTS), target=tenant(tmp_path))
    assert drifted.code == 0, drifted.log  # drift is for the workflow to act on
    assert drifted.outputs["exitcode"] == "2"
    assert "Changed outside accessops" in drifted.outputs["markdown"]
    assert 'member["lumen-health/dev@lumen.test"]' in drifted.outputs["markdown"]


@pytest.fixture
def manifest_with_unknown_team_member(tmp_path: Path) -> Path:
    folder = tmp_path / "access"
    folder.mkdir()
    (folder / "org.yaml").write_text(
        "apiVersion: accessops/v1\nkind: Organization\nmetadata:\n  name: acme\nspec:\n  profile: org-roles\n"
        "  members:\n    - email: ada@acme.test\n      role: Admin\n"
        "  teams:\n    - name: platform\n      members: [nobody@acme.test]\n"
    )
    return folder


def test_validate_failure_fails_the_step_and_reports_file_and_line(manifest_with_unknown_team_member: Path, tmp_path: Path) -> None:
    step = action_step(tmp_path, command="validate", path=str(manifest_with_unknown_team_member))
    assert step.code == 1
    assert step.outputs["exitcode"] == "1"
    assert re.search(r"org\.yaml:\d+:\d+", step.outputs["markdown"])
    assert "❌ error" in step.outputs["markdown"]


def test_validate_examples_passes(tmp_path: Path) -> None:
    step = action_step(tmp_path, command="validate", path=str(MANIFESTS))
    assert step.code == 0 and step.outputs["exitcode"] == "0", step.log


def test_extra_args_and_paths_are_split_like_a_shell(tmp_path: Path) -> None:
    spaced = tmp_path / "my access"
    shutil.copytree(MANIFESTS, spaced)
    step = action_step(tmp_path, command="validate", path=f"'{spaced}'", extra_args="--format json")
    assert step.code == 0, step.log
    assert '"valid": true' in step.log


def test_unknown_command_is_refused(tmp_path: Path) -> None:
    step = action_step(tmp_path, command="destroy-everything")
    assert step.code == 1
    assert "must be one of validate, plan, apply, drift" in step.log


def test_install_script_installs_accessops_from_the_action_checkout(tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True, system_site_packages=True)  # dependencies come from the host
    env = dict(os.environ, PATH=f"{env_dir / 'bin'}{os.pathsep}{os.environ['PATH']}", GITHUB_ACTION_PATH=str(ROOT),
               PIP_NO_DEPS="1", VIRTUAL_ENV=str(env_dir))
    env.pop("INPUT_VERSION", None)
    done = subprocess.run(["bash", str(INSTALL)], env=env, capture_output=True, text=True, check=False, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"^accessops \d+\.\d+", done.stdout, re.M)
    assert (env_dir / "bin" / "accessops").is_file()
