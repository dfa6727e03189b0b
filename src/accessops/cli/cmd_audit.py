"""``accessops audit``: the weekly access checklist on the live system.

Stale pending invitations by age, members with broad Full scopes, members
no longer on the account (suspended, or not members), broad project
assignments, custom roles no permission uses, members who would see a blank
screen, seat usage, and members in no team.
"""

from __future__ import annotations

import argparse
from datetime import datetime, timezone
from typing import Any

from accessops.access.audit import STALE_DAYS, audit
from accessops.cli.cmd_explain import access_state
from accessops.cli.common import add_format, add_paths, add_target, print_json


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``audit`` command."""
    p = sub.add_parser("audit", help="weekly access checklist on the live system", description=__doc__)
    add_paths(p)
    add_target(p)
    add_format(p)
    p.add_argument("--stale-days", type=int, default=STALE_DAYS, metavar="N", help=f"pending invitations older than N days are stale (default {STALE_DAYS})")
    p.add_argument("--desired", action="store_true", help="audit the manifests instead of the live system")
    p.set_defaults(func=run)


def _seats(s: dict[str, Any]) -> str:
    limit = "no limit" if s["limit"] is None else f"{s['used']} of {s['limit']} used, {s['free']} free"
    over = " (OVER THE LIMIT)" if s["over"] else ""
    suspended = f", {s['suspended']} suspended" if s.get("suspended") else ""
    return f"{limit}{over}; {s['active']} active, {s['invited']} invited{suspended}"


def _sections(org: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """(title, lines) for one organization; shared by text and Markdown."""
    inv = [f"{i['member']}: invited {i['age_days'] if i['age_days'] is not None else '?'} day(s) ago" + (" (stale)" if i["stale"] else "") for i in org["pending_invitations"]]
    return [
        ("Seat usage", [_seats(org["seats"])]),
        ("Pending invitations (oldest first)", inv),
        ("Broad Full scopes", [f"{b['member']}: Full on {', '.join(b['scopes'])} ({b['subject']})" for b in org["broad_full_scopes"]]),
        ("No longer on the account", [f"{g['member']}: {g['status']}, still holds {', '.join(g['still_holds']) or 'nothing'}" for g in org.get("no_longer_on_account", [])]),
        ("Project assignment breadth", [f"{b['member']}: {len(b['projects'])} of {b['of']} projects ({', '.join(b['projects'])})" for b in org.get("project_assignment_breadth", [])]),
        ("Custom roles no permission uses", list(org["unused_custom_roles"])),
        ("Members who would see a blank screen", [f"{b['member']} in {b['workspace']}" for b in org["blank_screen_members"]]),
        ("Members in no team", list(org["members_in_no_team"])),
    ]


def render_text(report: dict[str, Any]) -> list[str]:
    """Plain-text checklist."""
    lines = []
    for org in report["organizations"]:
        lines.append(f"Audit of {org['organization']}")
        for title, items in _sections(org):
            lines.append(f"  {title}: {'none' if not items else len(items) if title != 'Seat usage' else items[0]}")
            if title != "Seat usage":
                lines += [f"    - {item}" for item in items]
    return lines


def render_markdown(report: dict[str, Any]) -> list[str]:
    """Markdown checklist, for a pull request comment or an issue (names escaped as in the plan comment)."""
    from accessops.render.markdown import inline_code, md_escape

    lines = []
    for org in report["organizations"]:
        lines += [f"## Access audit: {md_escape(org['organization'])}", ""]
        for title, items in _sections(org):
            done = "x" if not items or title == "Seat usage" and not org["seats"]["over"] else " "
            lines.append(f"- [{done}] **{title}**" + (f": {md_escape(items[0])}" if title == "Seat usage" else f" ({len(items)})"))
            if title != "Seat usage":
                lines += [f"  - {inline_code(item)}" for item in items]
        lines.append("")
    return lines


def run(args: argparse.Namespace) -> int:
    """Print the checklist; exit 0."""
    args.live = not args.desired
    resources, profiles = access_state(args)
    report = audit(resources, profiles, datetime.now(timezone.utc), args.stale_days, live=args.live)
    if args.format == "json":
        print_json(report)
    else:
        print("\n".join(render_markdown(report) if args.format == "markdown" else render_text(report)))
    return 0


def access_checks(model: Any, paths: list[str], fmt: str = "text", lint_json: list[dict[str, Any]] | None = None) -> int | None:
    """For ``validate``: policy failures (exit 3) and lint findings (errors exit 1); None when clean.

    Lint warnings are printed on stderr and do not change the exit code;
    codes listed in the settings' ``[lint] errors`` do. With JSON, every
    finding (warnings too) is appended to ``lint_json`` for the caller's
    report when the manifests are valid.
    """
    import sys

    from accessops.access.lint import lint, unknown_codes
    from accessops.access.policies import evaluate_policies, model_profiles
    from accessops.errors import ConfigError
    from accessops.model.compile import compile_model
    from accessops.settings import load_settings

    raised = load_settings(paths).section("lint").get("errors", [])
    if unknown_codes(raised):
        raise ConfigError(f"[lint] errors: unknown code(s) {', '.join(unknown_codes(raised))}")
    resources = compile_model(model).resources
    failures = evaluate_policies(model, resources)
    findings = lint(resources, model_profiles(model), raised)
    errors = [f for f in findings if f.level == "error"]
    if fmt == "json":
        if lint_json is not None:
            lint_json.extend(f.to_json() for f in findings)
        if failures or errors:
            print_json({"valid": False, "errors": [], "policy_failures": [f.to_json() for f in failures], "lint": [f.to_json() for f in findings]})
    else:
        for failure in failures:
            print(f"error: {failure}", file=sys.stderr)
        for finding in findings:
            print(finding, file=sys.stderr)
    if failures:
        return 3
    return 1 if errors else None
