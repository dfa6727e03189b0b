"""Names are checked where they enter: manifests, and every adapter's read; export never leaves its folder.

A name becomes a resource address and, in ``export -o DIR``, a file name. A
tampered tenant, a SCIM server or a hand-edited Directus marker can hold
``../../x``, ``/abs/x``, ``..`` or a name with a line break: each is refused
with one line naming the object, and nothing is written anywhere.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from conformance.servers import SCIM_TOKEN, ScimServer, scim_server
from safety_env import Workdir, org_doc, workdir  # noqa: F401  (workdir is a fixture)

from accessops.adapters.base import Target
from accessops.errors import TargetError
from accessops.model.names import CONTROL_CLASS, check_live, name_problem

BAD_NAMES = ["../../x", "/abs/x", ".", "..", ".hidden", "a/b", "a\\b", "a\x00b", "a\nb", "a\x1b[2Jb", "a\u202eb", 'a"b', "a\u2028b", " lead"]
CONTROL_NAMES = ["a\nb", "a\x1b[2Jb", "a\x00b", "a\u202eb", "a\rb", "x\n::error::pwned"]
RAW_CONTROL = re.compile(f"[{CONTROL_CLASS}]")


def _q(value: str) -> str:
    """A YAML double-quoted scalar (JSON's escapes are YAML's)."""
    return json.dumps(value)


def _one_line_errors(err: str) -> list[str]:
    lines = [line for line in err.rstrip("\n").split("\n") if not re.fullmatch(r"\d+ error\(s\)", line)]
    assert all(line.startswith("error: ") for line in lines), err
    assert not RAW_CONTROL.search(err.replace("\n", "")), repr(err)
    return lines


WORKSPACE = """apiVersion: accessops/v1
kind: Workspace
metadata: {{name: {ws}}}
spec:
  organization: acme
  members: [{{email: ada@acme.test, role: Editor}}]
  tables:
    - name: {table}
      read: [Editor]
      fields: [{{name: {field}, read: [Editor]}}]
"""
SPACE = """apiVersion: accessops/v1
kind: Space
metadata: {{name: {space}}}
spec:
  organization: acme
  kind: project
