"""Persistence of push subscriptions (one row per endpoint) and their groups."""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlite_utils

from pushdesk.domain import Subscription, SubscriptionInput, Target
from pushdesk.errors import InvalidInput
from pushdesk.store.db import to_db_time, write
from pushdesk.store.rows import subscription_from_row

_SELECT = """
    SELECT subscriptions.*, group_concat(groups.name) AS groups
    FROM subscriptions
    LEFT JOIN subscription_groups
        ON subscription_groups.subscription_id = subscriptions.id
    LEFT JOIN groups ON groups.id = subscription_groups.group_id
"""


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
            }

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

    def count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM subscriptions").fetchone()[0])

    def group_names(self) -> list[str]:
        rows = self._db.execute("SELECT name FROM groups ORDER BY name").fetchall()
        return [row[0] for row in rows]

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
