"""The shape a saved plan's JSON must have before :meth:`Plan.from_json` reads it.

A plan file is input like any other: it may be truncated, hand-edited or
forged. :func:`plan_shape_problem` says what is wrong, with the JSON path
(``resource_changes[3].change.actions``), instead of letting a ``KeyError``
surface as an internal error. It checks shape only; whether the changes are
the ones the manifests say is the saved-plan trust check's job.
"""

from __future__ import annotations

from typing import Any

from accessops.model.resource import RESOURCE_TYPES
from accessops.plan.change import Action, Change

#: Top-level keys every plan has, and the JSON type each holds.
_REQUIRED: dict[str, type] = {"format_version": str, "target": str, "resource_changes": list, "fingerprints": dict}
_OPTIONAL: dict[str, type] = {"resource_drift": list, "meta": dict, "summary": dict}
_JSON_NAMES = {str: "a string", list: "a list", dict: "an object"}


def _typed(data: dict[str, Any], key: str, kind: type, where: str, *, required: bool = True) -> str | None:
    if key not in data:
        return f"{where}{key}: missing" if required else None
    if not isinstance(data[key], kind):
        return f"{where}{key}: expected {_JSON_NAMES[kind]}, not {type(data[key]).__name__}"
    return None


def _change_problem(item: Any, where: str) -> str | None:
    if not isinstance(item, dict):
        return f"{where}: expected an object, not {type(item).__name__}"
    for key in ("address", "type", "name"):
        if problem := _typed(item, key, str, f"{where}."):
            return problem
    if item["type"] not in RESOURCE_TYPES:
        return f"{where}.type: unknown resource type {item['type']!r}"
    change = item.get("change")
    if not isinstance(change, dict):
        return f"{where}.change: expected an object"
    actions = change.get("actions")
    if not isinstance(actions, list) or not all(isinstance(a, str) for a in actions):
        return f"{where}.change.actions: expected a list of strings"
    try:
        Action.from_terraform(actions)
    except (ValueError, KeyError, TypeError, IndexError):
        return f"{where}.change.actions: unknown actions {actions!r}"
    for side in ("before", "after"):
        if side not in change:
            return f"{where}.change.{side}: missing"
        if change[side] is not None and not isinstance(change[side], dict):
            return f"{where}.change.{side}: expected an object or null"
    for key in ("notes", "flags"):
        if key in item and not (isinstance(item[key], list) and all(isinstance(v, str) for v in item[key])):
            return f"{where}.{key}: expected a list of strings"
    return None


def plan_shape_problem(data: Any) -> str | None:
    """What is wrong with a saved plan's ``plan`` object, or None when it has the shape of one."""
    if not isinstance(data, dict):
        return f"plan: expected an object, not {type(data).__name__}"
    for key, kind in _REQUIRED.items():
        if problem := _typed(data, key, kind, ""):
            return problem
    for key, kind in _OPTIONAL.items():
        if problem := _typed(data, key, kind, "", required=False):
            return problem
    for i, item in enumerate(data["resource_changes"]):
        where = f"resource_changes[{i}]"
        if problem := _change_problem(item, where):
            return problem
        shown = Change.from_json(item).address
        if item["address"] != shown:
            return f"{where}.address: {item['address']!r} is not the address of its type and name ({shown})"
    for i, item in enumerate(data.get("resource_drift", [])):
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in ("type", "name", "origin")) or not isinstance(item.get("change"), dict):
            return f"resource_drift[{i}]: expected an object with type, name, origin and change"
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in data["fingerprints"].items()):
        return "fingerprints: expected an object of strings"
    return None
