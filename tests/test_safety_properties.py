"""Properties of the state the guards judge (hypothesis, random organizations)."""

from __future__ import annotations

from typing import Any

from fakes import MemoryAdapter, apply_all
from hypothesis import HealthCheck, given, settings
from test_planner_properties import compile_docs, org_documents

from accessops.model.resource import Resource
from accessops.plan.planner import make_plan
from accessops.plan.safety import PlanView, removal_counts


def live_from(docs: list[dict[str, Any]], status: str) -> MemoryAdapter:
    live = MemoryAdapter()
    apply_all(live, make_plan(compile_docs(docs), {}).pending)
    for addr, res in list(live.resources.items()):
        if res.type == "member":
            live.resources[addr] = Resource(res.type, res.key, {**res.attrs, "status": status})
    return live


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(desired=org_documents(), before=org_documents())
def test_the_simulated_after_state_is_what_apply_leaves(desired: list[dict[str, Any]], before: list[dict[str, Any]]) -> None:
    live = live_from(before, "active")
    plan = make_plan(compile_docs(desired), live.read(["acme"]))
    view = PlanView.of(live.read(["acme"]), plan)
    apply_all(live, plan.pending)
    applied = live.read(["acme"])
    assert {a: view.after[a].attrs for a in applied if a in view.after} == {a: r.attrs for a, r in applied.items()}
    # the view also holds the members an adapter invites for memberships of unknown people; nothing else
    assert {view.after[a].type for a in set(view.after) - set(applied)} <= {"member"}
    assert set(applied) <= set(view.after)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(desired=org_documents(), before=org_documents())
def test_people_only_invited_are_never_counted_as_removals(desired: list[dict[str, Any]], before: list[dict[str, Any]]) -> None:
    live = live_from(before, "invited")
    plan = make_plan(compile_docs(desired), live.read(["acme"]))
    counts = removal_counts(PlanView.of(live.read(["acme"]), plan))
    assert all(removed == 0 and existing == 0 for existing, removed in counts.values())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(desired=org_documents(), before=org_documents())
def test_removals_never_exceed_what_exists_and_match_the_deletes(desired: list[dict[str, Any]], before: list[dict[str, Any]]) -> None:
    live = live_from(before, "active")
    plan = make_plan(compile_docs(desired), live.read(["acme"]))
    counts = removal_counts(PlanView.of(live.read(["acme"]), plan))
    assert all(0 <= removed <= existing for existing, removed in counts.values())
    deletes = {c.type for c in plan.pending if c.action.value == "delete"}
    assert counts["members"][1] == sum(1 for c in plan.pending if c.type == "member" and c.action.value == "delete")
    if "team_member" not in deletes:
        assert counts["memberships"][1] == 0
