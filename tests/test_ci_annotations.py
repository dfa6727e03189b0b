"""Under GitHub Actions, errors are also ``::error file=…,line=…,col=…::`` annotations, and cannot inject commands.

The runner's parsing is reproduced from GitHub's documented rules (a command
line starts with ``::``; properties end at the next ``::``; ``%25 %0D %0A``
and, in properties, ``%3A %2C`` are unescaped), so a test can read what the
runner would make of each line.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from accessops.cli import main
from accessops.cli.annotations import error_line, escape_data, escape_property
from accessops.errors import Problem, Refusal, RefusedError

HOSTILE = [
    "plain",
    "100% sure",
    "two\nlines",
    "cr\rlf\r\n",
    "::warning::injected",
    "x\n::set-output name=a::b",
    "%0A::error::pre-escaped",
    "a,b:c=d",
    "",
]


def _unescape(text: str, prop: bool) -> str:
    text = text.replace("%0D", "\r").replace("%0A", "\n")
    if prop:
        text = text.replace("%3A", ":").replace("%2C", ",")
    return text.replace("%25", "%")


def runner_commands(output: str) -> list[tuple[str, dict[str, str], str]]:
    """(command, properties, message) for each line the runner would treat as a workflow command."""
    found = []
    for line in output.splitlines():
        if not line.startswith("::"):
            continue
        end = line.find("::", 2)
        if end < 0:
            continue
        head, message = line[2:end], line[end + 2 :]
        name, _, props = head.partition(" ")
        properties = {}
        for pair in filter(None, props.split(",")):
            key, _, value = pair.partition("=")
            properties[key] = _unescape(value, prop=True)
        found.append((name, properties, _unescape(message, prop=False)))
    return found


@pytest.mark.parametrize("text", HOSTILE)
def test_a_message_round_trips_and_stays_one_command(text: str) -> None:
    line = error_line(text, file=f"access/{text}.yaml", line=3, col=5)
    assert "\n" not in line and "\r" not in line
    [(name, props, message)] = runner_commands(line)
    assert name == "error" and message == text
    assert props == {"file": f"access/{text}.yaml", "line": "3", "col": "5", "title": "accessops"}


def test_escaping_follows_githubs_rules() -> None:
    assert escape_data("50%\r\n") == "50%25%0D%0A"
    assert escape_property("a,b:c%") == "a%2Cb%3Ac%25"


def _github(monkeypatch: pytest.MonkeyPatch, workspace: Path) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_WORKSPACE", str(workspace))
    monkeypatch.chdir(workspace)


BROKEN = """\
apiVersion: accessops/v1
kind: Organization
metadata:
  name: acme
spec:
  profile: union
  "colour\\n::warning file=x::pwned": 1
  seats: "%0A::error::z"
"""


def test_validate_annotates_every_problem_at_its_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _github(monkeypatch, tmp_path)
    (tmp_path / "access").mkdir()
    (tmp_path / "access" / "a,b:c.yaml").write_text(BROKEN)
    assert main(["validate", str(tmp_path / "access")]) == 1
    err = capsys.readouterr().err
    ours = [line for line in err.splitlines() if line.startswith("::error ")]
    assert len(ours) == 2, err
    commands = [c for c in runner_commands("\n".join(ours))]
    assert [(c[0], c[1]["file"], c[1]["line"], c[1]["col"]) for c in commands] == [
        ("error", "access/a,b:c.yaml", "7", "3"),
        ("error", "access/a,b:c.yaml", "8", "3"),
    ]
    assert "::warning file=x::pwned" in commands[0][2]  # the hostile key, kept as text inside one message
    # and no other line, plain ones included, is a workflow command
    assert [line for line in err.splitlines() if line.startswith("::") and not line.startswith("::error ")] == [], err


def test_no_annotation_outside_github_actions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    (tmp_path / "a.yaml").write_text(BROKEN)
    assert main(["validate", str(tmp_path / "a.yaml")]) == 1
    assert "::error" not in capsys.readouterr().err


def test_the_cli_error_path_annotates_problems_and_refusals(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from accessops.cli.annotations import annotate_error

    _github(monkeypatch, tmp_path)
    out = io.StringIO()
    annotate_error(RefusedError([Refusal("removal-budget", "cannot remove 14 of 40 memberships (35%, limit 25%)\n::x::y", "--allow-removals")]), out)
    annotate_error(RefusedError([Refusal("last-owner", "acme would have no owner")]), out)
    from accessops.errors import ManifestError

    annotate_error(ManifestError([Problem(str(tmp_path / "org.yaml"), 4, 9, "spec.members[0]", "ref", "not in the organization")]), out)
    commands = runner_commands(out.getvalue())
    assert [c[1].get("title") for c in commands] == ["accessops: refused by removal-budget", "accessops: refused by last-owner", "accessops"]
    assert commands[0][2] == "cannot remove 14 of 40 memberships (35%, limit 25%)\n::x::y"
    assert commands[2][1] == {"file": "org.yaml", "line": "4", "col": "9", "title": "accessops"}
    assert commands[2][2] == "spec.members[0]: not in the organization"


def test_a_refused_plan_is_annotated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A failing policy through the real CLI (exit 3): each refusal is an annotation too."""
    _github(monkeypatch, tmp_path)
    monkeypatch.delenv("ACCESSOPS_TARGET", raising=False)
    (tmp_path / "org.yaml").write_text("""\
apiVersion: accessops/v1
kind: Organization
metadata:
  name: acme
spec:
  profile: union
  members:
    - {email: ada@gmail.com, role: Owner}
---
apiVersion: accessops/v1
kind: Policy
metadata:
  name: baseline
spec:
  organization: acme
  guardrails:
    - name: two-owners
      min_owners: 2
    - name: no-personal-accounts
      forbidden_domains: [gmail.com]
""")
    assert main(["plan", "org.yaml"]) == 3
    err = capsys.readouterr().err
    refusals = [c for c in runner_commands(err) if c[0] == "error"]
    assert len(refusals) >= 2 and all(c[1]["title"].startswith("accessops: refused by ") for c in refusals), err
