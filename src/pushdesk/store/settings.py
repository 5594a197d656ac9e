"""Operator settings stored with the data, as plain key/value text."""

import sqlite_utils

from pushdesk.store.db import write

VAPID_SUBJECT = "vapid_subject"
MAX_LATENESS = "max_lateness_seconds"
RECEIPT_SECRET = "receipt_secret"


class SettingsStore:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self._db = db
        self._table = db.table("settings")

    def get(self, key: str) -> str | None:
        rows = list(self._table.rows_where("key = ?", [key]))
        return str(rows[0]["value"]) if rows else None

    def set(self, key: str, value: str) -> None:
        with write(self._db):
            self._table.upsert({"key": key, "value": value}, pk="key")
