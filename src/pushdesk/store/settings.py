"""Operator settings stored with the data, as plain key/value text."""

from collections.abc import Iterable, Mapping

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

    def get_many(self, keys: Iterable[str]) -> dict[str, str]:
        """The stored values of those keys that have one."""
        wanted = list(keys)
        marks = ", ".join("?" for _ in wanted)
        rows = self._table.rows_where(f"key IN ({marks})", wanted)
        return {str(row["key"]): str(row["value"]) for row in rows}

    def set(self, key: str, value: str) -> None:
        with write(self._db):
            self._table.upsert({"key": key, "value": value}, pk="key")

    def set_many(self, values: Mapping[str, str]) -> None:
        """Write several settings in one transaction: all of them or none."""
        with write(self._db):
            self._table.upsert_all(
                [{"key": key, "value": value} for key, value in values.items()],
                pk="key",
            )
