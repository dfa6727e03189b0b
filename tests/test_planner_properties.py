"""Planner properties (hypothesis): apply then plan is empty; order does not matter."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import yaml
from fakes import MemoryAdapter, apply_all
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accessops.manifest.loader import load
from accessops.model.compile import compile_model
from accessops.model.resource import Resource
from accessops.plan.planner import make_plan

EMAILS = [f"u{i}@acme.test" for i in range(6)]
LEVELS = ["None", "View only", "Full"]


def maybe(draw: Any, value: Any) -> Any:
    """``value`` or None (unmanaged), at random."""
    return value if draw(st.booleans()) else None


def clean(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


@st.composite
def org_documents(draw: Any) -> list[dict[str, Any]]:
    """A random but valid union-profile organization as manifest documents."""
    members = draw(st.lists(st.sampled_from(EMAILS), unique=True, max_size=6))
    roles = draw(st.lists(st.sampled_from(["support", "delivery", "audit"]), unique=True, max_size=3))
    subset = st.lists(st.sampled_from(members), unique=True) if members else st.just([])
    role_list = st.lists(st.sampled_from(["Editor", "Viewer", *roles]), unique=True, max_size=3)
    org_spec = clean(
        {
            "profile": "union",
            "members": maybe(draw, [clean({"email": e, "role": draw(st.sampled_from(["Owner", "Admin", "Member"])), "global_admin": maybe(draw, draw(st.booleans()))}) for e in members]),
            "teams": maybe(draw, [clean({"name": t, "members": maybe(draw, draw(subset))}) for t in draw(st.lists(st.sampled_from(["t1", "t2", "t3"]), unique=True))]),
            "custom_roles": [{"name": r} for r in roles],
            "permissions": maybe(draw, {k: draw(st.sampled_from(["Owner", "Admin", "Member"])) for k in draw(st.lists(st.sampled_from(["view_members", "delete_organization", "view_billing"]), unique=True))}),
        }
    )
    docs = [{"apiVersion": "accessops/v1", "kind": "Organization", "metadata": {"name": "acme"}, "spec": org_spec}]
    for ws in draw(st.lists(st.sampled_from(["w1", "w2"]), unique=True)):
        wmembers = [
            clean({"email": e, "role": maybe(draw, draw(st.sampled_from(["Admin", "Editor", "Viewer", "None"]))), "custom_roles": maybe(draw, draw(st.lists(st.sampled_from(roles), unique=True)) if roles else [])})
            for e in draw(subset)
        ]
        tables = [
            clean({"name": t, "edit": maybe(draw, draw(role_list)), "read": maybe(draw, draw(role_list)), "fields": maybe(draw, [{"name": "address", "read": draw(role_list)}])})
            for t in draw(st.lists(st.sampled_from(["customers", "orders"]), unique=True))
        ]
        spec = clean({"organization": "acme", "members": maybe(draw, wmembers), "tables": maybe(draw, tables)})
        docs.append({"apiVersion": "accessops/v1", "kind": "Workspace", "metadata": {"name": ws}, "spec": spec})
    for sp in draw(st.lists(st.sampled_from(["s1", "s2"]), unique=True)):
        smembers = [clean({"email": e, "features": maybe(draw, {"AI_SEARCH": draw(st.sampled_from(LEVELS))})}) for e in draw(subset)]
        spec = clean({"organization": "acme", "kind": draw(st.sampled_from(["project", "drive"])), "private": maybe(draw, draw(st.booleans())), "members": maybe(draw, smembers)})
        docs.append({"apiVersion": "accessops/v1", "kind": "Space", "metadata": {"name": sp}, "spec": spec})
    return docs


def compile_docs(docs: list[dict[str, Any]], files: int = 1, order: list[int] | None = None):
    """Write ``docs`` (in ``order``) over ``files`` files, load and compile them."""
    order = order if order is not None else list(range(len(docs)))
    with tempfile.TemporaryDirectory() as tmp:
        buckets: list[list[dict[str, Any]]] = [[] for _ in range(files)]
        for n, i in enumerate(order):
            buckets[n % files].append(docs[i])
        for n, bucket in enumerate(buckets):
            Path(tmp, f"f{n}.yaml").write_text(yaml.safe_dump_all(bucket))
        return compile_model(load([tmp]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(desired=org_documents(), before=org_documents(), renamed=st.booleans())
def test_apply_then_plan_is_empty(desired: list[dict[str, Any]], before: list[dict[str, Any]], renamed: bool) -> None:
    live = MemoryAdapter()
    apply_all(live, make_plan(compile_docs(before), {}).pending)
    if renamed:  # objects changed behind git's back carry attributes git does not manage
        for addr, res in list(live.resources.items()):
            if res.type == "member":
                live.resources[addr] = Resource(res.type, res.key, {**res.attrs, "name": "x", "status": "active"})
    target = compile_docs(desired)
    apply_all(live, make_plan(target, live.read(["acme"])).pending)
    assert make_plan(target, live.read(["acme"])).pending == []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(desired=org_documents(), live_docs=org_documents(), data=st.data())
def test_plan_does_not_depend_on_file_or_document_order(desired: list[dict[str, Any]], live_docs: list[dict[str, Any]], data: Any) -> None:
    live = MemoryAdapter()
    apply_all(live, make_plan(compile_docs(live_docs), {}).pending)
    order = data.draw(st.permutations(range(len(desired))))
    files = data.draw(st.integers(1, 3))
    first = make_plan(compile_docs(desired), live.read(["acme"])).to_json()
    second = make_plan(compile_docs(desired, files, list(order)), live.read(["acme"])).to_json()
    assert first == second
