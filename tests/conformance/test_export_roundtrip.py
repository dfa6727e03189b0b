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


# --- directus: one organization, one workspace, seed 003's model -------------------


def _directus_email(email: str) -> str:
    """Directus refuses reserved top-level domains such as ``.test``: keep the person, move the domain."""
    return email.split("@", 1)[0] + "@example.com"


def directus_cut(example: Path) -> tuple[str, dict[str, tuple[str, ...]], str]:
    """The example as one Directus holds it: YAML, the collections it needs, and its organization.

    The first organization and its first workspace; org roles become Admin
    (a bypass role) or Member; apps, sections, spaces and teams go (Directus
    has none). The bootstrap admin is added: accessops never removes the
    identity that runs the apply.
    """
    from directus_server import ADMIN_EMAIL

    model = load([example])
    org_name, loaded = next(iter(sorted(model.organizations.items())))
    profile = load_profile(loaded.doc.spec.profile)
    bypass = {r.name for r in profile.org_roles if r.bypass}
    members = {ADMIN_EMAIL: "Admin"}
    for m in loaded.doc.spec.members or []:
        members[_directus_email(m.email)] = "Admin" if m.role in bypass else "Member"
    spaces = sorted((key.split("/", 1)[1], ws) for key, ws in model.workspaces.items() if ws.doc.spec.organization == org_name)
    customs = [{"name": r.name} for r in loaded.doc.spec.custom_roles or []]
    ws_doc: dict[str, object] | None = None
    collections: dict[str, tuple[str, ...]] = {}
    if spaces:
        ws_name, ws = spaces[0]
        rows = [{"email": ADMIN_EMAIL, "role": "Admin", "custom_roles": []}]
        for wm in ws.doc.spec.members or []:
            email = _directus_email(wm.email)
            members.setdefault(email, "Member")
            # seed 003's default roles; another profile's (seed 002 Member: no data actions) is None
            role = wm.role if wm.role in ("Admin", "Editor", "Viewer", "None") else "None"
            rows.append({"email": email, "role": role, "custom_roles": list(wm.custom_roles or [])})
        tables = []
        for t in ws.doc.spec.tables or []:
            table: dict[str, object] = {"name": t.name, **{a: list(getattr(t, a)) for a in ("read", "create", "edit", "delete") if getattr(t, a) is not None}}
            # Directus keeps field lists on the read rows: a field reader must read the table
            readers = set(t.read) if t.read is not None else None
            table["fields"] = [{"name": f.name, "read": [r for r in f.read or [] if readers is None or r in readers]} for f in t.fields or []]
            collections[t.name] = tuple(f.name for f in t.fields or []) or ("name",)
            tables.append(table)
        ws_doc = {"apiVersion": "accessops/v1", "kind": "Workspace", "metadata": {"name": ws_name}, "spec": {"organization": org_name, "members": rows, "tables": tables}}
    org_doc = {
        "apiVersion": "accessops/v1", "kind": "Organization", "metadata": {"name": org_name},
        "spec": {"profile": "workspace-roles", "members": [{"email": e, "role": r} for e, r in members.items()], "custom_roles": customs},
    }
    return yaml.safe_dump_all([org_doc] + ([ws_doc] if ws_doc else []), sort_keys=False), collections, org_name


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_directus_export_then_plan_shows_no_changes(example: Path, request: pytest.FixtureRequest) -> None:
    adapter: AdapterUnderTest = request.getfixturevalue("directus_adapter")
    server = request.getfixturevalue("directus_service")
    text, collections, org = directus_cut(example)
    existing = {c["collection"] for c in server.api("GET", "/collections")}
    server.create_collections({name: fields for name, fields in collections.items() if name not in existing})
    for name, fields in collections.items():  # a collection made by another case may lack a field
        have = {f["field"] for f in server.api("GET", f"/fields/{name}")}
        for f in fields:
            if f not in have:
                server.api("POST", f"/fields/{name}", json={"field": f, "type": "string"})
    folder = adapter.workdir / "policy"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    (folder / "org.yaml").write_text(text)
    round_trip(adapter, [org], "workspace-roles")
