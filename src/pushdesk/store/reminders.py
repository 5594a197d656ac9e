"""Persistence of reminders. What is due is always a query, never a timer."""

from datetime import datetime
from typing import Any

import sqlite_utils

from pushdesk.domain import Reminder, ReminderDraft, ReminderStatus
from pushdesk.errors import NotFound
from pushdesk.log import STORE
from pushdesk.store.db import from_db_time, to_db_time, write


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
        with write(self._db):
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
        due = []
        for row in list(rows):
            try:
                due.append(_reminder(row))
            except (ValueError, TypeError):
                # A row edited by hand into nonsense must not hold up the
                # reminders behind it, round after round.
                self._set_failed(row["id"])
        return due

    def _set_failed(self, reminder_id: int) -> None:
        STORE.error(
            "reminder %d is damaged in the database; marked failed", reminder_id
        )
        with write(self._db):
            self._db.execute(
                "UPDATE reminders SET status = ? WHERE id = ?",
                [ReminderStatus.FAILED.value, reminder_id],
            )

    def next_due_at(self) -> datetime | None:
        row = self._db.execute(
            "SELECT min(due_at) FROM reminders WHERE status = ?",
            [ReminderStatus.SCHEDULED.value],
        ).fetchone()
        return from_db_time(row[0]) if row[0] else None

    def claim(self, reminder_id: int, owner: str, now: datetime) -> bool:
        """Move a scheduled reminder to sending; False if someone else got it.

        The conditional update is what keeps two processes on one data
        directory (the app and ``serve``) from sending the same reminder.
        """
        with write(self._db):
            cursor = self._db.execute(
                "UPDATE reminders SET status = ?, claimed_by = ?, claimed_at = ? "
                "WHERE id = ? AND status = ?",
                [
                    ReminderStatus.SENDING.value,
                    owner,
                    to_db_time(now),
                    reminder_id,
                    ReminderStatus.SCHEDULED.value,
                ],
            )
        return cursor.rowcount == 1

    def keep_claim(self, reminder_id: int, owner: str, now: datetime) -> None:
        """Say that ``owner`` is still sending, so nobody takes the reminder over."""
        with write(self._db):
            self._db.execute(
                "UPDATE reminders SET claimed_at = ? WHERE id = ? AND claimed_by = ?",
                [to_db_time(now), reminder_id, owner],
            )

    def abandoned(self, stale_before: datetime) -> list[Reminder]:
        """Reminders left in ``sending`` by a process that stopped keeping them."""
        rows = self._table.rows_where(
            "status = ? AND (claimed_at IS NULL OR claimed_at < ?)",
            [ReminderStatus.SENDING.value, to_db_time(stale_before)],
            order_by="due_at, id",
        )
        return [_reminder(row) for row in rows]

    def take_over(
        self, reminder_id: int, owner: str, stale_before: datetime, now: datetime
    ) -> bool:
        """Claim an abandoned reminder; False if its owner is alive after all."""
        with write(self._db):
            cursor = self._db.execute(
                "UPDATE reminders SET claimed_by = ?, claimed_at = ? "
                "WHERE id = ? AND status = ? "
                "AND (claimed_at IS NULL OR claimed_at < ?)",
                [
                    owner,
                    to_db_time(now),
                    reminder_id,
                    ReminderStatus.SENDING.value,
                    to_db_time(stale_before),
                ],
            )
        return cursor.rowcount == 1

    def cancel(self, reminder_id: int) -> bool:
        return self._transition(
            reminder_id, ReminderStatus.SCHEDULED, ReminderStatus.CANCELLED
        )

    def finish(self, reminder_id: int, status: ReminderStatus, now: datetime) -> None:
        with write(self._db):
            self._db.execute(
                "UPDATE reminders SET status = ?, sent_at = ? WHERE id = ?",
                [status.value, to_db_time(now), reminder_id],
            )

    def _transition(
        self, reminder_id: int, old: ReminderStatus, new: ReminderStatus
    ) -> bool:
        with write(self._db):
            cursor = self._db.execute(
                "UPDATE reminders SET status = ? WHERE id = ? AND status = ?",
                [new.value, reminder_id, old.value],
            )
        return cursor.rowcount == 1
