"""A saved plan file is input like any other: malformed content is one error naming the file.

A plan file may be truncated, hand-edited or forged. :func:`reading_plan_file`
wraps the reading of one, so that invalid JSON, wrong shapes, missing keys
and wrong types all come out as one :class:`~accessops.errors.FileError`
(``error: tf.plan: malformed plan: ...``) instead of an internal error;
:func:`plan_problem` then checks what was read, whatever the JSON layout of
the plan format (the checks are on the :class:`Plan`, not on its JSON). It
checks shape only: whether the changes are the ones the manifests say is
the saved-plan trust check's job.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from accessops.errors import AccessOpsError, FileError
from accessops.model.base import MAX_STORED_INT
from accessops.model.resource import RESOURCE_TYPES
from accessops.plan.change import Plan


@contextmanager
def reading_plan_file(path: Path) -> Iterator[None]:
    """Turn any failure while reading the plan file at ``path`` into one FileError naming it."""
    try:
        yield
    except AccessOpsError:
        raise
    except OSError as exc:
        raise FileError(str(path), f"cannot read the plan: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise FileError(str(path), f"not a plan file: invalid JSON ({exc.msg})", exc.lineno, exc.colno) from None
    except UnicodeDecodeError as exc:
        raise FileError(str(path), f"not a plan file: not valid UTF-8 (byte 0x{exc.object[exc.start]:02x})") from None
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        what = f"missing {exc}" if isinstance(exc, KeyError) else str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise FileError(str(path), f"malformed plan: {what}") from None


def _is_attrs(value: Any) -> bool:
    return value is None or (isinstance(value, dict) and all(isinstance(k, str) for k in value))


def _too_big(value: Any) -> int | None:
    """A whole number inside ``value`` that no target can store (past 64 bits), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if not -(2**63) <= value <= MAX_STORED_INT else None
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return next((big for item in items if (big := _too_big(item)) is not None), None)


def plan_problem(plan: Plan) -> str | None:
    """What is wrong with a plan read from a file, or None when it is well formed."""
    if not isinstance(plan.target, str) or not plan.target:
        return "it names no target"
    for i, change in enumerate(plan.changes):
        where = f"change {i + 1}"
        if not isinstance(change.type, str) or change.type not in RESOURCE_TYPES:
            return f"{where}: unknown resource type {change.type!r}"
        if not isinstance(change.key, str) or not change.key:
            return f"{where}: its name is not a string"
        if not (_is_attrs(change.before) and _is_attrs(change.after)):
            return f"{where} ({change.address}): before and after must be objects or null"
        if (big := _too_big(change.after)) is not None:
            return f"{where} ({change.address}): {big} does not fit a 64-bit integer (no target can store it)"
        if not all(isinstance(v, str) for v in (*change.notes, *change.flags)):
            return f"{where} ({change.address}): notes and flags must be strings"
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in plan.fingerprints.items()):
        return "fingerprints must be an object of strings"
    return None


def checked_plan(path: Path, plan: Plan) -> Plan:
    """``plan`` when well formed; else a FileError naming ``path``."""
    problem = plan_problem(plan)
    if problem:
        raise FileError(str(path), f"malformed plan: {problem}")
    return plan
