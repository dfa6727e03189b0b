"""Flat, addressable resources: what the planner compares and adapters apply.

Every resource has a ``type`` and a ``key`` whose first segment is the
organization: ``member["acme/ada@acme.test"]``,
``field_permission["acme/crm/customers/address"]``. ``attrs`` holds
JSON-ready, normalised values (lists sorted, mappings with sorted keys).
A desired resource holds only the attributes its manifest manages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class ResourceType:
    """How one resource type behaves in a plan."""

    name: str
    order: int  # creation order; deletion runs in reverse
    key_parts: tuple[str, ...]  # names of the key's segments, org first
    replace_on: frozenset[str] = frozenset()  # attributes that cannot change in place
    readonly: frozenset[str] = frozenset()  # live-only attributes (status, times)
    kind: str = ""  # budget kind for safety guards: members, memberships, grants
    observed: bool = False  # live only: read from the target for explain, never declared or planned


_TYPES = (
    ResourceType("organization", 0, ("org",)),
    ResourceType("custom_role", 10, ("org", "role")),
    ResourceType("org_permission", 15, ("org", "permission"), kind="grants"),
    ResourceType("member", 20, ("org", "email"), readonly=frozenset({"status", "invited_at", "joined_at", "superuser"}), kind="members"),
    ResourceType("team", 30, ("org", "team")),
    ResourceType("team_member", 40, ("org", "team", "email"), kind="memberships"),
    ResourceType("workspace", 50, ("org", "workspace")),
    ResourceType("workspace_member", 60, ("org", "workspace", "email"), kind="grants"),
    ResourceType("app_permission", 70, ("org", "workspace", "app"), kind="grants"),
    ResourceType("table_permission", 70, ("org", "workspace", "table"), kind="grants"),
    ResourceType("field_permission", 75, ("org", "workspace", "table", "field"), kind="grants"),
    # A table the target holds, with the fields git does not manage and their
    # readers: live only, never planned; explain answers undeclared tables and
    # fields from it (docs/access-model.md, "What the manifests leave out").
    ResourceType("table", 76, ("org", "workspace", "table"), observed=True),
    ResourceType("space_type", 80, ("org", "space_type"), replace_on=frozenset({"kind"})),
    ResourceType("space_type_role", 85, ("org", "space_type", "role")),
    ResourceType("space", 90, ("org", "space"), replace_on=frozenset({"kind"})),
    ResourceType("space_member", 100, ("org", "space", "email"), kind="grants"),
)
RESOURCE_TYPES: dict[str, ResourceType] = {t.name: t for t in _TYPES}
#: The types manifests declare and adapters write (every type but the observed ones).
MANAGED_TYPES = frozenset(t.name for t in _TYPES if not t.observed)

#: Live member statuses of a deactivated account (SCIM ``active: false``,
#: Directus ``suspended``): how identity providers offboard people. Not an
#: invitation, nothing to accept; no access while suspended.
SUSPENDED_STATUSES = frozenset({"suspended"})


def address(type_: str, key: str) -> str:
    """The Terraform-style address of a resource: ``type["key"]``."""
    return f'{type_}["{key}"]'


def parse_address(addr: str) -> tuple[str, str]:
    """Split ``type["key"]`` into (type, key)."""
    type_, _, rest = addr.partition('["')
    if not rest.endswith('"]') or type_ not in RESOURCE_TYPES:
        raise ValueError(f"not a resource address: {addr}")
    return type_, rest[:-2]


@dataclass(frozen=True, slots=True, init=False)
class Resource:
    """One addressable object of the desired or live state."""

    type: str
    key: str
    attrs: dict[str, Any] = field(default_factory=dict)

    def __init__(self, type: str, key: str, attrs: dict[str, Any] | None = None) -> None:  # noqa: A002 - the field's name
        # A million of these at 100k members: the slots are set through their
        # descriptors, a third of the cost of the frozen dataclass's own
        # __init__ (object.__setattr__ by name); still frozen afterwards.
        _set_type(self, type)
        _set_key(self, key)
        _set_attrs(self, {} if attrs is None else attrs)

    @property
    def address(self) -> str:
        """``type["key"]``."""
        return f'{self.type}["{self.key}"]'

    @property
    def org(self) -> str:
        """The organization this resource belongs to."""
        return self.key.split("/", 1)[0]

    def part(self, name: str) -> str:
        """A named segment of the key, e.g. ``part("email")``."""
        parts = RESOURCE_TYPES[self.type].key_parts
        # emails and names hold no "/", so a plain split is exact
        return self.key.split("/")[parts.index(name)]


_set_type = Resource.__dict__["type"].__set__
_set_key = Resource.__dict__["key"].__set__
_set_attrs = Resource.__dict__["attrs"].__set__


@dataclass(frozen=True, slots=True)
class Scope:
    """A managed scope: live resources of ``type`` under ``prefix`` not in git are deleted.

    A manifest that leaves out ``teams`` manages no team; one that lists
    ``teams: []`` manages them all and wants none.
    """

    type: str
    prefix: str  # key prefix ending in "/" or a whole key

    def covers(self, resource: Resource) -> bool:
        """Whether ``resource`` falls in this scope."""
        return resource.type == self.type and (
            resource.key.startswith(self.prefix) if self.prefix.endswith("/") else resource.key == self.prefix
        )


ResourceMap = dict[str, Resource]  # address -> resource
