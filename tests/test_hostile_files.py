"""Hostile manifest files and saved plans: one line naming the file (and line), exit 1, never "internal error".

The byte-level fixtures in tests/fixtures/hostile/ are named after the
failure they provoke; the YAML-level ones (duplicate ``.nan`` keys, a
5,000-digit integer, seats past 64 bits) live in examples/invalid/ and are
checked by test_manifest_invalid.py. With ``--format json`` every error is a
JSON object on stdout.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from accessops.cli import main
from safety_env import Workdir, org_doc, workdir  # noqa: F401  (workdir is a fixture)

from accessops.plan.planfile import from_file

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = "tests/fixtures/hostile"

# fixture stem -> (where, message): where is "line:column", or "" for the whole file
BYTES: dict[str, tuple[str, str]] = {
    "nul-byte": ("7:29", "control character U+0000 is not allowed in a manifest (is this a binary file?)"),
    "control-byte": ("7:39", "control character U+001B is not allowed in a manifest (is this a binary file?)"),
    "utf16-without-bom": ("", "the file is UTF-16 without a byte-order mark; save it as UTF-8"),
    "latin1-not-utf8": ("7:52", "not valid UTF-8 (byte 0xe9); save the file as UTF-8"),
}


@pytest.fixture
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("ACCESSOPS_TARGET", raising=False)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_every_hostile_fixture_has_an_expectation() -> None:
    assert sorted(p.stem for p in (ROOT / HOSTILE).glob("*.yaml")) == sorted(BYTES)


@pytest.mark.parametrize("stem", sorted(BYTES))
def test_hostile_bytes_are_one_line_naming_file_and_line(stem: str, at_root: None, capsys: pytest.CaptureFixture[str]) -> None:
    where, message = BYTES[stem]
    path = f"{HOSTILE}/{stem}.yaml"
    location = f"{path}:{where}" if where else path
    code, _, err = run(capsys, "validate", path)
    assert code == 1
    assert err.splitlines()[0] == f"error: {location}: {message}"
    code, out, err = run(capsys, "plan", path)
    assert (code, out, err) == (1, "", f"error: {location}: {message}\n")


@pytest.mark.parametrize("stem", sorted(BYTES))
def test_hostile_bytes_with_format_json_print_an_error_object(stem: str, at_root: None, capsys: pytest.CaptureFixture[str]) -> None:
    where, message = BYTES[stem]
    path = f"{HOSTILE}/{stem}.yaml"
    code, out, _ = run(capsys, "plan", "--format", "json", path)
    assert code == 1
    error = json.loads(out)["error"]
    line, _, column = where.partition(":")
    assert error["file"] == path and error["exit_code"] == 1
    assert (error["line"], error["column"]) == ((int(line), int(column)) if where else (None, None))
    assert error["message"].endswith(message)


def test_a_utf16_manifest_with_a_byte_order_mark_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "org.yaml").write_bytes(org_doc(["ada@acme.test:Owner"]).encode("utf-16"))
    code, out, err = run(capsys, "validate", "org.yaml")
    assert (code, err) == (0, ""), err


def test_invalid_yaml_values_with_format_json(at_root: None, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "plan", "--format", "json", "examples/invalid/integer-too-long.yaml")
    assert code == 1
    error = json.loads(out)["error"]
    assert (error["file"], error["line"], error["column"]) == ("examples/invalid/integer-too-long.yaml", 9, 10)
    assert error["problems"][0]["code"] == "yaml.bad-value"


# --- saved plans ---------------------------------------------------------------------------------


def _checksum(plan: Any) -> str:
    """What anyone can compute: the saved plan's plain SHA-256 of its canonical JSON."""
    return hashlib.sha256(json.dumps(plan, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _envelope(plan: Any) -> str:
    return json.dumps({"kind": "accessops-plan", "checksum": _checksum(plan), "plan": plan}, indent=1)


def _broken(real: dict[str, Any]) -> dict[str, str]:
    """Malformed plan files, by the failure they provoke; ``real`` is a genuine plan's JSON."""
    change = real["resource_changes"][0]
    return {
        "truncated-json": _envelope(real)[:300],
        "not-an-object": '[{"kind": "accessops-plan"}]',
        "plan-not-an-object": _envelope([1, 2]),
        "plan-missing-keys": _envelope({}),
        "changes-not-a-list": _envelope({**real, "resource_changes": "all of them"}),
        "change-not-an-object": _envelope({**real, "resource_changes": [7]}),
        "change-without-type": _envelope({**real, "resource_changes": [{k: v for k, v in change.items() if k != "type"}]}),
        "unknown-resource-type": _envelope({**real, "resource_changes": [{**change, "type": "galaxy"}]}),
        "unknown-action": _envelope({**real, "resource_changes": [{**change, "change": {**change["change"], "actions": ["explode"]}}]}),
        "actions-not-a-list": _envelope({**real, "resource_changes": [{**change, "change": {**change["change"], "actions": 5}}]}),
        "seats-past-int64": _envelope({**real, "resource_changes": [{**change, "change": {**change["change"], "after": {**change["change"]["after"], "seats": 2**64}}}]}),
        "after-not-an-object": _envelope({**real, "resource_changes": [{**change, "change": {**change["change"], "after": "Owner"}}]}),
        "checksum-not-a-string": json.dumps({"kind": "accessops-plan", "checksum": 5, "plan": real}),
        "kind-but-binary": '{"kind": "accessops-plan", "plan": "\x00\xff"}',
    }


@pytest.fixture
def real_plan(workdir: Workdir) -> dict[str, Any]:
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner", "bo@acme.test:Member"]))
    code, _, err = workdir.run("plan", "--out", "good.plan")
    assert code == 0, err
    envelope = from_file(json.loads((workdir.root / "good.plan").read_text()))  # the plan is the file's top level
    assert envelope is not None
    return dict(envelope["plan"])


@pytest.mark.parametrize(
    "name",
    ["truncated-json", "not-an-object", "plan-not-an-object", "plan-missing-keys", "changes-not-a-list", "change-not-an-object",
     "change-without-type", "unknown-resource-type", "unknown-action", "actions-not-a-list", "seats-past-int64", "after-not-an-object", "checksum-not-a-string", "kind-but-binary"],
)
def test_a_malformed_saved_plan_is_one_line_naming_the_file(name: str, workdir: Workdir, real_plan: dict[str, Any]) -> None:
    path = workdir.root / f"{name}.plan"
    path.write_text(_broken(real_plan)[name])
    before = workdir.live()
    for argv in (("apply", "--auto-approve", path.name), ("show", path.name)):
        code, out, err = workdir.run(*argv)
        assert code == 1, (argv, out, err)
        assert len(err.splitlines()) == 1 and err.startswith(f"error: {path.name}:"), err
        assert "internal error" not in err
    code, out, _ = workdir.run("show", "--format", "json", path.name)
    assert code == 1 and json.loads(out)["error"]["file"] == path.name
    assert workdir.live() == before


def test_an_unwritable_plan_file_names_it(workdir: Workdir) -> None:
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner"]))
    code, _, err = workdir.run("plan", "--out", "/dev/full")
    assert code == 1
    assert err.splitlines()[-1] == "error: /dev/full: cannot write the plan: No space left on device"
    code, _, err = workdir.run("plan", "--out", "no/such/folder/x.plan")
    assert code == 1 and err.splitlines()[-1].startswith("error: no/such/folder/x.plan: cannot write the plan: No such file or directory")


# --- profile files ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "where", "message"),
    [
        (b"name: x\norg_roles:\n  - name: Own\xe9r\n", ":3:14", "not valid UTF-8 (byte 0xe9); save the file as UTF-8"),
        (b"name: x\norg_roles:\n  - name: Own\x00er\n", ":3:14", "control character U+0000 is not allowed in a manifest (is this a binary file?)"),
        (b"name: x\nname: y\n", ":2:1", "duplicate key 'name' (first at line 1)"),
        (b"name: x\norg_roles: []\nseats: " + b"9" * 5000 + b"\n", ":3:8", "integer of 5000 digits is too large"),
    ],
    ids=["not-utf8", "nul-byte", "duplicate-key", "integer-too-long"],
)
def test_a_hostile_profile_file_names_the_profile_file_and_line(content: bytes, where: str, message: str, workdir: Workdir) -> None:
    (workdir.root / ".profiles").mkdir()
    (workdir.root / ".profiles" / "custom.yaml").write_bytes(content)
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner"]).replace("profile: union", "profile: .profiles/custom.yaml"))
    code, _, err = workdir.run("validate")
    assert code == 1
    assert err.splitlines()[0] == f"error: org.yaml:5:3: spec.profile: profile file {workdir.root / '.profiles' / 'custom.yaml'}{where}: {message}"


def test_a_usage_error_with_format_json_prints_an_error_object(at_root: None, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["plan", "--format", "json", "--no-such-flag"])
    assert caught.value.code == 1
    out, err = capsys.readouterr()
    error = json.loads(out)["error"]
    assert error["exit_code"] == 1 and "unrecognized arguments: --no-such-flag" in error["message"]
    assert "unrecognized arguments: --no-such-flag" in err


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2026-13-45", "6:10: invalid timestamp '2026-13-45': month must be in 1..12"),
        ("!!timestamp 'not a date'", "6:10: invalid timestamp 'not a date': not a valid value"),
        ("!!int 'abc'", "6:10: invalid int 'abc': invalid literal for int() with base 10: 'abc'"),
        ("!!float 'abc'", "6:10: invalid float 'abc': could not convert string to float: 'abc'"),
        ("!!python/object:os.system x", "6:10: could not determine a constructor for the tag 'tag:yaml.org,2002:python/object:os.system'"),
        ("1e999", "6:3: spec.seats: Input should be a valid integer"),
    ],
    ids=["impossible-date", "tagged-non-date", "tagged-non-int", "tagged-non-float", "python-tag", "infinite-float"],
)
def test_a_value_python_cannot_build_is_a_problem_at_its_line(value: str, message: str, workdir: Workdir) -> None:
    workdir.write("org.yaml", org_doc([]).replace("  members: []\n", f"  seats: {value}\n"))
    code, _, err = workdir.run("validate", "org.yaml")
    assert code == 1
    assert err.splitlines()[0] == f"error: org.yaml:{message}"
