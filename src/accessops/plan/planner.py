"""The planner: a pure function of (desired, live, options) to a :class:`Plan`.

Only attributes a manifest states are compared, so a field left out is never
emptied. Live objects git does not declare are deleted only inside a managed
scope, and deleting a parent takes its children with it (a removed member
leaves every team, workspace and space). The result is the same whatever
the order of files or documents: everything is sorted by address.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from accessops.model.compile import Compiled
from accessops.model.resource import RESOURCE_TYPES, Resource, ResourceMap, Scope
from accessops.plan.change import Action, Change, Plan, fingerprint

# How a child's key names its parents: (parent type, number of leading key
# segments), or "member" for memberships whose last segment is an email.
_PARENTS: dict[str, tuple[tuple[str, int], ...]] = {
    "team_member": (("team", 2), ("member", -1)),
    "workspace_member": (("workspace", 2), ("member", -1)),
    "app_permission": (("workspace", 2),),
    "table_permission": (("workspace", 2),),
    "field_permission": (("table_permission", 3), ("workspace", 2)),
    "space_type_role": (("space_type", 2),),
    "space_member": (("space", 2), ("member", -1)),
}
_MEMBERSHIPS = ("team_member", "workspace_member", "space_member")


@dataclass(frozen=True)
class PlanOptions:
    """What the planner may touch.

    ``additive`` resource types are never deleted; resources whose key or
    email matches an ``ignore`` glob are never touched at all.
    """

    additive: frozenset[str] = frozenset()
    ignore: tuple[str, ...] = ()
    target: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def ignored(self, resource: Resource) -> bool:
        """Whether a glob in ``ignore`` matches the resource's key or its email."""
        if not self.ignore:
            return False
        last = resource.key.rsplit("/", 1)[-1]
        return any(fnmatchcase(resource.key, p) or fnmatchcase(last, p) for p in self.ignore)


def parent_keys(resource: Resource) -> list[tuple[str, str]]:
    """(type, key) of every parent whose deletion removes ``resource``."""
    parts = resource.key.split("/")
    parents = [("organization", parts[0])]
    for type_, n in _PARENTS.get(resource.type, ()):
        key = f"{parts[0]}/{parts[-1]}" if n == -1 else "/".join(parts[:n])
        parents.append((type_, key))
    return parents


def _managed(resource: Resource, scopes: dict[str, list[Scope]]) -> bool:
    return any(s.covers(resource) for s in scopes.get(resource.type, ()))


def _diff(type_: str, want: dict[str, Any], have: dict[str, Any]) -> tuple[Action, dict[str, Any]] | None:
    """The action and merged ``after`` when ``want`` differs from ``have``; None when equal."""
    changed = [k for k, v in want.items() if have.get(k) != v]
    if not changed:
        return None
    after = {**have, **want}
    rtype = RESOURCE_TYPES[type_]
    if rtype.replace_on.intersection(changed):
        return Action.REPLACE, after
    return Action.UPDATE, after


def _invited(live: ResourceMap, org: str, email: str) -> bool:
    member = live.get(f'member["{org}/{email}"]')
    return member is not None and member.attrs.get("status") == "invited"


def _flags(change_type: str, action: Action, key: str, live: ResourceMap) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Display-only notes and flags: pending acceptance, cancelled invitation."""
    if change_type == "member" or change_type in _MEMBERSHIPS:
        parts = key.split("/")
        if _invited(live, parts[0], parts[-1]):
            if change_type == "member" and action is Action.DELETE:
                return ("cancels a pending invitation",), ("cancel_invitation",)
            if action is not Action.DELETE:
                return ("pending acceptance: takes effect when they join",), ("pending_acceptance",)
    return (), ()


def _recreate_children(
    changes: list[Change],
    replaced: set[tuple[str, str]],
    desired: Compiled,
    live: ResourceMap,
    fingerprints: dict[str, str],
) -> list[Change]:
    """Turn every declared child of a replaced object into a create."""
    by_address = {c.address: c for c in changes}
    for addr, want in desired.resources.items():
        if addr not in live or not any(p in replaced for p in parent_keys(want)):
            continue
        have = live[addr]
        by_address[addr] = Change(
            Action.CREATE, want.type, want.key, None, dict(want.attrs), ("created again with its replaced parent",)
        )
        fingerprints[addr] = fingerprint(have.attrs)
    return list(by_address.values())


def make_plan(desired: Compiled, live: ResourceMap, options: PlanOptions = PlanOptions()) -> Plan:
    """Every change that makes ``live`` match ``desired``, in a safe order."""
    changes: list[Change] = []
    fingerprints: dict[str, str] = {}
    scopes: dict[str, list[Scope]] = {}
    for scope in desired.scopes:
        scopes.setdefault(scope.type, []).append(scope)

    for addr, want in desired.resources.items():
        if options.ignore and options.ignored(want):
            continue
        have = live.get(addr)
        if have is None:
            notes, flags = _flags(want.type, Action.CREATE, want.key, live)
            changes.append(Change(Action.CREATE, want.type, want.key, None, dict(want.attrs), notes, flags))
            fingerprints[addr] = fingerprint(None)
            continue
        if want.attrs == have.attrs:  # the common case, decided in C
            continue
        diff = _diff(want.type, want.attrs, have.attrs)
        if diff is None:
            continue
        action, after = diff
        notes, flags = _flags(want.type, action, want.key, live)
        if action is Action.REPLACE:
            fixed = sorted(RESOURCE_TYPES[want.type].replace_on & set(want.attrs))
            notes = notes + (f"{', '.join(fixed)} cannot change in place",)
        changes.append(Change(action, want.type, want.key, dict(have.attrs), after, notes, flags))
        fingerprints[addr] = fingerprint(have.attrs)

    # A replace destroys the object with everything it owns: declared
    # children are created again, undeclared ones simply go with it.
    replaced = {(c.type, c.key) for c in changes if c.action is Action.REPLACE}
    if replaced:
        changes = _recreate_children(changes, replaced, desired, live, fingerprints)

    # Deletions: undeclared objects in a managed scope, then their children.
    doomed: set[tuple[str, str]] = set(replaced)
    orphans = [r for a, r in live.items() if a not in desired.resources and not (options.ignore and options.ignored(r))]
    orphans.sort(key=lambda r: RESOURCE_TYPES[r.type].order)  # parents before children
    for res in orphans:
        cascade = any(p in doomed for p in parent_keys(res))
        if not cascade and (res.type in options.additive or not _managed(res, scopes)):
            continue
        doomed.add((res.type, res.key))
        if any(p in replaced for p in parent_keys(res)):
            continue  # removed by its parent's replace
        notes, flags = _flags(res.type, Action.DELETE, res.key, live)
        if cascade and not _managed(res, scopes):
            notes = notes + ("removed with its parent",)
        changes.append(Change(Action.DELETE, res.type, res.key, dict(res.attrs), None, notes, flags))
        fingerprints[res.address] = fingerprint(res.attrs)

    changes.sort(key=Change.sort_key)
    return Plan(changes=changes, fingerprints=fingerprints, target=options.target, meta=dict(options.meta))
