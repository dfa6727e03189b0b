"""A checkov check for accessops plans: every new Owner grant fails, so a reviewer must look.

Run it over ``accessops plan --format json`` output or a saved plan file:

    checkov -f plan.json --framework terraform_plan --external-checks-dir examples/checkov

A grant is new when the plan creates (or replaces) a membership whose role is
Owner, or changes an existing one's role to Owner. Members who already were
Owner, and every other role, pass. checkov hands each attribute over as a
one-item list, and adds the change's actions and changed keys.
"""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

OWNER = "Owner"
CREATES = (["create"], ["delete", "create"])


class NewOwnerGrant(BaseResourceCheck):
    """CKV_AO_1: no new Owner grant without a second look."""

    def __init__(self) -> None:
        super().__init__(
            name="accessops: a member is granted Owner",
            id="CKV_AO_1",
            categories=[CheckCategories.IAM],
            supported_resources=["accessops_member", "accessops_workspace_member", "accessops_space_member"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        """FAILED for a new Owner grant, PASSED otherwise."""
        role = (conf.get("role") or [None])[0]
        if role != OWNER:
            return CheckResult.PASSED
        actions = conf.get("__change_actions__") or []
        if actions in CREATES or "role" in (conf.get("__change_keys__") or []):
            return CheckResult.FAILED
        return CheckResult.PASSED


check = NewOwnerGrant()
