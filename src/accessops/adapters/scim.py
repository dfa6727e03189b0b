"""The ``scim`` adapter: one SCIM 2.0 service provider (RFC 7643/7644) is one organization.

Mapping, both ways:

* ``member`` is a User: ``userName`` is the email, ``displayName`` the name,
  the primary entry of ``roles`` the organization role. SCIM has no
  invitation: members accessops creates are provisioned active (so nothing
  waits for acceptance), ``active: true`` reads as status ``active`` and
  ``active: false`` as ``suspended``, which is how identity providers
  offboard people: no access while suspended, reported by drift and audit.
* ``team`` is a Group (``displayName`` is the team name); ``team_member`` is
  a Group membership. Membership changes are PATCH deltas (RFC 7644
  §3.5.2), never a replacement of the member list.
* ``organization`` is the target itself: it always exists and holds no
  attribute SCIM can store.

Reads page through ``/Users`` and ``/Groups`` (``startIndex``/``count``) and
ask only for the attributes mapped here. Writes send ``If-Match`` with the
version the server announced; a 412 means someone changed the object since
it was read, and the apply stops rather than overwrite their change.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

import threading

import requests

from accessops.adapters.base import Adapter, ItemGoneError, Target
from accessops.adapters.http import HttpClient
from accessops.adapters.scim_bulk import ScimBulk
from accessops.errors import TargetError
from accessops.model.names import check_live
from accessops.model.resource import Resource, ResourceMap
from accessops.plan.change import Action, Change
from accessops.secrets import credential

TOKEN_ENV = "ACCESSOPS_SCIM_TOKEN"
ACTOR_ENV = "ACCESSOPS_SCIM_ACTOR"
PAGE_SIZE_ENV = "ACCESSOPS_SCIM_PAGE_SIZE"
DEFAULT_PAGE_SIZE = 1000  # servers clamp it to their own maximum; the reader follows
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SCIM_JSON = "application/scim+json"


def _quote(value: str) -> str:
    """A SCIM filter string literal (RFC 7644 §3.4.2.2 uses JSON strings)."""
    return json.dumps(value)


class ScimAdapter(ScimBulk, Adapter):
    """Members and teams of one organization, kept as SCIM Users and Groups."""

    scheme: ClassVar[str] = "scim"
    # Users are independent and each group's memberships stay in one lane,
    # so writes may run side by side (apply --parallelism).
    parallel_writes: ClassVar[bool] = True
    new_member_status: ClassVar[str] = "active"  # POST /Users with active: true; there is no invitation
    supports: ClassVar[dict[str, frozenset[str]]] = {
        "organization": frozenset(),
        "member": frozenset({"role", "name", "status"}),
        "team": frozenset(),
        "team_member": frozenset(),
    }

    def __init__(self, target: Target) -> None:
        super().__init__(target)
        try:
            location = target.http_location()
        except ValueError as exc:
            raise TargetError(str(exc)) from None
        token = credential("scim", target.options.get("settings_raw"), target.options.get("config_dir"))
        if not token:
            raise TargetError(
                f"scim target {target}: set {TOKEN_ENV} to the SCIM bearer token "
                f"(or {TOKEN_ENV}_FILE, or [credentials] scim_token_file in accessops.toml)"
            )
        page_size = os.environ.get(PAGE_SIZE_ENV, str(DEFAULT_PAGE_SIZE))
        if not page_size.isdigit() or int(page_size) < 1:
            raise TargetError(f"{PAGE_SIZE_ENV}={page_size!r}: expected a positive whole number")
        self.page_size = int(page_size)
        self.client = HttpClient(location, token, name=f"scim {location}")
        self.org = ""
        self._count_lock = threading.Lock()
        # what the last read saw, so apply can address objects by id and version
        self._user_ids: dict[str, str] = {}  # email -> id
        self._group_ids: dict[str, str] = {}  # team -> id
        self._versions: dict[str, str] = {}  # id -> meta.version (an ETag)
        self._group_members: dict[str, set[str]] = {}  # group id -> user ids
        self._bulk: tuple[int, int] | None = None  # what /ServiceProviderConfig says of Bulk, once read

    # --- reading -----------------------------------------------------------

    def read(self, orgs: Sequence[str]) -> ResourceMap:
        """Every User and Group of the service provider, as resources of the one organization."""
        if not orgs:
            return {}
        if len(orgs) > 1:
            raise TargetError(f"a scim target holds one organization; the manifests declare {len(orgs)} ({', '.join(orgs)})")
        self.org = org = orgs[0]
        live: ResourceMap = {}
        self._remember(Resource("organization", org), live)
        self._user_ids.clear()
        self._group_ids.clear()
        self._versions.clear()
        self._group_members.clear()
        emails: dict[str, str] = {}  # id -> email
        for user in self._list("/Users", "userName,displayName,active,roles,meta.version"):
            email = str(user.get("userName", "")).lower()
            if not email:
                continue
            emails[user["id"]] = email
            self._user_ids[email] = user["id"]
            self._note_version(user)
            self._remember(Resource("member", f"{org}/{email}", _member_attrs(user)), live)
        for group in self._list("/Groups", "displayName,members,meta.version"):
            team = str(group.get("displayName", ""))
            if not team:
                continue
            self._group_ids[team] = group["id"]
            self._note_version(group)
            member_ids = {m["value"] for m in group.get("members") or () if m.get("value")}
            self._group_members[group["id"]] = member_ids
            self._remember(Resource("team", f"{org}/{team}"), live)
            for uid in member_ids:
                if uid in emails:  # nested groups and strangers are not team members
                    self._remember(Resource("team_member", f"{org}/{team}/{emails[uid]}"), live)
        return check_live(live, "scim")

    def _list(self, path: str, attributes: str) -> Iterator[dict[str, Any]]:
        """Every resource of a listing, page after page until the total is reached."""
        start = 1
        while True:
            params = {"startIndex": start, "count": self.page_size, "attributes": attributes}
            body = self._json(self._call("GET", path, params=params), path)
            page = body.get("Resources") or []
            yield from page
            total = int(body.get("totalResults", 0))
            start += len(page)
            if not page or start > total:
                return

    @staticmethod
    def _remember(resource: Resource, live: ResourceMap) -> None:
        live[resource.address] = resource

    def _note_version(self, obj: dict[str, Any]) -> None:
        version = (obj.get("meta") or {}).get("version")
        if version:
            self._versions[obj["id"]] = version

    # --- writing -----------------------------------------------------------

    def apply(self, change: Change) -> None:
        """Make one change live with one request (two when an id must be looked up)."""
        handler = getattr(self, f"_apply_{change.type}", None)
        if handler is None:
            raise TargetError(f"scim target cannot hold {change.address} (it keeps members and teams only)")
        handler(change)
        with self._count_lock:
            self.writes += 1

    def _apply_organization(self, change: Change) -> None:
        # The organization is the service provider itself: nothing to write.
        if change.action is Action.DELETE:
            raise TargetError(f"{change.address}: a scim target is one organization and cannot be deleted")

    def _apply_member(self, change: Change) -> None:
        email = change.key.split("/", 1)[1]
        if change.action is Action.CREATE:
            after = change.after or {}
            body: dict[str, Any] = {"schemas": [USER_SCHEMA], "userName": email, "active": True}
            if after.get("name") is not None:
                body["displayName"] = after["name"]
            if after.get("role") is not None:
                body["roles"] = [{"value": after["role"], "primary": True}]
            user = self._json(self._call("POST", "/Users", body=body, expect=(201,)), "/Users")
            self._user_ids[email] = user["id"]
            self._note_version(user)
            return
        uid = self._user_id(email, change)
        if change.action is Action.DELETE:
            self._gone_if_404(self._call("DELETE", f"/Users/{uid}", expect=(204, 200), if_match=uid), change)
            self._user_ids.pop(email, None)
            # the server drops the user from its groups, which changes their versions
            for gid, members in self._group_members.items():
                if uid in members:
                    members.discard(uid)
                    self._versions.pop(gid, None)
            return
        ops = _member_ops(change)
        if ops:
            self._patch(f"/Users/{uid}", uid, ops, change)

    def _apply_team(self, change: Change) -> None:
        team = change.key.split("/", 1)[1]
        if change.action is Action.CREATE:
            body = {"schemas": [GROUP_SCHEMA], "displayName": team}
            group = self._json(self._call("POST", "/Groups", body=body, expect=(201,)), "/Groups")
            self._group_ids[team] = group["id"]
            self._group_members[group["id"]] = set()
            self._note_version(group)
        elif change.action is Action.DELETE:
            gid = self._group_id(team, change)
            self._gone_if_404(self._call("DELETE", f"/Groups/{gid}", expect=(204, 200), if_match=gid), change)
            self._group_ids.pop(team, None)
        # an update has nothing to write: a team holds no attribute SCIM stores

    def _apply_team_member(self, change: Change) -> None:
        _, team, email = change.key.split("/")
        gid = self._group_id(team, change)
        uid = self._user_id(email, change)
        if change.action is Action.CREATE:
            ops = [{"op": "add", "path": "members", "value": [{"value": uid}]}]
            self._patch(f"/Groups/{gid}", gid, ops, change)
            self._group_members.setdefault(gid, set()).add(uid)
        elif change.action is Action.DELETE:
            ops = [{"op": "remove", "path": f"members[value eq {_quote(uid)}]"}]
            self._patch(f"/Groups/{gid}", gid, ops, change)
            self._group_members.get(gid, set()).discard(uid)

    def _patch(self, path: str, obj_id: str, ops: list[dict[str, Any]], change: Change) -> None:
        body = {"schemas": [PATCH_SCHEMA], "Operations": ops}
        if obj_id not in self._versions:
            self._refresh_version(path, obj_id, change)
        resp = self._call("PATCH", path, body=body, expect=(200, 204), if_match=obj_id)
        self._gone_if_404(resp, change)
        etag = resp.headers.get("ETag")
        if etag:
            self._versions[obj_id] = etag
        elif resp.status_code == 200:
            self._note_version(self._json(resp, path))

    def _refresh_version(self, path: str, obj_id: str, change: Change) -> None:
        """Learn an object's current version after our own writes made the cached one stale."""
        resp = self._call("GET", path, params={"attributes": "id,meta.version"})
        self._gone_if_404(resp, change)
        self._note_version(self._json(resp, path))

    # --- lookups -------------------------------------------------------------

    def _user_id(self, email: str, change: Change) -> str:
        if email not in self._user_ids:
            found = self._find("/Users", f"userName eq {_quote(email)}", change)
            self._user_ids[email] = found["id"]
            self._note_version(found)
        return self._user_ids[email]

    def _group_id(self, team: str, change: Change) -> str:
        if team not in self._group_ids:
            found = self._find("/Groups", f"displayName eq {_quote(team)}", change)
            self._group_ids[team] = found["id"]
            self._note_version(found)
        return self._group_ids[team]

    def _find(self, path: str, filter_: str, change: Change) -> dict[str, Any]:
        """The one object a filter names (for applying a saved plan without a read)."""
        body = self._json(self._call("GET", path, params={"filter": filter_, "attributes": "id,meta.version"}), path)
        found = body.get("Resources") or []
        if not found:
            raise ItemGoneError(f"{change.address}: no longer on the scim server")
        obj: dict[str, Any] = found[0]
        return obj

    # --- transport -------------------------------------------------------------

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
        headers = {"Accept": SCIM_JSON}
        if body is not None:
            headers["Content-Type"] = SCIM_JSON
        if if_match and if_match in self._versions:
            headers["If-Match"] = self._versions[if_match]
        data = json.dumps(body) if body is not None else None
        try:
            resp = self.client.request(method, path, expect=expect, params=params, data=data, headers=headers)
        finally:
            self.requests = self.client.requests
        if resp.status_code == 412:
            raise TargetError(f"scim {method} {path}: the object changed on the server since it was read (HTTP 412); run plan again")
        if resp.status_code == 404 and method == "GET" and params and "startIndex" in params:
            raise TargetError(f"scim {method} {path}: HTTP 404: is {self.client.base_url} the SCIM base URL?")
        return resp

    @staticmethod
    def _gone_if_404(resp: requests.Response, change: Change) -> None:
        if resp.status_code == 404:
            raise ItemGoneError(f"{change.address}: no longer on the scim server")

    def _json(self, resp: requests.Response, path: str) -> dict[str, Any]:
        try:
            data = resp.json()
        except ValueError:
            raise TargetError(f"scim {path}: HTTP {resp.status_code}: the answer is not JSON; is {self.client.base_url} a SCIM server?") from None
        if not isinstance(data, dict):
            raise TargetError(f"scim {path}: HTTP {resp.status_code}: unexpected answer (not a JSON object)")
        return data

    def identity(self) -> str | None:
        """The email in ACCESSOPS_SCIM_ACTOR: the member the apply runs as, never removed or demoted."""
        actor = os.environ.get(ACTOR_ENV, "").strip().lower()
        return actor or None

    def close(self) -> None:
        """Close the HTTP session."""
        self.client.close()


def _member_attrs(user: dict[str, Any]) -> dict[str, Any]:
    """A User's live attributes: role from the primary (else first) role, status from active."""
    roles = [r for r in user.get("roles") or () if r.get("value")]
    primary = next((r for r in roles if r.get("primary")), roles[0] if roles else None)
    return {
        "role": primary["value"] if primary else None,
        "name": user.get("displayName"),
        "status": "active" if user.get("active", True) else "suspended",
    }


def _member_ops(change: Change) -> list[dict[str, Any]]:
    """PATCH operations for the role and name that differ between before and after."""
    before, after = change.before or {}, change.after or {}
    ops: list[dict[str, Any]] = []
    if "role" in after and after["role"] != before.get("role"):
        if after["role"] is None:
            ops.append({"op": "remove", "path": "roles"})
        else:
            ops.append({"op": "replace", "path": "roles", "value": [{"value": after["role"], "primary": True}]})
    if "name" in after and after["name"] != before.get("name"):
        if after["name"] is None:
            ops.append({"op": "remove", "path": "displayName"})
        else:
            ops.append({"op": "replace", "path": "displayName", "value": after["name"]})
    return ops
