"""The pre-commit hook ``accessops-validate``, run for real with ``pre-commit try-repo``.

try-repo clones the hook repository at a commit and pip-installs it into a
fresh virtualenv, exactly as a user's pre-commit would. The hook repository
is a clone of this checkout's committed files, plus this work tree's versions
of the few files the hook needs to install, committed in the clone (so the
test sees uncommitted edits to them too). pre-commit's cache lives in the
test's temporary folder, so nothing leaks between runs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# What a pip install of the hook repository reads.
HOOK_FILES = (".pre-commit-hooks.yaml", "pyproject.toml", "README.md")
EXAMPLE = ROOT / "examples" / "policies" / "seed001-org-roles"


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env=dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t",
                            GIT_COMMITTER_EMAIL="t@t"))


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This project as a hook repository, at a clean commit."""
    repo = tmp_path_factory.mktemp("hook") / "accessops"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(repo)], check=True)
    shutil.rmtree(repo / "src")
    shutil.copytree(ROOT / "src", repo / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in HOOK_FILES:
        if (ROOT / name).exists():
            shutil.copy(ROOT / name, repo / name)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", "work tree under test")
    return repo


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


def user_repo(tmp_path: Path) -> Path:
    """A user's repository with valid manifests under access/, committed."""
    repo = tmp_path / "policies"
    shutil.copytree(EXAMPLE, repo / "access")
    (repo / "docker-compose.yml").write_text("services: {}\n")  # other YAML in the repo is not a manifest
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "policies")
    return repo


def try_repo(repo: Path, hook_repo: Path, home: Path) -> subprocess.CompletedProcess[str]:
    """``pre-commit try-repo HOOK_REPO accessops-validate --all-files``, as a user would run it."""
    env = dict(os.environ, PRE_COMMIT_HOME=str(home), PRE_COMMIT_COLOR="never")
    return subprocess.run(["pre-commit", "try-repo", str(hook_repo), "accessops-validate", "--verbose", "--all-files"],
                          cwd=repo, env=env, capture_output=True, text=True, check=False, timeout=900)


def test_configured_hook_fails_a_broken_manifest_with_file_and_line(tmp_path: Path, hook_repo: Path, pre_commit_home: Path) -> None:
    repo = user_repo(tmp_path)
    org = repo / "access" / "organization.yaml"
    text = org.read_text()
    org.write_text(text.replace("role: Admin", "role: Emperor", 1))
    assert "Emperor" in org.read_text()
    # The hook validates access/ as a whole: point it there the way the docs say, with args.
    config = repo / ".pre-commit-config.yaml"
    config.write_text(
        f"repos:\n  - repo: {hook_repo}\n    rev: HEAD\n    hooks:\n      - id: accessops-validate\n"
        "        args: [access]\n        files: ^access/\n"
    )
    git(repo, "add", "-A")
    env = dict(os.environ, PRE_COMMIT_HOME=str(pre_commit_home), PRE_COMMIT_COLOR="never")
    done = subprocess.run(["pre-commit", "run", "--all-files"], cwd=repo, env=env, capture_output=True, text=True,
                          check=False, timeout=900)
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "accessops validate" in out and "Failed" in out
    assert "access/organization.yaml:" in out and "Emperor" in out


def test_try_repo_on_a_broken_manifest(tmp_path: Path, hook_repo: Path, pre_commit_home: Path) -> None:
    repo = tmp_path / "only-manifests"
    shutil.copytree(EXAMPLE, repo)
    git(repo, "init", "-q")
    broken = repo / "broken.yaml"
    broken.write_text("apiVersion: accessops/v1\nkind: Organization\nmetadata:\n  name: other\nspec:\n  profil: org-roles\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "broken")
    done = try_repo(repo, hook_repo, pre_commit_home)
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "broken.yaml:6:" in out and "profil" in out


def test_try_repo_passes_valid_manifests(tmp_path: Path, hook_repo: Path, pre_commit_home: Path) -> None:
    repo = tmp_path / "only-manifests"
    shutil.copytree(EXAMPLE, repo)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "ok")
    done = try_repo(repo, hook_repo, pre_commit_home)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Passed" in done.stdout
