"""A target URL without its http(s) transport is a one-line error, never "internal error: InvalidSchema" (issue 15)."""

from __future__ import annotations

from pathlib import Path

import pytest

from accessops.cli import main

EXAMPLES = Path(__file__).parent.parent / "examples" / "policies"


@pytest.mark.parametrize(
    ("folder", "url", "hint"),
    [
        ("seed001-org-roles", "scim://host.test/v2", "write scim+https://host.test/v2"),
        ("seed001-org-roles", "scim:host.test/v2", "write scim+https://host.test/v2"),
        ("seed001-org-roles", "scim+ftp://host.test/v2", "needs an http(s) URL"),
        ("seed003-workspace", "directus://host.test:8055", "write directus+https://host.test:8055"),
    ],
)
def test_a_target_without_transport_names_the_spelling_to_use(folder: str, url: str, hint: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCESSOPS_SCIM_TOKEN", "t0ken-for-test")
    monkeypatch.setenv("ACCESSOPS_DIRECTUS_TOKEN", "t0ken-for-test")
    assert main(["plan", str(EXAMPLES / folder), "--target", url]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: target ") and hint in err[0], err
    assert "internal error" not in err[0] and "InvalidSchema" not in err[0]
