"""Persistence of push subscriptions: one row per endpoint."""

from datetime import datetime
from typing import Any

import sqlite_utils

from pushdesk.domain import Subscription, SubscriptionInput
from pushdesk.store.db import from_db_time, to_db_time, write


def _subscription(row: dict[str, Any]) -> Subscription:
    return Subscription(
        id=row["id"],
        endpoint=row["endpoint"],
        p256dh=row["p256dh"],
        auth=row["auth"],
        label=row["label"],
        user_agent=row["user_agent"],
        created_at=from_db_time(row["created_at"]),
        last_seen_at=from_db_time(row["last_seen_at"]),
    )


class SubscriptionStore:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self._db = db
        self._table = db.table("subscriptions")

    def upsert(
        self, subscription: SubscriptionInput, now: datetime
    ) -> tuple[Subscription, bool]:
        """Store or refresh by endpoint. Returns the row and whether it is new."""
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
        stored = self.get(row_id)
        assert stored is not None
        return stored, existing is None

    def get(self, subscription_id: int) -> Subscription | None:
        rows = list(self._table.rows_where("id = ?", [subscription_id]))
        return _subscription(rows[0]) if rows else None

    def find(self, endpoint: str) -> Subscription | None:
        rows = list(self._table.rows_where("endpoint = ?", [endpoint]))
        return _subscription(rows[0]) if rows else None

    def all(self) -> list[Subscription]:
        return [_subscription(row) for row in self._table.rows_where(order_by="id")]

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
