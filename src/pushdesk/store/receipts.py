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
    failed: int = 0  # attempts that failed for good, or were refused
    to_go: int = 0  # of the occurrences still being sent: sends not settled
    in_progress: int = 0  # sends of those occurrences, settled or not

    @property
    def progress(self) -> tuple[int, int] | None:
        """Sent of total while an occurrence is going out, otherwise None."""
        if not self.to_go:
            return None
        return self.in_progress - self.to_go, self.in_progress


# A send still to settle; an occurrence with any of these is in progress.
_OPEN = "state IN ('pending', 'in_flight')"
_FAILED = "state IN ('failed', 'rejected', 'refused')"


class ReceiptStore:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self._db = db

    def record(
        self, reminder_id: int, subscription_id: int, kind: str, now: datetime
    ) -> bool:
        """Once per reminder, device and kind; a repeat is ignored.

        A receipt can arrive after its device or reminder was removed (a click
        on an old notification); it is dropped then. True if it was recorded.
        """
        with write(self._db):
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO receipts "
                "(reminder_id, subscription_id, kind, at) "
                "SELECT ?, ?, ?, ? WHERE EXISTS "
                "(SELECT 1 FROM reminders WHERE id = ?) AND EXISTS "
                "(SELECT 1 FROM subscriptions WHERE id = ?)",
                [
                    *(reminder_id, subscription_id, kind, to_db_time(now)),
                    *(reminder_id, subscription_id),
                ],
            )
        return cursor.rowcount > 0

    def reach(self, reminder_ids: list[int] | None = None) -> dict[int, Reach]:
        """Counts per reminder; for ``reminder_ids`` only, when given (a page)."""
        only, values = "", []
        if reminder_ids is not None:
            if not reminder_ids:
                return {}
            only = f"AND reminder_id IN ({', '.join('?' * len(reminder_ids))})"
            values = list(reminder_ids)

        counts: dict[int, dict[str, int]] = {}
        for reminder_id, kind, count in self._db.execute(
            f"SELECT reminder_id, kind, count(*) FROM receipts WHERE 1 {only} "
            "GROUP BY 1, 2",
            values,
        ).fetchall():
            counts.setdefault(reminder_id, {})[kind] = count
        for reminder_id, delivered, failed in self._db.execute(
            "SELECT reminder_id, count(DISTINCT CASE WHEN state = 'delivered' "
            f"THEN subscription_id END), sum({_FAILED}) FROM sends "
            f"WHERE state NOT IN ('pending', 'in_flight', 'cancelled') {only} "
            "GROUP BY 1",
            values,
        ).fetchall():
            counts.setdefault(reminder_id, {}).update(
                delivered=delivered, failed=failed
            )
        for reminder_id, total, to_go in self._db.execute(
            "WITH going AS (SELECT DISTINCT reminder_id, occurrence_at FROM sends "
            f"WHERE {_OPEN} {only}) SELECT reminder_id, count(*), sum({_OPEN}) "
            "FROM sends JOIN going USING (reminder_id, occurrence_at) GROUP BY 1",
            values,
        ).fetchall():
            counts.setdefault(reminder_id, {}).update(in_progress=total, to_go=to_go)

        return {
            reminder_id: Reach(
                delivered=kinds.get("delivered", 0),
                displayed=kinds.get("displayed", 0),
                clicked=kinds.get("clicked", 0),
                failed=kinds.get("failed", 0),
                to_go=kinds.get("to_go", 0),
                in_progress=kinds.get("in_progress", 0),
            )
            for reminder_id, kinds in counts.items()
        }

    def progress(self) -> tuple[int, int] | None:
        """Over every occurrence being sent: sends settled, of all of them."""
        total, to_go = self._db.execute(
            "WITH going AS (SELECT DISTINCT reminder_id, occurrence_at FROM sends "
            f"WHERE {_OPEN}) SELECT count(*), sum({_OPEN}) FROM sends "
            "JOIN going USING (reminder_id, occurrence_at)"
        ).fetchone()
        if not to_go:
            return None
        return total - to_go, total
