"""Persistence of reminders. What is due is always a query, never a timer."""

from datetime import datetime
from typing import Any

import sqlite_utils

from pushdesk.domain import Reminder, ReminderDraft, ReminderStatus
from pushdesk.errors import NotFound
from pushdesk.store.db import from_db_time, to_db_time


def _reminder(row: dict[str, Any]) -> Reminder:
    return Reminder(
        id=row["id"],
        title=row["title"],
        message=row["message"],
        url=row["url"],
        due_at=from_db_time(row["due_at"]),
        status=ReminderStatus(row["status"]),
        created_at=from_db_time(row["created_at"]),
        sent_at=from_db_time(row["sent_at"]) if row["sent_at"] else None,
    )


class ReminderStore:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self._db = db
        self._table = db.table("reminders")

    def add(self, draft: ReminderDraft, now: datetime) -> Reminder:
        with self._db.atomic():
            row_id = self._table.insert(
                {
                    "title": draft.title,
                    "message": draft.message,
                    "url": draft.url,
                    "due_at": to_db_time(draft.due_at),
                    "status": ReminderStatus.SCHEDULED.value,
                    "created_at": to_db_time(now),
                }
            ).last_pk
        return self.get(int(row_id or 0))

    def get(self, reminder_id: int) -> Reminder:
        rows = list(self._table.rows_where("id = ?", [reminder_id]))
        if not rows:
            raise NotFound(f"There is no reminder {reminder_id}.")
        return _reminder(rows[0])

    def all(self) -> list[Reminder]:
        return [_reminder(row) for row in self._table.rows_where(order_by="due_at, id")]

    def due(self, now: datetime) -> list[Reminder]:
        rows = self._table.rows_where(
            "status = ? AND due_at <= ?",
            [ReminderStatus.SCHEDULED.value, to_db_time(now)],
            order_by="due_at, id",
        )
        return [_reminder(row) for row in rows]

    def interrupted(self) -> list[Reminder]:
        """Reminders left in ``sending``: pushdesk stopped in the middle of them."""
        rows = self._table.rows_where(
            "status = ?", [ReminderStatus.SENDING.value], order_by="due_at, id"
        )
        return [_reminder(row) for row in rows]

    def next_due_at(self) -> datetime | None:
        row = self._db.execute(
            "SELECT min(due_at) FROM reminders WHERE status = ?",
            [ReminderStatus.SCHEDULED.value],
        ).fetchone()
        return from_db_time(row[0]) if row[0] else None

    def claim(self, reminder_id: int) -> bool:
        """Move a scheduled reminder to sending; False if someone else got it.

        The conditional update is what keeps two processes on one data
        directory (the app and ``serve``) from sending the same reminder.
        """
        return self._transition(
            reminder_id, ReminderStatus.SCHEDULED, ReminderStatus.SENDING
        )

    def cancel(self, reminder_id: int) -> bool:
        return self._transition(
            reminder_id, ReminderStatus.SCHEDULED, ReminderStatus.CANCELLED
        )

    def finish(self, reminder_id: int, status: ReminderStatus, now: datetime) -> None:
        with self._db.atomic():
            self._db.execute(
                "UPDATE reminders SET status = ?, sent_at = ? WHERE id = ?",
                [status.value, to_db_time(now), reminder_id],
            )

    def _transition(
        self, reminder_id: int, old: ReminderStatus, new: ReminderStatus
    ) -> bool:
        with self._db.atomic():
            cursor = self._db.execute(
                "UPDATE reminders SET status = ? WHERE id = ? AND status = ?",
                [new.value, reminder_id, old.value],
            )
        return cursor.rowcount == 1
