"""The shipped examples validate, carry the schema line, and the committed schema is current."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from accessops.manifest.loader import load, manifest_files
from accessops.manifest.schema import SCHEMA_FILE, schema_text

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "examples" / "policies"
EXAMPLE_FILES = manifest_files([POLICIES])
SEED_FOLDERS = ["seed000-matrix", "seed001-org-roles", "seed002-scoped", "seed003-workspace", "seed004-spaces", "combined"]


@pytest.fixture(autouse=True)
def _repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def test_schema_file_is_in_sync_with_the_models() -> None:
    committed = (ROOT / SCHEMA_FILE).read_text(encoding="utf-8")
    assert committed == schema_text(), "schemas/accessops-v1.schema.json is stale: run `accessops schema --out schemas/accessops-v1.schema.json`"


def test_every_seed_has_an_example_folder() -> None:
    assert sorted(p.name for p in POLICIES.iterdir() if p.is_dir()) == sorted(SEED_FOLDERS)


@pytest.mark.parametrize("folder", SEED_FOLDERS)
def test_each_example_folder_validates_on_its_own(folder: str) -> None:
    model = load([POLICIES / folder])
    assert len(model.organizations) == 1


def test_all_examples_validate_together_with_distinct_organizations() -> None:
    model = load([POLICIES])
    assert len(model.organizations) == len(SEED_FOLDERS)


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: str(p.relative_to(POLICIES)))
def test_example_names_the_schema_by_a_path_that_exists(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    prefix = "# yaml-language-server: $schema="
    assert first.startswith(prefix)
    target = (path.parent / first[len(prefix):]).resolve()
    assert target == (ROOT / SCHEMA_FILE).resolve()


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: str(p.relative_to(POLICIES)))
def test_example_documents_validate_against_the_json_schema(path: Path) -> None:
    validator = jsonschema.Draft202012Validator(json.loads((ROOT / SCHEMA_FILE).read_text()))
    for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
        errors = [e.message for e in validator.iter_errors(document)]
        assert errors == []


def test_json_schema_refuses_an_unknown_field() -> None:
    validator = jsonschema.Draft202012Validator(json.loads((ROOT / SCHEMA_FILE).read_text()))
    document = {"apiVersion": "accessops/v1", "kind": "Organization", "metadata": {"name": "acme"}, "spec": {"profile": "union", "team": []}}
    assert list(validator.iter_errors(document))


def test_combined_example_uses_every_concept_of_the_union_profile() -> None:
    model = load([POLICIES / "combined"])
    org = model.organizations["acme"].doc.spec
    assert org.members and org.teams and org.permissions and org.custom_roles and org.seats
    # the seed lists 16 keys (7 + 5 + 4) although DESIGN.md says 17; all are assigned
    assert set(org.permissions) == set(model.profiles["acme"].permission_keys) and len(org.permissions) == 16
    assert 15 <= len(org.members) <= 25
    assert any(m.global_admin for m in org.members)
    ws = model.workspaces["acme/crm"].doc.spec
    assert ws.apps and ws.tables and any(t.fields for t in ws.tables)
    assert any(m.sections for m in ws.members or [])
    assert {"client-reviewer", "seo-operator"} <= set(model.permission_sets)
    assert model.space_types and model.spaces and model.policies
    policy = model.policies["acme/baseline"].doc.spec
    assert policy.guardrails and policy.assertions
