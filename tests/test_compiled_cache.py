"""The compiled-model cache: the same compiled model warm or cold, any change misses, planted entries ignored."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from accessops.errors import ManifestError
from accessops.manifest.compiled_cache import CompiledCache, compile_cached
from accessops.manifest.loader import load
from accessops.model.compile import compile_model

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "teams"
EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "policies"


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home-cache"))
    monkeypatch.setenv("ACCESSOPS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("ACCESSOPS_PARSE_CACHE", raising=False)
    dest = tmp_path / "m"
    shutil.copytree(FIXTURES, dest)
    return dest


def _entries(work: Path) -> list[Path]:
    return sorted((work.parent / "cache" / "compiled").glob("*.json"))


def _same(a: object, b: object) -> None:
    assert repr(a.resources) == repr(b.resources)  # type: ignore[attr-defined]
    assert a.scopes == b.scopes and a.origins == b.origins and a.grant_teams == b.grant_teams  # type: ignore[attr-defined]


def test_an_unchanged_set_comes_back_compiled(work: Path) -> None:
    first = load([work], compiled=True)
    assert first.compiled is None and first.compiled_slot is not None
    cold = compile_cached(first)
    assert len(_entries(work)) == 1
    again = load([work], compiled=True)
    assert again.compiled is not None, "the second load finds the compiled model"
    warm = compile_cached(again)
    _same(warm, cold)
    _same(warm, compile_model(again))  # and the documents, profiles and positions are all still there
    assert again.profiles and again.organizations and again.workspaces


@pytest.mark.parametrize("root", [FIXTURES, EXAMPLES])
def test_warm_equals_cold_on_the_repository_manifests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, root: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home-cache"))
    monkeypatch.setenv("ACCESSOPS_CACHE_DIR", str(tmp_path / "cache"))
    for folder in sorted({p.parent for p in root.rglob("*.yaml")}):
        cold = compile_model(load([folder], cache=False))
        compile_cached(load([folder], compiled=True))
        model = load([folder], compiled=True)
        assert model.compiled is not None
        _same(compile_cached(model), cold)


def test_a_changed_file_misses_and_is_checked_again(work: Path) -> None:
    compile_cached(load([work], compiled=True))
    org = next(p for p in work.glob("*.yaml") if "kind: Organization" in p.read_text())
    text = org.read_text()
    org.write_text(text.replace("{email: ed@acme.test, role: Member}", "{email: ed@acme.test, role: Owner}", 1))
    model = load([work], compiled=True)
    assert model.compiled is None
    assert compile_cached(model).resources['member["acme/ed@acme.test"]'].attrs["role"] == "Owner"
    # a change that breaks a cross-document check is reported, not served from the cache
    org.write_text(text.replace("{name: sales, members: [di@acme.test, ed@acme.test]}", "{name: sales, members: [nobody@acme.test]}", 1))
    with pytest.raises(ManifestError):
        load([work], compiled=True)


def test_a_new_file_misses(work: Path) -> None:
    compile_cached(load([work], compiled=True))
    (work / "zz-empty.yaml").write_text("# nothing yet\n")
    assert load([work], compiled=True).compiled is None


def test_a_planted_entry_is_ignored(work: Path) -> None:
    """Whoever can push a branch can write .accessops/cache/: an entry without our HMAC is worthless."""
    model = load([work], compiled=True)
    assert model.compiled_slot is not None
    cache, key = model.compiled_slot
    honest = compile_model(model)
    evil = {"resources": [["member", "acme/mallory@evil.test", {"role": "Owner"}]], "scopes": [], "origins": [], "grant_teams": []}
    cache.folder.mkdir(parents=True, exist_ok=True)
    for mac in (b"0" * 64, b""):
        (cache.folder / f"{key}.json").write_bytes(mac + b"\n" + json.dumps(evil).encode())
        again = load([work], compiled=True)
        assert again.compiled is None
        _same(compile_cached(again), honest)  # and the honest compile replaces the planted entry


def test_an_edited_entry_is_ignored(work: Path) -> None:
    compile_cached(load([work], compiled=True))
    (entry,) = _entries(work)
    mac, _, payload = entry.read_bytes().partition(b"\n")
    entry.write_bytes(mac + b"\n" + payload.replace(b'"Member"', b'"Owner"', 1))
    assert load([work], compiled=True).compiled is None


def test_an_entry_made_with_another_key_is_ignored(work: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another machine's (or a fresh runner's) key: a copied entry does not check out."""
    compile_cached(load([work], compiled=True))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "other-home"))
    assert load([work], compiled=True).compiled is None


