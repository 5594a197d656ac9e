"""The SQLite file: opening it, its pragmas and its versioned migrations."""

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils
from sqlite_utils.migrations import Migrations

from pushdesk.errors import StartupError
from pushdesk.log import STORE

migrations = Migrations("pushdesk")


def to_db_time(moment: datetime) -> str:
    """Fixed-width UTC text (``2026-12-03T17:07:56Z``).

    SQL comparisons on it order correctly and the file stays readable with any
    SQLite tool. isoformat pads the year, which strftime does not everywhere.
    """
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; pass an aware one")
    utc = moment.astimezone(UTC).replace(microsecond=0, tzinfo=None)
    return utc.isoformat() + "Z"


def from_db_time(text: str) -> datetime:
    return datetime.fromisoformat(text.removesuffix("Z")).replace(tzinfo=UTC)


@contextmanager
def write(db: sqlite_utils.Database) -> Iterator[None]:
    """One write transaction, taking the write lock at its start.

    A plain BEGIN reads first and fails at once with "database is locked" when
    another process (the CLI) is writing; BEGIN IMMEDIATE waits for the busy
    timeout instead. Nested uses become savepoints.
    """
    if db.conn.in_transaction:
        with db.atomic():
            yield
        return

    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.conn.rollback()
        raise
    db.conn.commit()


@migrations()
def m001_initial(db: sqlite_utils.Database) -> None:
    # Ids are never reused (AUTOINCREMENT), so an old delivery or send never
    # points at a newer device or reminder.
    db.executescript(
        """
        CREATE TABLE subscriptions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            endpoint TEXT NOT NULL UNIQUE,
            p256dh TEXT NOT NULL,
            auth TEXT NOT NULL,
            label TEXT,
            user_agent TEXT,
            created_at TEXT NOT NULL,
            last_seen_at TEXT NOT NULL,
            flag_reason TEXT
        );

        CREATE TABLE groups (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL UNIQUE COLLATE NOCASE
        );

        CREATE TABLE subscription_groups (
            subscription_id INTEGER NOT NULL
                REFERENCES subscriptions(id) ON DELETE CASCADE,
            group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
            PRIMARY KEY (subscription_id, group_id)
        );

        CREATE TABLE reminders (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            title TEXT NOT NULL,
            message TEXT NOT NULL,
            url TEXT,
            due_at TEXT NOT NULL,
            status TEXT NOT NULL,
            created_at TEXT NOT NULL,
            sent_at TEXT,
            target_groups TEXT NOT NULL DEFAULT '[]',
            target_subscriptions TEXT NOT NULL DEFAULT '[]',
            ttl INTEGER NOT NULL,
            urgency TEXT NOT NULL,
            repeat TEXT,
            anchor_at TEXT,
            late INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX reminders_status_due ON reminders (status, due_at);

        -- The work queue: one row per occurrence of a reminder and targeted
        -- subscription. Written in the same transaction that fires the
        -- occurrence, so a crash never loses a device; a row is in_flight
        -- only while a request for it may be on the wire.
        CREATE TABLE sends (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            reminder_id INTEGER NOT NULL REFERENCES reminders(id),
            occurrence_at TEXT NOT NULL,
            subscription_id INTEGER NOT NULL,
            state TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL,
            claimed_by TEXT,
            claimed_at TEXT,
            UNIQUE (reminder_id, occurrence_at, subscription_id)
        );
        CREATE INDEX sends_ready ON sends (state, next_attempt_at);

        -- Deliveries outlive the subscription they went to (a 410 deletes
        -- it), so subscription_id is a plain number with the host beside it.
        CREATE TABLE deliveries (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            reminder_id INTEGER NOT NULL REFERENCES reminders(id),
            occurrence_at TEXT,
            subscription_id INTEGER NOT NULL,
            endpoint_host TEXT NOT NULL,
            outcome TEXT NOT NULL,
            status_code INTEGER,
            error TEXT,
            attempted_at TEXT NOT NULL
        );
        CREATE INDEX deliveries_reminder ON deliveries (reminder_id);

        CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);

        -- Every running pushdesk says here that it is alive; sends claimed by
        -- one that stopped saying so are put back in the queue.
        CREATE TABLE workers (owner TEXT PRIMARY KEY, seen_at TEXT NOT NULL);

        -- Problems the operator must hear about once, not once per push.
        CREATE TABLE alerts (
            key TEXT PRIMARY KEY,
            message TEXT NOT NULL,
            raised_at TEXT NOT NULL
        );
        """
    )


