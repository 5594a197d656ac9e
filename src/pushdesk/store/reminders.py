"""Persistence of reminders. What is due is always a query, never a timer."""

import json
from datetime import datetime
from typing import Any

import sqlite_utils

from pushdesk.domain import Reminder, ReminderDraft, ReminderQuery, ReminderStatus
from pushdesk.errors import NotFound
from pushdesk.log import STORE
from pushdesk.store.db import from_db_time, to_db_time, write
from pushdesk.store.rows import reminder_from_row
from pushdesk.store.sends import SendStore

# Orders a listing may ask for; the UI and CLI name them, only SQL here.
SORTS = {
    "due": "due_at",
    "title": "title COLLATE NOCASE",
    "status": "status",
    "created": "created_at",
}


def _like(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, its wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _filter(query: ReminderQuery) -> tuple[str, list[Any]]:
    clauses = ["deleted_at IS NULL"]
    values: list[Any] = []
    if query.text.strip():
        clauses.append("(title LIKE ? ESCAPE '\\' OR message LIKE ? ESCAPE '\\')")
        values += [_like(query.text.strip())] * 2
    if query.statuses:
        clauses.append(f"status IN ({', '.join('?' * len(query.statuses))})")
        values += [status.value for status in query.statuses]
    if query.everyone_only:
        clauses.append("target_groups = '[]' AND target_subscriptions = '[]'")
    if query.group is not None:
        clauses.append(
            "EXISTS (SELECT 1 FROM json_each(target_groups) "
            "WHERE value = ? COLLATE NOCASE)"
        )
        values.append(query.group)
    if query.device is not None:
        clauses.append(
            "EXISTS (SELECT 1 FROM json_each(target_subscriptions) WHERE value = ?)"
        )
        values.append(query.device)
    if query.due_from is not None:
        clauses.append("due_at >= ?")
        values.append(to_db_time(query.due_from))
    if query.due_until is not None:
        clauses.append("due_at <= ?")
        values.append(to_db_time(query.due_until))
    if query.from_visitors:
        clauses.append("visitor_device IS NOT NULL")
    return " AND ".join(clauses), values


def _columns(draft: ReminderDraft) -> dict[str, Any]:
    return {
        "title": draft.title,
        "message": draft.message,
        "url": draft.url,
        "due_at": to_db_time(draft.due_at),
        "target_groups": json.dumps(list(draft.target.groups)),
        "target_subscriptions": json.dumps(list(draft.target.subscription_ids)),
        "ttl": draft.ttl,
        "urgency": draft.urgency.value,
        "repeat": draft.repeat,
        "anchor_at": to_db_time(draft.due_at),
        "icon": draft.icon,
        "visitor_device": draft.visitor_device,
    }


# A visitor's reminders still to go out, along the reminders_visitor index.
_PENDING = (ReminderStatus.SCHEDULED.value, ReminderStatus.SENDING.value)
_PENDING_OF_VISITOR = "visitor_device = ? AND status IN (?, ?) AND deleted_at IS NULL"


class ReminderStore:
    def __init__(self, db: sqlite_utils.Database, sends: SendStore) -> None:
        self._db = db
        self._table = db.table("reminders")
        self._sends = sends

    def add(self, draft: ReminderDraft, now: datetime) -> Reminder:
        with write(self._db):
            values = _columns(draft) | {
                "status": ReminderStatus.SCHEDULED.value,
                "created_at": to_db_time(now),
            }
            row_id = self._table.insert(values).last_pk
        return self.get(int(row_id or 0))

    def add_for_visitor(
        self, draft: ReminderDraft, now: datetime, most_pending: int
    ) -> Reminder | None:
        """Add a visitor's reminder unless their device already has
        ``most_pending`` waiting; counted and added in one transaction, so two
        requests at once cannot both slip under the limit."""
        assert draft.visitor_device is not None
        with write(self._db):
            for device in draft.target.subscription_ids:
                if self.pending_for(device) >= most_pending:
                    return None
            return self.add(draft, now)

    def pending_for(self, device: int) -> int:
        """Visitors' reminders still to go out that this device set or will
        get (a visitor may add their other devices)."""
        row = self._db.execute(
            "SELECT count(*) FROM reminders "
            "WHERE visitor_device IS NOT NULL AND status IN (?, ?) "
            "AND deleted_at IS NULL AND (visitor_device = ? OR EXISTS "
            "(SELECT 1 FROM json_each(target_subscriptions) WHERE value = ?))",
            [*_PENDING, device, device],
        ).fetchone()
        return int(row[0])

    def move_device(self, old: int, new: int) -> None:
        """A device subscribed anew (its browser renewed the subscription):
        the reminders still to fire that it set or that go to it follow it."""
        with write(self._db):
            self._db.execute(
                "UPDATE reminders SET visitor_device = ? "
                "WHERE visitor_device = ? AND status IN (?, ?)",
                [new, old, *_PENDING],
            )
            self._db.execute(
                "UPDATE reminders SET target_subscriptions = ("
                "  SELECT json_group_array(DISTINCT"
                "    CASE t.value WHEN ? THEN ? ELSE t.value END)"
                "  FROM json_each(reminders.target_subscriptions) AS t"
                ") WHERE status = ? AND EXISTS ("
                "  SELECT 1 FROM json_each(target_subscriptions) WHERE value = ?)",
                [old, new, ReminderStatus.SCHEDULED.value, old],
            )

    def pending_of_visitor(self, visitor_device: int) -> list[Reminder]:
        """What a visitor's device set and is still to go out, soonest first."""
        rows = self._table.rows_where(
            _PENDING_OF_VISITOR, [visitor_device, *_PENDING], order_by="due_at, id"
        )
        return [reminder_from_row(row) for row in rows]

    def scheduled_for_group(self, name: str) -> list[int]:
        """The scheduled reminders whose target names this group."""
        rows = self._db.execute(
            "SELECT id FROM reminders WHERE status = ? AND deleted_at IS NULL "
            "AND EXISTS (SELECT 1 FROM json_each(target_groups) "
            "WHERE value = ? COLLATE NOCASE) ORDER BY id",
            [ReminderStatus.SCHEDULED.value, name],
        )
        return [row[0] for row in rows.fetchall()]

    def rename_target_group(self, old: str, new: str) -> list[int]:
        """The scheduled reminders that go to group ``old`` go to ``new``
        instead (reminders name their groups); returns their ids."""
        with write(self._db):
            following = self.scheduled_for_group(old)
            self._db.execute(
                "UPDATE reminders SET target_groups = ("
                "  SELECT json_group_array("
                "    CASE WHEN t.value = ? COLLATE NOCASE THEN ? ELSE t.value END)"
                "  FROM json_each(reminders.target_groups) AS t"
                ") WHERE id IN (SELECT value FROM json_each(?))",
                [old, new, json.dumps(following)],
            )
        return following

    def edit(self, reminder_id: int, draft: ReminderDraft) -> bool:
        """Replace what a scheduled reminder says and when; False if it moved on."""
        with write(self._db):
            columns = _columns(draft)
            assignments = ", ".join(f"{name} = ?" for name in columns)
            cursor = self._db.execute(
                f"UPDATE reminders SET {assignments} WHERE id = ? AND status = ?",
                [*columns.values(), reminder_id, ReminderStatus.SCHEDULED.value],
            )
        return cursor.rowcount == 1

    def get(self, reminder_id: int) -> Reminder:
        rows = list(self._table.rows_where("id = ?", [reminder_id]))
        if not rows:
            raise NotFound(f"There is no reminder {reminder_id}.")
        return reminder_from_row(rows[0])

    def all(self) -> list[Reminder]:
        return [
            reminder_from_row(row)
            for row in self._table.rows_where(
                "deleted_at IS NULL", order_by="due_at, id"
            )
        ]

    def count(self, query: ReminderQuery) -> int:
        where, values = _filter(query)
        row = self._db.execute(
            f"SELECT count(*) FROM reminders WHERE {where}", values
        ).fetchone()
        return int(row[0])

    def page(self, query: ReminderQuery, offset: int, limit: int) -> list[Reminder]:
        """One page of the listing; ties are broken by id so pages never overlap."""
        if query.sort not in SORTS:
            raise ValueError(f"unknown sort {query.sort!r}")
        where, values = _filter(query)
        direction = "DESC" if query.descending else "ASC"
        order = f"{SORTS[query.sort]} {direction}, id {direction}"

        # Skipping to a deep offset walks only the index (ids), not the rows.
        rows = self._db.query(
            "SELECT * FROM reminders WHERE id IN (SELECT id FROM reminders "
            f"WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?) ORDER BY {order}",
            [*values, limit, offset],
        )
        return [reminder_from_row(row) for row in rows]

    def delete(self, reminder_id: int, now: datetime) -> bool:
        """Hide a reminder that is not going out; its delivery log stays.

        A scheduled one is cancelled in the same step. False if it is sending.
        """
        with write(self._db):
            cursor = self._db.execute(
                "UPDATE reminders SET deleted_at = ?, "
                "status = CASE status WHEN ? THEN ? ELSE status END "
                "WHERE id = ? AND deleted_at IS NULL AND status != ?",
                [
                    to_db_time(now),
                    ReminderStatus.SCHEDULED.value,
                    ReminderStatus.CANCELLED.value,
                    reminder_id,
                    ReminderStatus.SENDING.value,
                ],
            )
            if cursor.rowcount != 1:
                return False
            self._sends.cancel_waiting(reminder_id)
        return True

    def due(self, now: datetime) -> list[Reminder]:
        rows = self._table.rows_where(
            "status = ? AND due_at <= ?",
            [ReminderStatus.SCHEDULED.value, to_db_time(now)],
            order_by="due_at, id",
        )
        due = []
        for row in list(rows):
            try:
                due.append(reminder_from_row(row))
            except (ValueError, TypeError):
                # A row edited by hand into nonsense must not hold up the
                # reminders behind it, round after round.
                self._set_failed(row["id"])
        return due

    def cancelled_ids(self) -> set[int]:
        """Cancelled reminders that still have sends claimed or waiting."""
        rows = self._db.execute(
            "SELECT DISTINCT reminder_id FROM sends JOIN reminders "
            "ON reminders.id = sends.reminder_id "
            "WHERE sends.state IN ('pending', 'in_flight') AND reminders.status = ?",
            [ReminderStatus.CANCELLED.value],
        )
        return {row[0] for row in rows.fetchall()}

    def sending(self) -> list[Reminder]:
        rows = self._table.rows_where("status = ?", [ReminderStatus.SENDING.value])
        return [reminder_from_row(row) for row in rows]

    def next_due_at(self) -> datetime | None:
        row = self._db.execute(
            "SELECT min(due_at) FROM reminders WHERE status = ?",
            [ReminderStatus.SCHEDULED.value],
        ).fetchone()
        return from_db_time(row[0]) if row[0] else None

    def fire(
        self,
        reminder: Reminder,
        subscription_ids: list[int],
        now: datetime,
        *,
        late: bool,
        next_due: datetime | None,
        occurrence_at: datetime | None = None,
    ) -> bool:
        """Fire the reminder's occurrence at ``reminder.due_at``: queue one send
        per subscription and move the reminder on, in one transaction.

        A one-shot becomes ``sending``; a repeating one is rescheduled to
        ``next_due``. False (and nothing written) if another process fired it
        first: the conditional update is the claim.
        """
        with write(self._db):
            if next_due is None:
                changes = "status = ?, late = ?"
                values: list[Any] = [ReminderStatus.SENDING.value, int(late)]
            else:
                changes = "due_at = ?, late = ?, sent_at = ?"
                values = [to_db_time(next_due), int(late), to_db_time(now)]
            cursor = self._db.execute(
                f"UPDATE reminders SET {changes} "
                "WHERE id = ? AND status = ? AND due_at = ?",
                [
                    *values,
                    reminder.id,
                    ReminderStatus.SCHEDULED.value,
                    to_db_time(reminder.due_at),
                ],
            )
            if cursor.rowcount != 1:
                return False
            self._sends.queue(
                reminder.id, occurrence_at or reminder.due_at, subscription_ids, now
            )
        return True

    def send_now(
        self, reminder: Reminder, subscription_ids: list[int], now: datetime
    ) -> bool:
        """An extra occurrence right away; a repeating reminder keeps its schedule."""
        if reminder.repeat is None:
            return self.fire(reminder, subscription_ids, now, late=False, next_due=None)
        with write(self._db):
            if self.get(reminder.id).status is not ReminderStatus.SCHEDULED:
                return False
            added = self._sends.queue(reminder.id, now, subscription_ids, now)
        # Nothing new: it was already sent now within this same second.
        return added > 0 or not subscription_ids

    def mark_missed(self, reminder: Reminder) -> bool:
        with write(self._db):
            cursor = self._db.execute(
                "UPDATE reminders SET status = ? WHERE id = ? AND status = ? "
                "AND due_at = ?",
                [
                    ReminderStatus.MISSED.value,
                    reminder.id,
                    ReminderStatus.SCHEDULED.value,
                    to_db_time(reminder.due_at),
                ],
            )
        return cursor.rowcount == 1

    def cancel(self, reminder_id: int) -> bool:
        """Cancel a scheduled reminder, or the sends still to go of one in flight."""
        with write(self._db):
            cursor = self._db.execute(
                "UPDATE reminders SET status = ? WHERE id = ? AND status IN (?, ?)",
                [
                    ReminderStatus.CANCELLED.value,
                    reminder_id,
                    ReminderStatus.SCHEDULED.value,
                    ReminderStatus.SENDING.value,
                ],
            )
            if cursor.rowcount != 1:
                return False
            self._sends.cancel_waiting(reminder_id)
        return True

    def finish(self, reminder_id: int, status: ReminderStatus, now: datetime) -> bool:
        """Close a one-shot after its sends settled; False if it was cancelled."""
        with write(self._db):
            cursor = self._db.execute(
                "UPDATE reminders SET status = ?, sent_at = ? "
                "WHERE id = ? AND status = ?",
                [
                    status.value,
                    to_db_time(now),
                    reminder_id,
                    ReminderStatus.SENDING.value,
                ],
            )
        return cursor.rowcount == 1

    def _set_failed(self, reminder_id: int) -> None:
        STORE.error(
            "reminder %d is damaged in the database; marked failed", reminder_id
        )
        with write(self._db):
            self._db.execute(
                "UPDATE reminders SET status = ? WHERE id = ?",
                [ReminderStatus.FAILED.value, reminder_id],
            )
