"""Reading the log of send attempts (the send queue writes it).

Listings filter and sort in SQL on the indexes of migration m003, so a log of
hundreds of thousands of attempts is read a page or a chunk at a time.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlite_utils

from pushdesk.domain import Delivery
from pushdesk.store.db import to_db_time
from pushdesk.store.rows import delivery_from_row

# Each order ends in the id so that equal times never swap places between two
# pages; every column list is an index prefix (the rowid ends each index), so
# SQLite walks the index instead of sorting.
SORT_COLUMNS = {
    "time": ("d.attempted_at", "d.id"),
    "outcome": ("d.outcome", "d.attempted_at", "d.id"),
    "reminder": ("d.reminder_id", "d.id"),
}

# Outcomes after which a push is not tried again and did not arrive ("gone"
# is the device's own doing, not a failure).
FAILED_FOR_GOOD = ("failed", "rejected", "refused")

_LISTING = """
    SELECT d.*, r.title AS reminder_title, s.id AS device_id, s.label AS device_label
    FROM deliveries AS d
    LEFT JOIN reminders AS r ON r.id = d.reminder_id
    LEFT JOIN subscriptions AS s ON s.id = d.subscription_id
"""


@dataclass(frozen=True)
class DeliveryQuery:
    """Which attempts to list and in what order; ``None`` filters nothing.

    ``device_text`` matches part of a device's current label; ``since`` and
    ``until`` bound the attempt time, both inclusive.
    """

    reminder_id: int | None = None
    subscription_id: int | None = None
    device_text: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    sort: str = "time"
    descending: bool = True


@dataclass(frozen=True)
class DeliveryRow:
    """One attempt with what the log shows beside it."""

    delivery: Delivery
    reminder_title: str | None  # None: the reminder row is gone
    device_label: str | None
    device_exists: bool  # False once a 410 or the operator removed the device

    @property
    def reminder(self) -> str:
        number = self.delivery.reminder_id
        if self.reminder_title is None:
            return f"#{number} (deleted reminder)"
        return f"#{number} {self.reminder_title}"

    @property
    def device(self) -> str:
        number, host = self.delivery.subscription_id, self.delivery.endpoint_host
        if not self.device_exists:
            return f"removed device #{number} ({host})"
        return self.device_label or f"unnamed device #{number}"


class DeliveryStore:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self._db = db
        self._table = db.table("deliveries")

    def for_reminder(self, reminder_id: int) -> list[Delivery]:
        rows = self._table.rows_where("reminder_id = ?", [reminder_id], order_by="id")
        return [delivery_from_row(row) for row in rows]

    def last_id(self) -> int:
        """The newest attempt's id (0 for an empty log): a fixed end for an export."""
        row = self._db.execute("SELECT max(id) FROM deliveries").fetchone()
        return int(row[0] or 0)

    def reminders_failed_since(self, since: datetime) -> int:
        """How many reminders had a push fail for good (failed, rejected or
        refused: not retried) at or after ``since``."""
        marks = ", ".join("?" * len(FAILED_FOR_GOOD))
        row = self._db.execute(
            "SELECT count(DISTINCT reminder_id) FROM deliveries "
            f"WHERE outcome IN ({marks}) AND attempted_at >= ?",
            [*FAILED_FOR_GOOD, to_db_time(since)],
        ).fetchone()
        return int(row[0])

    def count(self, query: DeliveryQuery, up_to_id: int | None = None) -> int:
        where, values = _where(query, up_to_id)
        row = self._db.execute(
            f"SELECT count(*) FROM deliveries AS d WHERE {where}", values
        ).fetchone()
        return int(row[0])

    def page(self, query: DeliveryQuery, offset: int, limit: int) -> list[DeliveryRow]:
        # The page's ids come from the index alone and only those rows are
        # then read and joined: skipping 300,000 rows costs milliseconds,
        # not the half second that reading and joining each of them takes.
        where, values = _where(query)
        ids = (
            f"SELECT d.id FROM deliveries AS d WHERE {where} "
            f"ORDER BY {_order(query)} LIMIT {limit:d} OFFSET {offset:d}"
        )
        return self._listing(f"d.id IN ({ids})", values, query)

    def stream(
        self, query: DeliveryQuery, chunk: int, up_to_id: int
    ) -> Iterator[list[DeliveryRow]]:
        """The matching attempts with ids up to ``up_to_id``, ``chunk`` at a time.

        Each chunk is its own query that starts after the last row of the one
        before (keyset paging): no read transaction stays open between chunks,
        and rows logged meanwhile neither shift nor repeat what was read.
        """
        columns = SORT_COLUMNS[query.sort]
        after: tuple[Any, ...] | None = None
        while True:
            where, values = _where(query, up_to_id)
            if after is not None:
                sign = "<" if query.descending else ">"
                marks = ", ".join("?" * len(columns))
                where += f" AND ({', '.join(columns)}) {sign} ({marks})"
                values += list(after)
            rows = self._listing(where, values, query, f"LIMIT {chunk:d}")
            if not rows:
                return
            yield rows
            after = _sort_values(rows[-1], query.sort)

    def _listing(
        self, where: str, values: list[Any], query: DeliveryQuery, limit: str = ""
    ) -> list[DeliveryRow]:
        cursor = self._db.execute(
            f"{_LISTING} WHERE {where} ORDER BY {_order(query)} {limit}", values
        )
        names = [column[0] for column in cursor.description]
        return [_listing_row(dict(zip(names, v, strict=True))) for v in cursor]


