"""The access delta's shortcuts give exactly what recomputing every capability from scratch gives.

The delta reuses answers between members and between before and after (same
org role and membership, same answer). This test asks the slow way, with
fresh engines and every capability checked one by one, for changes of org
role, workspace role and custom roles to every member of the combined
example, so a rule that starts to look further than the shortcut assumes
fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from accessops.access.delta import plan_access_delta
from accessops.access.engine import AccessEngine
from accessops.access.policies import model_profiles
from accessops.manifest.loader import load
from accessops.model.compile import compile_model
from accessops.model.resource import Resource, ResourceMap
from accessops.plan.change import Action, Change
from accessops.plan.simulate import configured, simulate

EXAMPLE = Path(__file__).parent.parent / "examples" / "policies" / "combined"
MODEL = load([EXAMPLE])
PROFILES = model_profiles(MODEL)
LIVE: ResourceMap = {a: Resource(r.type, r.key, {**r.attrs, "status": "active"} if r.type == "member" else r.attrs) for a, r in compile_model(MODEL).resources.items()}
ORG = "acme"
ORG_ROLES = [r.name for r in PROFILES[ORG].org_roles]
MEMBERS = sorted(r.key.split("/", 1)[1] for r in LIVE.values() if r.type == "member")


def slow(state: ResourceMap, email: str) -> set[str]:
    engine = AccessEngine(configured(state), PROFILES)
    return {c.name for c in engine.capabilities(ORG, email) if c.allowed}


def delta_of(change: Change) -> tuple[set[str], set[str]]:
    entries = [e for e in plan_access_delta(LIVE, LIVE, [change], PROFILES) if e["member"] == change.key.rsplit("/", 1)[1]]
    entry = entries[0] if entries else {"gained": [], "lost": []}
    return {g["capability"] for g in entry["gained"]}, {g["capability"] for g in entry["lost"]}


def expected(change: Change) -> tuple[set[str], set[str]]:
    email = change.key.rsplit("/", 1)[1]
    before, after = slow(LIVE, email), slow(simulate(LIVE, [change]), email)
    return after - before, before - after


@pytest.mark.parametrize("email", MEMBERS)
def test_org_role_changes_match_a_full_recomputation(email: str) -> None:
    res = LIVE[f'member["{ORG}/{email}"]']
    for role in ORG_ROLES:
        if role == res.attrs.get("role"):
            continue
        change = Change(Action.UPDATE, "member", res.key, dict(res.attrs), {**res.attrs, "role": role})
        assert delta_of(change) == expected(change), (email, role)


@pytest.mark.parametrize("address", sorted(a for a, r in LIVE.items() if r.type == "workspace_member"))
def test_workspace_role_and_custom_role_changes_match_a_full_recomputation(address: str) -> None:
    res = LIVE[address]
    customs = sorted(r.key.split("/", 1)[1] for r in LIVE.values() if r.type == "custom_role")
    for attrs in (
        {**res.attrs, "role": "Viewer"},
        {**res.attrs, "role": "Admin"},
        {**res.attrs, "role": "None", "custom_roles": customs[:1]},
    ):
        change = Change(Action.UPDATE, "workspace_member", res.key, dict(res.attrs), attrs)
        assert delta_of(change) == expected(change), (address, attrs)
