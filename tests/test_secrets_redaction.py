"""Credentials never reach output, logs, plan files or the apply log.

Every command runs with a recognisable token in the environment and another
in a token file named by ``accessops.toml``; the token is also planted where
leaks happen in practice: a live value, an adapter error message, a target
URL and a traceback. Then every output and every file accessops wrote is
grepped for both tokens.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from safety_env import TENANT, Workdir, org_doc, workdir  # noqa: F401  (workdir is a fixture)

from accessops import engine
from accessops.adapters.base import Adapter
from accessops.errors import TargetError
from accessops.secrets import REDACTED, RedactingStream, credential, known_secrets, redact_text

ENV_TOKEN = "sekrit-XYZ-env-4f9a2c"
FILE_TOKEN = "sekrit-XYZ-file-77b1e0"


class LeakyAdapter(Adapter):
    """The real adapter, whose write errors echo the credential (as careless HTTP clients do)."""

    scheme = "local"

    def __init__(self, inner: Any) -> None:
        super().__init__(inner.target)
        self.inner = inner
        self.supports = inner.supports  # type: ignore[misc]

    def read(self, orgs: Any) -> Any:
        """The real read."""
        return self.inner.read(orgs)

    def apply(self, change: Any) -> None:
        """Fail, naming the token."""
        raise TargetError(f"HTTP 500 from server; request had Authorization: Bearer {ENV_TOKEN}")

    def close(self) -> None:
        """Close the real adapter."""
        self.inner.close()


@pytest.fixture
def tokens(workdir: Workdir, monkeypatch: pytest.MonkeyPatch) -> Workdir:
    monkeypatch.setenv("ACCESSOPS_SCIM_TOKEN", ENV_TOKEN)
    (workdir.root / "scim.token").write_text(FILE_TOKEN + "\n")
    workdir.write("accessops.toml", '[credentials]\nscim_token_file = "scim.token"\n')
    return workdir


def run_every_command(wd: Workdir, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every command (and the leak paths), returning all their output."""
    outputs: list[str] = []

    def run(*argv: str) -> int:
        code, out, err = wd.run(*argv)
        outputs.extend([out, err])
        return code

    wd.write("org.yaml", org_doc(["ada@acme.test:Owner", "bo@acme.test:Member"]))
    assert run("validate") == 0
    assert run("apply", "--auto-approve") == 0
    wd.tenant("accept", "ada@acme.test", "acme")
    # a live value that holds the token (someone pasted it into a display name)
    adapter = wd.adapter()
    with adapter.transaction() as db:
        db.execute("UPDATE members SET name = ? WHERE email = 'bo@acme.test'", (f"Bo {ENV_TOKEN} {FILE_TOKEN}",))
    adapter.close()
    wd.write("org.yaml", org_doc(["ada@acme.test:Owner", "bo@acme.test:Member", "cy@acme.test:Member"]).replace("role: Member}", "role: Member, name: Bo}", 1))
    for fmt in ("text", "json", "markdown"):
        run("plan", "--format", fmt)
    run("plan", "--out", "saved.plan")
    for fmt in ("text", "json", "markdown"):
        run("show", "saved.plan", "--format", fmt)
    run("drift")
    run("drift", "--format", "json")
    run("explain", "bo@acme.test", "--live")
    run("who-can", "read", "acme", "--live")
    run("audit")
    run("audit", "--format", "json")
    run("tenant", "list")
    run("log")
    run("log", "--format", "json")
    run("--debug", "plan", "--target", f"scim+http://user:{ENV_TOKEN}@127.0.0.1:9/scim?token={ENV_TOKEN}")
    run("plan", "--target", f"scim+http://127.0.0.1:9/scim?access_token={FILE_TOKEN}")
    # an adapter error that echoes the token: stderr and the apply log
    real_open = engine.open_target

    def leaky_open(settings: Any) -> tuple[Any, Adapter]:
        target, adapter = real_open(settings)
        return target, LeakyAdapter(adapter)

    import accessops.cli.cmd_apply as cmd_apply

    with monkeypatch.context() as patch:
        patch.setattr(engine, "open_target", leaky_open)
        patch.setattr(cmd_apply, "open_target", leaky_open, raising=False)
        assert run("apply", "--auto-approve") == 1
        assert run("--debug", "apply", "saved.plan", "--auto-approve") in (1, 3)  # failed, or refused as stale after the partial apply
    run("log", "--format", "json")
    assert run("apply", "saved.plan", "--auto-approve") in (0, 1, 3)
    code = run("apply", "--auto-approve")
    assert code == 0, outputs[-2:]
    run("export", "-o", "exported")  # last: exported manifests would join the manifest set
    return outputs


def written_files(root: Path) -> list[Path]:
    """Everything accessops wrote: plan files, the state store (and its WAL), exported manifests.

    The tenant file is the live system itself, where the token was planted.
    """
    tenant = (root / TENANT).resolve()
    return [p for p in root.rglob("*") if p.is_file() and not str(p.resolve()).startswith(str(tenant)) and p.name != "scim.token"]


def test_no_credential_reaches_any_output_plan_file_or_log(tokens: Workdir, monkeypatch: pytest.MonkeyPatch) -> None:
    outputs = run_every_command(tokens, monkeypatch)
    files = written_files(tokens.root)
    assert any(p.name == "saved.plan" for p in files) and any(p.name.startswith("state.db") for p in files)
    hits = sum(text.count(t) for text in outputs for t in (ENV_TOKEN, FILE_TOKEN))
    hits += sum(p.read_bytes().count(t.encode()) for p in files for t in (ENV_TOKEN, FILE_TOKEN))
    assert hits == 0
    joined = "\n".join(outputs)
    assert REDACTED in joined  # the planted values were there to leak, and were redacted
    assert "Bearer [REDACTED]" in joined
    log = (tokens.root / ".accessops" / "state.db").read_bytes()
    assert b"Bearer [REDACTED]" in log


def test_credentials_come_from_env_or_token_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ACCESSOPS_SCIM_TOKEN", raising=False)
    (tmp_path / "t").write_text("from-a-file-123\n")
    assert credential("scim", {"credentials": {"scim_token_file": "t"}}, tmp_path) == "from-a-file-123"
    monkeypatch.setenv("ACCESSOPS_SCIM_TOKEN_FILE", str(tmp_path / "t"))
    assert credential("scim") == "from-a-file-123"
    assert "from-a-file-123" in known_secrets()
    monkeypatch.setenv("ACCESSOPS_SCIM_TOKEN", "from-the-env-456")
    assert credential("scim") == "from-the-env-456"


def test_a_token_split_across_writes_is_still_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    monkeypatch.setenv("ACCESSOPS_DIRECTUS_TOKEN", ENV_TOKEN)
    sink = io.StringIO()
    stream = RedactingStream(sink)
    stream.write("token " + ENV_TOKEN[:5])
    stream.write(ENV_TOKEN[5:] + " end\nnext ")
    stream.flush()
    assert sink.getvalue() == f"token {REDACTED} end\nnext "
    assert redact_text("short") == "short"
