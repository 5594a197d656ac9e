"""The only package that talks SQL. It hands out domain objects, never rows."""

from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from pushdesk.push.receipts import new_secret
from pushdesk.store.alerts import AlertStore
from pushdesk.store.db import data_version, open_database, read, write
from pushdesk.store.deliveries import DeliveryStore
from pushdesk.store.receipts import ReceiptStore
from pushdesk.store.reminders import ReminderStore
from pushdesk.store.sends import SendStore
from pushdesk.store.settings import RECEIPT_SECRET, SettingsStore
from pushdesk.store.subscriptions import SubscriptionStore


@dataclass
class Store:
    db: sqlite_utils.Database
    reminders: ReminderStore
    subscriptions: SubscriptionStore
    deliveries: DeliveryStore
    settings: SettingsStore
    sends: SendStore
    alerts: AlertStore
    receipts: ReceiptStore

    @classmethod
    def open(cls, path: Path, *, busy_timeout: float | None = None) -> "Store":
        """Open the database; ``busy_timeout`` is how many seconds a write
        waits for another process's (default: BUSY_TIMEOUT_SECONDS)."""
        db = open_database(path, busy_timeout)
        sends = SendStore(db)
        return cls(
            db=db,
            reminders=ReminderStore(db, sends),
            subscriptions=SubscriptionStore(db),
            deliveries=DeliveryStore(db),
            settings=SettingsStore(db),
            sends=sends,
            alerts=AlertStore(db),
            receipts=ReceiptStore(db),
        )

    def receipt_secret(self) -> str:
        """The key of receipt tokens, made on first use and kept with the data."""
        secret = self.settings.get(RECEIPT_SECRET)
        if secret is None:
            secret = new_secret()
            self.settings.set(RECEIPT_SECRET, secret)
        return secret

    def transaction(self) -> AbstractContextManager[None]:
        """Group several writes into one transaction (much faster for many)."""
        return write(self.db)

    def snapshot(self) -> AbstractContextManager[None]:
        """Several reads that must agree (pages of one listing): they all see
        the data as it was at the first."""
        return read(self.db)

    def data_version(self) -> int:
        return data_version(self.db)

    def close(self) -> None:
        self.db.close()


__all__ = ["Store"]
