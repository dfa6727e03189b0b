"""The layout of a saved plan file (``plan --out FILE``) on disk.

The file's top level *is* the plan JSON, in Terraform's JSON plan shape, so
the tools that read ``terraform show -json`` output (Rego over
``planned_values``, checkov, terraform-compliance) read the very file the
workflow uploads. What only accessops needs to trust the file (its kind, the
checksum, the manifest digest, a signature) sits in one object under
``accessops_plan_file``, written first so a reader can tell a plan file from
its first bytes.

In memory a plan file is an *envelope*: ``{"kind": "accessops-plan", ...,
"plan": {...}}``; :func:`to_file` and :func:`from_file` turn one into the
other, so the code that checksums and signs envelopes never sees the layout.
Files with the plan nested under ``plan`` (accessops 0.1) read as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PLAN_FILE_KIND = "accessops-plan"
ENVELOPE = "accessops_plan_file"


def to_file(envelope: Mapping[str, Any]) -> dict[str, Any]:
    """The file's content for an envelope: the envelope's own keys first, then the plan's."""
    plan_json = envelope["plan"]
    if not isinstance(plan_json, dict):  # nothing a tool could read: left nested, as it is
        return dict(envelope)
    if ENVELOPE in plan_json:
        raise ValueError(f"plan JSON must not hold {ENVELOPE!r} itself")
    head = {"kind": PLAN_FILE_KIND, **{k: v for k, v in envelope.items() if k != "plan"}}
    return {ENVELOPE: head, **plan_json}


def from_file(data: Any) -> dict[str, Any] | None:
    """The envelope of a plan file's content (``plan`` holding the plan JSON), or None when it is not one."""
    if not isinstance(data, dict):
        return None
    head = data.get(ENVELOPE)
    if isinstance(head, dict) and head.get("kind") == PLAN_FILE_KIND and "plan" not in head:
        return {**head, "plan": {k: v for k, v in data.items() if k != ENVELOPE}}
    if data.get("kind") == PLAN_FILE_KIND and isinstance(data.get("plan"), dict):  # accessops 0.1: nested
        return dict(data)
    return None
