#!/usr/bin/env python3
"""The accessops GitHub Action's run step: run one command and hand its results to the workflow.

Inputs come from the environment, as action.yml passes them (never
interpolated into shell code, so a crafted branch name cannot inject
commands): INPUT_COMMAND (validate | plan | apply | drift), INPUT_PATH,
INPUT_TARGET, INPUT_FORMAT, INPUT_PLAN_FILE, INPUT_TEMPLATE, INPUT_EXTRA_ARGS.

Outputs, written to $GITHUB_OUTPUT: ``exitcode`` (accessops' own: 0 ok,
1 error, 2 changes or drift, 3 refused), ``plan-file`` (absolute path),
``markdown-file`` (absolute path) and ``markdown`` (the text, as a multi-line
heredoc output). The Markdown is also added to the job summary.

The step itself fails only on 1 and 3: "there are changes" and "there is
drift" are results for the workflow to act on, not failures.
Stdlib only: it runs before anything but accessops is installed.

accessops' output holds names from manifests and from the live system, so
the runner must never read a line of it as a workflow command (``::error``,
``::add-mask``, ``::stop-commands``...): it is echoed between
``::stop-commands::TOKEN`` and ``::TOKEN::``, with a random TOKEN made after
the output exists, so the output cannot end the pause itself. After it, only the annotations
accessops itself writes on stderr (``::error file=…,line=…::message``, which
it escapes so each is one line) are repeated for the runner to act on.
"""

from __future__ import annotations

import os
import re
import secrets
import shlex
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

COMMANDS = ("validate", "plan", "apply", "drift")
OUTPUT_CAP = 60_000  # stay under GitHub's 65,535-character comment limit with room for the marker
RESULT = {0: "✅ success", 1: "❌ error", 2: "📝 changes found", 3: "⛔ refused by a safety guard or a policy"}


@dataclass
class Run:
    """One accessops invocation's result."""

    code: int
    stdout: str = ""
    stderr: str = ""

    @property
    def output(self) -> str:
        """stdout then stderr, as a reviewer would read them in the log."""
        return (self.stdout + ("\n" if self.stdout and self.stderr else "") + self.stderr).strip("\n")


def execute(argv: list[str]) -> Run:
    """Run one command, echoing it and its output to the job log."""
    print("+ " + shlex.join(argv), flush=True)
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    echo_untrusted(done.stdout + ("\n" if done.stdout and not done.stdout.endswith("\n") else "") + done.stderr)
    for line in annotations(done.stderr):
        print(line, flush=True)
    return Run(done.returncode, done.stdout, done.stderr)


#: an annotation as accessops writes it on stderr under Actions: error, warning
#: or notice, properties name=value with ":" and "," percent-encoded, and the
#: message with CR and LF percent-encoded (so it is one line)
ANNOTATION = re.compile(r"::(error|warning|notice)( [a-z]+=[^,:\r\n]*(,[a-z]+=[^,:\r\n]*)*)?::[^\r\n]*")


def annotations(stderr: str) -> list[str]:
    """accessops' own annotation lines, to run after the pause: nothing else (no add-mask, set-env, ...)."""
    return [line for line in stderr.split("\n") if ANNOTATION.fullmatch(line)]


