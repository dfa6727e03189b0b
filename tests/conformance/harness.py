"""What the conformance suite knows about one adapter under test (filled in by ``conftest.py``)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class HttpSide:
    """What the network cases need from an HTTP adapter."""

    upstream: str  # http://host:port of the real server, for the fault proxy
    via: Callable[[str], str]  # proxy root (http://127.0.0.1:P) -> target URL through it
    bad_credentials_env: dict[str, str]  # environment with a wrong token
    unreachable_target: str  # a target URL where nothing listens
    small_pages_env: dict[str, str]  # environment that makes listings page by 2
    listing_path: str  # path of the listing the paging case counts, e.g. "/Users"
    secret: str  # the real token, which must never appear in output


@dataclass
class AdapterUnderTest:
    """One adapter as the conformance suite sees it."""

    name: str
    target: str
    env: dict[str, str]
    workdir: Path
    #: YAML of the example, with ``extra`` more members (for paging)
    example: Callable[[int], str]
    #: YAML of the example with some objects removed, and their addresses
    smaller: Callable[[], tuple[str, list[str]]]
    #: change the live system behind the tool's back; returns the address changed
    live_edit: Callable[[], str]
    #: addresses that exist live, read without going through the CLI
    live_addresses: Callable[[], set[str]]
    #: addresses the example creates (checked live after apply)
    expected: list[str] = field(default_factory=list)
    http: HttpSide | None = None

    def write(self, yaml_text: str) -> Path:
        """Write the manifests the next CLI run reads; returns their folder."""
        folder = self.workdir / "policy"
        folder.mkdir(exist_ok=True)
        (folder / "org.yaml").write_text(yaml_text)
        return folder

    def cli(self, *args: str, target: str | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """Run ``accessops COMMAND policy --target URL ARGS`` and capture its output."""
        command, *rest = args
        full_env = {**os.environ, **self.env, **(env or {}), "NO_COLOR": "1"}
        argv = [sys.executable, "-m", "accessops", command, "policy", "--target", target or self.target, *rest]
        return subprocess.run(argv, cwd=self.workdir, env=full_env, capture_output=True, text=True, timeout=120)
