"""SCIM Bulk (RFC 7644 §3.7): a run of changes in one ``POST /Bulk`` when the server advertises it.

``/ServiceProviderConfig`` is read once; only ``bulk.supported: true`` turns
batching on, and each request stays within its ``maxOperations`` and
``maxPayloadSize``. Otherwise the adapter keeps one request per change.

Each change is one bulk operation (the memberships of one group in a run are
one PATCH of that group, so its version is checked once); every operation
carries the version the read saw (``version``, the bulk form of If-Match).
Requests go with ``failOnErrors: 1``: the server stops at the first error,
so the operations it answered are done or failed, and the rest were not
attempted. A 404 means the object is gone: that change is reported gone and
the remaining operations are sent again. When a bulk request is refused as a
whole, what earlier requests did stands and the rest of the run is made one
change at a time.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import requests

from accessops.adapters.base import Adapter, ItemGoneError
from accessops.errors import TargetError
from accessops.plan.change import Action, Change

BULK_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
#: bytes kept free under maxPayloadSize for the request envelope
ENVELOPE = 256


@dataclass
class BulkOp:
    """One bulk operation and the changes it makes (several only for one group's memberships)."""

    method: str
    path: str
    data: dict[str, Any] | None
    changes: list[int]  # indexes into the run
    version_of: str | None = None  # the object whose version the operation checks
    done: Callable[[dict[str, Any]], None] = lambda answer: None

    def body(self, bulk_id: str, version: str | None) -> dict[str, Any]:
        """The operation as the request lists it."""
        op: dict[str, Any] = {"method": self.method, "path": self.path, "bulkId": bulk_id}
        if self.data is not None:
            op["data"] = self.data
        if version:
            op["version"] = version
        return op


class ScimBulk:
    """The Bulk half of the SCIM adapter."""

    _bulk: tuple[int, int] | None  # (maxOperations, maxPayloadSize) once read; (0, 0): not supported
    _versions: dict[str, str]
    _user_ids: dict[str, str]
    _group_ids: dict[str, str]
    _group_members: dict[str, set[str]]
    writes: int

    def _call(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        if_match: str | None = None,
        expect: tuple[int, ...] = (200,),
        params: dict[str, Any] | None = None,
    ) -> requests.Response:
        raise NotImplementedError

    def _json(self, resp: requests.Response, path: str) -> dict[str, Any]:
        raise NotImplementedError

    def _user_id(self, email: str, change: Change) -> str:
        raise NotImplementedError

    def _group_id(self, team: str, change: Change) -> str:
        raise NotImplementedError

    def _refresh_version(self, path: str, obj_id: str, change: Change) -> None:
        raise NotImplementedError

    def bulk_limits(self) -> tuple[int, int]:
        """(maxOperations, maxPayloadSize) the server advertises; (0, 0) when it does not support Bulk."""
        if self._bulk is None:
            self._bulk = (0, 0)
            try:
                config = self._json(self._call("GET", "/ServiceProviderConfig", expect=(200,)), "/ServiceProviderConfig")
            except TargetError:
                return self._bulk
            bulk = config.get("bulk") or {}
            ops, size = bulk.get("maxOperations"), bulk.get("maxPayloadSize")
            if bulk.get("supported") is True and isinstance(ops, int) and ops > 0 and isinstance(size, int) and size > ENVELOPE:
                self._bulk = (ops, size)
        return self._bulk

    def writes_in_batches(self) -> bool:
        """True when the server advertises Bulk."""
        return self.bulk_limits()[0] > 0

    def apply_batch(self, changes: Sequence[Change]) -> list[BaseException | None]:
        """Make a run of changes live in as few ``POST /Bulk`` requests as the server's limits allow."""
        if len(changes) < 2 or not self.writes_in_batches():
            return Adapter.apply_batch(self, changes)  # type: ignore[arg-type]
        outcomes: dict[int, BaseException | None] = {}
        ops: list[BulkOp] = []
        for i, change in enumerate(changes):
            try:
                op = self._operation(change, i, ops)
            except ItemGoneError as exc:
                outcomes[i] = exc
                continue
            except Exception as exc:  # noqa: BLE001 - any failure is that change's outcome
                outcomes[i] = exc
                break
            if op is None:  # nothing to write, or merged into the group's operation
                if not any(i in o.changes for o in ops):
                    outcomes[i] = None
                continue
            ops.append(op)
        try:
            self._send(ops, changes, outcomes)
        except TargetError:
            # a request as a whole was refused: keep what earlier requests did, redo the rest one change at a time
            done = _prefix(outcomes, len(changes))
            self.writes += sum(1 for o in done if o is None)
            if done and done[-1] is not None and not isinstance(done[-1], ItemGoneError):
                return done
            return done + Adapter.apply_batch(self, changes[len(done) :])  # type: ignore[arg-type]
        result = _prefix(outcomes, len(changes))
        self.writes += sum(1 for o in result if o is None)
        return result

    def _send(self, ops: list[BulkOp], changes: Sequence[Change], outcomes: dict[int, BaseException | None]) -> None:
        """Send the operations in requests within the limits, noting each change's outcome; stop at a failure."""
        max_ops, max_size = self.bulk_limits()
        pending = list(ops)
        while pending:
            request: list[dict[str, Any]] = []
            size = ENVELOPE
            for n, op in enumerate(pending):
                body = op.body(f"op{n}", self._versions.get(op.version_of or ""))
                cost = len(json.dumps(body)) + 2  # and the ", " after it
                if request and (len(request) >= max_ops or size + cost > max_size):
                    break
                request.append(body)
                size += cost
            resp = self._call("POST", "/Bulk", body={"schemas": [BULK_SCHEMA], "failOnErrors": 1, "Operations": request}, expect=(200,))
            answers = {str(a.get("bulkId")): a for a in self._json(resp, "/Bulk").get("Operations") or []}
            if not answers:
                raise TargetError("scim POST /Bulk: the server answered no operation")
            sent, pending = pending[: len(request)], pending[len(request) :]
            for n, op in enumerate(sent):
                answer = answers.get(f"op{n}")
                if answer is None:  # after a gone object: send again; after a failure: not attempted
                    pending = sent[n:] + pending
                    break
                status = int(str(answer.get("status", "0"))[:3] or 0)
                if 200 <= status < 300:
                    op.done(answer)
                    for i in op.changes:
                        outcomes[i] = None
                    continue
                detail = (answer.get("response") or {}).get("detail") or ""
                first = op.changes[0]
                if status == 404:
                    outcomes[first] = ItemGoneError(f"{changes[first].address}: no longer on the scim server")
                    for i in op.changes[1:]:
                        outcomes[i] = outcomes[first]
                    continue
                if status == 412:
                    outcomes[first] = TargetError(f"scim {op.method} {op.path} (bulk): the object changed on the server since it was read (HTTP 412); run plan again")
                else:
                    outcomes[first] = TargetError(f"scim {op.method} {op.path} (bulk): HTTP {status}: {detail}".rstrip(": "))
                return

    # --- one change, one operation ---------------------------------------------

    def _operation(self, change: Change, i: int, ops: list[BulkOp]) -> BulkOp | None:
        if change.type == "member":
            return self._member_op(change, i)
        if change.type == "team":
            return self._team_op(change, i)
        if change.type == "team_member":
            return self._membership_op(change, i, ops)
        if change.type == "organization" and change.action is not Action.DELETE:
            return None
        raise TargetError(f"scim target cannot hold {change.address} in a bulk request")

    def _member_op(self, change: Change, i: int) -> BulkOp | None:
        from accessops.adapters.scim import _member_ops

        email = change.key.split("/", 1)[1]
        if change.action is Action.CREATE:
            after = change.after or {}
            data: dict[str, Any] = {"schemas": [USER_SCHEMA], "userName": email, "active": True}
            if after.get("name") is not None:
                data["displayName"] = after["name"]
            if after.get("role") is not None:
                data["roles"] = [{"value": after["role"], "primary": True}]
            return BulkOp("POST", "/Users", data, [i], done=lambda a: self._created(a, self._user_ids, email))
        uid = self._user_id(email, change)
        if change.action is Action.DELETE:
            return BulkOp("DELETE", f"/Users/{uid}", None, [i], uid, done=lambda a: self._user_deleted(email, uid))
        ops = _member_ops(change)
        if not ops:
            return None
        return self._patch_op(f"/Users/{uid}", uid, ops, [i], change)

    def _team_op(self, change: Change, i: int) -> BulkOp | None:
        team = change.key.split("/", 1)[1]
        if change.action is Action.CREATE:
            return BulkOp("POST", "/Groups", {"schemas": [GROUP_SCHEMA], "displayName": team}, [i], done=lambda a: self._created(a, self._group_ids, team))
        if change.action is Action.DELETE:
            gid = self._group_id(team, change)
            return BulkOp("DELETE", f"/Groups/{gid}", None, [i], gid, done=lambda a: self._forget_group(team))
        return None

    def _membership_op(self, change: Change, i: int, ops: list[BulkOp]) -> BulkOp | None:
        _, team, email = change.key.split("/")
        gid = self._group_id(team, change)
        uid = self._user_id(email, change)
        if change.action is Action.CREATE:
            patch = {"op": "add", "path": "members", "value": [{"value": uid}]}
            members = self._group_members.setdefault(gid, set())
            note: Callable[[], None] = lambda: members.add(uid)
        elif change.action is Action.DELETE:
            patch = {"op": "remove", "path": f"members[value eq {json.dumps(uid)}]"}
            members = self._group_members.setdefault(gid, set())
            note = lambda: members.discard(uid)
        else:
            return None
        group = next((o for o in ops if o.version_of == gid and o.method == "PATCH"), None)
        if group is not None and ops[-1] is group:  # one PATCH per group: its version is checked once
            assert group.data is not None
            group.data["Operations"].append(patch)
            group.changes.append(i)
            group.done = _then(group.done, note)
            return None
        op = self._patch_op(f"/Groups/{gid}", gid, [patch], [i], change)
        op.done = _then(op.done, note)
        return op

    def _patch_op(self, path: str, obj_id: str, ops: list[dict[str, Any]], changes: list[int], change: Change) -> BulkOp:
        if obj_id not in self._versions:
            self._refresh_version(path, obj_id, change)
        return BulkOp("PATCH", path, {"schemas": [PATCH_SCHEMA], "Operations": ops}, changes, obj_id, done=lambda a: self._new_version(obj_id, a))

    # --- keeping the cache current ---------------------------------------------

    def _new_version(self, obj_id: str, answer: dict[str, Any]) -> None:
        if answer.get("version"):
            self._versions[obj_id] = str(answer["version"])
        else:
            self._versions.pop(obj_id, None)

    def _created(self, answer: dict[str, Any], ids: dict[str, str], name: str) -> None:
        obj_id = str(answer.get("location") or "").rstrip("/").rsplit("/", 1)[-1]
        if not obj_id:
            return  # looked up by name when next needed
        ids[name] = obj_id
        self._new_version(obj_id, answer)
        if ids is self._group_ids:
            self._group_members[obj_id] = set()

    def _forget_group(self, team: str) -> None:
        self._group_ids.pop(team, None)

    def _user_deleted(self, email: str, uid: str) -> None:
        self._user_ids.pop(email, None)
        for gid, members in self._group_members.items():
            if uid in members:
                members.discard(uid)
                self._versions.pop(gid, None)


def _then(done: Callable[[dict[str, Any]], None], note: Callable[[], None]) -> Callable[[dict[str, Any]], None]:
    """``done`` followed by ``note``."""

    def both(answer: dict[str, Any]) -> None:
        done(answer)
        note()

    return both


def _prefix(outcomes: dict[int, BaseException | None], total: int) -> list[BaseException | None]:
    """The outcomes of the changes attempted, in run order, up to the first that failed."""
    result: list[BaseException | None] = []
    for i in range(total):
        if i not in outcomes:
            break
        result.append(outcomes[i])
        if outcomes[i] is not None and not isinstance(outcomes[i], ItemGoneError):
            break
    return result
