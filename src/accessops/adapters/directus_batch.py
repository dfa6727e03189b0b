"""Directus writes gathered per run of changes and sent with the batch endpoints.

Directus 11 creates, updates and deletes many items of one collection in one
request (``POST /users`` with an array, ``PATCH /users`` with an array of
items that carry their ``id``, ``DELETE /access`` with an array of keys), each
in one database transaction: it is all done or nothing is. A member or
workspace-member change is first *prepared* into :class:`Writes` (checked
against the live snapshot, nothing sent), then the writes of a whole run are
sent together, at most :data:`BATCH_SIZE` items per request.

Per-change results stay exact: a change that cannot be prepared fails alone
(the changes before it are sent, the ones after it are not attempted); when a
batch request fails, the run falls back to one change at a time, which skips
what the snapshot already shows done and reports the change that fails.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from accessops.adapters.base import Adapter, ItemGoneError
from accessops.adapters.directus_live import Access, Snapshot, User
from accessops.plan.change import Action, Change

#: items per batch request; Directus refuses bodies over MAX_PAYLOAD_SIZE (1 MB by default)
BATCH_SIZE = 200

Done = Callable[[], None]


@dataclass
class Writes:
    """The requests a set of changes needs, in the order they are sent."""

    #: new users: (payload, e-mail as the snapshot keys it)
    create_users: list[dict[str, Any]] = field(default_factory=list)
    #: user updates: (payload with ``id``, what to note in the snapshot once done)
    patch_users: list[tuple[dict[str, Any], Done]] = field(default_factory=list)
    #: policies to attach: (user e-mail, policy id); the user may be created in this batch
    attach: list[tuple[str, str]] = field(default_factory=list)
    #: ``directus_access`` rows to delete
    detach: list[str] = field(default_factory=list)
    #: users to delete: (id, e-mail)
    delete_users: list[tuple[str, str]] = field(default_factory=list)

    def merge(self, other: Writes) -> None:
        """Add another change's writes to these."""
        self.create_users += other.create_users
        self.patch_users += other.patch_users
        self.attach += other.attach
        self.detach += other.detach
        self.delete_users += other.delete_users


def chunks(items: Sequence[Any], size: int = BATCH_SIZE) -> list[Sequence[Any]]:
    """``items`` cut into requests of at most ``size``."""
    return [items[i : i + size] for i in range(0, len(items), size)]


class BatchWrites:
    """The batching half of the Directus adapter: prepare, then send a run's writes together."""

    batch_writes: ClassVar[bool] = True
    writes: int

    def snapshot(self) -> Snapshot:
        """The live index (provided by the adapter)."""
        raise NotImplementedError

    def _call(self, method: str, path: str, what: str, **kwargs: Any) -> Any:
        raise NotImplementedError

    def _drop_legacy_admin_access(self) -> None:
        raise NotImplementedError

    def _preparer(self, change: Change) -> Callable[[Change, Writes], None] | None:
        """The method that prepares this change's writes, if its type is batched."""
        if change.action is Action.NOOP:
            return None
        return getattr(self, f"_prepare_{change.type}", None)

    def apply_batch(self, changes: Sequence[Change]) -> list[BaseException | None]:
        """Make a run of changes live in few requests; one outcome per change attempted."""
        if len(changes) < 2 or any(self._preparer(c) is None for c in changes):
            return Adapter.apply_batch(self, changes)  # type: ignore[arg-type]
        try:
            self._drop_legacy_admin_access()
        except Exception as exc:  # noqa: BLE001 - any failure is that change's outcome
            return [exc]
        outcomes: list[BaseException | None] = []
        writes = Writes()
        failure: BaseException | None = None
        for change in changes:
            prepare = self._preparer(change)
            assert prepare is not None
            mine = Writes()
            try:
                prepare(change, mine)
            except ItemGoneError as exc:
                outcomes.append(exc)
                continue
            except Exception as exc:  # noqa: BLE001 - any failure is that change's outcome
                failure = exc
                break
            writes.merge(mine)
            outcomes.append(None)
        try:
            self.send(writes)
        except Exception:  # noqa: BLE001 - redone one change at a time, which reports it
            # nothing of the failed request was made; redo the run one change at a time,
            # which skips what the snapshot shows done and names the change that fails
            return Adapter.apply_batch(self, changes)  # type: ignore[arg-type]
        self.writes += sum(1 for o in outcomes if o is None)
        return outcomes if failure is None else [*outcomes, failure]

    def send(self, w: Writes) -> None:
        """Send the writes, one batch request per collection and verb (chunked); keep the snapshot current."""
        snap = self.snapshot()
        for part in chunks(w.create_users):
            data = self._call("POST", "/users", f"{len(part)} user(s)", json=list(part)) or []
            made = {str(d.get("email") or "").lower(): d for d in data}
            for payload in part:
                email = payload["email"]
                d = made.get(email.lower())
                if d is None:
                    raise ItemGoneError(f"directus: user {email} was not returned by POST /users")
                snap.users[email] = User(d["id"], email, d.get("status") or payload["status"], None, payload.get("first_name"))
        for part in chunks(w.patch_users):
            self._call("PATCH", "/users", f"{len(part)} user(s)", json=[payload for payload, _ in part])
            for _, done in part:
                done()
        for part in chunks(w.attach):
            body = [{"user": snap.users[email].id, "policy": policy} for email, policy in part]
            data = self._call("POST", "/access", f"{len(part)} policy attachment(s)", json=body) or []
            for d in data:
                snap.access[d["id"]] = Access(d["id"], None, d.get("user"), d.get("policy"))
        for part in chunks(w.detach):
            self._call("DELETE", "/access", f"{len(part)} policy attachment(s)", json=list(part))
            for access_id in part:
                snap.access.pop(access_id, None)
        for part in chunks(w.delete_users):
            self._call("DELETE", "/users", f"{len(part)} user(s)", json=[user_id for user_id, _ in part])
            gone = {user_id for user_id, _ in part}
            for _, email in part:
                snap.users.pop(email, None)
            snap.access = {k: a for k, a in snap.access.items() if a.user not in gone}


def note(user: User, **attrs: Any) -> Done:
    """A callback that records attribute values on the snapshot's user once the write is done."""

    def done() -> None:
        for name, value in attrs.items():
            setattr(user, name, value)

    return done