def _where(query: DeliveryQuery, up_to_id: int | None = None) -> tuple[str, list[Any]]:
    """The WHERE clause over ``deliveries AS d`` and its parameters."""
    clauses: list[str] = ["1"]
    values: list[Any] = []
    if query.reminder_id is not None:
        clauses.append("d.reminder_id = ?")
        values.append(query.reminder_id)
    if query.subscription_id is not None:
        clauses.append("d.subscription_id = ?")
        values.append(query.subscription_id)
    if query.device_text:
        # Through the small subscriptions table first, so the deliveries side
        # is read by the device index rather than scanned.
        clauses.append(
            "d.subscription_id IN (SELECT id FROM subscriptions "
            "WHERE label LIKE ? ESCAPE '\\')"
        )
        values.append(f"%{_escape_like(query.device_text)}%")
    if query.outcome is not None:
        clauses.append("d.outcome = ?")
        values.append(query.outcome)
    if query.since is not None:
        clauses.append("d.attempted_at >= ?")
        values.append(to_db_time(query.since))
    if query.until is not None:
        clauses.append("d.attempted_at <= ?")
        values.append(to_db_time(query.until))
    if up_to_id is not None:
        clauses.append("d.id <= ?")
        values.append(up_to_id)
    return " AND ".join(clauses), values


def _order(query: DeliveryQuery) -> str:
    direction = "DESC" if query.descending else "ASC"
    return ", ".join(f"{column} {direction}" for column in SORT_COLUMNS[query.sort])


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _listing_row(row: dict[str, Any]) -> DeliveryRow:
    return DeliveryRow(
        delivery=delivery_from_row(row),
        reminder_title=row["reminder_title"],
        device_label=row["device_label"],
        device_exists=row["device_id"] is not None,
    )


def _sort_values(row: DeliveryRow, sort: str) -> tuple[Any, ...]:
    """The values of ``SORT_COLUMNS[sort]`` for ``row``, as stored."""
    delivery = row.delivery
    attempted = to_db_time(delivery.attempted_at)
    return {
        "time": (attempted, delivery.id),
        "outcome": (delivery.outcome, attempted, delivery.id),
        "reminder": (delivery.reminder_id, delivery.id),
    }[sort]
