"""How one person's grants in a workspace or space combine (issue 13).

A person may be reached by their own entry (``members:``), by every team
grant whose team they are in (``teams:``), and in a workspace by its
``default_role``. The rule, argued in docs/access-model.md:

* the highest-ranked role wins (workspace roles rank as the profile lists
  them, Admin first; space roles as the space type lists them);
* custom roles are the union;
* for each scope key, the highest level wins (None < View only < Full);
* grants only add: a direct entry never narrows what a team grants. To give
  someone less, take them out of the team.

Pure: no I/O. Every combined grant remembers which grants made it
(``origins``), so explain, drift and export can name the team.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

DIRECT = "direct"
DEFAULT_ROLE = "default role"


def team_origin(team: str) -> str:
    """How a team grant is named in reasons: ``team support``."""
    return f"team {team}"


@dataclass(frozen=True)
class Grant:
    """One source's contribution to one person's membership of a workspace or space."""

    origin: str  # DIRECT, DEFAULT_ROLE or team_origin(name)
    role: str | None = None
    custom_roles: tuple[str, ...] | None = None
    scopes: Mapping[str, Mapping[str, str] | None] = field(default_factory=dict)  # attr -> key -> level


@dataclass
class Combined:
    """The effective grant of one person and the grants it was made from."""

    attrs: dict[str, Any]
    origins: tuple[str, ...]


def _highest_role(roles: Iterable[str], rank: Mapping[str, int]) -> str | None:
    best: str | None = None
    for role in roles:
        if best is None or rank.get(role, len(rank)) < rank.get(best, len(rank)):
            best = role
    return best


def combine(grants: Sequence[Grant], role_rank: Mapping[str, int], level_rank: Mapping[str, int], scope_attrs: Sequence[str]) -> Combined:
    """The combined attributes of ``grants`` (None where no grant manages an attribute)."""
    if len(grants) == 1:  # most people: one grant, nothing to rank or merge (the same result, without the work)
        return _single(grants[0], scope_attrs)
    return _merged(grants, role_rank, level_rank, scope_attrs)


def _merged(grants: Sequence[Grant], role_rank: Mapping[str, int], level_rank: Mapping[str, int], scope_attrs: Sequence[str]) -> Combined:
    """:func:`combine` in general: ranks roles, unions custom roles, takes each scope's highest level."""
    roles = [g.role for g in grants if g.role is not None]
    customs = [g.custom_roles for g in grants if g.custom_roles is not None]
    attrs: dict[str, Any] = {
        "role": _highest_role(roles, role_rank) if roles else None,
        "custom_roles": sorted(set().union(*customs)) if customs else None,
    }
    for attr in scope_attrs:
        layers = [g.scopes.get(attr) for g in grants if g.scopes.get(attr) is not None]
        if not layers:
            attrs[attr] = None
            continue
        merged: dict[str, str] = {}
        for layer in layers:
            for key, level in (layer or {}).items():
                old = merged.get(key)
                if old is None or level_rank.get(level, -1) > level_rank.get(old, -1):
                    merged[key] = level
        attrs[attr] = dict(sorted(merged.items()))
    origins = tuple(dict.fromkeys(g.origin for g in grants))
    return Combined(attrs, origins)


def _single(grant: Grant, scope_attrs: Sequence[str]) -> Combined:
    """:func:`combine` of one grant."""
    attrs: dict[str, Any] = {
        "role": grant.role,
        "custom_roles": sorted(set(grant.custom_roles)) if grant.custom_roles is not None else None,
    }
    for attr in scope_attrs:
        layer = grant.scopes.get(attr)
        attrs[attr] = None if layer is None else dict(sorted(layer.items()))
    return Combined(attrs, (grant.origin,))


def reached(
    direct: Mapping[str, Grant],
    team_grants: Sequence[tuple[str, Grant]],
    team_members: Mapping[str, Sequence[str]],
    default: Grant | None,
    org_members: Sequence[str],
) -> dict[str, list[Grant]]:
    """Every person a workspace or space reaches, with the grants that reach them, in a stable order."""
    out: dict[str, list[Grant]] = {}
    for email, grant in direct.items():
        out.setdefault(email, []).append(grant)
    for team, grant in team_grants:
        for email in team_members.get(team, ()):
            out.setdefault(email, []).append(grant)
    if default is not None:
        for email in org_members:
            out.setdefault(email, []).append(default)
    return dict(sorted(out.items()))


def describe(origins: Sequence[str]) -> str:
    """``via team support and team sales`` (and ``their own entry`` when it is one of them)."""
    named = [o for o in origins if o != DIRECT]
    if not named:
        return "via their own entry"
    if DIRECT in origins:
        named.append("their own entry")
    head = ", ".join(named[:-1])
    return f"via {head} and {named[-1]}" if head else f"via {named[0]}"
