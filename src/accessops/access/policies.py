"""Policy documents: guardrails and assertions, checked against effective access.

``validate`` checks them on the desired resources and ``plan`` on what the
plan leaves behind; any failure is a refusal (exit 3) naming the policy at
its file:line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from accessops.access.capability import full_name, level_action, local_name, short_member
from accessops.access.engine import AccessEngine
from accessops.access.index import Person
from accessops.errors import Refusal
from accessops.manifest.loader import DesiredModel, Loaded
from accessops.model.manifest import Assertion, GrantSelector, Guardrail, Policy
from accessops.model.profile import Profile
from accessops.model.resource import ResourceMap

SHOWN = 5  # holders named in one message before "and N more"


@dataclass(frozen=True, slots=True)
class PolicyFailure:
    """One guardrail or assertion that does not hold, located in its manifest."""

    policy: str
    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: policy {self.policy}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        """The JSON form for ``validate --format json`` and plan extras."""
        return {"policy": self.policy, "file": self.file, "line": self.line, "column": self.column, "message": self.message}


def model_profiles(model: DesiredModel) -> dict[str, Profile]:
    """Org profiles and ``org/ws`` overrides of a loaded model, in the engine's shape."""
    return {**model.profiles, **model.workspace_profiles}


def _names(emails: list[str]) -> str:
    shown = ", ".join(short_member(e) for e in emails[:SHOWN])
    return shown + (f" and {len(emails) - SHOWN} more" if len(emails) > SHOWN else "")


def _selected(engine: AccessEngine, org: str, grant: GrantSelector) -> list[tuple[str, str]]:
    """The ``(action, resource)`` capabilities a guardrail's grant selector names."""
    if grant.action is not None:
        return [(grant.action, full_name(org, grant.resource or org))]
    key = grant.section or grant.feature or grant.setting
    if key is None:
        return []
    action = level_action(key, grant.level or "Full")
    wanted = full_name(org, grant.resource) if grant.resource else None
    return [(a, r) for a, r in engine.vocabulary(org) if a == action and (wanted is None or r == wanted)]


def _guardrail(engine: AccessEngine, org: str, rail: Guardrail, looked_up: dict[str, list[tuple[str, Person]]] | None = None) -> list[str]:
    """Why one guardrail fails (empty when it holds).

    ``looked_up`` (org -> every member and who they are) is shared by the
    guardrails of one policy, so 10k members are looked up once.
    """
    view = engine.views.get(org)
    if view is None:
        return []
    top = view.top_role()
    members = engine.members(org)
    fails: list[str] = []
    people: list[tuple[str, Person]] = []
    if rail.owner_only or rail.min_owners is not None:
        known = looked_up if looked_up is not None else {}
        people = known[org] if org in known else known.setdefault(org, [(e, view.person(e)) for e in members])
    # An organization-level permission depends only on who a person is
    # (role, global admin, invited, declared), not on their email: ask once per
    # kind, of the first member of that kind.
    below_top = [(e, (who.role_name, who.global_admin, who.invited, who.declared, who.suspended)) for e, who in people if who.role_name != top]
    first_of_kind: dict[tuple[Any, ...], str] = {}
    for e, kind in below_top:
        first_of_kind.setdefault(kind, e)
    for key in rail.owner_only or []:
        assigned = view.org_permissions.get(key)
        answers = {kind: engine.check(org, e, key, org).allowed for kind, e in first_of_kind.items()}
        holders = [e for e, kind in below_top if answers[kind]]
        if assigned is not None and assigned != top:
            fails.append(f"guardrail {rail.name}: {key} is allowed to {assigned} and above; it must stay {top}-only")
        elif holders:
            fails.append(f"guardrail {rail.name}: {key} must stay {top}-only, but {_names(holders)} hold it")
    if rail.grant is not None and rail.only_team is not None:
        team = view.teams.get(rail.only_team, set())
        for action, resource in _selected(engine, org, rail.grant):
            outside = [e for e in members if e not in team and engine.check(org, e, action, resource).allowed]
            if outside:
                what = f"{action} {local_name(org, resource)}"
                fails.append(f"guardrail {rail.name}: only team {rail.only_team} may hold {what}; held outside it by {_names(outside)}")
    if rail.min_owners is not None:
        owners = [e for e, p in people if p.declared and not p.invited and not p.suspended and p.role_name == top]
        if len(owners) < rail.min_owners:
            fails.append(f"guardrail {rail.name}: at least {rail.min_owners} active {top}(s) required, found {len(owners)}" + (f" ({_names(owners)})" if owners else ""))
    for domain in rail.forbidden_domains or []:
        d = domain.lower().lstrip("@")
        bad = [e for e in members if (host := e.rsplit("@", 1)[-1]) == d or host.endswith("." + d)]
        if bad:
            fails.append(f"guardrail {rail.name}: email domain {d} is not allowed, but {_names(bad)} use it")
    return fails


def _assertion(engine: AccessEngine, org: str, a: Assertion) -> str | None:
    """Why one assertion fails, or None."""
    expected = "can" if a.allowed else "cannot"
    said = f"assertion {short_member(a.member)} {expected} {a.action} {a.resource}"
    if not engine.known(org, a.action, a.resource):
        return f"{said}: {a.action} {a.resource} is not a capability in {org}"
    cap = engine.check(org, a.member.lower(), a.action, a.resource)
    if cap.allowed == a.allowed:
        return None
    return f"{said}: but {cap.verdict}: {'; '.join(cap.reasons)}"


def evaluate_policies(model: DesiredModel, resources: ResourceMap, engine: AccessEngine | None = None) -> list[PolicyFailure]:
    """Every failing guardrail and assertion of the model's Policy documents on ``resources``."""
    if not model.policies:
        return []
    engine = engine or AccessEngine(resources, model_profiles(model))
    failures: list[PolicyFailure] = []
    for _key, loaded in sorted(model.policies.items()):
        failures += _evaluate(engine, loaded)
    return failures


def _evaluate(engine: AccessEngine, loaded: Loaded[Policy]) -> list[PolicyFailure]:
    spec = loaded.doc.spec
    name = loaded.doc.metadata.name
    out: list[PolicyFailure] = []

    def fail(path: tuple[Any, ...], message: str) -> None:
        p = loaded.problem(path, "policy.failed", message)
        out.append(PolicyFailure(name, p.file, p.line, p.column, message))

    looked_up: dict[str, list[tuple[str, Person]]] = {}
    for i, rail in enumerate(spec.guardrails or []):
        for why in _guardrail(engine, spec.organization, rail, looked_up):
            fail(("spec", "guardrails", i), why)
    for i, assertion in enumerate(spec.assertions or []):
        failed = _assertion(engine, spec.organization, assertion)
        if failed:
            fail(("spec", "assertions", i), failed)
    return out


def check_policies(model: DesiredModel, resources: ResourceMap) -> list[Refusal]:
    """Refusals for every policy failure; the caller raises RefusedError when any."""
    return [Refusal("policy", str(f)) for f in evaluate_policies(model, resources)]