@migrations()
def m002_receipts(db: sqlite_utils.Database) -> None:
    # What devices' service workers reported: a reminder shown, or opened.
    db.executescript(
        """
        CREATE TABLE receipts (
            reminder_id INTEGER NOT NULL REFERENCES reminders(id),
            subscription_id INTEGER NOT NULL,
            kind TEXT NOT NULL,
            at TEXT NOT NULL,
            PRIMARY KEY (reminder_id, subscription_id, kind)
        );
        """
    )


@migrations()
def m003_listing_indexes(db: sqlite_utils.Database) -> None:
    # The window pages through tens of thousands of rows sorted and filtered
    # by these columns; without an index each page would sort the table.
    # (The reminders' own come with their deletion mark, in m004.)
    db.executescript(
        """
        CREATE INDEX subscriptions_label ON subscriptions (label COLLATE NOCASE);
        CREATE INDEX subscriptions_created ON subscriptions (created_at);
        CREATE INDEX subscriptions_seen ON subscriptions (last_seen_at);
        CREATE INDEX deliveries_attempted ON deliveries (attempted_at);
        CREATE INDEX deliveries_device ON deliveries (subscription_id, attempted_at);
        CREATE INDEX deliveries_outcome ON deliveries (outcome, attempted_at);
        """
    )


@migrations()
def m004_reminder_icon_and_deletion(db: sqlite_utils.Database) -> None:
    # A deleted reminder keeps its row (marked) so the delivery log that
    # points at it keeps its title.
    db.executescript(
        """
        ALTER TABLE reminders ADD COLUMN icon TEXT;
        ALTER TABLE reminders ADD COLUMN deleted_at TEXT;

        -- One per order the window offers, over the rows it lists. Each holds
        -- the row id too, so a page deep in the list is found in the index
        -- alone before any row is read.
        CREATE INDEX reminders_live_due ON reminders (due_at)
            WHERE deleted_at IS NULL;
        CREATE INDEX reminders_live_title ON reminders (title COLLATE NOCASE)
            WHERE deleted_at IS NULL;
        CREATE INDEX reminders_live_status ON reminders (status)
            WHERE deleted_at IS NULL;
        CREATE INDEX reminders_live_created ON reminders (created_at)
            WHERE deleted_at IS NULL;
        """
    )


@migrations()
def m005_subscription_origin_and_staleness(db: sqlite_utils.Database) -> None:
    # Where a device subscribed from (limits per client address), and when it
    # was warned that it had not been seen for a long time.
    db.executescript(
        """
        ALTER TABLE subscriptions ADD COLUMN client_address TEXT;
        ALTER TABLE subscriptions ADD COLUMN stale_warned_at TEXT;
        CREATE INDEX subscriptions_client ON subscriptions (client_address);
        """
    )


def open_database(path: Path) -> sqlite_utils.Database:
    """Open (creating if needed) and migrate the database at ``path``."""
    try:
        make_private_dir(path.parent)
        if not path.exists():
            # The file holds every device's push secrets: owner only, and
            # SQLite gives its -wal and -shm files the same mode.
            path.touch(mode=0o600)
        db = sqlite_utils.Database(path)

        # WAL lets the CLI write while the app reads and sends; the busy timeout
        # makes one wait for the other instead of failing at once.
        db.execute("PRAGMA busy_timeout = 5000")
        db.enable_wal()
        db.execute("PRAGMA foreign_keys = ON")

        pending = [m.name for m in migrations.pending(db)]
        migrations.apply(db)
    except (sqlite3.Error, OSError) as exc:
        raise StartupError(f"Cannot open the database {path}: {exc}.") from exc

    if pending:
        STORE.info("database %s migrated: %s", path, ", ".join(pending))
    return db


def make_private_dir(folder: Path) -> None:
    """Create the data folder readable by its owner only (an existing one is kept)."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)


def data_version(db: sqlite_utils.Database) -> int:
    """A number that changes whenever another connection commits to the file."""
    row = db.execute("PRAGMA data_version").fetchone()
    return int(row[0])
