"""One object per distinct attribute set, address and key (issue 14 item 5).

A plan holds the desired, the live and the last-applied resources at once:
at 100k members about a million resources. Most of them repeat a handful
of attribute sets (``{}`` for a team membership, ``{"role": "Member",
"custom_roles": [], "sections": {}}`` for a workspace grant, ...), and the
three maps name the same addresses. :class:`Shared` makes each builder
hand out one dict per distinct attribute set, and puts every address and
key through one string pool, so the three maps share one string per address
(which also lets dict lookups between them succeed on identity). The pool
is a plain dict, not ``sys.intern``, alive only inside :func:`pooled_strings`:
the engine drops it once the three maps are read, before the plan's later
steps reach their peak (the pool itself is a sizeable table).

Sharing is safe because resource attributes are never changed in place
(every step that changes one builds a new dict: the planner's ``after``,
simulate, configured); ``tests/test_plan_memory.py`` holds that.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from marshal import dumps as _dumps
from typing import Any

from accessops.model.resource import Resource, ResourceMap

#: Types whose attribute sets repeat (memberships and permissions): one dict each.
SHARED_TYPES = frozenset({
    "team_member", "workspace_member", "space_member", "org_permission",
    "app_permission", "table_permission", "field_permission", "space_type_role",
})

#: Attributes of a member whose values come from a small vocabulary.
VOCABULARY = ("role", "status")

# address -> (address, key): one look-up gives a resource both its strings;
# set only inside pooled_strings(); also holds vocabulary values (value -> value)
_POOL: dict[str, Any] | None = None


@contextmanager
def pooled_strings() -> Iterator[None]:
    """Inside: every builder's addresses and keys go through one pool (nested use shares it).

    Outside, nothing is pooled (a long-lived caller keeps no table of old
    strings); the strings stay shared where they are already used.
    """
    global _POOL
    outer = _POOL
    if outer is None:
        _POOL = {}
    try:
        yield
    finally:
        _POOL = outer


def string_pool() -> dict[str, Any]:
    """The pool in use, to look up (address, key) pairs by address; an empty dict outside a pool.

    A reader that only looks up (the last-applied state, read after the
    desired and live maps) leaves the pool as it is.
    """
    return _POOL if _POOL is not None else {}


def attrs_key(attrs: dict[str, Any]) -> bytes | None:
    """A key equal exactly for equal attribute sets (same order, same types); None if a value has none.

    ``marshal`` (format 0: no back-references, no interning flag) writes the
    dict in C, types included: ``True`` is not ``1``, ``[]`` is not ``{}``.
    """
    try:
        return _dumps(attrs, 0)
    except ValueError:  # a value marshal cannot write: left unshared
        return None


class Shared:
    """A resource builder that shares equal attribute sets (and, in a pool, addresses and keys)."""

    __slots__ = ("_sets",)

    def __init__(self) -> None:
        self._sets: dict[bytes, dict[str, Any]] = {}

    def attrs(self, type_: str, attrs: dict[str, Any]) -> dict[str, Any]:
        """``attrs`` (the caller's own dict), or the equal set this builder handed out before."""
        if type_ in SHARED_TYPES:
            try:
                return self._sets.setdefault(_dumps(attrs, 0), attrs)
            except ValueError:  # see attrs_key
                return attrs
        pool = _POOL
        if type_ == "member" and pool is not None:  # unique (a name, times), but the role and status repeat
            for name in VOCABULARY:
                value = attrs.get(name)
                if value.__class__ is str:
                    attrs[name] = pool.setdefault("=" + value, value)  # "=": never an address
        return attrs

    def put(self, out: ResourceMap, type_: str, key: str, attrs: dict[str, Any]) -> None:
        """Build a resource into ``out`` under its (pooled) address.

        :meth:`attrs` is inlined for the shared types: a million calls at 100k members.
        """
        addr = f'{type_}["{key}"]'
        pool = _POOL
        if pool is not None:
            addr, key = pool.setdefault(addr, (addr, key))
        if type_ in SHARED_TYPES:
            try:
                attrs = self._sets.setdefault(_dumps(attrs, 0), attrs)
            except ValueError:  # see attrs_key
                pass
        elif type_ == "member":
            attrs = self.attrs(type_, attrs)
        # type names are literals (one object each already)
        out[addr] = Resource(type_, key, attrs)

    def put_shared(self, out: ResourceMap, type_: str, key: str, attrs: dict[str, Any]) -> None:
        """:meth:`put` for attributes that are one dict per distinct set already (a decoded table)."""
        addr = f'{type_}["{key}"]'
        pool = _POOL
        if pool is not None:
            addr, key = pool.setdefault(addr, (addr, key))
        out[addr] = Resource(type_, key, attrs)
