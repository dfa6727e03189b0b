"""Terraform names for accessops resources: types, addresses, and ``values``.

Internally a resource is ``member["acme/bo@acme.test"]``: state, fingerprints,
the apply log and the human views keep that. In the JSON plan each one is a
Terraform resource instance: type ``accessops_member`` (the ``accessops_``
prefix names the provider, as ``aws_`` does), name = the organization (one
``for_each`` block per type and organization) and index = the rest of the key,
so ``accessops_member.acme["bo@acme.test"]``. An organization is a single
instance without an index: ``accessops_organization.acme``. The key's segments
also appear in ``values`` (``org``, ``email``, ``workspace``, ...), so a policy
reads ``values.email`` rather than parsing the index. docs/plan-json.md says why.
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import lru_cache
from typing import Any

from accessops.model.resource import RESOURCE_TYPES

FORMAT_VERSION = "1.2"
#: The Terraform release whose ``terraform show -json`` output this shape was
#: compared with. Tools gate on it (terraform-compliance accepts 0.12.x-1.16.x
#: only), so it must be a real Terraform version, not accessops's own, which is
#: ``accessops.version``.
TERRAFORM_VERSION = "1.11.4"
STATE_FORMAT_VERSION = "1.0"
PROVIDER = "accessops"
#: A provider source address (hostname/namespace/type) no registry serves.
PROVIDER_NAME = "accessops.invalid/accessops/accessops"
TYPE_PREFIX = "accessops_"
EXTRA = "accessops"

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f]')


def tf_type(type_: str) -> str:
    """``member`` -> ``accessops_member``."""
    return TYPE_PREFIX + type_


def native_type(tf: str) -> str:
    """``accessops_member`` -> ``member``; ValueError for a type accessops does not have."""
    type_ = tf[len(TYPE_PREFIX) :] if tf.startswith(TYPE_PREFIX) else ""
    if type_ not in RESOURCE_TYPES:
        raise ValueError(f"not an accessops resource type: {tf!r}")
    return type_


@lru_cache(maxsize=1024)  # remembers names of organizations, which never change meaning
def block_name(org: str) -> str:
    """The organization as a Terraform name; one that is not an identifier is
    spelled with ``_`` and a short hash, so two organizations never share one."""
    if _IDENTIFIER.match(org):
        return org
    slug = re.sub(r"[^A-Za-z0-9_-]", "_", org)
    if not re.match(r"[A-Za-z_]", slug):
        slug = "_" + slug
    return f"{slug}_{hashlib.sha256(org.encode()).hexdigest()[:8]}"


def split_key(type_: str, key: str) -> tuple[str, str | None]:
    """(organization, index): the index is the key after the organization, None for one."""
    org, _, rest = key.partition("/")
    return org, (rest if len(RESOURCE_TYPES[type_].key_parts) > 1 else None)


def tf_address(type_: str, key: str) -> str:
    """``accessops_member.acme["bo@acme.test"]``; quotes in the index escaped as Terraform does."""
    org, index = split_key(type_, key)
    base = f"{tf_type(type_)}.{block_name(org)}"
    if index is None:
        return base
    quoted = json.dumps(index, ensure_ascii=False) if _NEEDS_ESCAPE.search(index) else f'"{index}"'
    return f"{base}[{quoted}]"


def key_fields(type_: str, key: str) -> dict[str, str]:
    """The key's segments by name: ``{"org": "acme", "email": "bo@acme.test"}``.

    No resource type has an attribute named like one of its key segments
    (tests/test_plan_json.py checks every example), so adding them to
    ``values`` loses nothing and :func:`attrs_of` can take them out again.
    """
    parts = RESOURCE_TYPES[type_].key_parts
    # the last segment may be an email, which holds no "/" either; split exactly len(parts)
    return dict(zip(parts, key.split("/", len(parts) - 1)))


def values_of(type_: str, key: str, attrs: dict[str, Any] | None) -> dict[str, Any] | None:
    """Terraform's ``values`` (or a change's before/after): attributes plus key segments."""
    if attrs is None:
        return None
    return {**attrs, **key_fields(type_, key)}


def attrs_of(type_: str, values: dict[str, Any] | None) -> dict[str, Any] | None:
    """Inverse of :func:`values_of`."""
    if values is None:
        return None
    parts = RESOURCE_TYPES[type_].key_parts
    return {k: v for k, v in values.items() if k not in parts}
