"""The send queue: one row per occurrence and subscription, until it settles.

States: ``pending`` (waiting for its time), ``in_flight`` (claimed by a
process that may have a request on the wire), and the final ``delivered``,
``gone``, ``rejected``, ``refused``, ``failed`` and ``cancelled``.
"""

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlite_utils

from pushdesk.domain import (
    CredentialsRefused,
    Delivered,
    Gone,
    Outcome,
    Reminder,
    Subscription,
    outcome_name,
)
from pushdesk.store.db import from_db_time, to_db_time, write
from pushdesk.store.rows import reminder_from_row, subscription_from_row

PENDING = "pending"
IN_FLIGHT = "in_flight"
CANCELLED = "cancelled"
OPEN_STATES = (PENDING, IN_FLIGHT)


@dataclass(frozen=True)
class SendJob:
    """Everything needed to make one push, read in one query."""

    id: int
    reminder: Reminder
    occurrence_at: datetime
    subscription: Subscription
    attempts: int


@dataclass(frozen=True)
class Settlement:
    """What became of one attempt, and what happens next."""

    job: SendJob
    outcome: Outcome
    state: str  # the send's new state
    retry_at: datetime | None = None


class SendStore:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self._db = db

    def queue(
        self,
        reminder_id: int,
        occurrence_at: datetime,
        subscription_ids: list[int],
        now: datetime,
    ) -> int:
        """Queue one send per subscription; returns how many were new."""
        # One statement over a JSON list: SQLite loops in C, which keeps a
        # fan-out to thousands of devices from stalling the event loop.
        with write(self._db):
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO sends (reminder_id, occurrence_at, "
                "subscription_id, state, next_attempt_at) "
                "SELECT ?, ?, value, ?, ? FROM json_each(?)",
                [
                    reminder_id,
                    to_db_time(occurrence_at),
                    PENDING,
                    to_db_time(now),
                    json.dumps(subscription_ids),
                ],
            )
        return cursor.rowcount

    def claim_ready(self, owner: str, now: datetime, limit: int) -> list[SendJob]:
        """Take up to ``limit`` sends whose time has come, oldest first."""
        with write(self._db):
            ids = [
                row[0]
                for row in self._db.execute(
                    "SELECT id FROM sends WHERE state = ? AND next_attempt_at <= ? "
                    "ORDER BY next_attempt_at, id LIMIT ?",
                    [PENDING, to_db_time(now), limit],
                ).fetchall()
            ]
            if not ids:
                return []
            marks = ",".join("?" * len(ids))
            self._db.execute(
                f"UPDATE sends SET state = ?, claimed_by = ?, claimed_at = ? "
                f"WHERE id IN ({marks})",
                [IN_FLIGHT, owner, to_db_time(now), *ids],
            )
            jobs, orphans = self._jobs(ids)

            # The subscription was deleted since the occurrence fired (a 410
            # for another reminder, the device unsubscribed): nothing to send.
            if orphans:
                marks = ",".join("?" * len(orphans))
                self._db.execute(
                    f"UPDATE sends SET state = 'gone' WHERE id IN ({marks})", orphans
                )
        return jobs

    def heartbeat(self, owner: str, now: datetime) -> None:
        """Say that ``owner`` is alive and its claims are live."""
        with write(self._db):
            self._db.execute(
                "INSERT INTO workers (owner, seen_at) VALUES (?, ?) "
                "ON CONFLICT (owner) DO UPDATE SET seen_at = excluded.seen_at",
                [owner, to_db_time(now)],
            )

    def retire(self, owner: str) -> None:
        """A clean stop: ``owner`` holds no claims any more."""
        with write(self._db):
            self._db.execute("DELETE FROM workers WHERE owner = ?", [owner])

    def last_heartbeat(self) -> datetime | None:
        """When a running pushdesk last said it is alive; None if none has
        since the last clean stop."""
        row = self._db.execute("SELECT max(seen_at) FROM workers").fetchone()
        return from_db_time(row[0]) if row[0] else None

    def release_abandoned(self, silent_since: datetime) -> int:
        """Put back sends claimed by a process that stopped (a kill, a crash,
        a power cut): they go out again. Only they can be sent twice."""
        with write(self._db):
            cursor = self._db.execute(
                "UPDATE sends SET state = ?, claimed_by = NULL WHERE state = ? "
                "AND coalesce(claimed_by, '') NOT IN "
                "(SELECT owner FROM workers WHERE seen_at >= ?)",
                [PENDING, IN_FLIGHT, to_db_time(silent_since)],
            )
            self._db.execute(
                "DELETE FROM workers WHERE seen_at < ?", [to_db_time(silent_since)]
            )
        return cursor.rowcount

    def settle(self, settlements: list[Settlement], now: datetime) -> None:
        """Record attempts and their consequences in one transaction."""
        if not settlements:
            return
        with write(self._db):
            self._db.conn.executemany(
                "INSERT INTO deliveries (reminder_id, occurrence_at, subscription_id, "
                "endpoint_host, outcome, status_code, error, attempted_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [_delivery_row(s, now) for s in settlements],
            )
            self._db.conn.executemany(
                "UPDATE sends SET state = ?, attempts = attempts + 1, "
                "next_attempt_at = coalesce(?, next_attempt_at), claimed_by = NULL "
                "WHERE id = ?",
                [
                    (
                        s.state,
                        to_db_time(ceil_second(s.retry_at)) if s.retry_at else None,
                        s.job.id,
                    )
                    for s in settlements
                ],
            )

            # A retry planned for a reminder cancelled while its request was
            # on the wire must not go out later. Only this batch's reminders
            # can have such retries, so only they are looked at.
            reminder_ids = sorted({s.job.reminder.id for s in settlements})
            marks = ",".join("?" * len(reminder_ids))
            self._db.execute(
                f"UPDATE sends SET state = ? WHERE state = ? AND reminder_id IN "
                f"(SELECT id FROM reminders WHERE status = 'cancelled' "
                f"AND id IN ({marks}))",
                [CANCELLED, PENDING, *reminder_ids],
            )
            gone = [
                (s.job.subscription.id,)
                for s in settlements
                if isinstance(s.outcome, Gone)
            ]
            self._db.conn.executemany("DELETE FROM subscriptions WHERE id = ?", gone)
            refused = [
                (f"{s.outcome.status}: {s.outcome.error}", s.job.subscription.id)
                for s in settlements
                if isinstance(s.outcome, CredentialsRefused)
            ]
            self._db.conn.executemany(
                "UPDATE subscriptions SET flag_reason = ? WHERE id = ?", refused
            )
            delivered = [
                (s.job.subscription.id,)
                for s in settlements
                if isinstance(s.outcome, Delivered) and s.job.subscription.flag_reason
            ]
            self._db.conn.executemany(
                "UPDATE subscriptions SET flag_reason = NULL WHERE id = ?", delivered
            )

    def mark_cancelled(self, send_ids: list[int]) -> None:
        with write(self._db):
            self._db.conn.executemany(
                "UPDATE sends SET state = ?, claimed_by = NULL WHERE id = ?",
                [(CANCELLED, send_id) for send_id in send_ids],
            )

    def is_open(self, reminder_id: int, occurrence_at: datetime) -> bool:
        row = self._db.execute(
            "SELECT count(*) FROM sends WHERE reminder_id = ? AND occurrence_at = ? "
            "AND state IN (?, ?)",
            [reminder_id, to_db_time(occurrence_at), *OPEN_STATES],
        ).fetchone()
        return bool(row[0])

    def states(
        self, reminder_id: int, occurrence_at: datetime | None = None
    ) -> Counter[str]:
        """How many sends of a reminder (or one occurrence of it) are in each state."""
        where, values = "reminder_id = ?", [str(reminder_id)]
        if occurrence_at is not None:
            where += " AND occurrence_at = ?"
            values.append(to_db_time(occurrence_at))
        rows = self._db.execute(
            f"SELECT state, count(*) FROM sends WHERE {where} GROUP BY state", values
        ).fetchall()
        return Counter(dict(rows))

    def move_device(self, old: int, new: int) -> None:
        """A device subscribed anew (its browser renewed the subscription):
        its sends, waiting retries and settled ones alike, are the new row's.

        A send the new row already has for the same occurrence (it was
        subscribed on its own before) stays with the old one, which is
        dropped as gone when it is claimed.
        """
        with write(self._db):
            self._db.execute(
                "UPDATE OR IGNORE sends SET subscription_id = ? "
                "WHERE subscription_id = ?",
                [new, old],
            )

    def devices(self, reminder_id: int, occurrence_at: datetime) -> frozenset[int]:
        """The devices one occurrence of a reminder was sent to, whatever came
        of it, that are still subscribed: one removed meanwhile (by the
        operator, or found gone) is no longer anyone's to tell."""
        rows = self._db.execute(
            "SELECT sends.subscription_id FROM sends "
            "JOIN subscriptions ON subscriptions.id = sends.subscription_id "
            "WHERE sends.reminder_id = ? AND sends.occurrence_at = ?",
            [reminder_id, to_db_time(occurrence_at)],
        ).fetchall()
        return frozenset(row[0] for row in rows)

    def next_attempt_at(self) -> datetime | None:
        row = self._db.execute(
            "SELECT min(next_attempt_at) FROM sends WHERE state = ?", [PENDING]
        ).fetchone()
        return from_db_time(row[0]) if row[0] else None

    def cancel_waiting(self, reminder_id: int) -> int:
        """Drop the pending sends of a cancelled reminder; ones on the wire finish."""
        with write(self._db):
            cursor = self._db.execute(
                "UPDATE sends SET state = ? WHERE reminder_id = ? AND state = ?",
                [CANCELLED, reminder_id, PENDING],
            )
        return cursor.rowcount

    def _jobs(self, ids: list[int]) -> tuple[list[SendJob], list[int]]:
        marks = ",".join("?" * len(ids))
        cursor = self._db.execute(
            f"""
            SELECT sends.id AS send_id, sends.occurrence_at, sends.attempts,
                   sends.subscription_id, reminders.*,
                   subscriptions.id AS s_id, subscriptions.endpoint AS s_endpoint,
                   subscriptions.p256dh AS s_p256dh, subscriptions.auth AS s_auth,
                   subscriptions.label AS s_label,
                   subscriptions.user_agent AS s_user_agent,
                   subscriptions.created_at AS s_created_at,
                   subscriptions.last_seen_at AS s_last_seen_at,
                   subscriptions.flag_reason AS s_flag_reason
            FROM sends
            JOIN reminders ON reminders.id = sends.reminder_id
            LEFT JOIN subscriptions ON subscriptions.id = sends.subscription_id
            WHERE sends.id IN ({marks})
            ORDER BY sends.id
            """,
            ids,
        )
        names = [column[0] for column in cursor.description]
        jobs, orphans = [], []
        for values in cursor.fetchall():
            row = dict(zip(names, values, strict=True))
            if row["s_id"] is None:
                orphans.append(row["send_id"])
                continue
            subscription = subscription_from_row(
                {key[2:]: value for key, value in row.items() if key.startswith("s_")}
                | {"groups": ""}
            )
            jobs.append(
                SendJob(
                    id=row["send_id"],
                    reminder=reminder_from_row(row),
                    occurrence_at=from_db_time(row["occurrence_at"]),
                    subscription=subscription,
                    attempts=row["attempts"],
                )
            )
        return jobs, orphans


def ceil_second(moment: datetime) -> datetime:
    """Round up to the whole second the database keeps: never retry early."""
    if moment.microsecond:
        return moment.replace(microsecond=0) + timedelta(seconds=1)
    return moment


def _delivery_row(settlement: Settlement, now: datetime) -> tuple[Any, ...]:
    outcome = settlement.outcome
    job = settlement.job
    return (
        job.reminder.id,
        to_db_time(job.occurrence_at),
        job.subscription.id,
        job.subscription.endpoint_host,
        outcome_name(outcome),
        getattr(outcome, "status", None),
        getattr(outcome, "error", None),
        to_db_time(now),
    )