def command_data(text: str) -> str:
    """A workflow command's message as the runner unescapes it: ``%``, CR and LF percent-encoded, so it stays one line."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def echo_untrusted(text: str) -> None:
    """Write ``text`` to the job log with workflow commands paused around it.

    Both streams go to stdout, in order: the runner reads stdout and stderr
    separately, so a line written to stderr could reach it after the resume
    line and be run as a command.
    """
    if not text:
        return
    token = secrets.token_hex(16)  # drawn after the text exists: the text cannot contain it on purpose
    while token in text:  # nor by chance
        token = secrets.token_hex(16)
    sys.stdout.write(f"::stop-commands::{token}\n")
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.write(f"::{token}::\n")
    sys.stdout.flush()


def main() -> int:
    """Run the command named by INPUT_COMMAND; return the step's exit status."""
    env = os.environ
    command = env.get("INPUT_COMMAND", "").strip()
    if command not in COMMANDS:
        print(f"::error title=accessops::input 'command' must be one of {', '.join(COMMANDS)}, not {command!r}")
        return 1
    work = Path(env.get("RUNNER_TEMP") or tempfile.gettempdir()) / "accessops"
    work.mkdir(parents=True, exist_ok=True)
    paths = shlex.split(env.get("INPUT_PATH", "")) or ["."]
    target = ["--target", env["INPUT_TARGET"]] if env.get("INPUT_TARGET") else []
    template = ["--template", env["INPUT_TEMPLATE"]] if env.get("INPUT_TEMPLATE") else []
    fmt = env.get("INPUT_FORMAT") or "text"
    extra = shlex.split(env.get("INPUT_EXTRA_ARGS", ""))
    plan_file = Path(env.get("INPUT_PLAN_FILE") or work / "plan.out").resolve()
    exe = shlex.split(env.get("ACCESSOPS", "accessops"))

    if command == "validate":
        run = execute([*exe, "validate", *paths, *(["--format", fmt] if fmt in ("text", "json") else []), *extra])
        markdown = report("accessops validate", run)
    elif command == "plan":
        plan_file.parent.mkdir(parents=True, exist_ok=True)
        plan_file.unlink(missing_ok=True)  # never leave an older plan to be mistaken for this one
        run = execute([*exe, "plan", *paths, *target, "--out", str(plan_file), "--detailed-exitcode",
                   "--format", fmt, *extra])
        if run.code in (0, 2) and plan_file.is_file():
            markdown = execute([*exe, "show", str(plan_file), "--format", "markdown", *template]).stdout
        else:
            markdown = report("accessops plan", run)
    elif command == "apply":
        run = apply(exe, paths, target, extra, env.get("INPUT_PLAN_FILE"), plan_file,
                    manifests=shlex.split(env["INPUT_PATH"]) if env.get("INPUT_PATH") else None)
        markdown = report("accessops apply", run)
    else:
        run = execute([*exe, "drift", *paths, *target, "--format", "markdown", *template, *extra])
        markdown = run.stdout if run.code in (0, 2) else report("accessops drift", run)

    markdown_file = work / f"{command}.md"
    markdown_file.write_text(markdown, encoding="utf-8")
    set_output("exitcode", str(run.code))
    set_output("plan-file", str(plan_file) if command == "plan" and plan_file.is_file() else env.get("INPUT_PLAN_FILE", ""))
    set_output("markdown-file", str(markdown_file))
    set_output("markdown", markdown)
    if env.get("GITHUB_STEP_SUMMARY"):
        with open(env["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as summary:
            summary.write(markdown + "\n")
    return 0 if run.code in (0, 2) else run.code


def apply(exe: list[str], paths: list[str], target: list[str], extra: list[str], given: str | None, plan_file: Path,
          manifests: list[str] | None = None) -> Run:
    """Apply the reviewed plan file when one is given, else the manifests; explain a refused plan.

    With a plan file, ``manifests`` (the ``path`` input) are what the plan is
    re-derived from: never the paths the plan file itself records, which
    whoever made the file chose.
    """
    if not given:
        return execute([*exe, "apply", *paths, *target, "--auto-approve", *extra])
    if not plan_file.is_file():
        message = f"plan file {given} not found: download the reviewed plan first; nothing was applied"
        print(f"::error title=accessops apply::{command_data(message)}")
        return Run(1, stderr=f"error: {message}")
    bound = [arg for path in manifests or [] for arg in ("--manifests", path)]
    run = execute([*exe, "apply", str(plan_file), *bound, *target, "--auto-approve", *extra])
    text = run.output.lower()
    if run.code != 0 and "stale" in text:
        print("::error title=Stale plan, nothing applied::Live access changed after this plan was reviewed, so "
              "accessops refused to apply it. Re-plan: re-run the pull request's plan workflow (or open a new "
              "pull request), review the new plan, and merge again.")
    elif run.code == 3 and "re-plan" in text:
        print("::error title=Not the reviewed plan, nothing applied::The plan file does not match what the merged "
              "manifests give (main moved since the plan, or the file was edited). Re-plan: re-run the pull "
              "request's plan workflow, review the new plan, and merge again.")
    return run


def report(title: str, run: Run) -> str:
    """A Markdown report of a command's outcome and its output, capped to fit a comment."""
    body = run.output or "(no output)"
    if len(body) > OUTPUT_CAP - 500:
        cut = len(body) - (OUTPUT_CAP - 500)
        body = body[: OUTPUT_CAP - 500] + f"\n… {cut:,} more characters in the job log"
    ticks = "`" * max(3, longest_backtick_run(body) + 1)
    status = RESULT.get(run.code, f"exit {run.code}")
    return f"### {title}\n\n**{status}** (exit {run.code})\n\n{ticks}text\n{body}\n{ticks}\n"


def longest_backtick_run(text: str) -> int:
    """The longest run of backticks, so a fence can be longer."""
    best = run = 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        best = max(best, run)
    return best


def set_output(name: str, value: str) -> None:
    """Append one step output to $GITHUB_OUTPUT; multi-line values as a heredoc with a fresh delimiter."""
    path = os.environ.get("GITHUB_OUTPUT")
    if not path:
        return  # run outside Actions: the files and exit code are the result
    with open(path, "a", encoding="utf-8") as out:
        if "\n" in value or "\r" in value:
            delimiter = f"ghadelimiter_{uuid.uuid4()}"  # a value cannot contain a delimiter it never saw
            out.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
        else:
            out.write(f"{name}={value}\n")


if __name__ == "__main__":
    sys.exit(main())
