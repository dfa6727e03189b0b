"""Policy guardrails and assertions: ones that hold, ones that fire, and validate's exit 3."""

from __future__ import annotations

from pathlib import Path

import pytest

from accessops.access.policies import check_policies, evaluate_policies
from accessops.cli import main
from accessops.manifest.loader import load
from accessops.model.compile import compile_model

FIXTURES = Path(__file__).parent / "fixtures" / "access"


def failures(name: str) -> list[str]:
    model = load([FIXTURES / name])
    return [str(f) for f in evaluate_policies(model, compile_model(model).resources)]


def test_policies_that_hold_report_nothing() -> None:
    assert failures("policy-holds") == []


@pytest.mark.parametrize(
    "expected",
    [
        "policy baseline: guardrail destructive-owner-only: delete_organization is allowed to Admin and above; it must stay Owner-only",
        "policy baseline: guardrail billing-full-only-finance: only team finance may hold Billing:Full crm; held outside it by bo",
        "policy baseline: guardrail two-owners: at least 2 active Owner(s) required, found 1 (olivia)",
        "policy baseline: guardrail no-personal-accounts: email domain gmail.com is not allowed, but dee use it",
        "policy baseline: assertion bo cannot read crm/customers: but allowed: table read is restricted to [Editor]; bo has Editor",
        "policy baseline: assertion bo cannot fly crm/customers: fly crm/customers is not a capability in acme",
    ],
)
def test_each_failing_guardrail_and_assertion_fires(expected: str) -> None:
    assert any(expected in f for f in failures("policy-fails")), failures("policy-fails")


def test_failures_name_the_policy_at_file_line() -> None:
    first = failures("policy-fails")[0]
    assert first.split(": policy ")[0].endswith("policy-fails/org.yaml:36:7")


def test_check_policies_gives_refusals() -> None:
    model = load([FIXTURES / "policy-fails"])
    refusals = check_policies(model, compile_model(model).resources)
    assert len(refusals) == 6 and all(r.guard == "policy" for r in refusals)


def test_validate_exits_3_with_one_line_per_failure(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(FIXTURES / "policy-fails")]) == 3
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error: ")]
    assert len(err) == 6 and all(": policy baseline: " in line for line in err)


def test_validate_passes_when_policies_hold(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(FIXTURES / "policy-holds")]) == 0
