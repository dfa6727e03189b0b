"""Print a plan's JSON in the format a command asked for."""

from __future__ import annotations

import argparse
import json
from typing import Any

from accessops.cli.common import use_color
from accessops.render.text import render_text


def render(plan_json: dict[str, Any], fmt: str, *, color: bool = False, template: str | None = None) -> str:
    """The plan as text, json or markdown."""
    if fmt == "json":
        # one line, as `terraform show -json` prints it: terraform-compliance reads
        # only the first line of a file (`jq .` makes it readable)
        return json.dumps(plan_json, default=str)
    if fmt == "markdown":
        from accessops.render.markdown import render_markdown

        return render_markdown(plan_json, template=template)
    return render_text(plan_json, color=color)


def emit_plan(plan_json: dict[str, Any], args: argparse.Namespace) -> None:
    """Print the plan to stdout in ``args.format``."""
    print(render(plan_json, getattr(args, "format", "text"), color=use_color(args), template=getattr(args, "template", None)))
