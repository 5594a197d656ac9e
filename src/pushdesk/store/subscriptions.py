"""Persistence of push subscriptions (one row per endpoint) and their groups."""

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlite_utils

from pushdesk.devices import DeviceQuery, DeviceSort, DeviceStatus
from pushdesk.domain import Subscription, SubscriptionInput, Target
from pushdesk.errors import InvalidInput
from pushdesk.store.db import from_db_time, to_db_time, write
from pushdesk.store.rows import subscription_from_row

_SELECT = """
    SELECT subscriptions.*, group_concat(groups.name) AS groups
    FROM subscriptions
    LEFT JOIN subscription_groups
        ON subscription_groups.subscription_id = subscriptions.id
    LEFT JOIN groups ON groups.id = subscription_groups.group_id
"""

# A listing reads one page of rows in index order; the groups of just those
# rows come from a subquery, which a GROUP BY over the whole table would not.
_LISTING = """
    SELECT subscriptions.*, (
        SELECT group_concat(groups.name) FROM subscription_groups
        JOIN groups ON groups.id = subscription_groups.group_id
        WHERE subscription_groups.subscription_id = subscriptions.id
    ) AS groups
    FROM subscriptions
"""

# Each order matches an index from migration m003; the id breaks ties so that
# pages neither repeat nor skip rows.
_ORDER = {
    DeviceSort.LABEL: "label COLLATE NOCASE",
    DeviceSort.CREATED: "created_at",
    DeviceSort.LAST_SEEN: "last_seen_at",
}

# Attempts that failed for good. "refused" shows as the flagged status and
# "retry" is a passing failure, so neither is counted here.
FAILED_OUTCOMES = ("failed", "rejected")


