"""Compile a desired model into flat resources and the scopes git manages.

Pure: no I/O. Permission sets are expanded here, so the live system only
ever sees scopes. Only what a manifest states becomes an attribute; a field
left out stays unmanaged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from accessops.manifest.loader import DesiredModel
from accessops.model.compact import Shared
from accessops.model.grants import DEFAULT_ROLE, DIRECT, Grant, combine, reached, team_origin
from accessops.model.profile import Profile
from accessops.model.resource import ResourceMap, Scope

LEVELS = {"None": 0, "View only": 1, "Full": 2}  # when no profile is resolved


@dataclass
class Compiled:
    """Desired resources by address and the scopes in which git is authoritative."""

    resources: ResourceMap = field(default_factory=dict)
    scopes: list[Scope] = field(default_factory=list)
    # address -> the grants a membership was combined from, when any is not the
    # member's own entry ("team support", "default role"); explain, drift and
    # export name them
    origins: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # "org/team" of every team some team grant names: on a target without
    # teams these are only a grouping that expands into per-person grants
    grant_teams: set[str] = field(default_factory=set)
    # per organization, its teams' and members' lower-cased emails, worked out
    # once per compile (not once per workspace or space that grants to teams)
    _people: dict[tuple[str, str], Any] = field(default_factory=dict, repr=False)
    # one dict per distinct attribute set, interned addresses and keys (model/compact.py)
    _shared: Shared = field(default_factory=Shared, repr=False, compare=False)

    def add(self, type_: str, key: str, keep: tuple[str, ...] = (), **attrs: Any) -> None:
        """Add a resource, dropping unmanaged (None) attributes, except those in ``keep``.

        A kept None is managed: it states "unrestricted", and the planner lifts
        a restriction found live (docs/access-model.md, "Left out").
        """
        self._shared.put(self.resources, type_, key, {k: v for k, v in attrs.items() if v is not None or k in keep})

    def manage(self, type_: str, prefix: str) -> None:
        """Declare git authoritative for ``type_`` under ``prefix``."""
        self.scopes.append(Scope(type_, prefix))


#: Table actions: one left out of a manifest is unrestricted, and that is managed.
TABLE_ACTIONS = ("read", "create", "edit", "delete")


def _sorted(values: list[str] | None) -> list[str] | None:
    return None if values is None else sorted(set(values))


def _scopes(*layers: dict[str, str] | None) -> dict[str, str] | None:
    """Merge scope mappings, later layers winning; None when no layer manages them."""
    if all(layer is None for layer in layers):
        return None
    merged: dict[str, str] = {}
    for layer in layers:
        merged.update(layer or {})
    return dict(sorted(merged.items()))


def compile_model(model: DesiredModel) -> Compiled:
    """The desired resources of every declared organization."""
    out = Compiled()
    sets = {name: item.doc.spec for name, item in model.permission_sets.items()}

    for org_name, org_doc in sorted(model.organizations.items()):
        spec = org_doc.doc.spec
        o = f"{org_name}/"
        out.add("organization", org_name, profile=spec.profile, seats=spec.seats)
        for type_ in ("workspace", "space", "space_type"):
            out.manage(type_, o)
        if spec.members is not None:
            out.manage("member", o)
            for m in spec.members:
                out.add("member", o + m.email.lower(), role=m.role, global_admin=m.global_admin, name=m.name)
        if spec.teams is not None:
            out.manage("team", o)
            for t in spec.teams:
                out.add("team", o + t.name, description=t.description)
                if t.members is not None:
                    out.manage("team_member", f"{o}{t.name}/")
                    for email in sorted(set(e.lower() for e in t.members)):
                        out.add("team_member", f"{o}{t.name}/{email}")
        if spec.permissions is not None:
            out.manage("org_permission", o)
            for perm, role in spec.permissions.items():
                out.add("org_permission", o + perm, role=role)
        if spec.custom_roles is not None:
            out.manage("custom_role", o)
            for r in spec.custom_roles:
                out.add("custom_role", o + r.name, description=r.description)

    for key, ws_doc in sorted(model.workspaces.items()):
        ws = ws_doc.doc.spec
        w = f"{key}/"
        out.add("workspace", key, profile=ws.profile)
        if ws.members is not None or ws.teams is not None or ws.default_role is not None:
            out.manage("workspace_member", w)
            _workspace_members(out, model, key, sets)
        if ws.apps is not None:
            out.manage("app_permission", w)
            for app in ws.apps:
                out.add("app_permission", w + app.name, allow=_sorted(app.allow))
        if ws.tables is not None:
            out.manage("table_permission", w)
            for table in ws.tables:
                out.add(
                    "table_permission",
                    w + table.name,
                    keep=TABLE_ACTIONS,
                    read=_sorted(table.read),
                    create=_sorted(table.create),
                    edit=_sorted(table.edit),
                    delete=_sorted(table.delete),
                )
                if table.fields is not None:
                    out.manage("field_permission", f"{w}{table.name}/")
                    for f in table.fields:
                        out.add("field_permission", f"{w}{table.name}/{f.name}", keep=("read",), read=_sorted(f.read))

    for key, st_doc in sorted(model.space_types.items()):
        st = st_doc.doc.spec
        out.add("space_type", key, kind=st.kind)
        if st.roles is not None:
            out.manage("space_type_role", f"{key}/")
            for st_role in st.roles:
                out.add("space_type_role", f"{key}/{st_role.name}", permissions=sorted(set(st_role.permissions)))

    for key, sp_doc in sorted(model.spaces.items()):
        sp = sp_doc.doc.spec
        kind = sp.kind
        if kind is None and sp.type is not None:
            st_item = model.space_types.get(f"{sp.organization}/{sp.type}")
            kind = st_item.doc.spec.kind if st_item else None
        out.add("space", key, kind=kind, type=sp.type, private=sp.private, auto_join=sp.auto_join)
        if sp.members is not None or sp.teams is not None:
            out.manage("space_member", f"{key}/")
            _space_members(out, model, key, sets)
    out._people.clear()  # per-organization email lists: only compile reads them
    return out


def _team_members(out: Compiled, model: DesiredModel, org: str) -> dict[str, list[str]]:
    key = ("teams", org)
    if key not in out._people:
        out._people[key] = _team_members_of(model, org)
    found: dict[str, list[str]] = out._people[key]
    return found


def _team_members_of(model: DesiredModel, org: str) -> dict[str, list[str]]:
    item = model.organizations.get(org)
    teams = item.doc.spec.teams if item else None
    return {t.name: sorted(set(e.lower() for e in t.members or [])) for t in teams or []}


def _org_members(out: Compiled, model: DesiredModel, org: str) -> list[str]:
    key = ("members", org)
    if key not in out._people:
        out._people[key] = _org_members_of(model, org)
    found: list[str] = out._people[key]
    return found


def _org_members_of(model: DesiredModel, org: str) -> list[str]:
    item = model.organizations.get(org)
    members = item.doc.spec.members if item else None
    return sorted(m.email.lower() for m in members or [])


def _level_rank(profile: Profile | None) -> dict[str, int]:
    return {level: i for i, level in enumerate(profile.scope_levels)} if profile else LEVELS


def _add_combined(out: Compiled, type_: str, key: str, grants: list[Grant], role_rank: dict[str, int], levels: dict[str, int], scope_attrs: tuple[str, ...], drop: tuple[str, ...] = ()) -> None:
    combined = combine(grants, role_rank, levels, scope_attrs)
    # what out.add(type_, key, **attrs) keeps (no None: unmanaged), built once rather than three times,
    # and shared with the equal sets already built (model/compact.py)
    out._shared.put(out.resources, type_, key, {k: v for k, v in combined.attrs.items() if v is not None and k not in drop})
    if combined.origins != (DIRECT,):
        out.origins[f'{type_}["{key}"]'] = combined.origins


def _workspace_members(out: Compiled, model: DesiredModel, key: str, sets: dict[str, Any]) -> None:
    """Each person the workspace reaches (own entry, team grants, default role), combined."""
    ws = model.workspaces[key].doc.spec
    profile = model.workspace_profiles.get(key) or model.profiles.get(ws.organization)
    role_rank = {r.name: i for i, r in enumerate(profile.workspace_roles)} if profile else {}

    def grant(origin: str, role: str | None, custom: list[str] | None, sections: dict[str, str] | None, pset_name: str | None) -> Grant:
        pset = sets.get(pset_name) if pset_name else None
        scopes = {"sections": _scopes(pset.sections if pset else None, sections)}
        return Grant(origin, role, tuple(custom) if custom is not None else None, scopes)

    direct = {m.email.lower(): grant(DIRECT, m.role, m.custom_roles, m.sections, m.permission_set) for m in ws.members or []}
    teams = [(t.team, grant(team_origin(t.team), t.role, t.custom_roles, t.sections, t.permission_set)) for t in ws.teams or []]
    out.grant_teams.update(f"{ws.organization}/{t}" for t, _ in teams)
    default = Grant(DEFAULT_ROLE, ws.default_role) if ws.default_role is not None else None
    people = reached(
        direct,
        teams,
        _team_members(out, model, ws.organization) if teams else {},
        default,
        _org_members(out, model, ws.organization) if default is not None else [],
    )
    levels = _level_rank(profile)
    for email, grants in people.items():
        _add_combined(out, "workspace_member", f"{key}/{email}", grants, role_rank, levels, ("sections",))


def _space_members(out: Compiled, model: DesiredModel, key: str, sets: dict[str, Any]) -> None:
    """Each person the space reaches (own entry, team grants), combined."""
    sp = model.spaces[key].doc.spec
    profile = model.profiles.get(sp.organization)
    st = model.space_types.get(f"{sp.organization}/{sp.type}") if sp.type else None
    # space type roles rank in the order the type lists them, first highest
    role_rank = {r.name: i for i, r in enumerate(st.doc.spec.roles or [])} if st else {}

    def grant(origin: str, role: str | None, features: dict[str, str] | None, settings: dict[str, str] | None, pset_name: str | None) -> Grant:
        pset = sets.get(pset_name) if pset_name else None
        scopes = {
            "features": _scopes(pset.features if pset else None, features),
            "settings": _scopes(pset.settings if pset else None, settings),
        }
        return Grant(origin, role, None, scopes)

    direct = {m.email.lower(): grant(DIRECT, m.role, m.features, m.settings, m.permission_set) for m in sp.members or []}
    teams = [(t.team, grant(team_origin(t.team), t.role, t.features, t.settings, t.permission_set)) for t in sp.teams or []]
    out.grant_teams.update(f"{sp.organization}/{t}" for t, _ in teams)
    people = reached(direct, teams, _team_members(out, model, sp.organization) if teams else {}, None, [])
    levels = _level_rank(profile)
    for email, grants in people.items():
        _add_combined(out, "space_member", f"{key}/{email}", grants, role_rank, levels, ("features", "settings"), drop=("custom_roles",))
