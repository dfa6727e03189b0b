"""Issue 14 item 5: what keeps a large plan's memory down, proved without measuring memory.

* the parsed documents are released once compiled (a weak reference dies);
* equal attribute sets are one object, in the desired and the live map;
* the desired, live and last-applied maps share one string per address;
* sharing is safe: no step of a plan changes an attribute set in place.
"""

from __future__ import annotations

import copy
import gc
import importlib.util
import sys
import weakref
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from accessops import engine
from accessops.adapters.base import Target
from accessops.adapters.local import LocalAdapter
from accessops.apply.state import SqliteStore
from accessops.cli import build_parser
from accessops.manifest.loader import load
from accessops.model.compact import Shared, attrs_key, pooled_strings
from accessops.model.compile import compile_model
from accessops.model.resource import ResourceMap
from accessops.plan.change import Action, Change
from accessops.plan.planner import make_plan
from accessops.plan.simulate import configured, simulate

ROOT = Path(__file__).resolve().parent.parent


def _gen_org() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_org", ROOT / "bench" / "gen_org.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("gen_org", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated 300-member organization (every document kind, team grants, a policy)."""
    path: Path = _gen_org().write_org(tmp_path_factory.mktemp("org") / "org", 300, seed=2, org="gen")
    return path


def _create_all(adapter: LocalAdapter, resources: ResourceMap) -> None:
    changes = [Change(Action.CREATE, r.type, r.key, None, dict(r.attrs)) for r in resources.values()]
    for change in sorted(changes, key=Change.sort_key):
        adapter.apply(change)


def _keys(mapping: ResourceMap) -> dict[str, str]:
    """Each key of ``mapping`` by itself, to get at the very string object a map holds."""
    return {k: k for k in mapping}


def test_documents_are_released_after_compile(org: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    refs: dict[str, weakref.ref[Any]] = {}
    real_load = engine.load

    def spying_load(paths: Any, **options: Any) -> Any:
        model = real_load(paths, **options)
        item = model.organizations["gen"]
        refs["document"] = weakref.ref(item.doc)
        refs["member"] = weakref.ref((item.doc.spec.members or [])[0])
        refs["workspace"] = weakref.ref(next(iter(model.workspaces.values())).doc)
        return model

    monkeypatch.setattr(engine, "load", spying_load)
    monkeypatch.chdir(tmp_path)
    argv = ["plan", str(org), "--target", f"local:{tmp_path / 'tenant.db'}"]
    args = build_parser(argv).parse_args(argv)
    ctx = engine.open_context([str(org)], engine.settings_for(args))
    try:
        gc.collect()
        assert ctx.compiled is not None and len(ctx.compiled.resources) > 300
        assert refs["document"]() is None, "the organization document outlives compile"
        assert refs["member"]() is None, "a member entry outlives compile"
        assert refs["workspace"]() is None, "a workspace document outlives compile"
        # what a plan still reads is kept: names, the declared profile, policies, profiles
        assert ctx.model is not None
        assert ctx.model.org_names == ["gen"]
        assert ctx.model.organizations["gen"].doc.spec.profile == "union"
        assert ctx.model.organizations["gen"].doc.spec.members is None
        assert len(ctx.model.policies) == 1 and "gen" in ctx.model.profiles
        policy = next(iter(ctx.model.policies.values()))
        assert policy.problem(("spec",), "x", "y").line > 1  # a policy failure still points at its line
    finally:
        ctx.close()


def test_a_compiled_cache_hit_is_the_same_model_with_equal_sets_shared(org: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ACCESSOPS_CACHE_DIR", str(tmp_path / "cache"))
    argv = ["plan", str(org), "--target", f"local:{tmp_path / 'tenant.db'}"]
    args = build_parser(argv).parse_args(argv)
    found = []
    for _ in range(2):  # a miss that writes the entry, then a hit decoded after the documents are released
        ctx = engine.open_context([str(org)], engine.settings_for(args))
        ctx.close()
        assert ctx.compiled is not None
        found.append(ctx.compiled)
    assert list((tmp_path / "cache" / "compiled").glob("*.json")), "no compiled entry was written"
    fresh, cached = found
    assert list(cached.resources.items()) == list(fresh.resources.items())
    assert cached.scopes == fresh.scopes and cached.origins == fresh.origins and cached.grant_teams == fresh.grant_teams
    sets = [r.attrs for r in cached.resources.values() if r.type == "team_member"]
    assert len(sets) > 50 and len({id(a) for a in sets}) == 1


def test_equal_attribute_sets_are_one_object(org: Path) -> None:
    desired = compile_model(load([org])).resources
    by_type: dict[str, list[dict[str, Any]]] = {}
    for res in desired.values():
        by_type.setdefault(res.type, []).append(res.attrs)
    for type_ in ("team_member", "workspace_member", "space_member"):
        sets = by_type[type_]
        distinct_values = {repr(a) for a in sets}
        distinct_objects = {id(a) for a in sets}
        assert len(sets) > 50 and len(distinct_objects) == len(distinct_values), type_


def test_live_and_last_applied_share_the_desired_strings(org: Path, tmp_path: Path) -> None:
    desired = compile_model(load([org])).resources
    adapter = LocalAdapter(Target.parse(f"local:{tmp_path / 'tenant.db'}"))
    store = SqliteStore(tmp_path / "state.db")
    try:
        _create_all(adapter, desired)
        for res in desired.values():
            store.record_applied("t", Change(Action.CREATE, res.type, res.key, None, dict(res.attrs)))
        with pooled_strings():  # as the engine reads them
            desired = compile_model(load([org])).resources
            live = adapter.read(["gen"])
            last = store.last_applied("t")
        unpooled = compile_model(load([org])).resources  # outside the pool: nothing kept, nothing shared
    finally:
        adapter.close()
        store.close()
    live_keys, last_keys = _keys(live), _keys(last)
    assert set(desired) <= set(live) and set(desired) == set(last)
    for addr, res in desired.items():
        assert live_keys[addr] is addr and last_keys[addr] is addr, addr
        assert live[addr].key is res.key and last[addr].key is res.key, addr
    # equal live attribute sets are one object too (a team membership is always {})
    assert len({id(r.attrs) for r in live.values() if r.type == "team_member"}) == 1
    assert not any(_keys(unpooled)[addr] is addr for addr in desired)


def test_no_plan_step_changes_a_shared_attribute_set(org: Path) -> None:
    compiled = compile_model(load([org]))
    desired = compiled.resources
    # live: the desired state, with one workspace grant changed and one team membership missing
    shared = Shared()
    live: ResourceMap = {}
    for res in desired.values():
        shared.put(live, res.type, res.key, dict(res.attrs))
    grant = next(a for a, r in live.items() if r.type == "workspace_member" and r.attrs.get("role") not in (None, "Viewer"))
    shared.put(live, live[grant].type, live[grant].key, {**live[grant].attrs, "role": "Viewer"})
    del live[next(a for a, r in live.items() if r.type == "team_member")]
    before_desired = {a: copy.deepcopy(r.attrs) for a, r in desired.items()}
    before_live = {a: copy.deepcopy(r.attrs) for a, r in live.items()}
    plan = make_plan(compiled, live)
    assert {c.action for c in plan.changes} == {Action.CREATE, Action.UPDATE}
    configured(simulate(live, plan.changes))
    assert {a: r.attrs for a, r in desired.items()} == before_desired
    assert {a: r.attrs for a, r in live.items()} == before_live


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ({"sections": {}}, {"sections": []}),  # an empty mapping is not an empty list
        ({"private": True}, {"private": 1}),  # True is not 1
        ({"role": "Member", "name": "A"}, {"name": "A", "role": "Member"}),  # another order is another set
        ({"read": ["a", "b"]}, {"read": ["a"], "b": None}),
    ],
)
def test_attribute_sets_that_differ_are_not_shared(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert attrs_key(a) != attrs_key(b)
    shared = Shared()
    assert shared.attrs("workspace_member", dict(a)) is not shared.attrs("workspace_member", dict(b))


def test_unhashable_values_are_left_unshared() -> None:
    shared = Shared()
    nested = {"read": [object()]}
    assert attrs_key(nested) is None
    assert shared.attrs("field_permission", nested) is nested