class SubscriptionStore:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self._db = db
        self._table = db.table("subscriptions")

    def upsert(
        self,
        subscription: SubscriptionInput,
        now: datetime,
        groups: Iterable[str] | None = None,
    ) -> tuple[Subscription, bool]:
        """Store or refresh by endpoint. Returns the row and whether it is new.

        ``groups``, when given, replaces the device's groups.
        """
        with write(self._db):
            existing = self.find(subscription.endpoint)
            values: dict[str, Any] = {
                "p256dh": subscription.p256dh,
                "auth": subscription.auth,
                "last_seen_at": to_db_time(now),
                # Seen again: any warning that it had gone quiet is void.
                "stale_warned_at": None,
            }
            if subscription.client_address is not None:
                values["client_address"] = subscription.client_address

            # A re-post without a label keeps the name the device already has.
            if subscription.label is not None:
                values["label"] = subscription.label or None
            if subscription.user_agent is not None:
                values["user_agent"] = subscription.user_agent

            if existing is None:
                values |= {"endpoint": subscription.endpoint}
                values |= {"created_at": to_db_time(now)}
                row_id = int(self._table.insert(values).last_pk or 0)
            else:
                row_id = existing.id
                self._table.update(row_id, values)
            if groups is not None:
                self.set_groups(row_id, groups)
        stored = self.get(row_id)
        assert stored is not None
        return stored, existing is None

    def set_groups(self, subscription_id: int, names: Iterable[str]) -> None:
        with write(self._db):
            self._db.execute(
                "DELETE FROM subscription_groups WHERE subscription_id = ?",
                [subscription_id],
            )
            for name in names:
                self._db.execute(
                    "INSERT OR IGNORE INTO groups (name) VALUES (?)", [name]
                )
                self._db.execute(
                    "INSERT OR IGNORE INTO subscription_groups "
                    "SELECT ?, id FROM groups WHERE name = ?",
                    [subscription_id, name],
                )

    def get(self, subscription_id: int) -> Subscription | None:
        found = self._select("WHERE subscriptions.id = ?", [subscription_id])
        return found[0] if found else None

    def find(self, endpoint: str) -> Subscription | None:
        found = self._select("WHERE subscriptions.endpoint = ?", [endpoint])
        return found[0] if found else None

    def all(self) -> list[Subscription]:
        return self._select("", [])

    def labels(self, ids: Sequence[int]) -> dict[int, str | None]:
        """The name of each of these devices that still exists."""
        rows = self._db.execute(
            "SELECT id, label FROM subscriptions "
            "WHERE id IN (SELECT value FROM json_each(?))",
            [json.dumps(list(ids))],
        )
        return {row[0]: row[1] for row in rows.fetchall()}

    def count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM subscriptions").fetchone()[0])

    def count_from(self, client_address: str) -> int:
        """Devices that last subscribed from this address (index m005)."""
        row = self._db.execute(
            "SELECT count(*) FROM subscriptions WHERE client_address = ?",
            [client_address],
        ).fetchone()
        return int(row[0])

    def listing(
        self, query: DeviceQuery, stale_before: datetime, offset: int, limit: int
    ) -> list[Subscription]:
        """One page of the devices ``query`` selects, in its order.

        Devices last seen before ``stale_before`` count as expired.
        """
        where, values = _filter(query, stale_before)
        direction = "DESC" if query.descending else "ASC"
        order = f"{_ORDER[query.sort]} {direction}, id {direction}"
        cursor = self._db.execute(
            f"{_LISTING} {where} ORDER BY {order} LIMIT ? OFFSET ?",
            [*values, limit, offset],
        )
        names = [column[0] for column in cursor.description]
        return [
            subscription_from_row(dict(zip(names, row, strict=True)))
            for row in cursor.fetchall()
        ]

    def listing_count(self, query: DeviceQuery, stale_before: datetime) -> int:
        where, values = _filter(query, stale_before)
        row = self._db.execute(
            f"SELECT count(*) FROM subscriptions {where}", values
        ).fetchone()
        return int(row[0])

    def recent_failures(self, ids: Sequence[int], since: datetime) -> dict[int, int]:
        """Attempts that failed for good since ``since``, for these devices only.

        Devices without such failures are left out.
        """
        if not ids:
            return {}
        marks = ",".join("?" * len(FAILED_OUTCOMES))

        # Without statistics SQLite prefers the outcome index, which reads every
        # failure of the week (a failed fan-out: thousands) for each page.
        rows = self._db.execute(
            "SELECT subscription_id, count(*) "
            "FROM deliveries INDEXED BY deliveries_device "
            "WHERE subscription_id IN (SELECT value FROM json_each(?)) "
            f"AND attempted_at >= ? AND outcome IN ({marks}) "
            "GROUP BY subscription_id",
            [json.dumps(list(ids)), to_db_time(since), *FAILED_OUTCOMES],
        )
        return {row[0]: row[1] for row in rows.fetchall()}

    def rename(self, subscription_id: int, label: str | None) -> bool:
        """Give a device another name; False if there is no such device."""
        with write(self._db):
            cursor = self._db.execute(
                "UPDATE subscriptions SET label = ? WHERE id = ?",
                [label, subscription_id],
            )
        return cursor.rowcount == 1

    def create_group(self, name: str) -> str:
        """Add a group unless one of that name exists; return its stored name.

        Names compare without case, so "kitchen" finds "Kitchen".
        """
        with write(self._db):
            self._db.execute("INSERT OR IGNORE INTO groups (name) VALUES (?)", [name])
            row = self._db.execute(
                "SELECT name FROM groups WHERE name = ?", [name]
            ).fetchone()
        return str(row[0])

    def group_names(self) -> list[str]:
        rows = self._db.execute("SELECT name FROM groups ORDER BY name").fetchall()
        return [row[0] for row in rows]

    def find_group(self, name: str) -> str | None:
        """The stored spelling of the group called ``name`` (without case)."""
        row = self._db.execute(
            "SELECT name FROM groups WHERE name = ?", [name]
        ).fetchone()
        return None if row is None else str(row[0])

    def group_sizes(self) -> dict[str, int]:
        """Every group's name with how many devices are in it, by name."""
        rows = self._db.execute(
            "SELECT name, count(subscription_id) FROM groups "
            "LEFT JOIN subscription_groups ON group_id = groups.id "
            "GROUP BY groups.id ORDER BY name"
        )
        return {row[0]: row[1] for row in rows.fetchall()}

    def rename_group(self, old: str, new: str) -> None:
        with write(self._db):
            self._db.execute("UPDATE groups SET name = ? WHERE name = ?", [new, old])

    def delete_group(self, name: str) -> int:
        """Delete a group; its devices stay. How many devices were in it."""
        with write(self._db):
            members = self._db.execute(
                "SELECT count(*) FROM subscription_groups "
                "JOIN groups ON groups.id = group_id WHERE groups.name = ?",
                [name],
            ).fetchone()[0]
            self._db.execute("DELETE FROM groups WHERE name = ?", [name])
        return int(members)

    def ids_for(self, target: Target) -> list[int]:
        """The devices a reminder with this target goes to, right now."""
        if target.everyone:
            rows = self._db.execute("SELECT id FROM subscriptions ORDER BY id")
            return [row[0] for row in rows.fetchall()]

        chosen = set(target.subscription_ids)
        if target.groups:
            marks = ",".join("?" * len(target.groups))
            rows = self._db.execute(
                "SELECT subscription_id FROM subscription_groups "
                f"JOIN groups ON groups.id = group_id WHERE groups.name IN ({marks})",
                list(target.groups),
            )
            chosen.update(row[0] for row in rows.fetchall())
        existing = {row[0] for row in self._db.execute("SELECT id FROM subscriptions")}
        return sorted(chosen & existing)

    def check_target(self, target: Target) -> None:
        """Refuse groups and devices that do not exist, naming them."""
        known = {name.lower() for name in self.group_names()}
        unknown_groups = [g for g in target.groups if g.lower() not in known]
        if unknown_groups:
            raise InvalidInput(
                f"There is no group {', '.join(unknown_groups)}.", "target"
            )
        existing = {row[0] for row in self._db.execute("SELECT id FROM subscriptions")}
        missing = sorted(set(target.subscription_ids) - existing)
        if missing:
            raise InvalidInput(
                f"There is no device {', '.join(map(str, missing))}.", "target"
            )

    def delete(self, subscription_id: int) -> bool:
        with write(self._db):
            cursor = self._db.execute(
                "DELETE FROM subscriptions WHERE id = ?", [subscription_id]
            )
        return cursor.rowcount == 1

    def delete_endpoint(self, endpoint: str) -> Subscription | None:
        with write(self._db):
            found = self.find(endpoint)
            if found is not None:
                self._db.execute("DELETE FROM subscriptions WHERE id = ?", [found.id])
        return found

    # --- devices gone quiet (scheduling/hygiene.py) ------------------------------

    def quiet_unwarned(self, seen_before: datetime, limit: int) -> list[int]:
        """Up to ``limit`` devices last seen before ``seen_before`` and not
        warned yet, the longest quiet first (along the last-seen index).

        Flagged devices are left to the operator: a push to them is refused.
        """
        rows = self._db.execute(
            "SELECT id FROM subscriptions WHERE last_seen_at < ? "
            "AND stale_warned_at IS NULL AND flag_reason IS NULL "
            "ORDER BY last_seen_at, id LIMIT ?",
            [to_db_time(seen_before), limit],
        )
        return [row[0] for row in rows.fetchall()]

    def mark_warned(self, ids: Sequence[int], now: datetime) -> int:
        """Note that these devices were warned at ``now``; how many there were."""
        with write(self._db):
            cursor = self._db.execute(
                "UPDATE subscriptions SET stale_warned_at = ? "
                "WHERE id IN (SELECT value FROM json_each(?))",
                [to_db_time(now), json.dumps(list(ids))],
            )
        return cursor.rowcount

    def warned_at(self, ids: Sequence[int]) -> dict[int, datetime]:
        """When these devices were warned of going quiet; the others left out."""
        if not ids:
            return {}
        rows = self._db.execute(
            "SELECT id, stale_warned_at FROM subscriptions "
            "WHERE id IN (SELECT value FROM json_each(?)) "
            "AND stale_warned_at IS NOT NULL",
            [json.dumps(list(ids))],
        )
        return {row[0]: from_db_time(row[1]) for row in rows.fetchall()}

    def remove_warned(self, warned_before: datetime, limit: int) -> list[Subscription]:
        """Delete up to ``limit`` devices warned before ``warned_before`` and
        not seen since (flagged ones aside), the earliest warned first; return
        them. Their deliveries stay."""
        with write(self._db):
            rows = self._db.execute(
                "SELECT id FROM subscriptions WHERE stale_warned_at < ? "
                "AND last_seen_at <= stale_warned_at AND flag_reason IS NULL "
                "ORDER BY stale_warned_at, id LIMIT ?",
                [to_db_time(warned_before), limit],
            )
            ids = json.dumps([row[0] for row in rows.fetchall()])
            found = self._select(
                "WHERE subscriptions.id IN (SELECT value FROM json_each(?))", [ids]
            )
            self._db.execute(
                "DELETE FROM subscriptions "
                "WHERE id IN (SELECT value FROM json_each(?))",
                [ids],
            )
        return found

    def _select(self, where: str, values: list[Any]) -> list[Subscription]:
        cursor = self._db.execute(
            f"{_SELECT} {where} GROUP BY subscriptions.id ORDER BY subscriptions.id",
            values,
        )
        names = [column[0] for column in cursor.description]
        return [
            subscription_from_row(dict(zip(names, row, strict=True)))
            for row in cursor.fetchall()
        ]


