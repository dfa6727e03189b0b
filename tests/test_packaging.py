"""Packaging metadata, the changelog and the refs the docs tell users to pin all agree and exist."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from accessops import __version__

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]
DOCS = [ROOT / "README.md", ROOT / "action.yml", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "examples").rglob("*.yml"))]


def test_the_license_is_a_pep_639_expression_with_its_file() -> None:
    assert PROJECT["license"] == "Apache-2.0"
    assert PROJECT["license-files"] == ["LICENSE"]
    assert "Apache License" in (ROOT / "LICENSE").read_text() and "Version 2.0" in (ROOT / "LICENSE").read_text()
    assert not [c for c in PROJECT["classifiers"] if c.startswith("License ::")]  # deprecated beside an expression
    requires = " ".join(PYPROJECT["build-system"]["requires"])
    assert re.search(r"setuptools>=(\d+)", requires) and int(re.search(r"setuptools>=(\d+)", requires).group(1)) >= 77  # type: ignore[union-attr]


def test_the_index_page_has_urls_keywords_and_classifiers() -> None:
    assert {"Homepage", "Source", "Issues", "Changelog", "Documentation"} <= set(PROJECT["urls"])
    assert all(url.startswith("https://github.com/accessops/accessops") for url in PROJECT["urls"].values())
    assert len(PROJECT["keywords"]) >= 5
    assert "Programming Language :: Python :: 3.11" in PROJECT["classifiers"]


def test_one_version_everywhere() -> None:
    assert PROJECT["version"] == __version__
    top = re.search(r"^## \[(\d+\.\d+\.\d+)\]", (ROOT / "CHANGELOG.md").read_text(), re.MULTILINE)
    assert top and top.group(1) == __version__


def test_readme_links_are_absolute() -> None:
    """The README is the package index page, where relative links lead nowhere."""
    links = re.findall(r"\]\(([^)\s]+)\)", (ROOT / "README.md").read_text())
    assert links
    assert [link for link in links if not link.startswith(("https://", "http://", "#"))] == []


def test_the_docs_pin_the_release_tag() -> None:
    tag = f"v{__version__}"
    refs = []
    for path in DOCS:
        text = path.read_text()
        refs += [(path.name, ref) for ref in re.findall(r"accessops/accessops@([\w.\-]+)", text)]
        if "accessops/accessops" in text:
            refs += [(path.name, ref) for ref in re.findall(r"^\s*rev:\s*([\w.\-]+)", text, re.MULTILINE)]
    assert refs
    assert [r for r in refs if r[1] != tag] == []
