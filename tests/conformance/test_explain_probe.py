"""explain is the truth: what accessops says a member can do is what a real Directus enforces.

After applying seed-003 manifests to a real Directus 11 (and a second plan
showing no changes), the test logs in as every member and **probes** every
capability on every collection: read, create, update and delete on each
collection, and read on each field (``GET /items/C?fields=F``, which Directus
refuses with 403 when the field is not readable). It then asks accessops the
same questions three ways, through the real CLI:

* ``explain MEMBER --live`` (the live state read through the adapter),
* ``explain MEMBER`` on the manifests (with ``--target``, so that objects the
  manifests leave undeclared are answered from live state),
* ``who-can ACTION RESOURCE --live --all`` for the collection nobody declared,

and requires zero disagreements. The manifests cover every rule that
Directus can express: default roles, custom roles that add (Viewer + support
may edit) and narrow (Editor without delivery may not edit orders), an empty
list (nobody but Admin), actions and field reads left out (unrestricted), an
org Admin in no workspace, a workspace Admin who is an org Member, an invited
member who never accepted, a collection (``notes``) and fields (``id``,
``name``, ...) the manifests never mention.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pytest
import requests
from directus_server import ADMIN_EMAIL, DirectusServer

from accessops.cli import main

pytestmark = pytest.mark.server

PASSWORD = "probe-password-1"
TOKEN_ENV = "ACCESSOPS_DIRECTUS_TOKEN"
ACTIONS = ("read", "create", "edit", "delete")
UNDECLARED = {"notes": ("title", "body")}  # a collection the manifests never mention

#: email -> (org role, workspace role or None, custom roles, accepts the invitation)
MEMBERS: dict[str, tuple[str, str | None, list[str], bool]] = {
    ADMIN_EMAIL: ("Admin", "Admin", [], True),
    "oa@example.com": ("Admin", None, [], True),  # org Admin in no workspace
    "wa@example.com": ("Member", "Admin", [], True),  # workspace Admin, org Member
    "ada@example.com": ("Member", "Editor", ["delivery"], True),
    "ed@example.com": ("Member", "Editor", [], True),
    "bo@example.com": ("Member", "Viewer", ["support"], True),
    "eve@example.com": ("Member", "Viewer", [], True),
    "cy@example.com": ("Member", "None", ["support"], True),
    "dee@example.com": ("Member", "None", [], True),
    "ivy@example.com": ("Member", "Editor", ["support"], False),  # invited, never accepts
    "mo@example.com": ("Member", None, [], True),  # in no workspace
    "root@example.com": ("Member", None, [], True),  # given Directus's Administrator role by hand
}

TABLES = """\
  tables:
    - name: customers
      read: [Editor, Viewer, support, delivery]
      edit: [Editor, support]
      delete: []
      fields:
        - {name: address, read: [Editor, delivery]}
        - {name: email}
    - name: orders
      edit: [delivery]
      delete: []
      fields:
        - {name: note, read: [Editor]}
