"""The parse cache: same model warm or cold, same error positions, planted entries ignored."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from accessops.errors import ManifestError
from accessops.manifest import parse_cache
from accessops.manifest.loader import load
from accessops.manifest.parse_cache import ParseCache

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "policies"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ParseCache:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home-cache"))
    monkeypatch.setenv("ACCESSOPS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("ACCESSOPS_PARSE_CACHE", raising=False)
    made = ParseCache.open_default()
    assert made is not None
    return made


def _docs(model: object) -> dict[str, object]:
    out: dict[str, object] = {}
    for table in ("organizations", "workspaces", "space_types", "spaces", "permission_sets", "policies"):
        for key, item in getattr(model, table).items():
            out[f"{table}/{key}"] = (item.doc.model_dump(), item.file, item.pos)
    return out


def test_warm_cache_gives_the_same_model(cache: ParseCache) -> None:
    cold = load([EXAMPLES], cache=False)
    first = load([EXAMPLES], cache=cache)
    assert cache.hits == 0 and cache.misses > 0
    warm = load([EXAMPLES], cache=cache)
    assert cache.hits == len(cold.files)
    assert _docs(cold) == _docs(first) == _docs(warm)


def _problems(path: Path, cache: ParseCache | bool) -> list[str]:
    with pytest.raises(ManifestError) as err:
        load([path], cache=cache)
    return [str(p) for p in err.value.problems]


def test_errors_keep_their_line_and_column_on_a_warm_cache(tmp_path: Path, cache: ParseCache) -> None:
    # a cross-file error: each file parses cleanly (so it is cached), the set does not
    work = tmp_path / "m"
    shutil.copytree(EXAMPLES / "seed003-workspace", work)
    ws = work / "operations.yaml"
    text = ws.read_text()
    ws.write_text(text.replace("custom_roles: [support]", "custom_roles: [no-such-role]", 1))
    cold = _problems(work, False)
    assert cold, "the fixture must produce a problem"
    _problems(work, cache)  # fills the cache
    hits = cache.hits
    warm = _problems(work, cache)
    assert cache.hits > hits
    assert warm == cold


def test_a_planted_or_edited_entry_is_ignored(tmp_path: Path, cache: ParseCache) -> None:
    manifest = tmp_path / "org.yaml"
    manifest.write_text(
        "apiVersion: accessops/v1\nkind: Organization\nmetadata: {name: acme}\n"
        "spec:\n  profile: org-roles\n  members:\n    - {email: ada@acme.test, role: Admin}\n    - {email: bo@acme.test, role: Member}\n"
    )
    load([manifest], cache=cache)
    entry = next(cache.folder.glob("*.json"))
    mac, _, payload = entry.read_bytes().partition(b"\n")
    forged = payload.replace(b'"Member"', b'"Admin"')
    assert forged != payload
    entry.write_bytes(mac + b"\n" + forged)  # the old MAC over new content
    model = load([manifest], cache=cache)
    roles = {m.email: m.role for m in model.organizations["acme"].doc.spec.members}
    assert roles["bo@acme.test"] == "Member"
    # an entry made with another key (another machine, or an attacker) is not ours either
    other = ParseCache(cache.folder, b"k" * 32)
    entry.write_bytes(other._mac(entry.stem, forged) + b"\n" + forged)
    model = load([manifest], cache=cache)
    assert {m.email: m.role for m in model.organizations["acme"].doc.spec.members}["bo@acme.test"] == "Member"


def test_entries_are_json_and_values_json_cannot_carry_are_not_cached(tmp_path: Path, cache: ParseCache) -> None:
    good = [({"a": [1, 2.5, True, None, "x"]}, parse_cache.Pos(1, 1))]
    cache.put("k1", good)
    raw = (cache.folder / "k1.json").read_bytes().partition(b"\n")[2]
    assert json.loads(raw) == [[{"a": [1, 2.5, True, None, "x"]}, 1, 1]]
    assert cache.get("k1") == good
    import datetime

    cache.put("k2", [({"when": datetime.date(2026, 1, 1)}, parse_cache.Pos(1, 1))])
    cache.put("k3", [({1: "int key"}, parse_cache.Pos(1, 1))])
    assert not (cache.folder / "k2.json").exists() and not (cache.folder / "k3.json").exists()
    assert (cache.folder.parent / ".gitignore").read_text().strip().endswith("*")


def test_an_unwritable_cache_folder_costs_only_speed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home-cache"))
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("ACCESSOPS_CACHE_DIR", str(blocker))  # mkdir under a file fails
    model = load([EXAMPLES])
    assert model.organizations


def test_the_cache_can_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCESSOPS_PARSE_CACHE", "off")
    assert ParseCache.open_default() is None
