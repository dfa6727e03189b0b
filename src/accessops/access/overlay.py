"""An access engine for the state before a plan, derived from the engine for after.

The access delta compares each touched member's capabilities before and
after a plan. When every change in an organization belongs to one member
(their member resource or one of their memberships), the two states differ
only in those members' own resources, and every rule looks at the
organization's structure plus the asking member's own resources. So the
"before" organization is the "after" one with the touched members' own
resources put back as they were: a few dictionary edits instead of indexing
36k resources again, and the capability rules, worked out once per
structure, are shared.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Collection, Iterable, Mapping

from accessops.access.engine import AccessEngine, _FastOrg
from accessops.access.index import OrgView
from accessops.model.resource import Resource, ResourceMap


def _unplace(view: OrgView, res: Resource) -> None:
    """Take one member's own resource out of ``view`` (the inverse of build_index placing it)."""
    parts = res.key.split("/")
    if res.type == "member":
        view.members.pop(parts[1], None)
    elif res.type == "team_member":
        view.teams[parts[1]] = view.teams.get(parts[1], set()) - {parts[2]}
    else:
        table = view.ws_members if res.type == "workspace_member" else view.space_members
        people = {e: a for e, a in table.get(parts[1], {}).items() if e != parts[2]}
        if people:
            table[parts[1]] = people
        else:  # build_index only knows loci someone is in
            table.pop(parts[1], None)


def _place(view: OrgView, res: Resource) -> None:
    """Put one member's own resource into ``view`` as build_index does."""
    parts = res.key.split("/")
    if res.type == "member":
        view.members[parts[1]] = res.attrs
    elif res.type == "team_member":
        view.teams[parts[1]] = view.teams.get(parts[1], set()) | {parts[2]}
    else:
        table = view.ws_members if res.type == "workspace_member" else view.space_members
        table[parts[1]] = {**table.get(parts[1], {}), parts[2]: res.attrs}


def _present(view: OrgView, email: str) -> bool:
    """Whether ``email`` has any resource in ``view`` (what ``OrgView.emails`` lists)."""
    if email in view.members:
        return True
    tables = (*view.ws_members.values(), *view.space_members.values(), *view.teams.values())
    return any(email in people for people in tables)


def _loci(view: OrgView, email: str) -> set[str]:
    return {locus for table in (view.ws_members, view.space_members) for locus, people in table.items() if email in people}


def _org_before(after: AccessEngine, org: str, diffs: Iterable[tuple[Resource | None, Resource | None]], people: Collection[str]) -> tuple[OrgView, frozenset[str], "_FastOrg | None | bool"]:
    """One organization's view before: ``after``'s with each ``(after, before)`` resource pair swapped back."""
    view = copy.copy(after.views[org])
    # the tables edited below are copied; the rest (structure) is shared and never written
    view.members, view.teams = dict(view.members), dict(view.teams)
    view.ws_members, view.space_members = dict(view.ws_members), dict(view.space_members)
    view._people = {}
    for now, was in diffs:
        if now is not None:
            _unplace(view, now)
        if was is not None:
            _place(view, was)
    known = set(after._known.get(org, frozenset()))
    for email in people:
        (known.add if _present(view, email) else known.discard)(email)
    fast = after._fast_org(org)
    shared: _FastOrg | None | bool = False  # False: let the engine work it out
    same_structure = set(view.workspaces) | set(view.ws_members) == set(after.views[org].workspaces) | set(after.views[org].ws_members)
    if same_structure:
        if fast is None:
            shared = None
        else:
            loci_of = dict(fast.loci_of)
            for email in people:
                loci_of[email] = _loci(view, email)
            shared = _FastOrg(fast.rules, loci_of)
            shared._outside = fast._outside  # answers for someone in no workspace or space depend on structure only
            shared._held = fast._held  # so do answers for alike members with equal own memberships (held_in)
    return view, frozenset(known), shared


def before_engine(
    after: AccessEngine,
    live: ResourceMap,
    after_state: ResourceMap,
    diff_addresses: Mapping[str, Collection[str]],
    people: Mapping[str, Collection[str]],
    configured_resource: Callable[[Resource], Resource],
) -> AccessEngine:
    """An engine over the state before, for the organizations in ``people`` only.

    ``diff_addresses`` (org -> addresses) must hold every address where the
    configured live state and ``after_state`` differ in that organization,
    all of them the own resources of ``people`` (org -> emails) there.
    ``configured_resource`` turns a live resource into its configured form.
    """
    engine = AccessEngine({}, {})
    for org, emails in people.items():
        if org not in after.views:
            continue
        diffs = []
        for addr in diff_addresses.get(org, ()):
            was = live.get(addr)
            diffs.append((after_state.get(addr), configured_resource(was) if was is not None else None))
        view, known, fast = _org_before(after, org, diffs, emails)
        engine.views[org] = view
        engine._known[org] = known
        engine._emails[org] = sorted(known)
        if fast is not False:
            engine._fast[org] = fast  # type: ignore[assignment]
    return engine
