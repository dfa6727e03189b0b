"""Export round trip, for every example folder on every adapter (issue 15).

apply the example, ``export`` the live target, then ``plan`` the exported
manifests against the same target: "No changes" (exit 0 with
``--detailed-exitcode``). Before the fix, export wrote ``custom_roles: []``
and ``sections: {}`` that the org-roles, scoped-access and workspace-roles
profiles refuse.

Each adapter gets the example cut to what it expresses (``local``: the
example itself; ``scim``: its members and teams; ``directus``: see
``directus_cut``), because a target refuses manifests that need more.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from harness import AdapterUnderTest

from accessops.adapters.registry import adapter_class
from accessops.manifest.loader import load
from accessops.manifest.profiles import load_profile
from accessops.model.compile import compile_model
from accessops.model.decompile import decompile
from accessops.model.resource import RESOURCE_TYPES, Resource, ResourceMap

pytestmark = pytest.mark.server

EXAMPLES = sorted(p for p in (Path(__file__).parent.parent.parent / "examples" / "policies").iterdir() if p.is_dir())


def accessops(adapter: AdapterUnderTest, *argv: str) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in the adapter's work folder with its environment."""
    env = {**os.environ, **adapter.env, "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "accessops", *argv], cwd=adapter.workdir, env=env, capture_output=True, text=True, timeout=180)


def cut_to(adapter_name: str, example: Path) -> tuple[list[dict[str, object]], list[str]]:
    """The example's documents reduced to what the adapter stores, and its organizations."""
    model = load([example])
    supports = adapter_class(adapter_name).supports
    kept: ResourceMap = {}
    for addr, res in compile_model(model).resources.items():
        allowed = supports.get(res.type)
        if allowed is None:
            continue
        readonly = RESOURCE_TYPES[res.type].readonly
        vocabulary = {"profile"} if res.type == "organization" else set()  # dropped at plan time (engine.VOCABULARY_ATTRS)
        kept[addr] = Resource(res.type, res.key, {k: v for k, v in res.attrs.items() if (k in allowed or k in vocabulary) and k not in readonly})
    docs = [doc for org in model.org_names for doc in decompile(kept, org, lambda name: list(load_profile(name or "union").supports))]
    return docs, list(model.org_names)


def write_policy(adapter: AdapterUnderTest, example: Path) -> list[str]:
    """Put the example (cut to the adapter) in ``policy/``; the organizations it declares."""
    folder = adapter.workdir / "policy"
    shutil.rmtree(folder, ignore_errors=True)
    if adapter.name == "local":
        shutil.copytree(example, folder)
        return list(load([example]).org_names)
    docs, orgs = cut_to(adapter.name, example)
    folder.mkdir()
    (folder / "org.yaml").write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return orgs


def round_trip(adapter: AdapterUnderTest, orgs: list[str], profile: str) -> None:
    """apply, export, plan the export: no changes."""
    run = accessops(adapter, "apply", "policy", "--target", adapter.target, "--auto-approve")
    assert run.returncode == 0, run.stdout + run.stderr
    for org in orgs:
        # a target without a profile of its own (scim) is told the vocabulary to write
        run = accessops(adapter, "export", "--target", adapter.target, "--org", org, "-o", "exported", "--profile", profile)
        assert run.returncode == 0, run.stderr
    run = accessops(adapter, "plan", "exported", "--target", adapter.target, "--detailed-exitcode")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "No changes" in run.stdout


@pytest.mark.parametrize("adapter_name", ["local", "scim"])
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_export_then_plan_shows_no_changes(adapter_name: str, example: Path, request: pytest.FixtureRequest) -> None:
    adapter: AdapterUnderTest = request.getfixturevalue(f"{adapter_name}_adapter")
    orgs = write_policy(adapter, example)
    model = load([example])
    round_trip(adapter, orgs, next(iter(model.organizations.values())).doc.spec.profile)
