"""Name the team behind a capability: "via team support" (issue 13).

The access engine answers from per-person grants; when a grant was combined
from team grants or a workspace's default role, the answers that depend on
it gain one more reason naming where it came from. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from accessops.access.capability import Capability
from accessops.model.grants import describe


def grant_origins(cap: Capability, origins: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
    """The origins of the membership ``cap`` rests on: its workspace's or space's grant."""
    parts = cap.resource.split("/")
    if len(parts) < 2:
        return ()  # an organization-level capability rests on the org role
    locus = f"{parts[0]}/{parts[1]}/{cap.member}"
    return origins.get(f'workspace_member["{locus}"]') or origins.get(f'space_member["{locus}"]') or ()


def with_origins(caps: Iterable[Capability], origins: Mapping[str, tuple[str, ...]]) -> list[Capability]:
    """``caps`` with a ``via team …`` reason on each one whose membership came from a team grant."""
    out = []
    for cap in caps:
        found = grant_origins(cap, origins) if origins else ()
        out.append(replace(cap, reasons=(*cap.reasons, describe(found))) if found else cap)
    return out
