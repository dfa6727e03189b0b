"""The 'before' engine derived from the 'after' one answers as an engine built over the before state."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from accessops.access.delta import _PER_MEMBER, access_delta, plan_access_delta
from accessops.access.engine import AccessEngine
from accessops.plan.change import Action, Change
from accessops.plan.simulate import configured, simulate

from access_state import State

PEOPLE = ["o@a.test", "bo@a.test", "inv@a.test", "cy@a.test", "new@a.test"]
LOCI = [("workspace_member", "crm"), ("workspace_member", "hr"), ("workspace_member", "ghostws"), ("space_member", "roadmap"), ("space_member", "open"), ("team_member", "ops")]


def live() -> State:
    # "ghostws" has members but no workspace resource: removing its last member changes the vocabulary
    s = State().member("o@a.test", "Owner").member("bo@a.test").member("inv@a.test", status="invited").member("cy@a.test", "Admin")
    s.custom_role("support").workspace("crm").workspace("hr").table("crm", "customers", edit=["support"]).field("crm", "customers", "address", ["support"])
    s.app("hr", "payroll", ["Editor"]).ws_member("crm", "bo@a.test", "Viewer", custom_roles=["support"]).ws_member("ghostws", "cy@a.test", "Editor")
    s.space_type("client", lead=["update_space"]).space("roadmap", type="client", private=True).space("open").team("ops", "bo@a.test")
    return s.space_member("roadmap", "inv@a.test", "lead", features={"AI_SEARCH": "Full"})


def per_member_change(state: dict[str, Any], person: str, locus: tuple[str, str] | None, kind: int) -> Change:
    type_, key = ("member", f"acme/{person}") if locus is None else (locus[0], f"acme/{locus[1]}/{person}")
    have = state.get(f'{type_}["{key}"]')
    if have is not None and kind == 0:
        return Change(Action.DELETE, type_, key, dict(have.attrs), None)
    attrs: dict[str, Any] = {"member": {"role": ["Member", "Admin", "Owner"][kind % 3]}, "workspace_member": {"role": ["Viewer", "Editor", "Admin"][kind % 3]},
                             "space_member": {"role": "lead" if kind % 2 else None}, "team_member": {}}[type_]
    attrs = {k: v for k, v in attrs.items() if v is not None}
    if have is None:
        return Change(Action.CREATE, type_, key, None, attrs)
    return Change(Action.UPDATE, type_, key, dict(have.attrs), {**have.attrs, **attrs})


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(PEOPLE), st.one_of(st.none(), st.sampled_from(LOCI)), st.integers(0, 5)), min_size=1, max_size=6, unique_by=lambda t: (t[0], t[1])))
def test_derived_before_engine_matches_a_fresh_one(picks: list[tuple[str, tuple[str, str] | None, int]]) -> None:
    s = live()
    changes = [per_member_change(s.resources, person, locus, kind) for person, locus, kind in picks]
    assert all(c.type in _PER_MEMBER for c in changes)
    after = configured(simulate(s.resources, changes))
    profiles = s.profiles()
    only = {"acme": {c.key.rsplit("/", 1)[1] for c in changes}}
    # the reference: engines over both states built from scratch
    fresh = access_delta(configured(s.resources), after, profiles, only)
    derived = plan_access_delta(s.resources, s.resources, changes, profiles, after=after, after_engine=AccessEngine(after, profiles))
    strip = [{k: v for k, v in e.items() if k != "pending_acceptance"} for e in derived]
    assert strip == [{k: v for k, v in e.items() if k != "pending_acceptance"} for e in fresh]


def test_workspace_known_only_by_its_members_comes_and_goes_with_them() -> None:
    s = live()
    changes = [
        per_member_change(s.resources, "cy@a.test", ("workspace_member", "ghostws"), 0),  # its last member leaves
        per_member_change(s.resources, "new@a.test", ("workspace_member", "ghostws"), 1),
        per_member_change(s.resources, "o@a.test", ("workspace_member", "brandnew"), 2),  # known only after
    ]
    after = configured(simulate(s.resources, changes))
    profiles = s.profiles()
    only = {"acme": {"cy@a.test", "new@a.test", "o@a.test"}}
    fresh = access_delta(configured(s.resources), after, profiles, only)
    assert fresh and plan_access_delta(s.resources, s.resources, changes, profiles, after=after, after_engine=AccessEngine(after, profiles)) == fresh
