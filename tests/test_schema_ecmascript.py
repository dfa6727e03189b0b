"""The committed schema works in every validator, not only Python's.

Editors (yaml-language-server, via ajv) and check-jsonschema compile
``pattern`` as an ECMAScript regex with the ``u`` flag, where an identity
escape such as ``\\"`` is a syntax error that discards the whole schema.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from pydantic import TypeAdapter, ValidationError

from accessops.manifest.profiles import builtin_names, load_profile
from accessops.manifest.schema import SCHEMA_FILE
from accessops.model.manifest import (
    BUILTIN_ORG_ROLES,
    BUILTIN_PROFILES,
    BUILTIN_WORKSPACE_ROLES,
    NAME_PATTERN,
    Name,
)

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / SCHEMA_FILE

# Names an attacker or a typo might put in metadata.name, and plain ones.
NAMES = [
    "platform",
    "crm customers",
    "Büro",
    "x.y",
    "a/b",
    "a\\b",
    'a"b',
    ".hidden",
    "..",
    " lead",
    "\tlead",
    "nul\x00byte",
    "bell\x07",
    "line\nbreak",
    "esc\x1b[31m",
    "del\x7f",
    "",
]


def _check_jsonschema() -> str:
    exe = shutil.which("check-jsonschema") or str(Path(sys.executable).parent / "check-jsonschema")
    assert Path(exe).exists(), "check-jsonschema is in the test extras: pip install -e '.[test]'"
    return exe


def test_committed_schema_passes_the_metaschema_check() -> None:
    result = subprocess.run([_check_jsonschema(), "--check-metaschema", str(SCHEMA)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_metaschema_check_rejects_the_old_name_pattern(tmp_path: Path) -> None:
    """The check can fail: the pattern from before issue 12 is refused."""
    schema = json.loads(SCHEMA.read_text())
    schema["$defs"]["Metadata"]["properties"]["name"]["pattern"] = '^[^/\\"\\s][^/\\"]*$'
    bad = tmp_path / "bad.schema.json"
    bad.write_text(json.dumps(schema))
    result = subprocess.run([_check_jsonschema(), "--check-metaschema", str(bad)], capture_output=True, text=True)
    assert result.returncode != 0
    assert "is not a 'regex'" in result.stdout + result.stderr


def test_every_pattern_in_the_schema_compiles_as_unicode_ecmascript() -> None:
    node = shutil.which("node")
    assert node, "node is needed (CI has Node 20)"
    patterns = sorted(set(re.findall(r'"pattern": (".*?[^\\]")', SCHEMA.read_text())))
    assert patterns
    script = "for (const p of JSON.parse(process.argv[1])) new RegExp(p, 'u'); console.log('ok')"
    result = subprocess.run([node, "-e", script, json.dumps([json.loads(p) for p in patterns])], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


def test_name_pattern_means_the_same_in_python_pydantic_and_ecmascript() -> None:
    node = shutil.which("node")
    assert node
    script = "const r = new RegExp(process.argv[1], 'u'); console.log(JSON.stringify(JSON.parse(process.argv[2]).map(s => r.test(s))))"
    result = subprocess.run([node, "-e", script, NAME_PATTERN, json.dumps(NAMES)], capture_output=True, text=True, check=True)
    in_node = json.loads(result.stdout)
    in_python = [re.fullmatch(NAME_PATTERN, n) is not None for n in NAMES]
    adapter: TypeAdapter[str] = TypeAdapter(Name)

    def pydantic_ok(name: str) -> bool:
        try:
            adapter.validate_python(name)
        except ValidationError:
            return False
        return True

    in_pydantic = [pydantic_ok(n) for n in NAMES]
    assert in_node == in_python == in_pydantic
    assert dict(zip(NAMES, in_python)) == {n: n in ("platform", "crm customers", "Büro", "x.y") for n in NAMES}


def test_builtin_vocabulary_in_the_schema_matches_the_profile_files() -> None:
    assert list(BUILTIN_PROFILES) == builtin_names()
    profiles = [load_profile(n) for n in builtin_names()]
    assert set(BUILTIN_ORG_ROLES) == {r.name for p in profiles for r in p.org_roles}
    assert set(BUILTIN_WORKSPACE_ROLES) == {r.name for p in profiles for r in p.workspace_roles}


@pytest.mark.parametrize(
    ("profile", "valid"),
    [("union", True), ("spaces", True), ("profiles/acme.yaml", True), ("../my-product.yml", True), ("unoin", False), ("", False)],
)
def test_profile_offers_the_builtins_and_still_allows_a_path(profile: str, valid: bool) -> None:
    schema = json.loads(SCHEMA.read_text())
    doc = {"apiVersion": "accessops/v1", "kind": "Organization", "metadata": {"name": "acme"}, "spec": {"profile": profile}}
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(doc))
    assert (not errors) is valid, [e.message for e in errors]
    props = schema["$defs"]["OrganizationSpec"]["properties"]["profile"]
    assert props["anyOf"][0]["enum"] == list(BUILTIN_PROFILES)


def test_check_jsonschema_with_ecmascript_regexes_accepts_every_example_and_refuses_bad_names(tmp_path: Path) -> None:
    """The validator CI users run (ECMAScript patterns via regress) agrees with accessops on real documents."""
    import yaml

    files = []
    for i, doc in enumerate(d for path in sorted((ROOT / "examples" / "policies").rglob("*.yaml")) for d in yaml.safe_load_all(path.read_text()) if d):
        out = tmp_path / f"doc{i}.json"
        out.write_text(json.dumps(doc))
        files.append(str(out))
    assert len(files) > 10
    good = subprocess.run([_check_jsonschema(), "--regex-variant", "default", "--schemafile", str(SCHEMA), *files], capture_output=True, text=True)
    assert good.returncode == 0, good.stdout + good.stderr
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"apiVersion": "accessops/v1", "kind": "Organization", "metadata": {"name": ".hidden\u0007"}, "spec": {"profile": "union"}}))
    refused = subprocess.run([_check_jsonschema(), "--regex-variant", "default", "--schemafile", str(SCHEMA), str(bad)], capture_output=True, text=True)
    assert refused.returncode == 1 and "does not match" in refused.stdout + refused.stderr, refused.stdout
