"""Receipts from devices, and the per-reminder counts the operator sees."""

from dataclasses import dataclass
from datetime import datetime

import sqlite_utils

from pushdesk.store.db import to_db_time, write

KINDS = ("displayed", "clicked")


@dataclass(frozen=True)
class Reach:
    """How far a reminder got: devices that took it, showed it, opened it."""

    delivered: int = 0
    displayed: int = 0
    clicked: int = 0


class ReceiptStore:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self._db = db

    def record(
        self, reminder_id: int, subscription_id: int, kind: str, now: datetime
    ) -> None:
        """Once per reminder, device and kind; a repeat is ignored."""
        with write(self._db):
            self._db.execute(
                "INSERT OR IGNORE INTO receipts "
                "(reminder_id, subscription_id, kind, at) VALUES (?, ?, ?, ?)",
                [reminder_id, subscription_id, kind, to_db_time(now)],
            )

    def reach(self) -> dict[int, Reach]:
        counts: dict[int, dict[str, int]] = {}
        for reminder_id, kind, count in self._db.execute(
            "SELECT reminder_id, kind, count(*) FROM receipts GROUP BY 1, 2"
        ).fetchall():
            counts.setdefault(reminder_id, {})[kind] = count
        for reminder_id, count in self._db.execute(
            "SELECT reminder_id, count(DISTINCT subscription_id) FROM sends "
            "WHERE state = 'delivered' GROUP BY 1"
        ).fetchall():
            counts.setdefault(reminder_id, {})["delivered"] = count
        return {
            reminder_id: Reach(
                delivered=kinds.get("delivered", 0),
                displayed=kinds.get("displayed", 0),
                clicked=kinds.get("clicked", 0),
            )
            for reminder_id, kinds in counts.items()
        }
