"""The JSON Schema of manifest documents, generated from the pydantic models.

``schemas/accessops-v1.schema.json`` is this output, committed so editors
(yaml-language-server) offer completion; a test fails when it is stale.
"""

from __future__ import annotations

import json
from typing import Any

from accessops.model.manifest import API_VERSION, DOCUMENT_ADAPTER

SCHEMA_ID = "https://accessops.dev/schemas/accessops-v1.schema.json"
SCHEMA_FILE = "schemas/accessops-v1.schema.json"


def manifest_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one manifest document, any kind."""
    schema = DOCUMENT_ADAPTER.json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": f"accessops manifest ({API_VERSION})",
        "description": "One accessops document: Organization, Workspace, SpaceType, Space, PermissionSet or Policy.",
        **schema,
    }


def schema_text() -> str:
    """The schema as the committed file holds it: stable key order, trailing newline."""
    return json.dumps(manifest_schema(), indent=2, sort_keys=True) + "\n"
