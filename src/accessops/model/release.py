"""Let go of the manifests' documents once they are compiled (issue 14 item 5).

A 100k-member organization is one document holding 100k member entries:
its parsed mapping and its validated model are a few hundred megabytes that
compile turns into flat resources. After compile, a plan reads only a few
things of the model: the organization names, each organization's declared
``profile`` (a profile switch), the resolved profiles, the Policy documents
(evaluated on the plan's after-state, with their file:line) and the file
list. :func:`release_documents` keeps exactly those and drops the rest:
every member, team and grant list, and the raw mappings errors were
located in (validation has already run).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from accessops.manifest.loader import DesiredModel, Loaded

#: Per document kind, the spec fields that hold the bulk of a large
#: organization (per-person lists), cleared in the released model.
_BULK = {
    "Organization": ("members", "teams", "permissions", "custom_roles"),
    "Workspace": ("members", "teams", "apps", "tables"),
    "Space": ("members", "teams"),
}


def _unlocated(item: Loaded[Any]) -> Loaded[Any]:
    """``item`` without the raw mapping and the text its errors were located in."""
    return Loaded(item.doc, item.file, {}, item.pos, None)


def release_sources(model: DesiredModel) -> DesiredModel:
    """``model`` without the raw mappings behind its documents (policies keep theirs).

    Validation has located every problem by then; compile reads only the
    validated documents. Freed before compile, the raw mappings (about a
    third of a loaded model) are not held while the resources are built.
    """
    return _rebuilt(model, _unlocated)


def _slim(item: Loaded[Any]) -> Loaded[Any]:
    """``item`` without its raw mapping, and its spec without the per-person lists."""
    doc = item.doc
    bulk = _BULK.get(doc.kind, ())
    spec = doc.spec.model_copy(update={f: None for f in bulk}) if bulk else doc.spec
    # no raw mapping any more: a position asked for falls back to the document's start
    return Loaded(doc.model_copy(update={"spec": spec}), item.file, {}, item.pos, None)


def release_documents(model: DesiredModel) -> DesiredModel:
    """The part of a compiled ``model`` a plan still reads; the rest can be freed.

    Kept whole: policies (their checks locate failures in the document),
    profiles, workspace profiles and the file list. Kept by name with a
    slimmed document: organizations (``spec.profile`` and ``spec.seats``
    stay), workspaces, spaces, space types and permission sets. Call it only
    after :func:`accessops.model.compile.compile_model`: what it drops is what
    compile reads.
    """
    return _rebuilt(model, _slim)


def _rebuilt(model: DesiredModel, each: Callable[[Loaded[Any]], Loaded[Any]]) -> DesiredModel:
    """A copy of ``model`` with ``each`` applied to every document but the policies (other fields carried over)."""
    return replace(
        model,
        organizations={k: each(v) for k, v in model.organizations.items()},
        workspaces={k: each(v) for k, v in model.workspaces.items()},
        space_types={k: each(v) for k, v in model.space_types.items()},
        spaces={k: each(v) for k, v in model.spaces.items()},
        permission_sets={k: each(v) for k, v in model.permission_sets.items()},
    )
