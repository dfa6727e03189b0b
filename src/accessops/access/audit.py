"""The seeds' weekly checklist on a state (seed 002 "Quick weekly checklist", seeds 001/003 advice).

Pure: the current time is an argument. Findings per organization, in the
order of seed 002's checklist: pending invitations by age ("Resolve stale
pending invites"), broad Full scopes ("Audit members with broad Full
scopes"), members no longer on the account ("Remove access for users no
longer on account": suspended accounts that still hold access, memberships
of people who are not members), broad project assignments ("Re-check
project assignment breadth for each member"); then unused custom roles,
blank-screen members, seat usage and members in no team.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from accessops.access.index import OrgView, build_index
from accessops.access.lint import blank_screen_members, broad_full_scopes, unused_custom_roles
from accessops.model.profile import Profile
from accessops.model.resource import SUSPENDED_STATUSES, ResourceMap

STALE_DAYS = 7  # a pending invitation older than this is stale


def _when(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def invitations(view: OrgView, now: datetime, stale_days: int) -> list[dict[str, Any]]:
    """Pending invitations, oldest first, each with its age in days and whether it is stale."""
    out = []
    for email, attrs in view.members.items():
        if attrs.get("status") != "invited":
            continue
        sent = _when(attrs.get("invited_at"))
        age = (now - sent).days if sent else None
        out.append({"member": email, "invited_at": attrs.get("invited_at"), "age_days": age, "stale": age is None or age >= stale_days})
    return sorted(out, key=lambda i: (-(i["age_days"] if i["age_days"] is not None else 10**9), i["member"]))


def seat_usage(view: OrgView) -> dict[str, Any]:
    """Seats: the limit, active, invited and suspended members (every member holds a seat), and what is left."""
    invited = sum(1 for a in view.members.values() if a.get("status") == "invited")
    suspended = sum(1 for a in view.members.values() if a.get("status") in SUSPENDED_STATUSES)
    used = len(view.members)
    active = used - invited - suspended
    limit = view.seats
    return {
        "limit": limit, "active": active, "invited": invited, "suspended": suspended, "used": used,
        "free": None if limit is None else limit - used, "over": limit is not None and used > limit,
    }


def _holdings(view: OrgView, email: str) -> list[str]:
    """What ``email`` still holds: org role, teams, workspace and space memberships."""
    held = []
    role = (view.members.get(email) or {}).get("role")
    if role:
        held.append(f"org role {role}")
    held += [f"team {t}" for t, people in sorted(view.teams.items()) if email in people]
    held += [f"workspace {ws}" for ws, people in sorted(view.ws_members.items()) if email in people]
    held += [f"space {sp}" for sp, people in sorted(view.space_members.items()) if email in people]
    return held


def no_longer_on_account(view: OrgView, live: bool = True) -> list[dict[str, Any]]:
    """Seed 002 "Remove access for users no longer on account".

    Suspended (deactivated) members who still hold a role or memberships,
    and, in a live state, memberships of someone who is not an organization
    member at all. (In manifests a workspace-only person is a Member, seed 001.)
    """
    out = []
    for email, attrs in sorted(view.members.items()):
        if attrs.get("status") in SUSPENDED_STATUSES:
            out.append({"member": email, "status": str(attrs["status"]), "still_holds": _holdings(view, email)})
    if live and view.members:
        for email in view.emails():
            if email not in view.members:
                out.append({"member": email, "status": "not a member", "still_holds": _holdings(view, email)})
    return out


BREADTH_SHARE = 0.5  # access to at least half of the projects (and at least 2) is broad, as for Full scopes


def project_assignment_breadth(view: OrgView) -> list[dict[str, Any]]:
    """Seed 002 "Re-check project assignment breadth for each member": members in at least half of the projects.

    Projects are spaces of kind project; access is a project membership.
    Bypass roles are left out: they reach every project by role, not by assignment.
    """
    projects = sorted(sp for sp, attrs in view.spaces.items() if attrs.get("kind") in (None, "project"))
    needed = max(2, BREADTH_SHARE * len(projects))
    if len(projects) < 2:
        return []
    counts: dict[str, list[str]] = {}
    for sp in projects:
        for email in view.space_members.get(sp, {}):
            counts.setdefault(email, []).append(sp)
    out = [
        {"member": email, "projects": sorted(held), "of": len(projects)}
        for email, held in counts.items()
        if len(held) >= needed and not view.person(email).bypass
    ]
    return sorted(out, key=lambda e: (-len(e["projects"]), e["member"]))


def members_in_no_team(view: OrgView) -> list[str]:
    """Members in no team; empty when the organization has no teams at all."""
    if not view.teams:
        return []
    in_team = set().union(*view.teams.values())
    return sorted(e for e in view.members if e not in in_team)


def audit(resources: ResourceMap, profiles: Mapping[str, Profile], now: datetime, stale_days: int = STALE_DAYS, live: bool = True) -> dict[str, Any]:
    """The checklist for every organization of ``resources``, as JSON-ready data (``live``: a live state)."""
    orgs = []
    for org, view in sorted(build_index(resources, profiles).items()):
        orgs.append(
            {
                "organization": org,
                "seats": seat_usage(view),
                "pending_invitations": invitations(view, now, stale_days),
                "broad_full_scopes": [{"member": e, "subject": addr, "scopes": keys} for addr, e, keys in broad_full_scopes(view)],
                "no_longer_on_account": no_longer_on_account(view, live),
                "project_assignment_breadth": project_assignment_breadth(view),
                "unused_custom_roles": unused_custom_roles(view),
                "blank_screen_members": [{"member": e, "workspace": ws} for ws, e in blank_screen_members(view)],
                "members_in_no_team": members_in_no_team(view),
            }
        )
    return {"generated_at": now.isoformat(timespec="seconds"), "stale_after_days": stale_days, "organizations": orgs}