"""


def manifests() -> str:
    """The Organization and the Workspace of the probe."""
    org = [f"    - {{email: {e}, role: {r}}}" for e, (r, _, _, _) in MEMBERS.items()]
    ws = [f"    - {{email: {e}, role: {w}, custom_roles: [{', '.join(c)}]}}" for e, (_, w, c, _) in MEMBERS.items() if w]
    return (
        "apiVersion: accessops/v1\nkind: Organization\nmetadata: {name: acme}\nspec:\n  profile: workspace-roles\n  members:\n"
        + "\n".join(org)
        + "\n  custom_roles:\n    - {name: support}\n    - {name: delivery}\n---\n"
        + "apiVersion: accessops/v1\nkind: Workspace\nmetadata: {name: crm}\nspec:\n  organization: acme\n  members:\n"
        + "\n".join(ws)
        + "\n"
        + TABLES
    )


class Cli:
    """``python -m accessops`` in a folder holding the manifests, against one Directus."""

    def __init__(self, workdir: Path, server: DirectusServer) -> None:
        self.workdir, self.server = workdir, server
        self.env = {**os.environ, TOKEN_ENV: server.token, "NO_COLOR": "1"}

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "accessops", *args, "--target", self.server.target]
        return subprocess.run(argv, cwd=self.workdir, env=self.env, capture_output=True, text=True, timeout=120)

    def json(self, *args: str) -> Any:
        """The JSON answer of one command, run in this process (the same ``main`` the CLI calls, without a start-up per call)."""
        out, err = io.StringIO(), io.StringIO()
        saved = {k: os.environ.get(k) for k in (TOKEN_ENV, "NO_COLOR")}
        here = os.getcwd()
        os.environ.update({TOKEN_ENV: self.server.token, "NO_COLOR": "1"})
        os.chdir(self.workdir)
        try:
            with redirect_stdout(out), redirect_stderr(err):
                code = main([*args, "--target", self.server.target, "--format", "json"])
        finally:
            os.chdir(here)
            for k, v in saved.items():
                os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
        assert code == 0, out.getvalue() + err.getvalue()
        return json.loads(out.getvalue())


def collection_fields(server: DirectusServer) -> dict[str, list[str]]:
    """Every user collection of the probe and its (non-alias) fields, as Directus lists them."""
    out = {}
    for name in ("customers", "orders", *UNDECLARED):
        fields = server.api("GET", f"/fields/{name}")
        out[name] = sorted(f["field"] for f in fields if (f.get("type") or "alias") != "alias")
    return out


def ensure_undeclared(server: DirectusServer) -> None:
    """The collection nobody declares, created once per Directus."""
    have = {c["collection"] for c in server.api("GET", "/collections")}
    missing = {k: v for k, v in UNDECLARED.items() if k not in have}
    if missing:
        server.create_collections(missing)


def _verdict(resp: requests.Response, what: str) -> bool:
    if resp.status_code < 300:
        return True
    if resp.status_code in (401, 403):
        return False
    raise AssertionError(f"{what}: unexpected HTTP {resp.status_code}: {resp.text[:200]}")


def probe(server: DirectusServer, email: str, fields: dict[str, list[str]]) -> dict[str, bool]:
    """What Directus lets ``email`` do: capability name -> allowed, by trying every one of them."""
    names = [f"{a} crm/{c}" for c in fields for a in ACTIONS] + [f"read crm/{c}/{f}" for c, fs in fields.items() for f in fs]
    resp = requests.post(f"{server.url}/auth/login", json={"email": email, "password": PASSWORD}, timeout=15)
    if resp.status_code == 401:  # cannot log in (an invited member): nothing at all
        return dict.fromkeys(names, False)
    resp.raise_for_status()
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {resp.json()['data']['access_token']}"
    url = server.url
    found: dict[str, bool] = {}
    for coll, flds in fields.items():
        first = next(f for f in flds if f != "id")
        found[f"read crm/{coll}"] = _verdict(session.get(f"{url}/items/{coll}", params={"fields": "id", "limit": "1"}, timeout=15), f"{email} read {coll}")
        found[f"create crm/{coll}"] = _verdict(session.post(f"{url}/items/{coll}", json={first: "probe"}, timeout=15), f"{email} create {coll}")
        victim = server.api("POST", f"/items/{coll}", json={first: "to update and delete"})["id"]
        found[f"edit crm/{coll}"] = _verdict(session.patch(f"{url}/items/{coll}/{victim}", json={first: "probed"}, timeout=15), f"{email} update {coll}")
        found[f"delete crm/{coll}"] = _verdict(session.delete(f"{url}/items/{coll}/{victim}", timeout=15), f"{email} delete {coll}")
        for fld in flds:
            found[f"read crm/{coll}/{fld}"] = _verdict(
                session.get(f"{url}/items/{coll}", params={"fields": fld, "limit": "1"}, timeout=15), f"{email} read {coll}.{fld}"
            )
    session.close()
    return found


def users_seen_by(server: DirectusServer, email: str) -> set[str]:
    """The emails of the users ``email`` may list."""
    session = server.login(email, PASSWORD)
    resp = session.get(f"{server.url}/users", params={"fields": "email", "limit": "-1"}, timeout=15)
    session.close()
    return {u["email"] for u in resp.json().get("data") or []} if resp.ok else set()


def answers(explained: dict[str, Any], names: list[str]) -> dict[str, bool | None]:
    """accessops's verdict per probed capability (None: it gave none)."""
    given = {c["capability"]: bool(c["allowed"]) for c in explained["capabilities"]}
    return {n: given.get(n) for n in names}


