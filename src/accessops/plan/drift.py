"""Tell where each difference came from, using what was last applied.

Pure. ``live`` differs from ``last_applied``: changed outside accessops.
``desired`` differs from ``last_applied``: changed in git. Both: both.
"""

from __future__ import annotations

from typing import Any

from accessops.model.resource import RESOURCE_TYPES, ResourceMap
from accessops.plan.change import Change, Drift, Origin


def _same(a: dict[str, Any] | None, b: dict[str, Any] | None, type_: str) -> bool:
    """Equal on the attributes ``a`` manages (live-only attributes ignored)."""
    if a is None or b is None:
        return a is None and b is None
    readonly = RESOURCE_TYPES[type_].readonly
    return all(b.get(k) == v for k, v in a.items() if k not in readonly)


def changed_outside(live: ResourceMap, last_applied: ResourceMap, addresses: set[str] | None = None) -> list[Drift]:
    """Objects whose live state no longer matches the last apply ("changed outside accessops").

    Only addresses accessops applied before (or ``addresses`` when given) are
    considered, so objects git never managed are not drift.
    """
    out: list[Drift] = []
    candidates = set(last_applied) if addresses is None else addresses
    for addr in candidates:
        last = last_applied.get(addr)
        now = live.get(addr)
        if last is None:
            continue
        if now is not None and (last.attrs == now.attrs or _same(last.attrs, now.attrs, last.type)):
            continue
        # show only what accessops manages, not live-only status or times
        seen = {k: v for k, v in now.attrs.items() if k in last.attrs} if now else None
        out.append(Drift(last.type, last.key, Origin.LIVE, last.attrs, seen))
    return sorted(out, key=lambda d: d.address)


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
