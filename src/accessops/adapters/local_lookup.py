"""Lookups of the rows a local change's key names, and their cache within one batch.

A change finds its parents by key: the organization, the member, the
custom roles of an organization (the team, workspace or space of a
membership is found in :mod:`accessops.adapters.local_write`). While one
transaction writes changes of a single resource type, those rows cannot
change (:func:`ancestors_fixed`), so each is looked up once per batch.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from collections.abc import Set as AbstractSet
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any


class Missing(Exception):
    """A parent the key names does not exist (turned into gone or an error by the caller)."""


def one(db: sqlite3.Connection, sql: str, *params: Any) -> int | None:
    row = db.execute(sql, params).fetchone()
    return None if row is None else int(row[0])


@dataclass
class _Fixed:
    """Ids cached for one transaction that writes changes of one resource type only."""

    db: sqlite3.Connection
    type: str
    ids: dict[tuple[Any, ...], Any] = field(default_factory=dict)


#: See :func:`ancestors_fixed`; None outside such a transaction.
_FIXED: ContextVar[_Fixed | None] = ContextVar("accessops_local_fixed", default=None)


@contextmanager
def ancestors_fixed(db: sqlite3.Connection, types: AbstractSet[str]) -> Iterator[None]:
    """Within this block ``db`` writes changes of ``types`` only: when that is one type other than organization, cache its ancestors' ids.

    A change looks up the rows its key names above it: the organization, the
    team or workspace of a membership, the member, the custom roles. Changes
    of one type never delete those rows nor give them new ids (a deletion
    cascades downwards only; a membership's invitation adds a member, whose
    id is cached once it exists), so each lookup is made once per batch. An
    organization's replacement or deletion changes every id below it: such a
    batch, and any batch that mixes types, caches nothing.
    """
    if len(types) != 1 or "organization" in types:
        yield
        return
    token = _FIXED.set(_Fixed(db, next(iter(types))))
    try:
        yield
    finally:
        _FIXED.reset(token)


def cached_ids(db: sqlite3.Connection, owner: str) -> dict[tuple[Any, ...], Any] | None:
    """The ids cached for rows of type ``owner`` on ``db``, or None when they may change (or nothing is cached)."""
    held = _FIXED.get()
    return held.ids if held is not None and held.db is db and held.type != owner else None


def org_id(db: sqlite3.Connection, org: str) -> int:
    """The id of organization ``org``; :class:`Missing` when there is none."""
    cache = cached_ids(db, "organization")
    if cache is not None and ("org", org) in cache:
        return int(cache["org", org])
    found = one(db, "SELECT id FROM organizations WHERE name = ?", org)
    if found is None:
        raise Missing(f'organization["{org}"]')
    if cache is not None:
        cache["org", org] = found
    return found


def member_row(db: sqlite3.Connection, org: str, email: str) -> int | None:
    """The id of a member, or None (a miss is never cached: the member may be invited later in the batch)."""
    cache = cached_ids(db, "member")
    if cache is not None and ("member", org, email) in cache:
        return int(cache["member", org, email])
    found = one(db, "SELECT id FROM members WHERE org_id = ? AND email = ?", org_id(db, org), email)
    if cache is not None and found is not None:
        cache["member", org, email] = found
    return found


def custom_role_ids(db: sqlite3.Connection, org: str) -> dict[str, int]:
    """Custom role name -> id in ``org`` (callers only read it: it may be the cached one)."""
    cache = cached_ids(db, "custom_role")
    if cache is not None and ("roles", org) in cache:
        return cache["roles", org]  # type: ignore[no-any-return]
    rows = db.execute("SELECT name, id FROM custom_roles WHERE org_id = ?", (org_id(db, org),))
    found = {name: int(rid) for name, rid in rows}
    if cache is not None:
        cache["roles", org] = found
    return found
