"""Terraform's JSON plan representation of a plan, and the way back.

Real plan-policy tools (checkov's ``terraform_plan`` framework,
terraform-compliance, Rego policies over ``planned_values``) read this shape,
so it follows what ``terraform show -json PLANFILE`` emits (Terraform 1.11,
format 1.2) key for key; docs/plan-json.md is the contract. Resource names and
addresses come from :mod:`accessops.plan.terraform_names`.

accessops's own additions stay under a key named ``accessops``: top level
(version, target, summary, fingerprints, meta) and in each change (its
native address, type and key, notes, flags, drift origin).
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Any

from accessops.model.resource import RESOURCE_TYPES, Resource, ResourceMap
from accessops.plan.terraform_names import (
    EXTRA,
    FORMAT_VERSION,
    PROVIDER,
    PROVIDER_NAME,
    STATE_FORMAT_VERSION,
    TERRAFORM_VERSION,
    attrs_of,
    block_name,
    key_fields,
    native_type,
    split_key,
    tf_address,
    tf_type,
    values_of,
)

if TYPE_CHECKING:
    from accessops.plan.change import Change, Drift, Plan

__all__ = ["EXTRA", "FORMAT_VERSION", "TERRAFORM_VERSION", "block_name", "is_noop", "native", "own", "plan_document", "tf_address"]


class Instances(dict[tuple[str, str], dict[str, Any]]):
    """Memo for one document, per (type, key): the instance fields (address, mode,
    type, name, index, provider_name), and the ``values`` made from one attrs object.

    An unchanged resource is in prior_state, planned_values and a no-op change
    (before and after), always with the same attrs object, so its address and
    values are built once and its values object is *shared* by those four places
    (35,954 resources: peak 568 -> 525 MB for ``plan --format json``). So a
    document is read-only; it is for json.dumps. Valid for its document only."""

    def __init__(self) -> None:
        super().__init__()
        self._values: dict[tuple[str, str], tuple[dict[str, Any], dict[str, Any]]] = {}

    def __missing__(self, ident: tuple[str, str]) -> dict[str, Any]:
        self[ident] = fields = _instance(*ident)
        return fields

    def values_for(self, type_: str, key: str, attrs: dict[str, Any] | None) -> dict[str, Any] | None:
        """:func:`values_of`, once per attrs object."""
        if attrs is None:
            return None
        seen = self._values.get((type_, key))
        if seen is not None and seen[0] is attrs:
            return seen[1]
        made = values_of(type_, key, attrs)
        assert made is not None
        self._values[type_, key] = (attrs, made)
        return made


def _instance(type_: str, key: str) -> dict[str, Any]:
    org, index = split_key(type_, key)
    data: dict[str, Any] = {
        "address": tf_address(type_, key),
        "mode": "managed",
        "type": tf_type(type_),
        "name": block_name(org),
    }
    if index is not None:
        data["index"] = index
    data["provider_name"] = PROVIDER_NAME
    return data


def resource_json(res: Resource, instances: Instances | None = None) -> dict[str, Any]:
    """One resource in ``planned_values`` or ``prior_state``."""
    data = dict(instances[res.type, res.key]) if instances is not None else _instance(res.type, res.key)
    data["schema_version"] = 0
    data["values"] = instances.values_for(res.type, res.key, res.attrs) if instances is not None else values_of(res.type, res.key, res.attrs)
    data["sensitive_values"] = {}  # accessops holds no secrets in resources
    return data


def resource_from_json(data: dict[str, Any]) -> Resource:
    """Inverse of :func:`resource_json`; the key comes back from the key segments in ``values``.

    ValueError when the address is not the one those segments make: what a policy
    tool judged (the address) and what accessops reads (the values) must agree."""
    type_ = native_type(data["type"])
    values = data.get("values") or {}
    key = "/".join(str(values[p]) for p in RESOURCE_TYPES[type_].key_parts)
    _agrees(data, type_, key, [values])
    return Resource(type_, key, attrs_of(type_, values) or {})


def _agrees(entry: dict[str, Any], type_: str, key: str, sides: list[dict[str, Any] | None]) -> None:
    """The Terraform fields of an entry (address, type, key segments in values) match ``type_``/``key``."""
    if type_ not in RESOURCE_TYPES:
        raise ValueError(f"not an accessops resource type: {type_!r}")
    if len(key.split("/")) != len(RESOURCE_TYPES[type_].key_parts):
        raise ValueError(f"{type_} key {key!r} does not have the segments {'/'.join(RESOURCE_TYPES[type_].key_parts)}")
    expected = tf_address(type_, key)
    if entry.get("address") != expected or entry.get("type") != tf_type(type_):
        raise ValueError(f"{entry.get('address')!r} does not match its accessops key ({expected})")
    fields = key_fields(type_, key)
    for side in sides:
        if side is not None and any(side.get(k) != v for k, v in fields.items()):
            raise ValueError(f"{expected}: values name another object than its address")


def _unknown_after(change: Change) -> dict[str, Any]:
    """Live-only attributes (status, times) of an object being created are known only after apply."""
    if change.after is None or change.before is not None or not RESOURCE_TYPES[change.type].readonly:
        return {}
    return {k: True for k in sorted(RESOURCE_TYPES[change.type].readonly) if k not in change.after}


def _action_reason(change: Change, blocks: AbstractSet[str]) -> str | None:
    from accessops.plan.change import Action

    if change.action is Action.REPLACE:
        return "replace_because_cannot_update"
    if change.action is Action.DELETE:
        block = tf_address(change.type, change.key).split("[", 1)[0]
        return "delete_because_each_key" if block in blocks else "delete_because_no_resource_config"
    return None


def change_json(change: Change, blocks: AbstractSet[str] = frozenset(), instances: Instances | None = None) -> dict[str, Any]:
    """Terraform's ``resource_changes[]`` entry for one change."""
    data = dict(instances[change.type, change.key]) if instances is not None else _instance(change.type, change.key)
    make = instances.values_for if instances is not None else values_of
    before = make(change.type, change.key, change.before)
    after = make(change.type, change.key, change.after)
    body: dict[str, Any] = {
        "actions": change.action.terraform,
        "before": before,
        "after": after,
        "after_unknown": _unknown_after(change),
        "before_sensitive": {} if before is not None else False,
        "after_sensitive": {} if after is not None else False,
    }
    if change.action.value == "replace":
        fixed = sorted(RESOURCE_TYPES[change.type].replace_on & set(change.changed_attrs()))
        if fixed:
            body["replace_paths"] = [[k] for k in fixed]
    data["change"] = body
    reason = _action_reason(change, blocks)
    if reason:
        data["action_reason"] = reason
    extra: dict[str, Any] = {"address": change.address, "type": change.type, "key": change.key}
    if change.notes:
        extra["notes"] = list(change.notes)
    if change.flags:
        extra["flags"] = list(change.flags)
    data[EXTRA] = extra
    return data