def test_explain_agrees_with_what_directus_enforces(directus_service: DirectusServer, tmp_path: Path) -> None:
    server = directus_service
    server.reset()
    ensure_undeclared(server)
    (tmp_path / "org.yaml").write_text(manifests())
    cli = Cli(tmp_path, server)
    applied = cli.run("apply", "--auto-approve")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    roles = server.api("GET", "/roles", params={"limit": "-1", "fields": "id,description"})
    administrator = [r["id"] for r in roles if r["description"] == "$t:admin_description"][0]
    root = server.api("GET", "/users", params={"filter[email][_eq]": "root@example.com", "fields": "id"})[0]
    server.api("PATCH", f"/users/{root['id']}", json={"role": administrator})
    again = cli.run("plan", "--detailed-exitcode")
    assert again.returncode == 0, again.stdout + again.stderr  # "No changes"
    for email, (_, _, _, accepts) in MEMBERS.items():
        if accepts and email != ADMIN_EMAIL:
            server.activate(email, PASSWORD)
    server.api("PATCH", "/users/me", json={"password": PASSWORD})

    fields = collection_fields(server)
    disagreements: list[str] = []
    verdicts = 0
    for email in MEMBERS:
        truth = probe(server, email, fields)
        live = answers(cli.json("explain", email, "--live"), list(truth))
        desired = answers(cli.json("explain", email, "."), list(truth))
        for name, allowed in truth.items():
            verdicts += 1
            for source, said in (("explain --live", live[name]), ("explain", desired[name])):
                if said is not allowed:
                    shown = "no verdict" if said is None else ("allowed" if said else "denied")
                    disagreements.append(f"{email}: {name}: Directus {'allows' if allowed else 'denies'}, {source} says {shown}")
    # who-can answers the undeclared collection from live state too
    for action in ACTIONS:
        try:
            said = cli.json("who-can", action, "crm/notes", "--live", "--all")
        except AssertionError as exc:
            disagreements.append(f"who-can {action} crm/notes --live: {str(exc).strip()}")
            continue
        for member in said["members"]:
            truth_now = member["member"] in (ADMIN_EMAIL, "wa@example.com", "root@example.com")  # only admins reach it
            if member["allowed"] is not truth_now:
                disagreements.append(f"{member['member']}: {action} crm/notes: who-can --live says {member['allowed']}")
    assert verdicts == len(MEMBERS) * sum(4 + len(f) for f in fields.values())
    # the org Admin administers the organization's users, and only that (seed 001)
    assert len(users_seen_by(server, "oa@example.com")) == len(MEMBERS)
    assert users_seen_by(server, "mo@example.com") <= {"mo@example.com"}
    assert not disagreements, f"{len(disagreements)} disagreement(s) in {verdicts} verdicts:\n" + "\n".join(disagreements)


def test_drift_delta_on_an_undeclared_collection_and_a_wrong_base_path(directus_service: DirectusServer, tmp_path: Path) -> None:
    """Item 5: rows added live on an undeclared collection are removed, and only their holders lose access.

    A wrong base path (``/api``) is a one-line error, never an empty Directus.
    """
    server = directus_service
    server.reset()
    ensure_undeclared(server)
    (tmp_path / "org.yaml").write_text(manifests())
    cli = Cli(tmp_path, server)
    assert cli.run("apply", "--auto-approve").returncode == 0
    editor = [p for p in server.api("GET", "/policies", params={"limit": "-1"}) if p["name"] == "Editor"][0]
    server.api("POST", "/permissions", json={"policy": editor["id"], "collection": "notes", "action": "read", "fields": ["*"], "permissions": {}})
    # and an unrestricted action loses its default role behind the tool's back
    create = server.api("GET", "/permissions", params={"filter[policy][_eq]": editor["id"], "filter[collection][_eq]": "customers", "filter[action][_eq]": "create"})
    server.api("DELETE", f"/permissions/{create[0]['id']}")
    plan = cli.json("plan")
    changed = {c["accessops"]["address"]: c["change"] for c in plan["resource_changes"] if c["change"]["actions"] != ["no-op"]}  # native addresses
    assert sorted(changed) == ['table_permission["acme/crm/customers"]', 'table_permission["acme/crm/notes"]']
    assert changed['table_permission["acme/crm/customers"]']["before"]["create"] == []
    assert changed['table_permission["acme/crm/customers"]']["after"]["create"] is None  # unrestricted again
    lost = {e["member"]: [c["capability"] for c in e["lost"]] for e in plan["access_delta"]}
    assert ADMIN_EMAIL not in lost and "wa@example.com" not in lost  # workspace Admins keep notes (admin access)
    assert "read crm/notes" in lost["ed@example.com"]  # with export, which follows read
    gained = {e["member"]: [c["capability"] for c in e["gained"]] for e in plan["access_delta"]}
    assert gained["ed@example.com"] == ["create crm/customers"]
    assert cli.run("apply", "--auto-approve").returncode == 0
    assert cli.run("plan", "--detailed-exitcode").returncode == 0

    # an org Admin policy with admin access (as older versions made it) reads as what it is
    org = [p for p in server.api("GET", "/policies", params={"limit": "-1", "fields": "id,description"}) if '"organization"' in (p["description"] or "")][0]
    server.api("PATCH", f"/policies/{org['id']}", json={"admin_access": True})
    oa = {c["capability"]: c["configured"] for c in cli.json("explain", "oa@example.com", "--live")["capabilities"]}
    assert oa["read crm/notes"] and oa["delete crm/customers"]  # what Directus enforces for it once it logs in
    assert cli.run("plan", "--detailed-exitcode").returncode == 2  # not "No changes": the apply takes it away
    assert cli.run("apply", "--auto-approve").returncode == 0
    assert cli.run("plan", "--detailed-exitcode").returncode == 0
    assert server.api("GET", f"/policies/{org['id']}", params={"fields": "admin_access"})["admin_access"] is False

    wrong = subprocess.run(
        [sys.executable, "-m", "accessops", "plan", "--target", f"{server.target}/api"],
        cwd=tmp_path, env=cli.env, capture_output=True, text=True, timeout=60,
    )
    assert wrong.returncode == 1 and "Traceback" not in wrong.stderr
    assert "HTTP 404: no Directus API here (check the target URL's base path)" in wrong.stderr
    assert "to add" not in wrong.stdout
