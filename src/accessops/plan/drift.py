"""Tell where each difference came from, using what was last applied.

Pure. ``live`` differs from ``last_applied``: changed outside accessops.
``desired`` differs from ``last_applied``: changed in git. Both: both.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from accessops.model.resource import RESOURCE_TYPES, SUSPENDED_STATUSES, ResourceMap
from accessops.plan.change import Action, Change, Drift, Origin

#: Attributes that hold custom role names, by resource type (seed 001/003 uses of a role).
ROLE_LISTS: dict[str, tuple[str, ...]] = {
    "workspace_member": ("custom_roles",),
    "app_permission": ("allow",),
    "table_permission": ("read", "create", "edit", "delete"),
    "field_permission": ("read",),
}


def _same(a: dict[str, Any] | None, b: dict[str, Any] | None, type_: str) -> bool:
    """Equal on the attributes ``a`` manages (live-only attributes ignored)."""
    if a is None or b is None:
        return a is None and b is None
    readonly = RESOURCE_TYPES[type_].readonly
    return all(b.get(k) == v for k, v in a.items() if k not in readonly)


def changed_outside(
    live: ResourceMap,
    last_applied: ResourceMap,
    addresses: set[str] | None = None,
    changes: list[Change] | None = None,
) -> list[Drift]:
    """Objects whose live state no longer matches the last apply ("changed outside accessops").

    Only addresses accessops applied before (or ``addresses`` when given) are
    considered for changes and removals, so objects git never managed are
    not drift. Objects *created* live count too: once accessops has applied
    to the target, a live object it never applied that the plan deletes
    (``changes``; e.g. an Admin user created directly in the SCIM server)
    was created outside accessops. A member suspended live (deactivated) is
    drift of its ``status``, though status is otherwise live-only.
    """
    out: list[Drift] = []
    candidates: Collection[str] = last_applied.keys() if addresses is None else addresses
    for addr in candidates:
        last = last_applied.get(addr)
        now = live.get(addr)
        if last is None:
            continue
        suspended = now is not None and now.type == "member" and now.attrs.get("status") in SUSPENDED_STATUSES
        # equal, or every attribute applied is still there as applied (a C-level test; live adds only
        # live-only attributes such as status), or equal on what is managed
        if not suspended and now is not None and (last.attrs == now.attrs or last.attrs.items() <= now.attrs.items() or _same(last.attrs, now.attrs, last.type)):
            continue
        # show only what accessops manages, not live-only status or times
        seen = {k: v for k, v in now.attrs.items() if k in last.attrs} if now else None
        before = last.attrs
        if suspended and seen is not None and now is not None:
            before, seen = {**last.attrs, "status": "active"}, {**seen, "status": now.attrs["status"]}
        out.append(Drift(last.type, last.key, Origin.LIVE, before, seen))
    if last_applied and changes:
        for change in changes:
            if change.action is Action.DELETE and change.address not in last_applied and change.address in live:
                now = live[change.address]
                out.append(Drift(now.type, now.key, Origin.LIVE, None, dict(now.attrs)))
    return sorted(out, key=lambda d: d.address)


def cascade_effects(state: ResourceMap, change: Change) -> list[Change]:
    """What deleting a custom role does to the objects that name it (seed 001: its uses go with it).

    Updates that drop the role from every workspace member's ``custom_roles``
    and from every app / table / field role list in ``state``, so that the
    last applied state records the cascade and the next plan does not show
    accessops's own removals as "changed live".
    """
    if change.type != "custom_role" or change.action is not Action.DELETE:
        return []
    org, role = change.key.split("/", 1)
    out = []
    for res in sorted(state.values(), key=lambda r: r.address):
        if res.org != org:
            continue
        attrs = ROLE_LISTS.get(res.type, ())
        dropped = {a: [r for r in res.attrs[a] if r != role] for a in attrs if role in (res.attrs.get(a) or [])}
        if dropped:
            out.append(Change(Action.UPDATE, res.type, res.key, dict(res.attrs), {**res.attrs, **dropped}, ("removed with its custom role",)))
    return out


def classify(changes: list[Change], desired: ResourceMap, live: ResourceMap, last_applied: ResourceMap) -> list[Drift]:
    """Each planned difference, labelled changed in git, changed live, or both."""
    out: list[Drift] = []
    for change in changes:
        addr = change.address
        last = last_applied.get(addr)
        want = desired.get(addr)
        now = live.get(addr)
        last_attrs = last.attrs if last else None
        git_changed = not _same(want.attrs if want else None, last_attrs, change.type) if (want or last) else False
        live_changed = not _same(last_attrs, now.attrs if now else None, change.type) if (last or now) else False
        if last is None and now is not None and want is None:
            live_changed, git_changed = True, False  # created behind git's back
        if last is None and now is None:
            git_changed, live_changed = True, False  # new in git
        origin = Origin.BOTH if git_changed and live_changed else Origin.LIVE if live_changed else Origin.GIT
        out.append(Drift(change.type, change.key, origin, last_attrs, now.attrs if now else None))
    return out
