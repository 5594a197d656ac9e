"""Persistence of send attempts: one row per reminder, subscription and try."""

from typing import Any

import sqlite_utils

from pushdesk.domain import Delivery
from pushdesk.store.db import from_db_time


def _delivery(row: dict[str, Any]) -> Delivery:
    return Delivery(
        id=row["id"],
        reminder_id=row["reminder_id"],
        subscription_id=row["subscription_id"],
        endpoint_host=row["endpoint_host"],
        outcome=row["outcome"],
        status_code=row["status_code"],
        error=row["error"],
        attempted_at=from_db_time(row["attempted_at"]),
        occurrence_at=(
            from_db_time(row["occurrence_at"]) if row["occurrence_at"] else None
        ),
    )


class DeliveryStore:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self._db = db
        self._table = db.table("deliveries")

    def for_reminder(self, reminder_id: int) -> list[Delivery]:
        rows = self._table.rows_where("reminder_id = ?", [reminder_id], order_by="id")
        return [_delivery(row) for row in rows]