def drift_json(drift: Drift) -> dict[str, Any]:
    """Terraform's ``resource_drift[]`` entry: last applied -> live now, with the origin."""
    data = _instance(drift.type, drift.key)
    before = values_of(drift.type, drift.key, drift.last_applied)
    after = values_of(drift.type, drift.key, drift.live)
    actions = ["create"] if before is None else ["delete"] if after is None else ["update"]
    data["change"] = {
        "actions": actions,
        "before": before,
        "after": after,
        "after_unknown": {},
        "before_sensitive": {} if before is not None else False,
        "after_sensitive": {} if after is not None else False,
    }
    extra: dict[str, Any] = {"address": drift.address, "type": drift.type, "key": drift.key, "origin": drift.origin.value}
    if drift.notes:
        extra["notes"] = list(drift.notes)
    data[EXTRA] = extra
    return data


def native(entry: dict[str, Any], *, check: bool = False) -> dict[str, Any]:
    """A change or drift entry in accessops's own terms: address, type, key, actions,
    before, after (attributes only), notes, flags, origin.

    Reads this module's shape and the one before it (internal type, ``name`` = key,
    notes/flags/origin beside ``change``), so plans saved by accessops 0.1 still load.
    ``check`` (for :meth:`Plan.from_json`): ValueError unless the type is accessops's
    and the Terraform fields agree with the key; the views render what they are given.
    """
    extra = entry.get(EXTRA)
    change = entry["change"]
    if isinstance(extra, dict):
        type_, key = str(extra.get("type", "")), str(extra.get("key", ""))
        if check:
            _agrees(entry, type_, key, [change.get("before"), change.get("after")])
        source = extra
    else:
        type_, key = str(entry.get("type", "")), str(entry.get("name", ""))
        if check and type_ not in RESOURCE_TYPES:
            raise ValueError(f"not an accessops resource type: {type_!r}")
        source = entry
    before, after = change.get("before"), change.get("after")
    if isinstance(extra, dict) and type_ in RESOURCE_TYPES:
        before, after = attrs_of(type_, before), attrs_of(type_, after)
    return {
        "address": str(source.get("address") or f'{type_}["{key}"]'),
        "type": type_,
        "key": key,
        "actions": list(change["actions"]),
        "before": before,
        "after": after,
        "notes": [str(n) for n in source.get("notes") or []],
        "flags": [str(f) for f in source.get("flags") or []],
        "origin": str(source.get("origin") or ""),
    }


def _sorted(resources: list[Resource]) -> list[Resource]:
    return sorted(resources, key=lambda r: (RESOURCE_TYPES[r.type].order, r.type, r.key))


def planned_resources(prior: ResourceMap, changes: list[Change]) -> list[Resource]:
    """What live will hold after the apply: the prior state with every change made.

    Objects owned by a replaced parent go with it unless the plan creates them again.
    """
    from accessops.plan.change import Action
    from accessops.plan.planner import parent_keys

    after = dict(prior)
    replaced = {(c.type, c.key) for c in changes if c.action is Action.REPLACE}
    changed: set[str] = set()
    for c in changes:
        changed.add(c.address)
        if c.action is Action.DELETE:
            after.pop(c.address, None)
        elif c.after is not None:
            after[c.address] = Resource(c.type, c.key, dict(c.after))
    if replaced:
        for addr, res in list(after.items()):
            if addr not in changed and any(p in replaced for p in parent_keys(res)):
                del after[addr]
    return _sorted(list(after.values()))


