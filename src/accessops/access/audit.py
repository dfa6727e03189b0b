"""The seeds' weekly checklist on a state (seed 002 "Quick weekly checklist", seeds 001/003 advice).

Pure: the current time is an argument. Findings per organization: pending
invitations by age, broad Full scopes, unused custom roles, blank-screen
members, seat usage, and members in no team.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from accessops.access.index import OrgView, build_index
from accessops.access.lint import blank_screen_members, broad_full_scopes, unused_custom_roles
from accessops.model.profile import Profile
from accessops.model.resource import ResourceMap

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
    """Seats: the limit, active and invited members (invitations hold a seat), and what is left."""
    invited = sum(1 for a in view.members.values() if a.get("status") == "invited")
    active = len(view.members) - invited
    used = active + invited
    limit = view.seats
    return {"limit": limit, "active": active, "invited": invited, "used": used, "free": None if limit is None else limit - used, "over": limit is not None and used > limit}


def members_in_no_team(view: OrgView) -> list[str]:
    """Members in no team; empty when the organization has no teams at all."""
    if not view.teams:
        return []
    in_team = set().union(*view.teams.values())
    return sorted(e for e in view.members if e not in in_team)


def audit(resources: ResourceMap, profiles: Mapping[str, Profile], now: datetime, stale_days: int = STALE_DAYS) -> dict[str, Any]:
    """The checklist for every organization of ``resources``, as JSON-ready data."""
    orgs = []
    for org, view in sorted(build_index(resources, profiles).items()):
        orgs.append(
            {
                "organization": org,
                "seats": seat_usage(view),
                "pending_invitations": invitations(view, now, stale_days),
                "broad_full_scopes": [{"member": e, "subject": addr, "scopes": keys} for addr, e, keys in broad_full_scopes(view)],
                "unused_custom_roles": unused_custom_roles(view),
                "blank_screen_members": [{"member": e, "workspace": ws} for ws, e in blank_screen_members(view)],
                "members_in_no_team": members_in_no_team(view),
            }
        )
    return {"generated_at": now.isoformat(timespec="seconds"), "stale_after_days": stale_days, "organizations": orgs}
