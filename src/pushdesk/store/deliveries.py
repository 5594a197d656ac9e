"""Reading the log of send attempts (the send queue writes it)."""

import sqlite_utils

from pushdesk.domain import Delivery
from pushdesk.store.rows import delivery_from_row


class DeliveryStore:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self._db = db
        self._table = db.table("deliveries")

    def for_reminder(self, reminder_id: int) -> list[Delivery]:
        rows = self._table.rows_where("reminder_id = ?", [reminder_id], order_by="id")
        return [delivery_from_row(row) for row in rows]