def _module(resources: list[Resource], instances: Instances) -> dict[str, Any]:
    return {"resources": [resource_json(r, instances) for r in resources]} if resources else {}


def configuration(planned: list[Resource], target: str) -> dict[str, Any]:
    """Terraform's ``configuration``: the provider and one ``for_each`` block per type and organization."""
    blocks: dict[str, dict[str, Any]] = {}
    for res in planned:
        org, _ = split_key(res.type, res.key)
        addr = f"{tf_type(res.type)}.{block_name(org)}"
        if addr not in blocks:
            blocks[addr] = {
                "address": addr,
                "mode": "managed",
                "type": tf_type(res.type),
                "name": block_name(org),
                "provider_config_key": PROVIDER,
                "expressions": {},
                "schema_version": 0,
            }
    provider: dict[str, Any] = {"name": PROVIDER, "full_name": PROVIDER_NAME}
    if target:
        provider["expressions"] = {"target": {"constant_value": target}}
    root: dict[str, Any] = {"resources": list(blocks.values())} if blocks else {}
    return {"provider_config": {PROVIDER: provider}, "root_module": root}


def own(plan_json: dict[str, Any]) -> dict[str, Any]:
    """The plan JSON's ``accessops`` section (version, target, summary, fingerprints, meta);
    the top level itself for a plan of accessops 0.1."""
    extra = plan_json.get(EXTRA)
    return extra if isinstance(extra, dict) else plan_json


def _unchanged(planned: list[Resource], pending: list[Change]) -> list[Change]:
    """A ``no-op`` change for every planned resource no change touches, as Terraform lists them."""
    from accessops.plan.change import Action, Change

    changed = {c.address for c in pending}
    return [Change(Action.NOOP, r.type, r.key, r.attrs, r.attrs) for r in planned if r.address not in changed]


def plan_document(plan: Plan, *, states: bool = True) -> dict[str, Any]:
    """The whole plan in Terraform's JSON plan shape, accessops's additions under ``accessops``.

    ``states=False`` leaves out what only tools read (planned_values, prior_state,
    configuration and the no-op entries of resource_changes): the text and
    Markdown views need none of it, and on a large tenant it is most of the bytes.
    """
    from accessops import __version__

    pending = plan.pending
    instances = Instances()
    data: dict[str, Any] = {"format_version": FORMAT_VERSION, "terraform_version": TERRAFORM_VERSION}
    blocks: set[str] = set()
    noops: list[Change] = []
    if states:
        planned = planned_resources(plan.prior or {}, pending)
        config = configuration(planned, plan.target)
        blocks = {b["address"] for b in config["root_module"].get("resources", [])}
        noops = _unchanged(planned, pending)
        data["planned_values"] = {"root_module": _module(planned, instances)}
    data["resource_drift"] = [drift_json(d) for d in plan.drift]
    if plan.drift:
        data["relevant_attributes"] = relevant_attributes(plan.drift)
    data["resource_changes"] = [change_json(c, blocks, instances) for c in pending + noops]
    data["output_changes"] = {}
    if states:
        data["prior_state"] = {
            "format_version": STATE_FORMAT_VERSION,
            "terraform_version": TERRAFORM_VERSION,
            "values": {"root_module": _module(_sorted(list((plan.prior or {}).values())), instances)},
        }
        data["configuration"] = config
    if plan.timestamp:
        data["timestamp"] = plan.timestamp
    data["applyable"] = bool(pending) and not plan.extras.get("refusals")
    data["complete"] = True
    data["errored"] = False
    data[EXTRA] = {
        "version": __version__,
        "target": plan.target,
        "summary": plan.counts(),
        "fingerprints": dict(sorted(plan.fingerprints.items())),
        "meta": plan.meta,
    }
    return data


def relevant_attributes(drift: list[Drift]) -> list[dict[str, Any]]:
    """Terraform's ``relevant_attributes``: the drifted attributes, each as ``{resource, attribute: [name]}``."""
    out = []
    for d in drift:
        before, after = d.last_applied or {}, d.live or {}
        for name in sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k)):
            out.append({"resource": tf_address(d.type, d.key), "attribute": [name]})
    return out


def is_noop(entry: dict[str, Any]) -> bool:
    """Whether a ``resource_changes`` entry changes nothing (views skip these)."""
    return list(entry["change"]["actions"]) == ["no-op"]


def prior_from_json(data: dict[str, Any]) -> ResourceMap:
    """The prior state's resources, by native address."""
    module = ((data.get("prior_state") or {}).get("values") or {}).get("root_module") or {}
    out: ResourceMap = {}
    for item in module.get("resources") or []:
        res = resource_from_json(item)
        out[res.address] = res
    return out
