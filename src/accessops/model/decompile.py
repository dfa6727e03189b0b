"""Turn live resources back into manifest documents (for ``accessops export``).

Pure. The inverse of :mod:`accessops.model.compile`: planning the exported
manifests against the same target gives no changes. Every collection is
written out (an empty list included), so the exported manifests manage all
of it, except a concept the organization's profile does not support: an
empty ``custom_roles: []`` or ``sections: {}`` would make the export invalid
for the org-roles, scoped-access and workspace-roles profiles (issue 15).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection
from typing import Any

from accessops.model.manifest import API_VERSION
from accessops.model.resource import Resource, ResourceMap

DEFAULT_PROFILE = "union"


def _doc(kind: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": API_VERSION, "kind": kind, "metadata": {"name": name}, "spec": spec}


def _pick(attrs: dict[str, Any], *names: str) -> dict[str, Any]:
    return {n: attrs[n] for n in names if n in attrs and attrs[n] is not None}


#: Workspace-member and workspace attributes by the profile concept they need.
_CONCEPT_OF = {"custom_roles": "custom_roles", "sections": "sections", "apps": "apps", "tables": "tables", "fields": "fields", "global_admin": "global_admin"}
Supports = Callable[[str | None], Collection[str] | None]


def _fits(concept: str, supported: Collection[str] | None, value: Any) -> bool:
    """Whether to write ``value`` for ``concept``: always when supported (or unknown), else only when it says something."""
    return supported is None or _CONCEPT_OF.get(concept, concept) in supported or bool(value)


def decompile(live: ResourceMap, org: str, supports: Supports | None = None, default_profile: str = DEFAULT_PROFILE) -> list[dict[str, Any]]:
    """Manifest documents describing organization ``org`` as it is live.

    ``supports`` maps a profile name (None: the organization's default) to
    the concepts it supports, or None when unknown (then everything is written).
    ``default_profile`` names the vocabulary of a target that stores none (SCIM).
    """
    by_type: dict[str, list[Resource]] = defaultdict(list)
    for res in live.values():
        if res.org == org:
            by_type[res.type].append(res)
    for items in by_type.values():
        items.sort(key=lambda r: r.key)

    def children(type_: str, parent_key: str) -> list[Resource]:
        prefix = parent_key + "/"
        return [r for r in by_type[type_] if r.key.startswith(prefix)]

    org_res = next((r for r in by_type["organization"]), Resource("organization", org, {}))
    profile = org_res.attrs.get("profile") or default_profile
    org_supports = supports(profile) if supports else None

    def keep(attrs: dict[str, Any], supported: Collection[str] | None) -> dict[str, Any]:
        return {k: v for k, v in attrs.items() if _fits(k, supported, v)}

    spec: dict[str, Any] = {"profile": profile}
    if org_res.attrs.get("seats") is not None:
        spec["seats"] = org_res.attrs["seats"]
    spec["members"] = [
        {"email": m.part("email"), **keep(_pick(m.attrs, "role", "global_admin", "name"), org_supports)} for m in by_type["member"]
    ]
    spec["teams"] = [
        {
            "name": t.part("team"),
            **_pick(t.attrs, "description"),
            "members": [tm.part("email") for tm in children("team_member", t.key)],
        }
        for t in by_type["team"]
    ]
    if by_type["org_permission"]:
        spec["permissions"] = {p.part("permission"): p.attrs.get("role") for p in by_type["org_permission"]}
    if by_type["custom_role"]:
        spec["custom_roles"] = [{"name": r.part("role"), **_pick(r.attrs, "description")} for r in by_type["custom_role"]]
    docs = [_doc("Organization", org, spec)]

    for ws in by_type["workspace"]:
        name = ws.part("workspace")
        wspec: dict[str, Any] = {"organization": org, **_pick(ws.attrs, "profile")}
        ws_supports = supports(ws.attrs["profile"]) if supports and ws.attrs.get("profile") else org_supports
        wspec["members"] = [
            {"email": m.part("email"), **keep(_pick(m.attrs, "role", "custom_roles", "sections"), ws_supports)}
            for m in children("workspace_member", ws.key)
        ]
        apps = [{"name": a.part("app"), **_pick(a.attrs, "allow")} for a in children("app_permission", ws.key)]
        tables = []
        for t in children("table_permission", ws.key):
            table: dict[str, Any] = {"name": t.part("table"), **_pick(t.attrs, "read", "create", "edit", "delete")}
            fields = [{"name": f.part("field"), **_pick(f.attrs, "read")} for f in children("field_permission", t.key)]
            if _fits("fields", ws_supports, fields):
                table["fields"] = fields
            tables.append(table)
        wspec.update(keep({"apps": apps, "tables": tables}, ws_supports))
        docs.append(_doc("Workspace", name, wspec))

    for st in by_type["space_type"]:
        roles = [{"name": r.part("role"), "permissions": r.attrs.get("permissions", [])} for r in children("space_type_role", st.key)]
        docs.append(_doc("SpaceType", st.part("space_type"), {"organization": org, **_pick(st.attrs, "kind"), "roles": roles}))

    for sp in by_type["space"]:
        members = [
            {"email": m.part("email"), **_pick(m.attrs, "role", "features", "settings")} for m in children("space_member", sp.key)
        ]
        sspec = {"organization": org, **_pick(sp.attrs, "kind", "type", "private", "auto_join"), "members": members}
        docs.append(_doc("Space", sp.part("space"), sspec))
    return docs
