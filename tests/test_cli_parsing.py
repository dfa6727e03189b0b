"""The command line itself: lazy commands, start-up imports, option order, usage errors and help.

Start-up is checked by behaviour (which modules a fresh interpreter loaded),
never by timing; bench/startup.py measures the time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_local_roundtrip import seed

from accessops.adapters.base import Target
from accessops.adapters.local import LocalAdapter
from accessops.cli import COMMANDS, build_parser, main
from accessops.cli.parsing import plain, subcommands

ROOT = Path(__file__).resolve().parent.parent
SMALL_FILE = ROOT / "examples" / "policies" / "seed000-matrix" / "organization.yaml"
HEAVY = ("pydantic", "yaml", "jinja2", "requests", "sqlite3", "json", "tomllib", "hashlib", "threading", "typing", "pathlib", "shutil")

_PROBE = """
import json, sys
from accessops.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
sys.__stdout__.write("\\n" + json.dumps(sorted(sys.modules)))
"""


def loaded_by(*argv: str, cwd: Path = ROOT) -> set[str]:
    """The modules a fresh interpreter has loaded after ``accessops ARGV``."""
    import accessops

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(accessops.__file__).parent.parent), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", _PROBE, *argv], capture_output=True, text=True, cwd=cwd, env=env)
    baseline = subprocess.run([sys.executable, "-c", "import json, sys; sys.stdout.write(json.dumps(sorted(sys.modules)))"], capture_output=True, text=True)
    # site and .pth hooks may import some stdlib modules in every interpreter: only what accessops added counts
    return set(json.loads(done.stdout.rsplit("\n", 1)[-1])) - set(json.loads(baseline.stdout)) | {m for m in json.loads(done.stdout.rsplit("\n", 1)[-1]) if m.startswith("accessops")}


def _top(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


@pytest.mark.parametrize("argv", [["--version"], ["--help"], []])
def test_version_and_help_import_nothing_heavy(argv: list[str]) -> None:
    modules = loaded_by(*argv)
    assert not _top(modules) & set(HEAVY), sorted(_top(modules) & set(HEAVY))
    assert {m for m in modules if m.startswith("accessops.")} <= {"accessops.cli", "accessops.cli.parsing", "accessops.cli.examples", "accessops.secrets"}


# command module -> the other command modules it uses itself
USES = {"accessops.cli.cmd_audit": {"accessops.cli.cmd_explain"}, "accessops.cli.cmd_completion": set(COMMANDS[c][0] for c in COMMANDS)}


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_command_imports_only_its_own_module(name: str) -> None:
    module = COMMANDS[name][0]
    modules = loaded_by(name, "--help")
    commands = {m for m in modules if m.startswith("accessops.cli.cmd_")}
    assert commands <= {module} | USES.get(module, set()), sorted(commands)
    assert module in commands


def test_validate_loads_only_what_validation_needs() -> None:
    modules = loaded_by("validate", str(SMALL_FILE))
    assert {"pydantic", "yaml"} <= _top(modules)  # it validates for real
    assert not _top(modules) & {"jinja2", "requests", "sqlite3", "urllib3"}
    assert not {m for m in modules if m.startswith(("accessops.adapters", "accessops.render", "accessops.apply", "accessops.engine"))}


def test_plan_on_a_local_target_loads_no_template_engine_nor_http(tmp_path: Path) -> None:
    text = loaded_by("plan", str(SMALL_FILE), "--target", f"local:{tmp_path / 't.db'}", cwd=tmp_path)
    assert "accessops.engine" in text  # it planned for real
    assert not _top(text) & {"jinja2", "requests", "urllib3"}, sorted(_top(text) & {"jinja2", "requests", "urllib3"})
    markdown = loaded_by("plan", str(SMALL_FILE), "--target", f"local:{tmp_path / 't.db'}", "--format", "markdown", cwd=tmp_path)
    assert "jinja2" in _top(markdown)


def test_the_command_table_summaries_are_the_commands_own() -> None:
    sub = subcommands(build_parser(every=True))
    assert sub is not None
    own = {c.dest: c.help for c in sub._choices_actions}
    assert {name: plain(summary) for name, (_, summary) in COMMANDS.items()} == {name: own[name] for name in COMMANDS}


@pytest.fixture
def tenant(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ACCESSOPS_TARGET", raising=False)
    path = tmp_path / "elsewhere.db"
    with LocalAdapter(Target.parse(f"local:{path}")) as adapter:
        seed(adapter)
    return path


def test_a_parent_option_is_accepted_after_the_subcommand_and_its_arguments(tenant: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tenant", "accept", "bo@acme.test", "--target", f"local:{tenant}"]) == 0
    assert "bo@acme.test accepted" in capsys.readouterr().out
    assert main(["tenant", "list", "--format", "json", "--target", f"local:{tenant}"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["email"]: r["status"] for r in rows}["bo@acme.test"] == "active"
    # before the subcommand still works, and a value given there is not lost
    assert main(["tenant", "--target", f"local:{tenant}", "set-role", "bo@acme.test", "Admin"]) == 0


def test_global_options_go_anywhere(tenant: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--no-color", "tenant", "list", "--target", f"local:{tenant}", "-v"]) == 0


@pytest.mark.parametrize(
    ("argv", "usage"),
    [
        (["plan", "--bogus"], "usage: accessops plan "),
        (["tenant", "accept", "bo@acme.test", "--bogus"], "usage: accessops tenant accept "),
        (["tenant", "accept"], "usage: accessops tenant accept "),
        (["tenant", "nonsense"], "usage: accessops tenant "),
        (["show"], "usage: accessops show "),
        (["nonsense"], "usage: accessops "),
    ],
)
def test_a_usage_error_shows_that_commands_usage(argv: list[str], usage: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 1  # 2 means "changes found" in this CLI
    err = capsys.readouterr().err
    assert err.startswith(usage), err
    assert "error:" in err


def test_version_prints_the_version(capsys: pytest.CaptureFixture[str]) -> None:
    from accessops import __version__

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out == f"accessops {__version__}\n"


def _help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit):
        main([*argv, "--help"])
    return capsys.readouterr().out


def test_help_has_examples_and_no_double_backticks(capsys: pytest.CaptureFixture[str]) -> None:
    paths = [[]] + [[name] for name in COMMANDS] + [["tenant", op] for op in ("accept", "list")]
    for argv in paths:
        text = _help(argv, capsys)
        assert "``" not in text, (argv, text)
    for argv in [[], ["plan"], ["apply"], ["validate"], ["tenant"], ["completion"]]:
        text = _help(argv, capsys)
        assert "\nexamples:\n  accessops " in text, (argv, text)


def test_every_help_example_parses(capsys: pytest.CaptureFixture[str]) -> None:
    """An example that names a wrong option or command would mislead."""
    from accessops.cli.examples import EXAMPLES

    for path, block in EXAMPLES.items():
        for line in block.splitlines():
            words = line.split("#")[0].split()
            if not words or ">" in words:
                words = words[: words.index(">")] if ">" in words else words
            assert words[0] == "accessops", line
            parser = build_parser(words[1:])
            args, extra = parser.parse_known_args(words[1:])
            assert not extra, line
            assert path == "" or args.command == path.split()[0], line
