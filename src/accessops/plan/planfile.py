"""The layout of a saved plan file (``plan --out FILE``).

The file's top level *is* the plan JSON, in Terraform's JSON plan shape, so
the tools that read ``terraform show -json`` output (Rego over
``planned_values``, checkov, terraform-compliance) read the very file the
workflow uploads. What only accessops needs to trust the file (its kind, the
checksum, later a signature) sits in one envelope object under
``accessops_plan_file``, written first so a reader can tell a plan file from
its first bytes; the checksum covers everything else.

Files written by accessops 0.1 (``{"kind", "checksum", "plan": {...}}``) are
still read.
"""

from __future__ import annotations

from typing import Any

PLAN_FILE_KIND = "accessops-plan"
ENVELOPE = "accessops_plan_file"
#: What :func:`is_plan_file` looks for in a file's first bytes (both layouts write it early).
SNIFF = b'"kind": "accessops-plan"'


def wrap_plan_file(envelope: dict[str, Any], plan_json: dict[str, Any]) -> dict[str, Any]:
    """The file's content: the envelope first, then the plan JSON's own keys."""
    if ENVELOPE in plan_json:
        raise ValueError(f"plan JSON must not hold {ENVELOPE!r} itself")
    return {ENVELOPE: {"kind": PLAN_FILE_KIND, **envelope}, **plan_json}


def unwrap_plan_file(data: Any) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(envelope, plan JSON) of a plan file's content, or None when it is not one."""
    if not isinstance(data, dict):
        return None
    envelope = data.get(ENVELOPE)
    if isinstance(envelope, dict) and envelope.get("kind") == PLAN_FILE_KIND:
        return dict(envelope), {k: v for k, v in data.items() if k != ENVELOPE}
    if data.get("kind") == PLAN_FILE_KIND and isinstance(data.get("plan"), dict):  # accessops 0.1
        return {k: v for k, v in data.items() if k != "plan"}, data["plan"]
    return None
