"""Alerts the operator must see once, not once per push."""

from datetime import datetime

import sqlite_utils

from pushdesk.store.db import to_db_time, write


class AlertStore:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self._db = db

    def raise_once(self, key: str, message: str, now: datetime) -> bool:
        """Record the alert; True only the first time for this key."""
        with write(self._db):
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO alerts (key, message, raised_at) "
                "VALUES (?, ?, ?)",
                [key, message, to_db_time(now)],
            )
        return cursor.rowcount == 1

    def all(self) -> list[tuple[str, str]]:
        rows = self._db.execute("SELECT key, message FROM alerts ORDER BY raised_at")
        return [(row[0], row[1]) for row in rows.fetchall()]

    def clear(self, key: str) -> None:
        with write(self._db):
            self._db.execute("DELETE FROM alerts WHERE key = ?", [key])
