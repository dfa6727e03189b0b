"""A manifest folder beside a real local tenant, for the safety, fault and secret tests.

``Workdir`` writes manifests and ``accessops.toml`` into a temporary folder
(the current directory during the test), runs the real CLI in-process, and
reads the live tenant and the state store back, so a test can say "refused
with exit 3 and nothing written" in two lines.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest

from accessops.adapters.base import Target
from accessops.adapters.local import LocalAdapter
from accessops.adapters.local_tenant import Tenant
from accessops.cli import main
from accessops.model.resource import ResourceMap

TENANT = ".accessops/tenant.db"
STATE = ".accessops/state.db"


def org_doc(members: list[str], *, seats: int | None = None, teams: str = "", custom_roles: str = "", name: str = "acme") -> str:
    """An Organization document; ``members`` are ``email:Role`` items."""
    lines = ["apiVersion: accessops/v1", "kind: Organization", f"metadata: {{name: {name}}}", "spec:", "  profile: union"]
    if seats is not None:
        lines.append(f"  seats: {seats}")
    lines.append("  members:" if members else "  members: []")
    for item in members:
        email, _, role = item.partition(":")
        lines.append(f"    - {{email: {email}{', role: ' + role if role else ''}}}")
    if teams:
        lines.append(teams.rstrip())
    if custom_roles:
        lines.append(custom_roles.rstrip())
    return "\n".join(lines) + "\n"


@dataclass
class Workdir:
    """The manifest folder and its tenant; every command runs the real CLI."""

    root: Path
    capsys: pytest.CaptureFixture[str]

    def write(self, name: str, text: str) -> None:
        """Write (or replace) one manifest file; ``name`` ending in .toml is the settings file."""
        (self.root / name).write_text(text)

    def remove(self, name: str) -> None:
        """Delete one manifest file."""
        (self.root / name).unlink()

    def run(self, *argv: str) -> tuple[int, str, str]:
        """Run ``accessops ARGV``; (exit code, stdout, stderr)."""
        self.capsys.readouterr()
        code = main(list(argv))
        out, err = self.capsys.readouterr()
        return code, out, err

    def apply(self, *flags: str) -> tuple[int, str, str]:
        """``apply --auto-approve FLAGS``."""
        return self.run("apply", "--auto-approve", *flags)

    def adapter(self) -> LocalAdapter:
        """The local tenant, opened afresh (close it after use)."""
        return LocalAdapter(Target.parse(f"local:{self.root / TENANT}"))

    def live(self, orgs: tuple[str, ...] = ("acme",)) -> ResourceMap:
        """Everything live in the tenant."""
        adapter = self.adapter()
        try:
            return adapter.read(list(orgs))
        finally:
            adapter.close()

    def tenant(self, op: str, *args: object, **kwargs: object) -> None:
        """A product user's action on the tenant (accept, set_actor, add_member, ...)."""
        adapter = self.adapter()
        try:
            getattr(Tenant(adapter), op)(*args, **kwargs)
        finally:
            adapter.close()

    def accept_all(self, org: str = "acme") -> None:
        """Every invited member of ``org`` accepts."""
        adapter = self.adapter()
        try:
            tenant = Tenant(adapter)
            for row in tenant.members(org):
                if row.status == "invited":
                    tenant.accept(row.email, org)
        finally:
            adapter.close()

    def runs(self) -> int:
        """How many apply runs the state store logged."""
        path = self.root / STATE
        if not path.exists():
            return 0
        db = sqlite3.connect(path)
        try:
            return int(db.execute("SELECT count(*) FROM runs").fetchone()[0])
        finally:
            db.close()

    def refused_without_writing(self, *argv: str) -> str:
        """Run a command that must be refused (exit 3) and leave the tenant and the log untouched; its stderr."""
        before, runs = self.live(), self.runs()
        code, out, err = self.run(*argv)
        assert code == 3, (code, out, err)
        assert self.live() == before, "a refused command changed the live tenant"
        assert self.runs() == runs, "a refused command logged an apply run"
        return err


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Workdir:
    """An empty manifest folder, the current directory, with no target in the environment."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ACCESSOPS_TARGET", raising=False)
    return Workdir(tmp_path, capsys)
