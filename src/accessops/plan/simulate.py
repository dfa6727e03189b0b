"""What a plan leaves behind: its pending changes simulated on the live state.

Pure, and the one place that knows what applying does to a tenant, so the
safety guards and the access delta judge the same "after": a deleted or
replaced object takes its children with it, a new member arrives invited,
and a membership for someone the organization lacks invites them as Member
first (seed 001).
"""

from __future__ import annotations

from collections.abc import Iterable

from accessops.model.resource import Resource, ResourceMap
from accessops.plan.change import Action, Change
from accessops.plan.planner import parent_keys

_MEMBERSHIPS = frozenset({"team_member", "workspace_member", "space_member"})
_CHILD_TYPES = frozenset({"space_member", "space_type_role", "team_member", "workspace_member", "app_permission", "table_permission", "field_permission"})


def _drop_children_of(after: ResourceMap, replaced: set[tuple[str, str]]) -> None:
    """A replaced object takes its children with it (the plan re-creates the declared ones)."""
    for addr, res in list(after.items()):
        if res.type in _CHILD_TYPES and any(p in replaced for p in parent_keys(res)[1:]):
            del after[addr]


def simulate(live: ResourceMap, changes: Iterable[Change], new_member_status: str = "invited") -> ResourceMap:
    """The state after ``changes``; live-only attributes (status, times) survive updates.

    A member the plan creates arrives with ``new_member_status``: invited
    by default, active on a target that provisions people (SCIM).

    A deleted parent's children need no cascade here: the planner deletes
    them explicitly, before the parent. A replace is different: the object
    is destroyed and created again, and its children go with the old one.

    With nothing to change, ``live`` itself comes back (no copy of a large
    tenant): like every resource map, it is not changed in place.
    """
    if not changes:
        return live
    after = dict(live)
    for change in changes:
        if change.action is Action.NOOP:
            continue
        if change.action is Action.REPLACE:
            _drop_children_of(after, {(change.type, change.key)})
        if change.action is Action.DELETE:
            after.pop(change.address, None)
            continue
        kept = after[change.address].attrs if change.action is Action.UPDATE and change.address in after else {}
        attrs = {**kept, **(change.after or {})}
        if change.type == "member" and change.action is Action.CREATE:
            attrs.setdefault("status", new_member_status)
        after[change.address] = Resource(change.type, change.key, attrs)
        if change.type in _MEMBERSHIPS and change.action is Action.CREATE:
            org, email = change.key.split("/")[0], change.key.rsplit("/", 1)[-1]
            who = f'member["{org}/{email}"]'
            if who not in after:
                after[who] = Resource("member", f"{org}/{email}", {"role": "Member", "status": new_member_status})
    return after


def configured(state: ResourceMap) -> ResourceMap:
    """The state as configured: pending invitations count as accepted.

    Policies and the access delta judge what the manifests grant; an
    invitation not yet accepted is a moment in time (``explain --live`` and
    ``audit`` still show invited members without access).
    """
    out = dict(state)
    for addr, res in state.items():
        if res.type == "member" and res.attrs.get("status") == "invited":
            attrs = dict(res.attrs)  # configured_resource, inlined: most members of a large tenant pass here
            del attrs["status"]
            out[addr] = Resource(res.type, res.key, attrs)
    return out


def configured_resource(res: Resource) -> Resource:
    """One resource as :func:`configured` has it: an invited member as if accepted."""
    if res.type == "member" and res.attrs.get("status") == "invited":
        attrs = dict(res.attrs)  # keeps the order of the other attributes
        del attrs["status"]
        return Resource(res.type, res.key, attrs)
    return res
