"""The editor experience, proven with the real engine: yaml-language-server over stdio.

The server is the one VS Code's Red Hat YAML extension, Neovim's yamlls,
Helix and Zed run. It is installed by scripts/install-yaml-language-server.sh
(run here when missing); the test never skips. The schema is mapped with the
``yaml.schemas`` setting, as docs/ci.md tells users to, so every document of
a multi-document file is checked.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lsp_client import LspClient

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "schemas" / "accessops-v1.schema.json"
INSTALL = ROOT / "scripts" / "install-yaml-language-server.sh"


@pytest.fixture(scope="module")
def server_dir() -> Path:
    done = subprocess.run(["bash", str(INSTALL)], capture_output=True, text=True)
    assert done.returncode == 0, f"installing yaml-language-server failed: {done.stderr}"
    return Path(done.stdout.strip().splitlines()[-1])


def _settings(glob: str) -> dict[str, Any]:
    return {"yaml": {"schemas": {SCHEMA.as_uri(): glob}, "validate": True, "completion": True, "hover": True, "schemaStore": {"enable": False}}}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("access")


@pytest.fixture(scope="module")
def lsp(server_dir: Path, workspace: Path) -> Iterator[LspClient]:
    settings = _settings(str(workspace / "**" / "*.yaml"))
    client = LspClient(["node", str(server_dir / "node_modules" / "yaml-language-server" / "bin" / "yaml-language-server"), "--stdio"], settings)
    client.request(
        "initialize",
        {
            "processId": None,
            "rootUri": workspace.as_uri(),
            "workspaceFolders": [{"uri": workspace.as_uri(), "name": "access"}],
            "capabilities": {
                "textDocument": {
                    "completion": {"completionItem": {"snippetSupport": True}},
                    "publishDiagnostics": {},
                },
                "workspace": {"configuration": True, "didChangeConfiguration": {"dynamicRegistration": False}},
            },
        },
    )
    client.notify("initialized", {})
    client.notify("workspace/didChangeConfiguration", {"settings": settings})
    yield client
    client.close()


_opened: dict[str, int] = {}


def _open(lsp: LspClient, path: Path, text: str) -> str:
    path.write_text(text)
    uri = path.as_uri()
    _opened[uri] = _opened.get(uri, 0) + 1
    lsp.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "yaml", "version": _opened[uri], "text": text}})
    return uri


def _diagnostics(lsp: LspClient, path: Path, text: str) -> list[dict[str, Any]]:
    uri = _open(lsp, path, text)
    params = lsp.wait_notification("textDocument/publishDiagnostics", lambda p: p["uri"] == uri)
    return list(params["diagnostics"])


def _complete(lsp: LspClient, path: Path, text: str) -> set[str]:
    """Labels offered where ``|`` stands in ``text``."""
    before, _, after = text.partition("|")
    lines = before.split("\n")
    uri = _open(lsp, path, before + after)
    result = lsp.request("textDocument/completion", {"textDocument": {"uri": uri}, "position": {"line": len(lines) - 1, "character": len(lines[-1])}})
    items = result["items"] if isinstance(result, dict) else result or []
    return {item["label"] for item in items}


GOOD_ORG = """\
apiVersion: accessops/v1
kind: Organization
metadata:
  name: acme
spec:
  profile: union
  members:
    - email: ada@acme.test
      role: Owner
"""


def test_a_valid_manifest_has_no_diagnostics(lsp: LspClient, workspace: Path) -> None:
    assert _diagnostics(lsp, workspace / "good.yaml", GOOD_ORG) == []


def test_a_broken_manifest_is_underlined_where_it_is_wrong(lsp: LspClient, workspace: Path) -> None:
    text = """\
apiVersion: accessops/v1
kind: Organization
metadata:
  name: a/b
spec:
  profile: union
  seats: many
  colour: blue
"""
    found = _diagnostics(lsp, workspace / "broken.yaml", text)
    by_line = {d["range"]["start"]["line"]: d["message"] for d in found}
    assert set(by_line) == {3, 6, 7}, found
    assert "pattern" in by_line[3].lower()  # the name pattern compiled in the editor's regex engine
    assert "integer" in by_line[6].lower()
    assert "colour" in by_line[7]
    # never a complaint about the schema itself (an invalid regex discards it)
    assert not any("schema" in d["message"].lower() and "load" in d["message"].lower() for d in found)


def test_every_document_of_a_multi_document_file_is_checked(lsp: LspClient, workspace: Path) -> None:
    text = GOOD_ORG + """\
---
apiVersion: accessops/v1
kind: Workspace
metadata:
  name: crm
spec:
  organization: acme
  members:
    - email: ada@acme.test
      rol: Admin
"""
    found = _diagnostics(lsp, workspace / "multi.yaml", text)
    assert [d["range"]["start"]["line"] for d in found] == [18], found  # the second document's typo
    assert "rol" in found[0]["message"]


def test_the_modeline_alone_covers_only_the_first_document(lsp: LspClient, tmp_path: Path) -> None:
    """Why the docs show ``yaml.schemas``: outside the mapped folder, the comment reaches document 1 only."""
    modeline = f"# yaml-language-server: $schema={SCHEMA.as_uri()}\n"
    bad_second = modeline + GOOD_ORG + "---\napiVersion: accessops/v1\nkind: Organization\nmetadata:\n  name: b\nspec:\n  profile: union\n  colour: blue\n"
    assert _diagnostics(lsp, tmp_path / "unmapped.yaml", bad_second) == []
    bad_first = modeline + GOOD_ORG.replace("  profile: union\n", "  profile: union\n  colour: blue\n")
    assert [d["range"]["start"]["line"] for d in _diagnostics(lsp, tmp_path / "unmapped1.yaml", bad_first)] == [7]


def test_kind_completes_to_every_document_kind(lsp: LspClient, workspace: Path) -> None:
    offered = _complete(lsp, workspace / "kind.yaml", "apiVersion: accessops/v1\nkind: |\n")
    assert {"Organization", "Workspace", "Space", "SpaceType", "PermissionSet", "Policy"} <= offered


def test_spec_keys_complete_for_the_document_kind(lsp: LspClient, workspace: Path) -> None:
    text = "apiVersion: accessops/v1\nkind: Organization\nmetadata:\n  name: acme\nspec:\n  profile: union\n  |\n"
    offered = _complete(lsp, workspace / "spec.yaml", text)
    assert {"seats", "members", "teams", "permissions", "custom_roles"} <= offered
    assert "organization" not in offered  # a Workspace key, not an Organization one


def test_roles_complete_from_the_builtin_profiles(lsp: LspClient, workspace: Path) -> None:
    org = _complete(lsp, workspace / "role.yaml", GOOD_ORG.replace("role: Owner", "role: |"))
    assert {"Owner", "Admin", "Admin W/O Billing", "Billing", "Member"} <= org
    text = "apiVersion: accessops/v1\nkind: Workspace\nmetadata:\n  name: crm\nspec:\n  organization: acme\n  members:\n    - email: ada@acme.test\n      role: |\n"
    assert {"Admin", "Editor", "Viewer", "None"} <= _complete(lsp, workspace / "wsrole.yaml", text)


def test_profile_completes_to_the_builtin_profiles(lsp: LspClient, workspace: Path) -> None:
    offered = _complete(lsp, workspace / "profile.yaml", GOOD_ORG.replace("profile: union", "profile: |"))
    assert {"union", "org-roles", "permission-matrix", "scoped-access", "spaces", "workspace-roles"} <= offered
