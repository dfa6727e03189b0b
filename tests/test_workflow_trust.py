"""The shipped workflows keep plan and apply in separate trust zones and apply only the reviewed plan.

* apply-on-merge takes the plan artifact only from the plan workflow's own run
  for the merged pull request's head commit: its run-selection filter is run
  here with jq (the same library the jq CLI is built on) against planted runs;
* it re-derives the plan from the merged manifests (the action's ``path``);
* plan and drift read with the ``access-plan`` environment's read-only token,
  apply writes with ``access-production``'s;
* every third-party action is pinned by full commit SHA with its tag in a comment.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jq
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "workflows"
PINNABLE = sorted(EXAMPLES.glob("*.yml")) + sorted((ROOT / ".github" / "workflows").glob("*.y*ml")) + [ROOT / "action.yml"]
USES = re.compile(r"^\s*(?:-\s*)?uses:\s*(\S+)(.*)$")
OURS = re.compile(r"^(?:accessops/accessops@|\./)")  # this action itself: the user pins the release they take
PLAN_WORKFLOW = ".github/workflows/accessops-plan.yml"
REPO = "acme/access"
HEAD = "a" * 40


def workflow(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((EXAMPLES / name).read_text())
    return data


def steps(name: str) -> list[dict[str, Any]]:
    return [step for job in workflow(name)["jobs"].values() for step in job["steps"]]


@pytest.mark.parametrize("path", PINNABLE, ids=lambda p: str(p.relative_to(ROOT)))
def test_third_party_actions_are_pinned_by_full_commit_sha_with_the_tag_in_a_comment(path: Path) -> None:
    found = 0
    for number, line in enumerate(path.read_text().splitlines(), 1):
        match = USES.match(line)
        if not match or OURS.match(match.group(1)):
            continue
        found += 1
        ref, comment = match.group(1), match.group(2).strip()
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", ref), f"{path.name}:{number}: {ref} is not pinned by a full commit SHA"
        assert re.fullmatch(r"# v\d+(\.\d+)*", comment), f"{path.name}:{number}: the tag belongs in a comment: {line.strip()}"
    assert found, f"{path.name} uses no third-party action: this test would prove nothing"


def test_plan_and_apply_use_different_environments() -> None:
    assert [job["environment"] for job in workflow("pull-request.yml")["jobs"].values()] == ["access-plan"]
    assert [job["environment"] for job in workflow("nightly-drift.yml")["jobs"].values()] == ["access-plan"]
    assert [job["environment"] for job in workflow("apply-on-merge.yml")["jobs"].values()] == ["access-production"]
    assert workflow("pull-request.yml")["permissions"]["contents"] == "read"


def test_apply_re_derives_from_the_merged_manifests() -> None:
    apply = next(s for s in steps("apply-on-merge.yml") if s.get("with", {}).get("command") == "apply")
    assert apply["with"]["path"] == "${{ env.ACCESSOPS_PATH }}" and apply["with"]["plan-file"]
    assert workflow("apply-on-merge.yml")["env"]["ACCESSOPS_PATH"] == workflow("pull-request.yml")["env"]["ACCESSOPS_PATH"]


def test_apply_asks_for_the_plan_workflows_runs_of_the_head_commit_never_for_artifacts_by_name() -> None:
    find = next(s for s in steps("apply-on-merge.yml") if s.get("id") == "reviewed")
    script = find["run"]
    assert 'actions/workflows/$(basename "$PLAN_WORKFLOW")/runs?head_sha=$head_sha&event=pull_request' in script
    assert "actions/artifacts" not in script  # the old way: an artifact of that name from any run at all
    assert 'gh run download "$run_id"' in script and '--name "accessops-plan-$head_sha"' in script
    assert workflow("apply-on-merge.yml")["env"]["PLAN_WORKFLOW"] == PLAN_WORKFLOW
    upload = next(s for s in steps("pull-request.yml") if "upload-artifact" in s.get("uses", ""))
    assert upload["with"]["name"] == "accessops-plan-${{ github.event.pull_request.head.sha }}"


def run_of(run_id: int, **overrides: Any) -> dict[str, Any]:
    """A workflow run as the REST API lists it: the plan workflow's own successful run for HEAD, unless overridden."""
    run = {"id": run_id, "path": PLAN_WORKFLOW, "head_sha": HEAD, "event": "pull_request", "conclusion": "success",
           "run_number": run_id, "run_attempt": 1, "head_repository": {"full_name": REPO}}
    run.update(overrides)
    return run


def select(runs: list[dict[str, Any]]) -> list[Any]:
    """What the filter prints (``jq -r``): the chosen run's id, or nothing."""
    find = next(s for s in steps("apply-on-merge.yml") if s.get("id") == "reviewed")
    program = jq.compile(find["env"]["SELECT_RUN"], args={"workflow": PLAN_WORKFLOW, "sha": HEAD, "repo": REPO})
    return list(program.input_value({"workflow_runs": runs}).all())


def test_run_selection_takes_only_the_plan_workflows_own_run_for_the_head_commit() -> None:
    planted = [
        run_of(90, path=".github/workflows/innocent.yml"),  # another workflow uploads an artifact of the same name
        run_of(91, head_sha="b" * 40),  # a plan for another commit
        run_of(92, head_repository={"full_name": "mallory/access"}),  # a fork's run
        run_of(93, event="push"),  # a push to a branch, not the pull request
        run_of(94, conclusion="failure"),  # a failed plan
    ]
    assert select(planted) == []
    assert select([*planted, run_of(7)]) == [7]
    assert select([*planted, run_of(7), run_of(8, run_attempt=1), run_of(8, run_attempt=2) | {"id": 9}]) == [9]  # newest attempt
    assert select([run_of(5, path=PLAN_WORKFLOW + "@refs/pull/3/merge")]) == [5]  # the API may name the ref too
