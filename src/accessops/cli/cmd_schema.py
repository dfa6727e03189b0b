"""``accessops schema``: print the JSON Schema of manifest documents."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from accessops.manifest.schema import schema_text


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``schema`` command."""
    p = sub.add_parser(
        "schema",
        help="print the JSON Schema of manifests (generated from the models)",
        description="Print the JSON Schema of accessops manifest documents, generated from the pydantic models.",
    )
    p.add_argument("--out", metavar="FILE", help="write the schema to FILE instead of stdout")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print or write the schema; always exit 0."""
    text = schema_text()
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
