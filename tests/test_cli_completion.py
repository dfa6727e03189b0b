"""``accessops completion bash|zsh|fish``: the scripts complete in the real shells.

bash and zsh run the completion function with the words a user typed (zsh
with its completion builtins replaced by ones that print what they were
given); fish answers ``complete -C`` itself. scripts/install-shells.sh puts
zsh and fish on CI machines; the test never skips.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from accessops.cli import main

SHELLS = ("bash", "zsh", "fish")


@pytest.fixture(scope="module")
def scripts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("completion")
    out: dict[str, Path] = {}
    for shell in SHELLS:
        assert shutil.which(shell), f"{shell} is not installed (scripts/install-shells.sh)"
        path = folder / f"accessops.{shell}"
        done = subprocess.run(["python3", "-m", "accessops", "completion", shell], capture_output=True, text=True, check=True)
        path.write_text(done.stdout)
        out[shell] = path
    return out


def _bash(script: Path, line: str, cwd: Path) -> set[str]:
    words = line.split(" ")
    program = f'source "{script}"; COMP_WORDS=({" ".join(repr(w) for w in words)}); COMP_CWORD={len(words) - 1}; _accessops; printf "%s\\n" "${{COMPREPLY[@]}}"'
    done = subprocess.run(["bash", "--norc", "-c", program], capture_output=True, text=True, cwd=cwd)
    assert done.returncode == 0 and not done.stderr, done.stderr
    return {w for w in done.stdout.splitlines() if w}


_ZSH_STUBS = """
compdef() { : }
compadd() { [[ $1 == -- ]] && shift; print -l -- "$@" }
_describe() { local n; for n in ${(P)${@[-1]}}; do print -- ${n%%:*}; done }
_files() { print -- '<files>' }
"""


def _zsh(script: Path, line: str, cwd: Path) -> set[str]:
    words = line.split(" ")
    program = f'{_ZSH_STUBS} source "{script}"; words=({" ".join(repr(w) for w in words)}); CURRENT={len(words)}; _accessops'
    done = subprocess.run(["zsh", "-f", "-c", program], capture_output=True, text=True, cwd=cwd)
    assert done.returncode == 0 and not done.stderr, done.stderr
    return {w for w in done.stdout.splitlines() if w}


def _fish(script: Path, line: str, cwd: Path) -> set[str]:
    done = subprocess.run(["fish", "--no-config", "-c", f'source "{script}"; complete -C {line!r}'], capture_output=True, text=True, cwd=cwd)
    assert done.returncode == 0 and not done.stderr, done.stderr
    return {w.split("\t")[0] for w in done.stdout.splitlines() if w}


COMPLETE = {"bash": _bash, "zsh": _zsh, "fish": _fish}

CASES = [
    ("accessops te", {"tenant"}),
    ("accessops tenant ", {"accept", "add-member", "expire-invite", "list", "remove-member", "set-actor", "set-private", "set-role"}),
    ("accessops tenant accept bo@acme.test --ta", {"--target"}),  # a parent's option after the subcommand's arguments
    ("accessops plan --format ", {"text", "json", "markdown"}),
    ("accessops -v plan --target local:t.db --detailed", {"--detailed-exitcode"}),  # an option value is not a command
    ("accessops profiles sp", {"spaces"}),
    ("accessops completion ", {"bash", "zsh", "fish"}),
    ("accessops who-can --f", {"--format"}),
]


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize(("line", "expected"), CASES)
def test_completion_offers_what_the_command_accepts(scripts: dict[str, Path], tmp_path: Path, shell: str, line: str, expected: set[str]) -> None:
    offered = COMPLETE[shell](scripts[shell], line, tmp_path)
    assert expected <= offered, offered
    last = line.split(" ")[-1]
    assert all(word.startswith(last) for word in offered if word != "<files>") or shell == "zsh"  # zsh filters by itself


@pytest.mark.parametrize("shell", SHELLS)
def test_every_command_is_offered(scripts: dict[str, Path], tmp_path: Path, shell: str) -> None:
    from accessops.cli import COMMANDS

    assert set(COMMANDS) <= COMPLETE[shell](scripts[shell], "accessops ", tmp_path)


@pytest.mark.parametrize("shell", SHELLS)
def test_manifest_paths_complete_to_files(scripts: dict[str, Path], tmp_path: Path, shell: str) -> None:
    (tmp_path / "access.yaml").write_text("")
    offered = COMPLETE[shell](scripts[shell], "accessops validate acc", tmp_path)
    assert offered & {"access.yaml", "<files>"}, offered


def test_an_unknown_shell_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["completion", "tcsh"])
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("usage: accessops completion")
