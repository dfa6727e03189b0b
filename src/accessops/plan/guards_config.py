"""What the safety guards allow: ``accessops.toml`` sections and command-line overrides.

Defaults follow the anchors (Peribolos, octoDNS): a removal budget of 25% per
kind, enforced once at least 10 of that kind exist; at least one active
Owner/Admin per organization and workspace. Flags on ``plan`` and ``apply``
land in the same settings sections, so a guard reads one place::

    [guards]
    min_admins = 1
    allow_cascade = false
    allow_removals = { memberships = 14 }   # acknowledges exactly 14

    [guards.budgets]              # every kind
    max_share = 0.25
    min_existing = 10
    [guards.budgets.memberships]  # one kind
    max_count = 30

    [modes]
    members = "additive"          # authoritative (default) | additive

    [ignore]
    patterns = ["*@contractor.test"]

    [invitations]
    expire_days = 14
    resend = true
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any

from accessops.errors import ConfigError
from accessops.model.resource import RESOURCE_TYPES
from accessops.settings import Settings

#: Removal budget kinds, their display names, and the resource types they count.
BUDGET_KINDS: dict[str, str] = {
    "members": "org members",
    "memberships": "team memberships",
    "grants": "workspace and space grants",
    "admins": "owner/admin grants",
}

#: Management-mode kinds (``[modes]``) and the resource types each covers.
MODE_KINDS: dict[str, tuple[str, ...]] = {
    "members": ("member",),
    "teams": ("team",),
    "memberships": ("team_member",),
    "grants": ("workspace_member", "space_member"),
    "permissions": ("org_permission", "app_permission", "table_permission", "field_permission"),
    "custom_roles": ("custom_role",),
    "workspaces": ("workspace",),
    "spaces": ("space",),
    "space_types": ("space_type", "space_type_role"),
}
MODES = ("authoritative", "additive")

DEFAULT_SHARE = 0.25
DEFAULT_MIN_EXISTING = 10


@dataclass(frozen=True)
class Budget:
    """One kind's removal limit: a share (once ``min_existing`` exist) and an optional count."""

    max_share: float = DEFAULT_SHARE
    min_existing: int = DEFAULT_MIN_EXISTING
    max_count: int | None = None


@dataclass(frozen=True)
class GuardConfig:
    """Every knob of the safety guards, resolved from settings (flags already merged)."""

    budgets: dict[str, Budget] = field(default_factory=dict)
    allow_removals: dict[str, int] = field(default_factory=dict)
    allow_cascade: bool = False
    min_admins: int = 1
    expire_days: int = 14
    resend: bool = True

    def budget(self, kind: str) -> Budget:
        """The budget of ``kind`` (the defaults when not configured)."""
        return self.budgets.get(kind, Budget())


def _budget(settings: Settings, section: str, raw: dict[str, Any], base: Budget) -> Budget:
    known = {"max_share", "min_existing", "max_count"}
    settings.known_keys(section, {k: v for k, v in raw.items() if k not in BUDGET_KINDS}, known)
    return Budget(
        max_share=settings.share(section, "max_share", raw["max_share"]) if "max_share" in raw else base.max_share,
        min_existing=settings.count(section, "min_existing", raw["min_existing"]) if "min_existing" in raw else base.min_existing,
        max_count=settings.count(section, "max_count", raw["max_count"]) if "max_count" in raw else base.max_count,
    )


def _kind(settings: Settings, section: str, kind: str, known: dict[str, Any]) -> str:
    if kind not in known:
        raise settings.error(f"[{section}] unknown kind {kind!r} (known: {', '.join(known)})")
    return kind


#: The keys of ``[guards]`` and ``[invitations]``.
GUARD_KEYS = ("min_admins", "allow_cascade", "allow_removals", "budgets")
INVITATION_KEYS = ("expire_days", "resend")


