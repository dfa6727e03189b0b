"""``accessops validate``: check manifests against the schema and their profiles."""

from __future__ import annotations

import argparse
import sys

from accessops.cli.common import add_paths, print_json
from accessops.errors import ManifestError
from accessops.manifest.loader import load


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``validate`` command."""
    p = sub.add_parser("validate", help="check manifests; every error with file:line:col", description=__doc__)
    add_paths(p)
    p.add_argument("--format", choices=("text", "json"), default="text", help="text (default) or json error objects")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Exit 0 when valid, 1 when not."""
    paths = args.paths or ["."]
    try:
        model = load(paths)
    except ManifestError as exc:
        if args.format == "json":
            print_json({"valid": False, "errors": [p.as_dict() for p in exc.problems]})
        else:
            from accessops.cli.common import error_lines

            for line in error_lines(exc):  # escaped: a key with a line break cannot forge a second line
                print(line, file=sys.stderr)
            print(f"{len(exc.problems)} error(s)", file=sys.stderr)
        from accessops.cli.annotations import annotate_problems

        annotate_problems(exc.problems)  # under GitHub Actions only
        return 1
    from accessops.cli.cmd_audit import access_checks  # policies (exit 3) and lint (issue 5)

    findings: list[dict[str, object]] = []  # lint warnings reach JSON consumers too (issue 15)
    refused = access_checks(model, paths, args.format, findings)
    if refused is not None:
        return refused
    if args.format == "json":
        warnings = [f for f in findings if f["level"] == "warning"]
        print_json({"valid": True, "errors": [], "warnings": len(warnings), "lint": findings, "files": len(model.files), "organizations": model.org_names})
    else:
        print(f"ok: {len(model.files)} file(s), {len(model.organizations)} organization(s) valid")
    return 0
