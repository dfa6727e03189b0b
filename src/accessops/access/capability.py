"""The capability vocabulary: what a member can do to what, and why.

A capability is an ``action`` on a ``resource``, written the way a reviewer
reads it: ``read crm/customers``, ``read crm/customers/address``,
``delete_organization acme``, ``Billing:View crm``, ``archive_space roadmap``.
The resource is held as its full key (organization first) and shown relative
to the organization, because a member always belongs to one organization.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Scope levels become two capabilities per scope key: View (read and export)
# and Full (every write: create, edit, delete, run). DESIGN.md §1.
VIEW, FULL = "View", "Full"
LEVEL_GRANTS = {"None": frozenset(), "View only": frozenset({VIEW}), "Full": frozenset({VIEW, FULL})}

# Seed 004 organization-level actions (workspace owners and maintainers).
OWNER_ACTIONS = ("delete_workspace", "remove_owners", "remove_members", "manage_settings")
# Seed 004 space actions; delete_objects is what "Forbid delete object" takes away.
SPACE_ACTIONS = ("view_space", "update_space", "archive_space", "delete_space", "delete_objects")
# Seed 003 table actions; "read" on a field key is the field-level read.
TABLE_ACTIONS = ("read", "create", "edit", "delete")
# Seed 003 "Viewer: Can read and export data": export a table (follows read).
TABLE_EXPORT = "export"
APP_ACTION = "access"
ADMIN_ACTION = "admin"  # holds a bypass role: every granular restriction is lifted


def scope_action(key: str, grant: str) -> str:
    """``Billing:View`` from a scope key and VIEW/FULL."""
    return f"{key}:{grant}"


def level_action(key: str, level: str) -> str:
    """The capability a guardrail means by ``key`` at ``level`` (``Billing`` + ``Full``)."""
    return scope_action(key, FULL if level == "Full" else VIEW)


def local_name(org: str, resource: str) -> str:
    """``crm/customers`` from ``acme/crm/customers``; an org-level resource stays ``acme``."""
    return resource[len(org) + 1 :] if resource.startswith(org + "/") else resource


def full_name(org: str, resource: str) -> str:
    """``acme/crm/customers`` from either the local or the full spelling."""
    return resource if resource == org or resource.startswith(org + "/") else f"{org}/{resource}"


def short_member(email: str) -> str:
    """The local part of an email, as reasons name people (``bo``)."""
    return email.split("@", 1)[0]


@dataclass(frozen=True, slots=True)
class Capability:
    """One answer: may ``member`` do ``action`` to ``resource``, and the chain of reasons."""

    member: str  # email
    org: str
    action: str
    resource: str  # full key, organization first
    allowed: bool  # effective: what they can do now
    reasons: tuple[str, ...]
    configured: bool | None = None  # an invited member's verdict once they accept (None: same as allowed)

    @property
    def name(self) -> str:
        """``edit crm/customers``: the capability without its verdict."""
        return f"{self.action} {local_name(self.org, self.resource)}"

    @property
    def verdict(self) -> str:
        """``allowed``, ``denied``, or for an invited member ``denied (allowed once they accept)``."""
        if self.configured and not self.allowed:
            return "denied (allowed once they accept)"
        return "allowed" if self.allowed else "denied"

    def line(self) -> str:
        """``edit crm/customers: denied: table edit is restricted to [support]; bo is Editor without support``."""
        return f"{self.name}: {self.verdict}: {'; '.join(self.reasons)}"

    def to_json(self) -> dict[str, Any]:
        """The JSON form used by ``explain`` and ``who-can``."""
        return {
            "member": self.member,
            "organization": self.org,
            "capability": self.name,
            "action": self.action,
            "resource": local_name(self.org, self.resource),
            "allowed": self.allowed,
            "configured": self.allowed if self.configured is None else self.configured,
            "reasons": list(self.reasons),
        }


def highlight(action: str, billing_keys: frozenset[str] = frozenset()) -> str | None:
    """Why a capability deserves a reviewer's eye: ``owner``, ``admin``, ``billing``, ``delete`` or None."""
    if action in ("delete_workspace", "remove_owners"):
        return "owner"
    if action in (ADMIN_ACTION, "update_permissions"):
        return "admin"
    if action in billing_keys or action.startswith("Billing:"):
        return "billing"
    if "delete" in action or action == "remove_members":
        return "delete"
    return None
