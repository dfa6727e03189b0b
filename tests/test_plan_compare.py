"""plan_differences: a saved plan equals its re-derivation only when every pending change is the same."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from accessops.plan.change import Action, Change, Plan
from accessops.plan.compare import plan_differences

ROLES = st.sampled_from(["Owner", "Admin", "Billing", "Member"])


def member(email: str, before: str | None, after: str | None) -> Change:
    action = Action.CREATE if before is None else Action.DELETE if after is None else Action.UPDATE
    return Change(action, "member", f"acme/{email}", None if before is None else {"role": before}, None if after is None else {"role": after})


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    emails = draw(st.lists(st.sampled_from(["ada", "bo", "cy", "dan"]), min_size=1, max_size=4, unique=True))
    changes = [member(f"{e}@acme.test", draw(st.none() | ROLES), draw(ROLES)) for e in emails]
    return Plan(changes=changes, target="local:t.db")


@given(plans())
def test_a_plan_matches_itself_whatever_its_notes_and_flags(plan: Plan) -> None:
    shown = Plan(changes=[replace(c, notes=("display only",), flags=("pending_acceptance",)) for c in plan.changes], target=plan.target)
    assert plan_differences(shown, plan) == []


@given(plans(), st.data())
def test_any_edit_of_a_change_is_a_difference(plan: Plan, data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(plan.changes) - 1))
    change = plan.changes[i]
    role = data.draw(ROLES.filter(lambda r: r != (change.after or {}).get("role")))
    forged = Plan(changes=[*plan.changes[:i], replace(change, after={"role": role}), *plan.changes[i + 1:]], target=plan.target)
    found = plan_differences(forged, plan)
    assert len(found) == 1 and found[0].startswith(change.address) and "role" in found[0]


@given(plans())
def test_a_dropped_or_added_change_and_another_target_are_differences(plan: Plan) -> None:
    assert plan_differences(Plan(changes=plan.changes[1:], target=plan.target), plan)
    extra = member("eve@evil.test", None, "Owner")
    assert plan_differences(Plan(changes=[*plan.changes, extra], target=plan.target), plan)[-1].startswith(extra.address)
    assert plan_differences(Plan(changes=plan.changes, target="local:other.db"), plan)[0].startswith("target")
