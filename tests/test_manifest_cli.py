"""``accessops validate``, ``schema`` and ``profiles`` through the real CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from accessops.cli import main
from accessops.manifest.schema import schema_text

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def test_validate_examples_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "examples/policies"]) == 0
    assert "6 organization(s) valid" in capsys.readouterr().out


def test_validate_invalid_file_exits_1_with_one_line_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "examples/invalid/seats-exceeded.yaml"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "error: examples/invalid/seats-exceeded.yaml:9:3: spec.seats: organization 'acme' declares 3 members but has only 2 seats"
    assert err[-1] == "1 error(s)"


def test_validate_json_gives_error_objects(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--format", "json", "examples/invalid/unknown-custom-role.yaml"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["valid"] is False
    assert out["errors"] == [
        {
            "file": "examples/invalid/unknown-custom-role.yaml",
            "line": 23,
            "column": 67,
            "path": "spec.members[1].custom_roles[1]",
            "code": "ref.unknown-custom-role",
            "message": "member 'bo@acme.test': custom role 'delivery' is not defined in organization 'acme'",
        }
    ]


def test_validate_json_when_valid(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--format", "json", "examples/policies/combined"]) == 0
    out = json.loads(capsys.readouterr().out)
    lint = out.pop("lint")  # warnings reach JSON consumers too (issue 15)
    assert out == {"valid": True, "errors": [], "warnings": len(lint), "files": 5, "organizations": ["acme"]}
    assert lint and {w["code"] for w in lint} == {"AO104"} and all(w["level"] == "warning" for w in lint)


def test_validate_reports_every_file_of_a_folder_at_once(capsys: pytest.CaptureFixture[str]) -> None:
    # examples/invalid loaded together: every file's own mistake still comes out in one run
    assert main(["validate", "--format", "json", "examples/invalid"]) == 1
    errors = json.loads(capsys.readouterr().out)["errors"]
    files = {e["file"] for e in errors}
    assert len(files) == len(list((ROOT / "examples" / "invalid").glob("*.yaml")))
    codes = {e["code"] for e in errors}
    assert {"yaml.alias-bomb", "yaml.syntax", "schema.extra_forbidden", "doc.kind", "ref.duplicate-document"} <= codes


def test_billion_laughs_is_refused_as_an_alias_bomb(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--format", "json", "examples/invalid/billion-laughs.yaml"]) == 1
    assert [e["code"] for e in json.loads(capsys.readouterr().out)["errors"]] == ["yaml.alias-bomb"]


def test_validate_missing_path_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "examples/no-such-folder"]) == 1
    assert "no such file or directory" in capsys.readouterr().err


def test_schema_prints_the_committed_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    printed = capsys.readouterr().out
    assert printed == schema_text() == (ROOT / "schemas" / "accessops-v1.schema.json").read_text()
    assert json.loads(printed)["discriminator"]["propertyName"] == "kind"


def test_schema_out_writes_a_file(tmp_path: Path) -> None:
    target = tmp_path / "schema.json"
    assert main(["schema", "--out", str(target)]) == 0
    assert target.read_text() == schema_text()


def test_profiles_lists_the_builtins(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profiles"]) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert names == ["org-roles", "permission-matrix", "scoped-access", "spaces", "union", "workspace-roles"]


def test_profiles_shows_one_as_profile_yaml(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profiles", "spaces"]) == 0
    out = capsys.readouterr().out
    assert "space_type_permissions: [update_space, archive_space, forbid_delete_object]" in out
    assert "- {name: Owner, bypass: true}" in out


def test_profiles_unknown_name_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profiles", "nope"]) == 1
    assert "unknown profile 'nope'" in capsys.readouterr().err
