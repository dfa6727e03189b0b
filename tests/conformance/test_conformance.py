"""The conformance suite: what every adapter must do, proved through the real CLI.

Cases that need a network (bad token, unreachable server, paging, 429, 5xx)
are generated only for adapters that speak HTTP; see ``conftest.py``.
"""

from __future__ import annotations

import re
import subprocess

import pytest
from harness import AdapterUnderTest
from servers import fault_proxy

pytestmark = pytest.mark.server

NO_CHANGES, CHANGES = 0, 2
PROGRESS = re.compile(r"^\S.*(\.\.\. \(\d+s\)|: (done in|stopped after) [\d.]+s)$")


def one_line_error(run: subprocess.CompletedProcess[str]) -> str:
    """The single ``error: ...`` line a failing run must print, and nothing else on stderr but progress lines.

    A slow read (the retries with backoff) prints throttled progress lines in a
    log (``reading live access from ...: stopped after 7.6s``); they are not errors.
    """
    lines = [line for line in run.stderr.splitlines() if line.strip() and not PROGRESS.match(line)]
    assert len(lines) == 1, f"expected one error line, got:\n{run.stderr}"
    assert lines[0].startswith("error: "), lines[0]
    assert "Traceback" not in run.stderr
    return lines[0]


def applied(adapter: AdapterUnderTest, extra: int = 0, **cli: str) -> None:
    """Apply the example (with ``extra`` members) and fail loudly if that does not work."""
    adapter.write(adapter.example(extra))
    run = adapter.cli("apply", "--auto-approve", **cli)  # type: ignore[arg-type]
    assert run.returncode == 0, run.stderr


# --- every adapter -------------------------------------------------------------------


def test_applying_an_example_then_planning_again_shows_no_changes(any_adapter: AdapterUnderTest) -> None:
    any_adapter.write(any_adapter.example(0))
    first = any_adapter.cli("plan", "--detailed-exitcode")
    assert first.returncode == CHANGES, first.stderr
    applied(any_adapter)
    assert set(any_adapter.expected) <= any_adapter.live_addresses()
    again = any_adapter.cli("plan", "--detailed-exitcode")
    assert again.returncode == NO_CHANGES, again.stdout + again.stderr


def test_a_change_behind_the_tools_back_is_found_by_drift(any_adapter: AdapterUnderTest) -> None:
    applied(any_adapter)
    assert any_adapter.cli("drift").returncode == 0
    changed = any_adapter.live_edit()
    drift = any_adapter.cli("drift")
    assert drift.returncode == 2, drift.stderr
    assert changed in drift.stdout
    # applying again puts git's version back
    applied(any_adapter)
    assert any_adapter.cli("drift").returncode == 0


def test_removing_from_git_removes_it_live(any_adapter: AdapterUnderTest) -> None:
    applied(any_adapter)
    smaller, removed = any_adapter.smaller()
    assert set(removed) <= any_adapter.live_addresses()
    any_adapter.write(smaller)
    run = any_adapter.cli("apply", "--auto-approve")
    assert run.returncode == 0, run.stderr
    assert not set(removed) & any_adapter.live_addresses()
    assert any_adapter.cli("plan", "--detailed-exitcode").returncode == NO_CHANGES


# --- adapters that speak HTTP ------------------------------------------------------------


def test_a_manifest_needing_more_than_the_target_expresses_is_refused(http_adapter: AdapterUnderTest) -> None:
    """Neither SCIM nor Directus keeps a seat limit: the apply says so in one line and touches nothing."""
    example = http_adapter.example(0)
    assert "  profile: " in example
    http_adapter.write(example.replace("  profile: ", "  seats: 50\n  profile: ", 1))
    before = http_adapter.live_addresses()
    run = http_adapter.cli("apply", "--auto-approve")
    assert run.returncode == 1
    assert "cannot express organization.seats" in one_line_error(run)
    assert http_adapter.live_addresses() == before


def test_a_bad_token_is_one_line_error_and_exit_1(http_adapter: AdapterUnderTest) -> None:
    assert http_adapter.http is not None
    http_adapter.write(http_adapter.example(0))
    run = http_adapter.cli("plan", env=http_adapter.http.bad_credentials_env)
    assert run.returncode == 1
    line = one_line_error(run)
    assert "credentials" in line or "token" in line
    assert "wrong-token" not in run.stdout + run.stderr
    assert http_adapter.http.secret not in run.stdout + run.stderr


def test_an_unreachable_server_is_one_line_error_and_exit_1(http_adapter: AdapterUnderTest) -> None:
    assert http_adapter.http is not None
    http_adapter.write(http_adapter.example(0))
    run = http_adapter.cli("plan", target=http_adapter.http.unreachable_target)
    assert run.returncode == 1
    assert "cannot connect" in one_line_error(run)


def test_listings_longer_than_two_pages_are_read_completely(http_adapter: AdapterUnderTest) -> None:
    http = http_adapter.http
    assert http is not None
    applied(http_adapter, extra=4, env=http.small_pages_env)  # 7 members, pages of 2
    with fault_proxy(http.upstream) as proxy:
        run = http_adapter.cli("plan", "--detailed-exitcode", target=http.via(proxy.root), env=http.small_pages_env)
    assert run.returncode == NO_CHANGES, run.stdout + run.stderr
    assert len(proxy.requests_to(http.listing_path)) >= 4


def test_a_429_with_retry_after_is_honoured(http_adapter: AdapterUnderTest) -> None:
    http = http_adapter.http
    assert http is not None
    applied(http_adapter)
    with fault_proxy(http.upstream) as proxy:
        fault = proxy.fail(http.listing_path, 429, times=1, retry_after="1", method="GET")
        run = http_adapter.cli("plan", "--detailed-exitcode", target=http.via(proxy.root))
    assert run.returncode == NO_CHANGES, run.stderr
    assert fault.served == 1
    assert proxy.early_retries == 0  # nothing came back before Retry-After elapsed
    statuses = [s.status for s in proxy.requests_to(http.listing_path)]
    assert statuses[:2] == [429, 200]


def test_a_5xx_is_retried_with_backoff(http_adapter: AdapterUnderTest) -> None:
    http = http_adapter.http
    assert http is not None
    applied(http_adapter)
    with fault_proxy(http.upstream) as proxy:
        proxy.fail(http.listing_path, 503, times=2, method="GET")
        run = http_adapter.cli("plan", "--detailed-exitcode", target=http.via(proxy.root))
    assert run.returncode == NO_CHANGES, run.stderr
    assert [s.status for s in proxy.requests_to(http.listing_path)][:3] == [503, 503, 200]


def test_a_5xx_that_persists_is_reported_clearly(http_adapter: AdapterUnderTest) -> None:
    http = http_adapter.http
    assert http is not None
    http_adapter.write(http_adapter.example(0))
    with fault_proxy(http.upstream) as proxy:
        proxy.fail(http.listing_path, 500, times=1000, method="GET")
        run = http_adapter.cli("plan", target=http.via(proxy.root))
    assert run.returncode == 1
    line = one_line_error(run)
    assert "HTTP 500" in line and "attempts" in line
    assert len(proxy.requests_to(http.listing_path)) > 1  # it did retry before giving up
