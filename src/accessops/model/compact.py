"""One object per distinct attribute set, address and key (issue 14 item 5).

A plan holds the desired, the live and the last-applied resources at once:
at 100k members about a million resources. Most of them repeat a handful
of attribute sets (``{}`` for a team membership, ``{"role": "Member",
"custom_roles": [], "sections": {}}`` for a workspace grant, ...), and the
three maps name the same addresses. :class:`Shared` makes each builder
hand out one dict per distinct attribute set, and interns every address and
key (``sys.intern``) so the three maps share one string per address, which
also lets dict lookups between them succeed on identity.

Sharing is safe because resource attributes are never changed in place
(every step that changes one builds a new dict: the planner's ``after``,
simulate, configured); ``tests/test_plan_memory.py`` holds that.
"""

from __future__ import annotations

import sys
from typing import Any

from accessops.model.resource import Resource, ResourceMap

#: Types whose attribute sets repeat (memberships and permissions): one dict each.
SHARED_TYPES = frozenset({
    "team_member", "workspace_member", "space_member", "org_permission",
    "app_permission", "table_permission", "field_permission", "space_type_role",
})

#: Attributes of the other types whose values come from a small vocabulary.
VOCABULARY = ("role", "status", "kind", "profile", "type")

_intern = sys.intern


def attrs_key(attrs: dict[str, Any]) -> tuple[Any, ...] | None:
    """A hashable key equal for equal attribute sets (same order, same types); None if a value has none."""
    parts: list[Any] = []
    for k, v in attrs.items():
        t = type(v)
        if t is list:
            parts.append((k, list, *v))
        elif t is dict:
            parts.append((k, dict, *v.items()))
        else:
            parts.append((k, t, v))
    key = tuple(parts)
    try:
        hash(key)
    except TypeError:  # a nested list or mapping: left unshared
        return None
    return key


class Shared:
    """A resource builder that shares equal attribute sets and interns addresses and keys."""

    __slots__ = ("_sets",)

    def __init__(self) -> None:
        self._sets: dict[tuple[Any, ...], dict[str, Any]] = {}

    def attrs(self, type_: str, attrs: dict[str, Any]) -> dict[str, Any]:
        """``attrs``, or the equal set this builder handed out before."""
        if type_ in SHARED_TYPES:
            key = attrs_key(attrs)
            if key is None:
                return attrs
            return self._sets.setdefault(key, attrs)
        for name in VOCABULARY:
            value = attrs.get(name)
            if type(value) is str:
                attrs[name] = _intern(value)
        return attrs

    def resource(self, type_: str, key: str, attrs: dict[str, Any]) -> tuple[str, Resource]:
        """The (interned address, resource) pair for a map."""
        key = _intern(key)
        return _intern(f'{type_}["{key}"]'), Resource(_intern(type_), key, self.attrs(type_, attrs))

    def put(self, out: ResourceMap, type_: str, key: str, attrs: dict[str, Any]) -> Resource:
        """Build a resource into ``out`` and return it."""
        addr, res = self.resource(type_, key, attrs)
        out[addr] = res
        return res
