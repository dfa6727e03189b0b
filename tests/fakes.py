"""Fake adapters for tests, all in one place (the real ones are tested against real servers)."""

from __future__ import annotations

from collections.abc import Sequence

from accessops.adapters.base import Adapter, ItemGoneError, Target
from accessops.model.resource import RESOURCE_TYPES, Resource, ResourceMap
from accessops.plan.change import Action, Change
from accessops.plan.planner import parent_keys


class MemoryAdapter(Adapter):
    """Holds live resources in a dict and applies changes to it, counting writes."""

    scheme = "memory"
    supports = {t: frozenset({"*"}) for t in RESOURCE_TYPES}

    def __init__(self, resources: ResourceMap | None = None) -> None:
        super().__init__(Target.parse("memory:"))
        self.resources: ResourceMap = dict(resources or {})

    def read(self, orgs: Sequence[str]) -> ResourceMap:
        """Every resource of ``orgs``."""
        wanted = set(orgs)
        return {a: r for a, r in self.resources.items() if r.org in wanted}

    def apply(self, change: Change) -> None:
        """Apply one change to the dict."""
        addr = change.address
        self.writes += 1
        if change.action is Action.DELETE:
            if addr not in self.resources:
                raise ItemGoneError(addr)
            del self.resources[addr]
            self._drop_children(change.type, change.key)
            return
        if change.action is Action.UPDATE and addr not in self.resources:
            raise ItemGoneError(addr)
        if change.action is Action.REPLACE:
            self._drop_children(change.type, change.key)
        after = dict(change.after or {})
        if change.type == "member" and change.action is Action.CREATE:
            after.setdefault("status", "invited")
        self.resources[addr] = Resource(change.type, change.key, after)


    def _drop_children(self, type_: str, key: str) -> None:
        """Like a real tenant: an object's children go with it."""
        for addr, res in list(self.resources.items()):
            if (type_, key) in parent_keys(res):
                del self.resources[addr]


def apply_all(adapter: Adapter, changes: list[Change]) -> None:
    """Apply every change in order."""
    for change in changes:
        adapter.apply(change)