def guard_config(settings: Settings) -> GuardConfig:
    """The guard settings from ``[guards]`` and ``[invitations]``; every value checked, an error names the file and key."""
    guards = settings.section("guards")
    settings.known_keys("guards", guards, GUARD_KEYS)
    budgets_raw = guards.get("budgets", {})
    if not isinstance(budgets_raw, dict):
        raise settings.error("[guards] budgets must be a table")
    base = _budget(settings, "guards.budgets", budgets_raw, Budget())
    budgets = {}
    for kind in BUDGET_KINDS:
        own = budgets_raw.get(kind, {})
        if not isinstance(own, dict):
            raise settings.error(f"[guards.budgets] {kind} must be a table")
        budgets[kind] = _budget(settings, f"guards.budgets.{kind}", own, base)
    allow_raw = guards.get("allow_removals", {})
    if not isinstance(allow_raw, dict):
        raise settings.error("[guards] allow_removals must be a table such as { memberships = 14 }")
    allow = {_kind(settings, "guards", k, BUDGET_KINDS): settings.count("guards", f"allow_removals.{k}", v) for k, v in allow_raw.items()}
    invitations = settings.section("invitations")
    settings.known_keys("invitations", invitations, INVITATION_KEYS)
    return GuardConfig(
        budgets=budgets,
        allow_removals=allow,
        allow_cascade=settings.switch("guards", "allow_cascade", guards.get("allow_cascade", False)),
        min_admins=settings.count("guards", "min_admins", guards.get("min_admins", 1)),
        expire_days=settings.count("invitations", "expire_days", invitations.get("expire_days", 14)),
        resend=settings.switch("invitations", "resend", invitations.get("resend", True)),
    )


def management_modes(settings: Settings) -> tuple[frozenset[str], tuple[str, ...]]:
    """(additive resource types, ignore globs) from ``[modes]`` and ``[ignore]``.

    ``[modes]`` keys are the kinds of :data:`MODE_KINDS` or resource type
    names; values are ``authoritative`` or ``additive``.
    """
    additive: set[str] = set()
    for kind, mode in settings.section("modes").items():
        if mode not in MODES:
            raise settings.error(f"[modes] {kind}: unknown mode {mode!r} (known: {', '.join(MODES)}; ignore is [ignore] patterns)")
        types = MODE_KINDS.get(kind) or ((kind,) if kind in RESOURCE_TYPES else None)
        if types is None:
            raise settings.error(f"[modes] unknown kind {kind!r} (known: {', '.join(MODE_KINDS)}, or a resource type)")
        if mode == "additive":
            additive.update(types)
    patterns = settings.section("ignore").get("patterns", [])
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        raise settings.error("[ignore] patterns must be a list of glob strings")
    return frozenset(additive), tuple(patterns)


# --- command-line overrides --------------------------------------------------------------


def add_guard_flags(parser: argparse.ArgumentParser) -> None:
    """``--allow-removals KIND=N``, ``--allow-cascade``, ``--additive KIND``, ``--ignore GLOB``."""
    parser.add_argument(
        "--allow-removals",
        action="append",
        default=[],
        metavar="KIND=N",
        help=f"acknowledge removing exactly N of KIND over its budget ({', '.join(BUDGET_KINDS)}); a different N still refuses",
    )
    parser.add_argument("--allow-cascade", action="store_true", help="allow deleting custom roles that are still assigned or used in permissions (irreversible)")
    parser.add_argument("--additive", action="append", default=[], metavar="KIND", help=f"never delete this kind ({', '.join(MODE_KINDS)})")
    parser.add_argument("--ignore", action="append", default=[], metavar="GLOB", help="never touch keys or emails matching GLOB (e.g. '*@contractor.test')")


def apply_guard_flags(settings: Settings, args: argparse.Namespace) -> None:
    """Merge the override flags of a parsed command line into ``settings`` (flags win)."""
    raw = settings.raw
    for item in getattr(args, "allow_removals", None) or []:
        kind, sep, number = item.partition("=")
        kind = kind.strip()
        if not sep or kind not in BUDGET_KINDS or not number.strip().isdigit():
            raise ConfigError(f"--allow-removals {item!r}: expected KIND=N with KIND one of {', '.join(BUDGET_KINDS)}")
        raw.setdefault("guards", {}).setdefault("allow_removals", {})[kind] = int(number)
    if getattr(args, "allow_cascade", False):
        raw.setdefault("guards", {})["allow_cascade"] = True
    for kind in getattr(args, "additive", None) or []:
        if kind not in MODE_KINDS and kind not in RESOURCE_TYPES:
            raise ConfigError(f"--additive {kind!r}: unknown kind (known: {', '.join(MODE_KINDS)})")
        raw.setdefault("modes", {})[kind] = "additive"
    patterns = getattr(args, "ignore", None) or []
    if patterns:
        ignore = raw.setdefault("ignore", {})
        ignore["patterns"] = [*ignore.get("patterns", []), *patterns]
