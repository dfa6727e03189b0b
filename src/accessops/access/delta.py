"""The access delta: who gains and who loses which capability when a plan is applied.

JSON shape (``Plan.extras["access_delta"]``), one entry per member whose
access changes, sorted by organization then member::

    [{"member": "ada@acme.test", "organization": "acme", "pending_acceptance": false,
      "gained": [{"capability": "delete crm/customers", "highlight": "delete"}],
      "lost":   [{"capability": "Billing:View crm", "highlight": "billing"}]}]

``highlight`` is ``owner``, ``admin``, ``billing``, ``delete`` or null.
A plan with no resource changes has no delta (an empty list).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from accessops.access.capability import highlight
from accessops.access.engine import AccessEngine, _frozen
from accessops.model.profile import Profile
from accessops.model.resource import RESOURCE_TYPES, ResourceMap
from accessops.access.overlay import before_engine
from accessops.plan.invitations import member_address
from accessops.plan.simulate import configured, configured_resource, simulate
from accessops.plan.change import Action, Change

# Resource types whose key ends in one member's email: a change to one of
# them can only change that member's access.
_PER_MEMBER = frozenset(t for t, rt in RESOURCE_TYPES.items() if rt.key_parts[-1] == "email")

# Capability entries (gained plus lost) a plan's delta lists before it stops
# comparing members. Far above any reviewable change; it bounds the first
# apply of a large organization, where everyone gains everything (50k
# members would be ~35M entries).
DELTA_LIMIT = 200_000


def _allowed(engine: AccessEngine, org: str, email: str) -> set[str]:
    return engine.allowed(org, email)


def _alike_workspaces(old: AccessEngine, new: AccessEngine, org: str, email: str) -> frozenset[str] | None:
    """Workspaces where ``email`` answers alike before and after without asking, or None to ask everything.

    Only when both engines group the same rules (the before engine derived
    from the after one, see overlay) and the member has access on both
    sides: then a workspace whose rules are all workspace rules, where they
    hold an equal membership before and after, answers alike (the answers
    there depend on that membership alone), so both sides may leave it out.
    """
    if org not in old.views or org not in new.views:
        return None
    fast_old, fast_new = old._fast_org(org), new._fast_org(org)
    if fast_old is None or fast_new is None or fast_old.rules is not fast_new.rules:
        return None
    view_old, view_new = old.views[org], new.views[org]
    for engine, view in ((old, view_old), (new, view_new)):
        if email not in engine._known.get(org, frozenset()) or view.person(email).invited or view.person(email).suspended:
            return None  # one side answers "nothing": every locus must be listed on the other
    alike = set()
    for locus in fast_old.loci_of.get(email, set()) & fast_new.loci_of.get(email, set()):
        was = view_old.ws_members.get(locus, {}).get(email)
        now = view_new.ws_members.get(locus, {}).get(email)
        if was is None or now is None or not fast_old.workspace_only(locus):
            continue
        if was is now or _frozen(was) == _frozen(now):
            alike.add(locus)
    return frozenset(alike)


def _entries(names: Iterable[str], billing: frozenset[str]) -> list[dict[str, Any]]:
    return [{"capability": n, "highlight": highlight(n.split(" ", 1)[0], billing)} for n in sorted(names)]


def access_delta(
    before: ResourceMap,
    after: ResourceMap,
    profiles: Mapping[str, Profile],
    only: Mapping[str, set[str] | None] | None = None,
    pending: frozenset[tuple[str, str]] = frozenset(),
    limit: int | None = None,
    cut: dict[str, int] | None = None,
    new_engine: AccessEngine | None = None,
    old_engine: AccessEngine | None = None,
) -> list[dict[str, Any]]:
    """Capabilities gained and lost per member between two states.

    ``only`` limits the work: org -> emails to compare (None: everyone in
    that org); organizations not in it are skipped. ``pending`` names
    ``(org, email)`` whose new access waits for them to accept an invitation.
    Once ``limit`` entries are listed the rest are not compared; ``cut``
    (when given) then receives ``limit`` and ``members_not_compared``.
    ``new_engine`` and ``old_engine``, when given, answer for ``after`` and
    ``before`` (``old_engine`` at least for the organizations in ``only``).
    """
    old, new = old_engine or AccessEngine(before, profiles), new_engine or AccessEngine(after, profiles)
    out: list[dict[str, Any]] = []
    listed = 0
    skipped = 0
    for org in sorted(set(old.views) | set(new.views)):
        if only is not None and org not in only:
            continue
        wanted = only.get(org) if only is not None else None
        emails = sorted(set(old.members(org)) | set(new.members(org))) if wanted is None else sorted(wanted)
        profile = (new.views.get(org) or old.views[org]).profile
        billing = frozenset(profile.matrix.get("billing", []))
        for email in emails:
            if limit is not None and listed >= limit:
                skipped += 1
                continue
            alike = _alike_workspaces(old, new, org, email)
            if alike:  # both sides leave the same workspaces out: the differences stay whole
                was, now = old.allowed(org, email, alike), new.allowed(org, email, alike)
            else:
                was = _allowed(old, org, email) if org in old.views else set()
                now = _allowed(new, org, email) if org in new.views else set()
            if was == now:
                continue
            out.append(
                {
                    "member": email,
                    "organization": org,
                    "pending_acceptance": (org, email) in pending,
                    "gained": _entries(now - was, billing),
                    "lost": _entries(was - now, billing),
                }
            )
            listed += len(now - was) + len(was - now)
    if skipped and cut is not None:
        cut.update(limit=limit or 0, members_not_compared=skipped)
    return out


def apply_changes(live: ResourceMap, changes: Iterable[Change]) -> ResourceMap:
    """The state the changes leave behind (see :func:`accessops.plan.simulate.simulate`)."""
    return simulate(live, changes)


def _builtin_profiles(*states: ResourceMap) -> dict[str, Profile]:
    # Built-in profiles are package data, read once and cached; a profile file
    # can only be resolved by the caller, who knows the manifest folder.
    from accessops.errors import ConfigError
    from accessops.manifest.profiles import load_profile

    found: dict[str, Profile] = {}
    for state in states:
        for res in state.values():
            if res.type in ("organization", "workspace") and res.attrs.get("profile") and res.key not in found:
                try:
                    found[res.key] = load_profile(str(res.attrs["profile"]))
                except ConfigError:
                    continue
    return found


def plan_access_delta(
    desired: ResourceMap,
    live: ResourceMap,
    changes: Iterable[Change],
    profiles: Mapping[str, Profile] | None = None,
    limit: int | None = None,
    cut: dict[str, int] | None = None,
    after: ResourceMap | None = None,
    after_engine: AccessEngine | None = None,
    before_profiles: Mapping[str, Profile] | None = None,
) -> list[dict[str, Any]]:
    """The access delta of a plan: live before, live with ``changes`` applied after.

    ``after`` (the configured state the changes leave) and ``after_engine``
    (an engine over it) may be given when the caller already has them.
    ``before_profiles``, when live names other profiles than the manifests
    (a profile switch), judge the state before; ``profiles`` judge after.

    Only organizations the changes touch are compared, and when every change
    there belongs to one member, only those members. ``profiles`` defaults to
    the built-in profiles the organizations name (desired first). ``limit``
    and ``cut`` as in :func:`access_delta`.
    """
    pending_changes = [c for c in changes if c.action is not Action.NOOP]
    if not pending_changes:
        return []
    if profiles is None:
        profiles = {**_builtin_profiles(live), **_builtin_profiles(desired)}
    only: dict[str, set[str] | None] = {}
    pending: set[tuple[str, str]] = set()
    # per organization of one-member changes: every address where before and after may differ
    touched: dict[str, set[str]] = {}
    replaced = False
    for c in pending_changes:
        org = c.key.split("/", 1)[0]
        replaced = replaced or c.action is Action.REPLACE  # a replace takes children along: index afresh
        if c.type in _PER_MEMBER:
            email = c.key.rsplit("/", 1)[1]
            if org not in only or only[org] is not None:
                only.setdefault(org, set()).add(email)  # type: ignore[union-attr]
            # a membership of someone new invites them (simulate): their member resource differs too
            touched.setdefault(org, set()).update((c.address, member_address(c.type, c.key)))
            created_invited = c.type == "member" and c.action is Action.CREATE and "provisioned_active" not in c.flags
            if created_invited or "pending_acceptance" in c.flags:
                pending.add((org, email))
        else:
            only[org] = None
    # invitees are judged as configured; their entries are marked pending acceptance
    if after is None:
        after = configured(apply_changes(live, pending_changes))
    if before_profiles is not None:  # a profile switch changes everyone's access: compare in full
        old_full = AccessEngine(configured(live), before_profiles)
        return access_delta(configured(live), after, profiles, only, frozenset(pending), limit, cut, after_engine, old_full)
    if not replaced and all(emails is not None for emails in only.values()):
        new = after_engine or AccessEngine(after, profiles)
        people = {org: emails for org, emails in only.items() if emails is not None}
        old = before_engine(new, live, after, touched, people, configured_resource)
        return access_delta({}, after, profiles, only, frozenset(pending), limit, cut, new, old)
    return access_delta(configured(live), after, profiles, only, frozenset(pending), limit, cut, after_engine)


def render_access_delta_text(delta: list[dict[str, Any]]) -> list[str]:
    """Lines for the text plan: ``+`` gained, ``-`` lost, highlights in brackets."""
    if not delta:
        return []
    lines = ["Access delta:"]
    for entry in delta:
        note = " (pending acceptance)" if entry.get("pending_acceptance") else ""
        lines.append(f"  {entry['member']} [{entry['organization']}]{note}")
        for sign, key in (("+", "gained"), ("-", "lost")):
            for item in entry[key]:
                mark = f"  <- {item['highlight']}" if item.get("highlight") else ""
                lines.append(f"    {sign} {item['capability']}{mark}")
    gained = sum(len(e["gained"]) for e in delta)
    lost = sum(len(e["lost"]) for e in delta)
    lines.append(f"Access: {len(delta)} member(s) affected, {gained} capability(ies) gained, {lost} lost.")
    return lines
