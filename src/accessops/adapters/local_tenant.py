"""What the product's own users do to a local tenant, behind git's back.

Accepting an invitation, changing a role, adding or removing someone,
toggling a space's privacy: ``accessops tenant`` uses these to make real
drift for demos and tests. Each operation is one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from accessops.adapters.local import LocalAdapter
from accessops.adapters.local_write import utc_now
from accessops.errors import TargetError


@dataclass(frozen=True)
class MemberRow:
    """A member as ``accessops tenant list`` shows it."""

    org: str
    email: str
    role: str | None
    status: str
    invited_at: str | None
    joined_at: str | None


class Tenant:
    """Operations on one local tenant; ``org`` defaults to its only organization."""

    def __init__(self, adapter: LocalAdapter) -> None:
        self.adapter = adapter
        self.db = adapter.db

    def org(self, name: str | None) -> tuple[int, str]:
        """(id, name) of the named organization, or of the only one."""
        if name is not None:
            row = self.db.execute("SELECT id, name FROM organizations WHERE name = ?", (name,)).fetchone()
            if row is None:
                raise TargetError(f"no organization {name!r} in {self.adapter.path}")
            return int(row[0]), str(row[1])
        rows = self.db.execute("SELECT id, name FROM organizations ORDER BY name").fetchall()
        if not rows:
            raise TargetError(f"{self.adapter.path} holds no organization yet (run accessops apply first)")
        if len(rows) > 1:
            raise TargetError(f"{self.adapter.path} holds {len(rows)} organizations ({', '.join(r[1] for r in rows)}); choose one with --org")
        return int(rows[0][0]), str(rows[0][1])

    def _member(self, email: str, org: str | None) -> tuple[int, str, str]:
        """(member id, status, org name) of a member."""
        oid, oname = self.org(org)
        row = self.db.execute("SELECT id, status FROM members WHERE org_id = ? AND email = ?", (oid, email.lower())).fetchone()
        if row is None:
            raise TargetError(f"no member {email.lower()} in organization {oname}")
        return int(row[0]), str(row[1]), oname

    def members(self, org: str | None = None) -> list[MemberRow]:
        """Members of one organization (or all when ``org`` is None and several exist)."""
        sql = (
            "SELECT o.name, m.email, m.role, CASE WHEN m.suspended_at IS NULL THEN m.status ELSE 'suspended' END, m.invited_at, m.joined_at "
            "FROM members m JOIN organizations o ON o.id = m.org_id"
        )
        if org is not None:
            rows = self.db.execute(sql + " WHERE o.id = ? ORDER BY m.email", (self.org(org)[0],))
        else:
            rows = self.db.execute(sql + " ORDER BY o.name, m.email")
        return [MemberRow(*r) for r in rows]

    def accept(self, email: str, org: str | None = None) -> None:
        """The invited member accepts: status active, joined now."""
        mid, status, oname = self._member(email, org)
        if status != "invited":
            raise TargetError(f"{email.lower()} in {oname} is already {status}, not invited")
        with self.adapter.transaction() as db:
            db.execute("UPDATE members SET status = 'active', joined_at = ? WHERE id = ?", (utc_now(), mid))

    def suspend(self, email: str, org: str | None = None, *, suspended: bool = True) -> None:
        """An admin deactivates the member in the product (or reactivates them): no access while suspended."""
        mid, _, oname = self._member(email, org)
        (was,) = self.db.execute("SELECT suspended_at FROM members WHERE id = ?", (mid,)).fetchone()
        if bool(was) == suspended:
            raise TargetError(f"{email.lower()} in {oname} is {'already' if suspended else 'not'} suspended")
        with self.adapter.transaction() as db:
            db.execute("UPDATE members SET suspended_at = ? WHERE id = ?", (utc_now() if suspended else None, mid))

    def set_role(self, email: str, role: str, org: str | None = None) -> None:
        """An admin changes the member's organization role in the product."""
        mid, _, _ = self._member(email, org)
        with self.adapter.transaction() as db:
            db.execute("UPDATE members SET role = ? WHERE id = ?", (role, mid))

    def add_member(self, email: str, org: str | None = None, *, role: str | None = None, invited: bool = False) -> None:
        """Someone is added in the product: active and joined now, or only invited."""
        oid, oname = self.org(org)
        email = email.lower()
        if self.db.execute("SELECT 1 FROM members WHERE org_id = ? AND email = ?", (oid, email)).fetchone():
            raise TargetError(f"{email} is already a member of {oname}")
        now = utc_now()
        with self.adapter.transaction() as db:
            db.execute(
                "INSERT INTO members (org_id, email, role, status, invited_at, joined_at) VALUES (?, ?, ?, ?, ?, ?)",
                (oid, email, role, "invited" if invited else "active", now, None if invited else now),
            )

    def remove_member(self, email: str, org: str | None = None) -> None:
        """Someone is removed in the product, with every membership they had."""
        mid, _, _ = self._member(email, org)
        with self.adapter.transaction() as db:
            db.execute("DELETE FROM members WHERE id = ?", (mid,))

    def set_private(self, space: str, private: bool, org: str | None = None) -> None:
        """Someone flips a space's Make private toggle."""
        oid, oname = self.org(org)
        with self.adapter.transaction() as db:
            if db.execute("UPDATE spaces SET private = ? WHERE org_id = ? AND name = ?", (int(private), oid, space)).rowcount == 0:
                raise TargetError(f"no space {space!r} in organization {oname}")

    def expire_invite(self, email: str, days: int, org: str | None = None) -> None:
        """Backdate a pending invitation by ``days`` (to exercise invite expiry)."""
        mid, status, oname = self._member(email, org)
        if status != "invited":
            raise TargetError(f"{email.lower()} in {oname} is {status}, not invited")
        then = (datetime.now(timezone.utc) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")
        with self.adapter.transaction() as db:
            db.execute("UPDATE members SET invited_at = ? WHERE id = ?", (then, mid))

    def set_actor(self, email: str | None) -> None:
        """The member email accessops applies as (its identity), or None to clear it."""
        self.adapter.set_setting("actor", email.lower() if email else None)