"""


def _manifests(place: str, value: str) -> dict[str, str]:
    """The files of a small valid organization, with ``value`` put at ``place``."""
    names = {"org": "acme", "team": "platform", "role": "auditor", "ws": "crm", "table": "customers", "field": "address", "space": "roadmap"}
    v = _q(value)
    if place in names:
        names[place] = v
    teams = f"  teams: [{{name: {names['team']}, members: [ada@acme.test]}}]"
    roles = f"  custom_roles: [{{name: {names['role']}}}]"
    org = org_doc(["ada@acme.test:Owner"], teams=teams, custom_roles=roles, name=names["org"])
    if place == "email":
        org = org.replace("{email: ada@acme.test, role: Owner}", f"{{email: ada@acme.test, role: Owner}}\n    - {{email: {v}}}")
    if place == "display":
        org = org.replace("role: Owner}", f"role: Owner, name: {v}}}")
    if place == "role_value":
        org = org.replace("role: Owner}", f"role: {v}}}")
    return {"org.yaml": org, "ws.yaml": WORKSPACE.format(**names), "space.yaml": SPACE.format(**names)}


@pytest.mark.parametrize("place", ["org", "team", "role", "ws", "table", "field", "space", "email"])
@pytest.mark.parametrize("value", BAD_NAMES)
def test_a_manifest_name_that_cannot_be_a_name_is_refused_at_its_line(workdir: Workdir, place: str, value: str) -> None:
    if place == "email":
        value = value + "@acme.test"  # ../../x@acme.test, .@acme.test, a\nb@acme.test ...
    for file, text in _manifests(place, value).items():
        workdir.write(file, text)
    code, out, err = workdir.run("validate")
    assert code == 1, (place, value, out)
    lines = _one_line_errors(err)
    assert any(re.match(r"error: (org|ws|space)\.yaml:\d+:\d+: ", line) and ("name may not" in line or "e-mail" in line) for line in lines), err


@pytest.mark.parametrize("place", ["display", "role_value"])
@pytest.mark.parametrize("value", CONTROL_NAMES)
def test_control_characters_are_refused_in_every_name_and_text(workdir: Workdir, place: str, value: str) -> None:
    for file, text in _manifests(place, value).items():
        workdir.write(file, text)
    code, _, err = workdir.run("validate")
    assert code == 1
    assert any("org.yaml:" in line and "control characters" in line for line in _one_line_errors(err)), err


def test_ordinary_names_still_validate(workdir: Workdir) -> None:
    for file, text in _manifests("display", "Ada Lovelace-Byron (ops) ../ <b>").items():
        workdir.write(file, text)
    assert workdir.run("validate")[0] == 0
    assert name_problem("Acme: EU (2)") is None and name_problem("x.y") is None and name_problem("Åcme") is None


# --- live reads: the local tenant ----------------------------------------------------------------


def _applied(workdir: Workdir) -> None:
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner", "bo@acme.test:Member"], teams="  teams: [{name: platform, members: [ada@acme.test]}]"))
    assert workdir.apply()[0] == 0


def _tamper(workdir: Workdir, sql: str, *args: str) -> None:
    adapter = workdir.adapter()
    with adapter.transaction() as db:
        db.execute(sql, args)
    adapter.close()


def _files_written(root: Path) -> list[Path]:
    """Every YAML file under the work folder but the manifest itself."""
    return [p for p in root.rglob("*.yaml") if p != root / "org.yaml"]


@pytest.mark.parametrize("org", ["../../x", "../x", ".", "..", ".hidden", "a\\b", "a\nb"])
def test_export_refuses_a_live_organization_name_that_is_not_a_name(workdir: Workdir, org: str) -> None:
    _applied(workdir)
    _tamper(workdir, "UPDATE organizations SET name = ?", org)
    out = workdir.root / "a" / "b" / "out"  # ../../x would land in a/
    code, stdout, err = workdir.run("export", "-o", str(out))
    assert code == 1, stdout
    (line,) = _one_line_errors(err)
    assert "organization" in line and "rename it" in line
    assert _files_written(workdir.root) == []


def test_export_refuses_an_absolute_organization_name(workdir: Workdir) -> None:
    _applied(workdir)
    victim = workdir.root / "abs" / "x"
    _tamper(workdir, "UPDATE organizations SET name = ?", str(victim))
    code, _, err = workdir.run("export", "-o", str(workdir.root / "out"))
    assert code == 1 and "organization" in err
    assert not victim.with_suffix(".yaml").exists() and not (workdir.root / "abs").exists()


def test_export_refuses_an_org_option_that_is_not_a_name(workdir: Workdir) -> None:
    _applied(workdir)
    code, _, err = workdir.run("export", "-o", "out", "--org", "../escaped")
    assert code == 1 and err.startswith("error: --org ")
    assert not (workdir.root / "escaped.yaml").exists() and not (workdir.root / "out").exists()


def test_export_never_follows_a_symlink_out_of_its_folder(workdir: Workdir) -> None:
    _applied(workdir)
    out = workdir.root / "out"
    out.mkdir()
    outside = workdir.root / "outside.txt"
    outside.write_text("keep me")
    (out / "acme.yaml").symlink_to(outside)
    code, _, err = workdir.run("export", "-o", str(out))
    assert code == 1 and "resolves outside" in err
    assert outside.read_text() == "keep me"


def test_export_maps_names_to_safe_file_names_and_round_trips(workdir: Workdir) -> None:
    org = "Acme: EU*"
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner"], name=_q(org)))
    assert workdir.apply()[0] == 0
    code, _, err = workdir.run("export", "-o", "out")
    assert code == 0, err
    assert [p.name for p in (workdir.root / "out").iterdir()] == ["Acme%3A EU%2A.yaml"]
    workdir.remove("org.yaml")
    code, out, _ = workdir.run("plan", "out")
    assert code == 0 and "No changes" in out


@pytest.mark.parametrize("sql, args", [
    ("UPDATE members SET email = ? WHERE email = 'bo@acme.test'", ("bo\n::error::pwned@acme.test",)),
    ("UPDATE members SET email = ? WHERE email = 'bo@acme.test'", ("../bo@acme.test",)),
    ("UPDATE teams SET name = ?", ("eng/platform",)),
    ("UPDATE teams SET name = ?", (".platform",)),
    ("UPDATE teams SET name = ?", ("plat\x1b[2Jform",)),
])
def test_plan_and_drift_refuse_a_live_name_naming_the_object(workdir: Workdir, sql: str, args: tuple[str]) -> None:
    _applied(workdir)
    _tamper(workdir, sql, *args)
    for argv in (["plan"], ["drift"], ["explain", "ada@acme.test", "--live"]):
        code, out, err = workdir.run(*argv)
        assert code == 1, (argv, out)
        (line,) = _one_line_errors(err)
        assert re.search(r"live (member|team|team member) \"", line) and "rename it in the live system" in line, line


def test_check_live_accepts_what_the_compiler_makes() -> None:
    from accessops.model.resource import Resource

    live = {r.address: r for r in (Resource("organization", "acme"), Resource("member", "acme/ada@acme.test"),
                                   Resource("field_permission", "acme/crm/customers/address"))}
    assert check_live(live, "t") is live
    with pytest.raises(TargetError, match="field permission"):
        check_live({"x": Resource("field_permission", "acme/crm/customers/a/b")}, "t")


# --- live reads: SCIM and Directus ----------------------------------------------------------------


@pytest.fixture(scope="module")
def scim() -> Iterator[ScimServer]:
    with scim_server() as running:
        yield running


@pytest.mark.parametrize("kind, body", [
    ("Groups", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "eng/platform"}),
    ("Groups", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "..\n::error::x"}),
    ("Users", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "mallory\\evil@acme.test"}),
])
def test_a_scim_server_name_that_is_not_a_name_is_refused(workdir: Workdir, scim: ScimServer, monkeypatch: pytest.MonkeyPatch,
                                                          kind: str, body: dict[str, object]) -> None:
    base = scim.tenant()
    monkeypatch.setenv("ACCESSOPS_SCIM_TOKEN", SCIM_TOKEN)
    resp = requests.post(f"{base}/{kind}", json=body, headers={"Authorization": f"Bearer {SCIM_TOKEN}"}, timeout=10)
    assert resp.status_code == 201, resp.text
    workdir.write("org.yaml", "apiVersion: accessops/v1\nkind: Organization\nmetadata: {name: acme}\nspec:\n  profile: org-roles\n"
                  "  members: [{email: ada@acme.test, role: Admin}]\n")
    code, out, err = workdir.run("plan", "--target", f"scim+{base}")
    assert code == 1, out
    (line,) = _one_line_errors(err)
    assert line.startswith("error: scim: live ") and "rename it in the live system" in line


def _directus_with_marker(monkeypatch: pytest.MonkeyPatch, marker: dict[str, object]) -> object:
    """A Directus adapter whose instance holds one org policy with ``marker`` (as a hand edit could leave it)."""
    from accessops.adapters import directus as directus_mod
    from accessops.adapters.directus_live import Policy, Snapshot

    snap = Snapshot(policies={"p1": Policy("p1", "accessops: organization Admin", True, marker)})  # type: ignore[arg-type]
    monkeypatch.setattr(directus_mod.Snapshot, "fetch", classmethod(lambda cls, client, page_size: snap))
    monkeypatch.setenv("ACCESSOPS_DIRECTUS_TOKEN", "not-used-no-request-is-made")
    return directus_mod.DirectusAdapter(Target.parse("directus+http://127.0.0.1:9"))


@pytest.mark.parametrize("org", ["../../x", "/abs/x", "..", "a\nb", 5])
def test_a_directus_marker_naming_a_bad_organization_is_refused(monkeypatch: pytest.MonkeyPatch, org: object) -> None:
    adapter = _directus_with_marker(monkeypatch, {"kind": "organization", "org": org, "profile": "workspace-roles"})
    for call in (lambda: adapter.organizations(), lambda: adapter.read(["acme"])):  # type: ignore[attr-defined]
        with pytest.raises(TargetError) as err:
            call()
        assert str(err.value).startswith("directus: policy p1") and "\n" not in str(err.value)


@pytest.mark.parametrize("email", ["../x@acme.test", "a\nb@acme.test", "no-at-sign", ".x@acme.test"])
def test_tenant_add_member_refuses_an_address_that_is_not_one(workdir: Workdir, email: str) -> None:
    _applied(workdir)
    code, _, err = workdir.run("tenant", "add-member", email, "--org", "acme")
    assert code == 1 and "not an e-mail address" in err
    _one_line_errors(err)
    assert workdir.run("plan")[0] == 0  # the tenant is still readable: nothing was added


def test_tenant_list_shows_a_tampered_value_escaped(workdir: Workdir) -> None:
    _applied(workdir)
    _tamper(workdir, "UPDATE members SET role = ? WHERE email = 'bo@acme.test'", "Member\n::error::pwned")
    code, out, _ = workdir.run("tenant", "list")
    assert code == 0 and "Member\\n::error::pwned" in out
    assert not [line for line in out.splitlines() if line.startswith("::")]