def _filter(query: DeviceQuery, stale_before: datetime) -> tuple[str, list[Any]]:
    """The WHERE clause and its values for a listing's filters."""
    conditions: list[str] = []
    values: list[Any] = []

    if query.text:
        pattern = f"%{_escape_like(query.text)}%"
        conditions.append("(label LIKE ? ESCAPE '\\' OR user_agent LIKE ? ESCAPE '\\')")
        values += [pattern, pattern]

    if query.group:
        conditions.append(
            "EXISTS (SELECT 1 FROM subscription_groups "
            "JOIN groups ON groups.id = subscription_groups.group_id "
            "WHERE subscription_groups.subscription_id = subscriptions.id "
            "AND groups.name = ?)"
        )
        values.append(query.group)

    # The same rules as pushdesk.devices.status_of: flagged comes first, then
    # warned (of going quiet), then last seen.
    cutoff = to_db_time(stale_before)
    unwarned = "flag_reason IS NULL AND stale_warned_at IS NULL"
    if query.status == DeviceStatus.FLAGGED:
        conditions.append("flag_reason IS NOT NULL")
    elif query.status == DeviceStatus.WARNED:
        conditions.append("flag_reason IS NULL AND stale_warned_at IS NOT NULL")
    elif query.status == DeviceStatus.EXPIRED:
        conditions.append(f"{unwarned} AND last_seen_at < ?")
        values.append(cutoff)
    elif query.status == DeviceStatus.ACTIVE:
        conditions.append(f"{unwarned} AND last_seen_at >= ?")
        values.append(cutoff)

    if not conditions:
        return "", values
    return "WHERE " + " AND ".join(conditions), values


def _escape_like(text: str) -> str:
    """Make LIKE's wildcards in ``text`` match themselves; backslash escapes."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