def test_a_changed_profile_file_misses(work: Path) -> None:
    """A profile file beside the manifests is part of the key: editing it compiles again."""
    from importlib import resources

    builtin = (resources.files("accessops") / "profiles" / "union.yaml").read_text()
    (work / "profiles").mkdir()
    profile = work / "profiles" / "mine.yml"  # .yml beside, not a manifest: manifests are *.yaml under the folder
    profile.write_text(builtin)
    for path in work.glob("*.yaml"):
        path.write_text(path.read_text().replace("profile: union", f"profile: {profile}"))
    compile_cached(load([*work.glob("*.yaml")], compiled=True))
    assert load([*work.glob("*.yaml")], compiled=True).compiled is not None
    profile.write_text(builtin.replace("description:", "description: changed;", 1) if "description:" in builtin else builtin + "description: changed\n")
    from accessops.manifest import profiles as profiles_module

    profiles_module._from_file.cache_clear()
    assert load([*work.glob("*.yaml")], compiled=True).compiled is None


def test_only_callers_that_compile_use_it(work: Path) -> None:
    """validate, explain and export load without it: the checks always run, nothing is decoded for nothing."""
    compile_cached(load([work], compiled=True))
    plain = load([work])
    assert plain.compiled is None and plain.compiled_slot is None


def test_off_with_the_parse_cache(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCESSOPS_PARSE_CACHE", "off")
    compile_cached(load([work], compiled=True))
    assert not _entries(work) and CompiledCache.open_default() is None


def test_values_json_would_change_are_not_cached(work: Path) -> None:
    """A tuple, a set, a float or an integer key would come back otherwise: such a compiled model is not kept."""
    from accessops.manifest import compiled_cache
    from accessops.model.resource import Resource

    model = load([work], compiled=True)
    compiled = compile_model(model)
    assert compiled_cache._encode(compiled) is not None
    for odd in (("a", "b"), {"x"}, 1.5, {1: "x"}, [("a",)], {"k": ("v",)}):
        addr, res = next(iter(compiled.resources.items()))
        compiled.resources[addr] = Resource(res.type, res.key, {**res.attrs, "odd": odd})
        assert compiled_cache._encode(compiled) is None, odd
        compiled.resources[addr] = res


def test_a_plan_from_the_cache_is_the_plan_without_it(work: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Through the CLI: plans with the caches cold, warm (compiled model from the cache) and off say the same."""
    from accessops.cli import main

    monkeypatch.chdir(work)
    monkeypatch.delenv("ACCESSOPS_TARGET", raising=False)
    target = f"local:{work / 'tenant.db'}"
    org = work / "org.yaml"
    assert main(["apply", str(org), "--target", target, "--auto-approve"]) == 0
    org.write_text(org.read_text().replace("{email: ed@acme.test, role: Member}", "{email: ed@acme.test, role: Owner}", 1))
    capsys.readouterr()

    def plan() -> str:
        assert main(["plan", str(org), "--target", target, "--detailed-exitcode"]) == 2
        return capsys.readouterr().out

    cold = plan()
    entries = {p: p.stat().st_mtime_ns for p in _entries(work)}
    assert len(entries) == 2  # the applied set's and the edited set's
    warm = plan()
    assert {p: p.stat().st_mtime_ns for p in _entries(work)} == entries, "the warm plan read the entry, wrote none"
    monkeypatch.setenv("ACCESSOPS_PARSE_CACHE", "off")
    assert cold == warm == plan() and "ed@acme.test" in cold


def test_a_changed_settings_file_misses(work: Path) -> None:
    """accessops.toml is part of the key (nothing compiled reads it today; a future setting might)."""
    toml = work / "accessops.toml"
    toml.write_text("[guards]\n")
    compile_cached(load([work], compiled=True, settings_file=toml))
    assert load([work], compiled=True, settings_file=toml).compiled is not None
    toml.write_text("[guards]\nmax_delete_percent = 10\n")
    assert load([work], compiled=True, settings_file=toml).compiled is None
    assert load([work], compiled=True).compiled is None  # and no settings file is not the same as that one
