"""Cross-document checks: all problems at once, unmanaged fields, permission sets, user profiles."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from accessops.errors import ManifestError, Problem
from accessops.manifest.loader import Loaded, assemble, load, parse_file
from accessops.manifest.validate import check_model
from accessops.manifest.yamlsrc import load_documents
from accessops.model.manifest import DOCUMENT_ADAPTER


def _write(folder: Path, name: str, *documents: dict[str, object]) -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False), encoding="utf-8")
    return path


def _org(name: str = "acme", profile: str = "union", **spec: object) -> dict[str, object]:
    return {"apiVersion": "accessops/v1", "kind": "Organization", "metadata": {"name": name}, "spec": {"profile": profile, **spec}}


def _doc(doc_kind: str, name: str, /, **spec: object) -> dict[str, object]:
    return {"apiVersion": "accessops/v1", "kind": doc_kind, "metadata": {"name": name}, "spec": {"organization": "acme", **spec}}


def _problems(*paths: Path) -> list[Problem]:
    with pytest.raises(ManifestError) as caught:
        load(list(paths))
    return caught.value.problems


def test_every_problem_of_every_document_comes_out_in_one_run(tmp_path: Path) -> None:
    members = [{"email": "ada@acme.test", "role": "Owner"}, {"email": "bo@acme.test", "role": "Chief"}]
    _write(tmp_path, "org.yaml", _org(seats=1, members=members, teams=[{"name": "ops", "members": ["cy@acme.test"]}]))
    _write(
        tmp_path,
        "crm.yaml",
        _doc("Workspace", "crm", members=[{"email": "bo@acme.test", "role": "Viewer", "custom_roles": ["ghost"], "sections": {"Payroll": "Full"}}]),
        _doc("Space", "roadmap", kind="wiki", members=[{"email": "dee@acme.test", "features": {"AI_SEARCH": "Most"}}]),
    )
    codes = sorted(p.code for p in _problems(tmp_path))
    assert codes == sorted(
        [
            "seats.exceeded",
            "ref.unknown-role",
            "ref.team-member-not-in-org",
            "ref.unknown-custom-role",
            "ref.unknown-section",
            "ref.unknown-space-kind",
            "ref.space-member-not-in-org",
            "ref.unknown-scope-level",
        ]
    )


def test_problems_are_sorted_by_file_and_line(tmp_path: Path) -> None:
    teams = [{"name": "a", "members": ["x@acme.test"]}, {"name": "b", "members": ["y@acme.test"]}]
    _write(tmp_path, "org.yaml", _org(members=[{"email": "ada@acme.test"}], teams=teams))
    lines = [p.line for p in _problems(tmp_path)]
    assert lines == sorted(lines) and len(lines) == 2


def test_unmanaged_members_are_not_checked_against(tmp_path: Path) -> None:
    # members left out of the manifest are unmanaged: a team may name anyone
    _write(tmp_path, "org.yaml", _org(teams=[{"name": "ops", "members": ["cy@acme.test"]}]))
    _write(tmp_path, "crm.yaml", _doc("Workspace", "crm", members=[{"email": "dee@acme.test", "role": "Editor"}]))
    assert load([tmp_path]).organizations["acme"].doc.spec.members is None


def test_unbound_permission_set_is_checked_against_each_user_and_reported_once(tmp_path: Path) -> None:
    members = [{"email": "bo@acme.test"}]
    ws_members = [{"email": "bo@acme.test", "permission_set": "reviewer"}]
    _write(tmp_path, "org.yaml", _org(members=members), _doc("Workspace", "crm", members=ws_members), _doc("Workspace", "erp", members=ws_members))
    reviewer = {"apiVersion": "accessops/v1", "kind": "PermissionSet", "metadata": {"name": "reviewer"}, "spec": {"sections": {"Payroll": "Full"}}}
    _write(tmp_path, "sets.yaml", reviewer)
    problems = _problems(tmp_path)
    assert [(p.file.endswith("sets.yaml"), p.code, p.path) for p in problems] == [(True, "ref.unknown-section", "spec.sections.Payroll")]


def test_permission_sets_need_a_profile_that_supports_them(tmp_path: Path) -> None:
    _write(tmp_path, "org.yaml", _org(profile="workspace-roles"), _doc("Workspace", "crm", members=[{"email": "bo@acme.test", "permission_set": "x"}]))
    assert [p.code for p in _problems(tmp_path)] == ["profile.unsupported-concept"]


def test_a_user_profile_from_a_file_next_to_the_manifest(tmp_path: Path) -> None:
    profile = {
        "name": "helpdesk",
        "org_roles": [{"name": "Superuser", "bypass": True}, {"name": "Agent"}],
        "workspace_roles": [{"name": "Superuser", "bypass": True}, {"name": "Agent", "actions": ["read"]}],
        "supports": ["members", "workspaces", "tables"],
    }
    # the profile file lives outside the manifest folder, named relative to the manifest
    (tmp_path / "helpdesk-profile.yaml").write_text(yaml.safe_dump(profile))
    sub = tmp_path / "manifests"
    sub.mkdir()
    members = [{"email": "ada@acme.test", "role": "Superuser"}, {"email": "bo@acme.test", "role": "Agent"}]
    tables = [{"name": "tickets", "read": ["Agent"], "delete": ["Superuser"]}]
    _write(sub, "org.yaml", _org(profile="../helpdesk-profile.yaml", members=members), _doc("Workspace", "desk", tables=tables))
    problems = _problems(sub)
    # the profile's bypass role never appears in restricted pickers, whatever its name
    assert [(p.code, p.path) for p in problems] == [("ref.admin-in-restricted-picker", "spec.tables[0].delete[0]")]


def test_guardrail_grant_selector_must_name_one_thing(tmp_path: Path) -> None:
    rail = {"name": "r", "grant": {"section": "Billing", "feature": "AI_SEARCH"}, "only_team": "ops"}
    _write(tmp_path, "org.yaml", _org(teams=[{"name": "ops"}]), _doc("Policy", "p", guardrails=[rail]))
    assert [p.code for p in _problems(tmp_path)] == ["policy.grant-selector"]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.sampled_from(["ada", "bo", "cy", "dee", "eve", "fay"]), unique=True, max_size=6),
    st.lists(st.lists(st.sampled_from(["ada", "bo", "cy", "dee", "eve", "fay"]), unique=True, max_size=6), max_size=4),
)
def test_one_problem_per_team_member_outside_the_org(org_people: list[str], teams: list[list[str]]) -> None:
    doc = _org(
        members=[{"email": f"{p}@acme.test"} for p in org_people],
        teams=[{"name": f"team{i}", "members": [f"{p}@acme.test" for p in team]} for i, team in enumerate(teams)],
    )
    # parsed from text through the real located loader, without touching disk
    ((data, start),) = load_documents(yaml.safe_dump(doc, sort_keys=False))
    model, _ = assemble([Loaded(DOCUMENT_ADAPTER.validate_python(data), "org.yaml", data, start)])
    problems = check_model(model)
    expected = sum(1 for team in teams for p in team if p not in org_people)
    assert [p.code for p in problems] == ["ref.team-member-not-in-org"] * expected
    assert all(p.path.startswith("spec.teams[") for p in problems)


def test_parse_file_keeps_good_documents_beside_bad_ones(tmp_path: Path) -> None:
    path = _write(tmp_path, "mixed.yaml", _org(), _doc("Workspace", "crm", colour="blue"))
    loaded, problems = parse_file(path, "mixed.yaml")
    assert [item.doc.kind for item in loaded] == ["Organization"]
    assert [(p.code, p.path) for p in problems] == [("schema.extra_forbidden", "spec.colour")]
