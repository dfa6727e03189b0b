"""Every change is one transaction; the schema is versioned and migrates in one step."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from accessops.adapters.base import Target
from accessops.adapters.local import LocalAdapter
from accessops.adapters.local_schema import MIGRATIONS, SCHEMA_VERSION, connect, statements
from accessops.errors import TargetError
from accessops.plan.change import Action, Change
from test_local_roundtrip import open_tenant, seed


def snapshot(adapter: LocalAdapter) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table: what "nothing half-written" is checked against."""
    tables = [t for (t,) in adapter.db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    return {t: sorted(adapter.db.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in tables}


def test_a_change_failing_part_way_writes_nothing(tmp_path: Path) -> None:
    """The membership row and the auto-invited member are inserted before the unknown custom role is found."""
    with open_tenant(tmp_path) as adapter:
        seed(adapter)
        before = snapshot(adapter)
        bad = Change(Action.CREATE, "workspace_member", "acme/crm/new@acme.test", None, {"role": "Viewer", "custom_roles": ["ghost"]})
        with pytest.raises(TargetError, match="custom role 'ghost' does not exist"):
            adapter.apply(bad)
        assert snapshot(adapter) == before
        assert adapter.writes == 16


class CrashingAdapter(LocalAdapter):
    """Dies after a change's statements ran, before its commit (a crash mid-apply)."""

    def write(self, db: sqlite3.Connection, change: Change) -> None:
        super().write(db, change)
        raise KeyboardInterrupt("killed mid-apply")


def test_an_interrupted_apply_leaves_the_tenant_as_it_was(tmp_path: Path) -> None:
    url = f"local:{tmp_path}/tenant.db"
    with LocalAdapter(Target.parse(url)) as adapter:
        seed(adapter)
        before = snapshot(adapter)
    with CrashingAdapter(Target.parse(url)) as crashing:
        with pytest.raises(KeyboardInterrupt):
            crashing.apply(Change(Action.REPLACE, "organization", "acme", {}, {"profile": "spaces"}))
    with LocalAdapter(Target.parse(url)) as reopened:
        assert snapshot(reopened) == before


def test_a_new_tenant_is_created_at_the_latest_version(tmp_path: Path) -> None:
    with open_tenant(tmp_path) as adapter:
        assert adapter.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == len(MIGRATIONS)
        assert adapter.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert adapter.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_reopening_keeps_data_and_migrates_nothing(tmp_path: Path) -> None:
    with open_tenant(tmp_path) as adapter:
        seed(adapter)
        first = snapshot(adapter)
    with open_tenant(tmp_path) as again:
        assert snapshot(again) == first
        assert again.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_a_later_migration_applies_once_on_an_existing_tenant(tmp_path: Path) -> None:
    with open_tenant(tmp_path) as adapter:
        seed(adapter)
    v2 = MIGRATIONS + ["ALTER TABLE members ADD COLUMN locale TEXT;\nUPDATE members SET locale = 'en';"]
    path = tmp_path / "new" / "dir" / "tenant.db"
    db = connect(path, v2)
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) + 1
    assert db.execute("SELECT DISTINCT locale FROM members").fetchall() == [("en",)]
    db.close()
    db = connect(path, v2)  # idempotent: applying again would fail on the duplicate column
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) + 1
    db.close()


def test_a_version_1_tenant_gains_suspension_and_keeps_its_members(tmp_path: Path) -> None:
    """Migration 2 (issue 15): ``suspended_at`` is added; nothing already there changes."""
    path = tmp_path / "old.db"
    db = connect(path, MIGRATIONS[:1])
    db.execute("INSERT INTO organizations (name) VALUES ('acme')")
    db.execute("INSERT INTO members (org_id, email, status) VALUES (1, 'bo@acme.test', 'active')")
    db.close()
    db = connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) >= 2
    assert db.execute("SELECT email, status, suspended_at FROM members").fetchall() == [("bo@acme.test", "active", None)]
    db.close()


def test_a_failing_migration_leaves_the_tenant_at_its_old_version(tmp_path: Path) -> None:
    with open_tenant(tmp_path) as adapter:
        seed(adapter)
    path = tmp_path / "new" / "dir" / "tenant.db"
    broken = MIGRATIONS + ["CREATE TABLE extra (x TEXT);\nINSERT INTO no_such_table VALUES (1);"]
    with pytest.raises(sqlite3.OperationalError, match="no_such_table"):
        connect(path, broken)
    db = connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'extra'").fetchone()[0] == 0
    db.close()


def test_statements_split_scripts_on_complete_statements() -> None:
    script = "-- a comment\nCREATE TABLE a (x TEXT DEFAULT ';');\nCREATE TRIGGER t AFTER INSERT ON a\nBEGIN SELECT 1; END;\n"
    assert statements(script) == ["CREATE TABLE a (x TEXT DEFAULT ';');", "CREATE TRIGGER t AFTER INSERT ON a\nBEGIN SELECT 1; END;"]


def test_identity_is_the_actor_setting(tmp_path: Path) -> None:
    with open_tenant(tmp_path) as adapter:
        assert adapter.identity() is None
        adapter.set_setting("actor", "ada@acme.test")
        assert adapter.identity() == "ada@acme.test"
