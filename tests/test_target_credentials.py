"""A credential written into a target URL is refused when the URL is parsed.

The token in these tests is deliberately *not* a known credential (not in
the environment, not in a token file), so the redacting output streams
cannot hide a leak: if any code path printed or stored the URL before the
check, the token would show up in the output or in a written file.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from safety_env import Workdir, org_doc, workdir  # noqa: F401  (workdir is a fixture)

from accessops.adapters.base import Target

TOKEN = "tok-9c1e77d2-unlisted"
SRC = Path(__file__).resolve().parents[1] / "src"

HOSTILE_URLS = [
    f"scim+https://u:{TOKEN}@scim.example.test/v2",
    f"scim+https://{TOKEN}@scim.example.test/v2",  # a user name this long is a token (https://ghp_...@host)
    f"scim+https://scim.example.test/v2?token={TOKEN}",
    f"scim+https://scim.example.test/v2?api_key={TOKEN}",
    f"scim+https://scim.example.test/v2?x=1&Access_Token={TOKEN}",
    f"directus+http://127.0.0.1:8055?page_size=5&key={TOKEN}",
    f"directus+http://127.0.0.1:8055?secret={TOKEN}",
    f"directus+http://127.0.0.1:8055?password={TOKEN}",
    f"directus+http://127.0.0.1:8055?client-secret={TOKEN}",
    f"directus+http://127.0.0.1:8055?X-API-KEY={TOKEN}",
    f"directus+http://127.0.0.1:8055/#access_token={TOKEN}",
]


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_a_url_with_a_credential_is_refused_naming_the_variable_to_use(url: str) -> None:
    from accessops.secrets import redact_url, url_credential

    with pytest.raises(ValueError) as err:
        Target.parse(url)
    message = str(err.value)
    assert TOKEN not in message and "\n" not in message
    adapter = url.split("+", 1)[0].upper()
    assert f"ACCESSOPS_{adapter}_TOKEN" in message and f"ACCESSOPS_{adapter}_TOKEN_FILE" in message
    assert url_credential(url) is not None
    assert TOKEN not in redact_url(url)


@pytest.mark.parametrize("url", [
    "scim+https://scim.example.test/v2",
    "scim+https://bot@scim.example.test/v2",  # a short user name is no credential (and is never shown)
    "directus+http://127.0.0.1:8055?page_size=5",
    "local:.accessops/tenant.db",
    "local:/tmp/tenant.db",
])
def test_urls_without_a_credential_parse(url: str) -> None:
    from accessops.secrets import url_credential

    assert Target.parse(url).url == url
    assert url_credential(url) is None


def _tree_holds(root: Path, needle: str) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()]


@pytest.mark.parametrize("url", [HOSTILE_URLS[0], HOSTILE_URLS[3]])
def test_no_command_prints_or_stores_the_url_before_refusing_it(workdir: Workdir, url: str) -> None:
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner"]))
    for argv in (["plan", "--target", url], ["plan", "--target", url, "--format", "json"],
                 ["drift", "--target", url], ["apply", "--auto-approve", "--target", url],
                 ["export", "--target", url], ["explain", "ada@acme.test", "--live", "--target", url],
                 ["log", "--target", url], ["tenant", "--target", url, "list"],
                 ["tenant", "list", "--target", url]):  # a command's option after its subcommand (issue 12)
        code, out, err = workdir.run(*argv)
        assert code == 1, (argv, out, err)
        assert TOKEN not in out + err, argv
        assert "ACCESSOPS_" in err and len(err.strip().splitlines()) == 1, (argv, err)
    assert _tree_holds(workdir.root, TOKEN) == []
    # a usage error that echoes the argument does not show it either
    with pytest.raises(SystemExit) as usage:
        workdir.run("tenant", "list", "--bogus", url)
    out, err = workdir.capsys.readouterr()
    assert usage.value.code == 1 and "unrecognized arguments" in err and TOKEN not in out + err


def test_a_credential_in_settings_or_the_environment_is_refused_too(workdir: Workdir, monkeypatch: pytest.MonkeyPatch) -> None:
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner"]))
    workdir.write("accessops.toml", f'target = "scim+https://scim.example.test/v2?api_key={TOKEN}"\n')
    code, out, err = workdir.run("plan")
    assert code == 1 and TOKEN not in out + err and "ACCESSOPS_SCIM_TOKEN" in err
    workdir.remove("accessops.toml")
    monkeypatch.setenv("ACCESSOPS_TARGET", f"directus+http://u:{TOKEN}@127.0.0.1:8055")
    code, out, err = workdir.run("plan")
    assert code == 1 and TOKEN not in out + err and "ACCESSOPS_DIRECTUS_TOKEN" in err
    assert _tree_holds(workdir.root, TOKEN) == []


def test_a_saved_plan_applied_to_a_url_with_a_credential_is_refused(workdir: Workdir) -> None:
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner"]))
    assert workdir.run("plan", "--out", "saved.plan")[0] in (0, 2)
    code, out, err = workdir.run("apply", "saved.plan", "--auto-approve", "--target", HOSTILE_URLS[3])
    assert code == 1 and TOKEN not in out + err and "ACCESSOPS_SCIM_TOKEN" in err
    assert _tree_holds(workdir.root, TOKEN) == []


def _accessops(cwd: Path, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ACCESSOPS_")}
    environ.update(env, PYTHONPATH=str(SRC))
    return subprocess.run([sys.executable, "-m", "accessops", *argv], cwd=cwd, env=environ, capture_output=True, text=True, check=False)


def test_a_token_file_that_is_not_utf8_is_one_error_naming_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "scim.token"
    bad.write_bytes(b"\xff\xfe\x00t\x00o\x00k")
    done = _accessops(tmp_path, "--version", ACCESSOPS_SCIM_TOKEN_FILE=str(bad))
    assert done.returncode == 0 and "Traceback" not in done.stderr and done.stdout.startswith("accessops ")
    (tmp_path / "org.yaml").write_text(org_doc(["ada@acme.test:Owner"]))
    assert _accessops(tmp_path, "validate", ACCESSOPS_SCIM_TOKEN_FILE=str(bad)).returncode == 0
    done = _accessops(tmp_path, "plan", "--target", "scim+http://127.0.0.1:9/v2", ACCESSOPS_SCIM_TOKEN_FILE=str(bad))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1 and str(bad) in done.stderr and "UTF-8" in done.stderr
    # the same file named by the settings
    (tmp_path / "accessops.toml").write_text('[credentials]\nscim_token_file = "scim.token"\n')
    assert _accessops(tmp_path, "--version").returncode == 0
    done = _accessops(tmp_path, "plan", "--target", "scim+http://127.0.0.1:9/v2")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1 and "scim.token" in done.stderr and "UTF-8" in done.stderr


def test_a_missing_token_file_is_one_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "org.yaml").write_text(org_doc(["ada@acme.test:Owner"]))
    missing = tmp_path / "nowhere" / "scim.token"
    done = _accessops(tmp_path, "plan", "--target", "scim+http://127.0.0.1:9/v2", ACCESSOPS_SCIM_TOKEN_FILE=str(missing))
    assert done.returncode == 1 and done.stderr.count("\n") == 1
    assert str(missing) in done.stderr and "ACCESSOPS_SCIM_TOKEN_FILE" in done.stderr and "cannot be read" in done.stderr


def test_a_short_user_name_in_the_url_is_never_shown(workdir: Workdir, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ACCESSOPS_SCIM_TOKEN", raising=False)
    monkeypatch.delenv("ACCESSOPS_SCIM_TOKEN_FILE", raising=False)
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner"]))
    code, out, err = workdir.run("plan", "--target", "scim+http://robot-user@127.0.0.1:9/v2")
    assert code == 1 and "ACCESSOPS_SCIM_TOKEN" in err and "robot-user" not in out + err
