"""Shared pieces of the cross-document checks: the context they read and small checks.

A check never stops at the first problem: each returns (or appends) every
problem it finds, located at the manifest line that caused it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from accessops.errors import Problem
from accessops.manifest.loader import DesiredModel, Loaded
from accessops.model.profile import Profile

T = TypeVar("T")
Path = tuple[Any, ...]


@dataclass
class CheckContext:
    """What every check may look up: the model and per-organization indexes."""

    model: DesiredModel
    problems: list[Problem] = field(default_factory=list)
    # org name -> lower-cased member emails; None when the org leaves members unmanaged
    org_members: dict[str, frozenset[str] | None] = field(default_factory=dict)
    # org name -> custom role names declared by the org (empty when unmanaged)
    custom_roles: dict[str, frozenset[str]] = field(default_factory=dict)
    # org name -> team names
    teams: dict[str, frozenset[str]] = field(default_factory=dict)

    def add(self, problem: Problem) -> None:
        """Record one problem."""
        self.problems.append(problem)


def build_context(model: DesiredModel) -> CheckContext:
    """Index the organizations of ``model`` for reference checks."""
    ctx = CheckContext(model)
    for name, org in model.organizations.items():
        spec = org.doc.spec
        ctx.org_members[name] = None if spec.members is None else frozenset(m.email.lower() for m in spec.members)
        ctx.custom_roles[name] = frozenset(r.name for r in spec.custom_roles or [])
        ctx.teams[name] = frozenset(t.name for t in spec.teams or [])
    return ctx


def check_duplicates(
    ctx: CheckContext,
    item: Loaded[Any],
    base: Path,
    values: Iterable[T],
    key: Callable[[T], str],
    code: str,
    what: str,
) -> None:
    """Report each value of a list whose ``key`` was already seen, at its own line."""
    seen: dict[str, int] = {}
    for i, value in enumerate(values):
        k = key(value)
        if k in seen:
            first = item.locate((*base, seen[k])).line
            ctx.add(item.problem((*base, i), code, f"{what} {k!r} is declared twice (first at line {first})"))
        else:
            seen[k] = i


def check_concept(ctx: CheckContext, item: Loaded[Any], path: Path, profile: Profile, concept: str, what: str) -> bool:
    """Report ``what`` when ``profile`` does not support ``concept``; True when supported."""
    if profile.supports_concept(concept):
        return True
    ctx.add(
        item.problem(
            path,
            "profile.unsupported-concept",
            f"profile {profile.name!r} does not support {what} (supports: {', '.join(profile.supports) or 'nothing'})",
        )
    )
    return False


def check_scopes(
    ctx: CheckContext,
    item: Loaded[Any],
    path: Path,
    scopes: dict[str, str] | None,
    known: list[str],
    profile: Profile,
    kind: str,
) -> None:
    """Each scope key must be a ``kind`` of the profile and each level one of its scope levels."""
    for key, level in (scopes or {}).items():
        if key not in known:
            offered = ", ".join(known) if known else "none"
            ctx.add(item.problem((*path, key), f"ref.unknown-{kind}", f"unknown {kind} {key!r} in profile {profile.name!r} (known: {offered})"))
        if level not in profile.scope_levels:
            ctx.add(
                item.problem(
                    (*path, key),
                    "ref.unknown-scope-level",
                    f"unknown scope level {level!r} for {key!r} (expected one of {', '.join(profile.scope_levels)})",
                )
            )


def check_member_in_org(ctx: CheckContext, item: Loaded[Any], path: Path, org: str, email: str, code: str, where: str) -> None:
    """A person named in ``where`` must be a member of ``org`` when the org manages members."""
    members = ctx.org_members.get(org)
    if members is not None and email.lower() not in members:
        ctx.add(item.problem(path, code, f"{where}: member {email!r} is not in organization {org!r}"))


def check_team_ref(ctx: CheckContext, item: Loaded[Any], path: Path, org: str, team: str) -> bool:
    """A team grant's team: declared in ``org``, with its members listed; True when usable."""
    if team not in ctx.teams.get(org, frozenset()):
        known = ", ".join(sorted(ctx.teams.get(org, frozenset()))) or "none"
        ctx.add(item.problem(path, "ref.unknown-team", f"team {team!r} is not declared in organization {org!r} (it has {known})"))
        return False
    org_item = ctx.model.organizations.get(org)
    teams = {t.name: t for t in (org_item.doc.spec.teams or [])} if org_item else {}
    if teams.get(team) is not None and teams[team].members is None:
        ctx.add(item.problem(path, "ref.team-members-unmanaged", f"team {team!r} grants access, so organization {org!r} must list its members"))
        return False
    return True
