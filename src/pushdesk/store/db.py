"""The SQLite file: opening it, its pragmas and its versioned migrations."""

import functools
import logging
import sqlite3
import stat
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import sqlite_utils
from sqlite_utils.migrations import Migrations

from pushdesk.errors import StartupError, StorageError, StorageKind
from pushdesk.log import STORE

migrations = Migrations("pushdesk")

P = ParamSpec("P")
R = TypeVar("R")

# How long a write waits for another process's (the CLI's) before giving up.
BUSY_TIMEOUT_SECONDS = 5.0

# SQLite's primary result codes that say something about the file or the disk
# rather than about pushdesk's SQL.
_STORAGE_KINDS = {
    sqlite3.SQLITE_BUSY: StorageKind.BUSY,
    sqlite3.SQLITE_LOCKED: StorageKind.BUSY,
    sqlite3.SQLITE_READONLY: StorageKind.READ_ONLY,
    sqlite3.SQLITE_PERM: StorageKind.READ_ONLY,
    sqlite3.SQLITE_FULL: StorageKind.FULL,
    sqlite3.SQLITE_CORRUPT: StorageKind.DAMAGED,
    sqlite3.SQLITE_NOTADB: StorageKind.DAMAGED,
    sqlite3.SQLITE_IOERR: StorageKind.DISK,
    sqlite3.SQLITE_CANTOPEN: StorageKind.DISK,
}


def storage_kind(exc: sqlite3.Error) -> StorageKind | None:
    """What an SQLite error says about the file, or None for a bug in our SQL."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:
        return None
    return _STORAGE_KINDS.get(code & 0xFF)


def _faults_named(method: Callable[P, R]) -> Callable[P, R]:
    """``method`` of a StoreCursor, raising the file's faults as StorageError."""

    @functools.wraps(method)
    def named(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except sqlite3.Error as exc:
            cursor = args[0]
            assert isinstance(cursor, StoreCursor)
            cursor.connection.raise_if_storage(exc)
            raise

    return named


# Outside the class: there mypy would type it as Iterator.__next__, which
# _faults_named cannot take.
_next_row = _faults_named(sqlite3.Cursor.__next__)


class StoreCursor(sqlite3.Cursor):
    """A cursor on which the file's faults arrive as StorageError, at the
    statement or at any of its rows.

    SQLite reads a query's rows as they are fetched, so a damaged page or a
    failing disk can show up long after the statement started.
    """

    connection: "StoreConnection"

    execute = _faults_named(sqlite3.Cursor.execute)
    executemany = _faults_named(sqlite3.Cursor.executemany)
    executescript = _faults_named(sqlite3.Cursor.executescript)
    fetchone = _faults_named(sqlite3.Cursor.fetchone)
    fetchmany = _faults_named(sqlite3.Cursor.fetchmany)
    fetchall = _faults_named(sqlite3.Cursor.fetchall)

    def __next__(self) -> Any:
        return _next_row(self)


class StoreConnection(sqlite3.Connection):
    """A connection on which a busy, read-only, full or damaged file arrives as
    StorageError, whichever statement or row met it: the one place they are
    named.
    """

    path: Path

    def cursor(self, factory: Any = StoreCursor) -> Any:
        return super().cursor(factory)

    # sqlite3's own execute() makes a plain cursor whatever cursor() says, so
    # these go through cursor() themselves (which also gives the cursor the
    # connection's row_factory).
    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        cursor: StoreCursor = self.cursor()
        return cursor.execute(sql, parameters)

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> sqlite3.Cursor:
        cursor: StoreCursor = self.cursor()
        return cursor.executemany(sql, parameters)

    def executescript(self, sql_script: str, /) -> sqlite3.Cursor:
        cursor: StoreCursor = self.cursor()
        return cursor.executescript(sql_script)

    def commit(self) -> None:
        try:
            super().commit()
        except sqlite3.Error as exc:
            self.raise_if_storage(exc)
            raise

    def raise_if_storage(self, exc: sqlite3.Error) -> None:
        kind = storage_kind(exc)
        if kind is not None:
            raise StorageError(kind, self.path) from exc


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
    timeout instead. Nested uses become savepoints. A file that cannot be
    written raises StorageError, and the whole transaction is rolled back.
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


@contextmanager
def read(db: sqlite_utils.Database) -> Iterator[None]:
    """One read transaction: its queries all see the file as it was at the
    first (in WAL mode, writers elsewhere go on meanwhile). Inside a write
    transaction it adds nothing."""
    if db.conn.in_transaction:
        yield
        return

    db.execute("BEGIN")
    try:
        yield
    finally:
        # Nothing was written: ending it only lets go of the snapshot.
        db.conn.rollback()


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


@migrations()
def m006_warned_subscriptions_index(db: sqlite_utils.Database) -> None:
    # Hygiene looks for warned devices every hour; few are, so the index
    # holds only them.
    db.execute(
        "CREATE INDEX subscriptions_warned ON subscriptions (stale_warned_at) "
        "WHERE stale_warned_at IS NOT NULL"
    )


@migrations()
def m007_visitor_reminders(db: sqlite_utils.Database) -> None:
    # Reminders a visitor set from the page for their own device. The device
    # id is kept without a foreign key: the reminder, and its log, outlive a
    # removed device. The index serves "this device's pending reminders".
    db.executescript(
        """
        ALTER TABLE reminders ADD COLUMN visitor_device INTEGER;
        CREATE INDEX reminders_visitor ON reminders (visitor_device, status)
            WHERE visitor_device IS NOT NULL;
        """
    )


@migrations()
def m008_visitor_reminders_follow_their_device(db: sqlite_utils.Database) -> None:
    # However a device goes (it turns itself off, the operator removes it,
    # its push service says it is gone, hygiene removes it), the reminders
    # its visitor set that can now reach no device are cancelled with it: in
    # the database, so that no path of removal can forget them. Otherwise
    # they would wait for nobody, and a script could set more than the limit
    # by subscribing again and again.
    db.execute(
        """
        CREATE TRIGGER visitor_reminders_end_with_their_device
        AFTER DELETE ON subscriptions
        BEGIN
            UPDATE reminders SET status = 'cancelled'
            WHERE visitor_device = OLD.id AND status = 'scheduled'
              AND NOT EXISTS (
                  SELECT 1 FROM json_each(reminders.target_subscriptions) AS t
                  JOIN subscriptions ON subscriptions.id = t.value
              );
        END
        """
    )


def open_database(
    path: Path, busy_timeout: float | None = None
) -> sqlite_utils.Database:
    """Open (creating if needed) and migrate the database at ``path``.

    A damaged file, another program's database or one a newer pushdesk wrote
    is refused with StartupError or StorageError before anything is written
    to it. ``busy_timeout`` (seconds) defaults to BUSY_TIMEOUT_SECONDS.
    """
    timeout = BUSY_TIMEOUT_SECONDS if busy_timeout is None else busy_timeout
    try:
        make_private_dir(path.parent)
        if not path.exists():
            # The file holds every device's push secrets: owner only, and
            # SQLite gives its -wal and -shm files the same mode.
            path.touch(mode=0o600)
        journals = [path.with_name(path.name + end) for end in ("-wal", "-shm")]
        for file in (path, *journals):
            restrict_to_owner(file, STORE)
        # The busy timeout makes a write wait for another process's (the
        # CLI's) instead of failing at once.
        connection = sqlite3.connect(path, timeout=timeout, factory=StoreConnection)
    except (sqlite3.Error, OSError) as exc:
        raise StartupError(f"Cannot open the database {path}: {exc}.") from exc
    connection.path = path

    try:
        db, pending = _prepare(connection, path)
    except BaseException:
        connection.close()
        raise

    if pending:
        STORE.info("database %s migrated: %s", path, ", ".join(pending))
    return db


def _prepare(
    connection: StoreConnection, path: Path
) -> tuple[sqlite_utils.Database, list[str]]:
    """Check the file, then bring it to this version; also say which
    migrations that took."""
    try:
        db = sqlite_utils.Database(connection)
        refuse_damaged(db, path)
        refuse_unknown(db, path)

        # WAL lets the CLI write while the app reads and sends.
        db.enable_wal()
        db.execute("PRAGMA foreign_keys = ON")

        pending = [m.name for m in migrations.pending(db)]
        migrations.apply(db)
    except sqlite3.Error as exc:
        raise StartupError(f"Cannot open the database {path}: {exc}.") from exc
    return db, pending


def refuse_damaged(db: sqlite_utils.Database, path: Path) -> None:
    """StorageError (damaged) unless SQLite finds every page of the file sound.

    Garbage or a truncated file fails at the first read; damage further in is
    found only by reading it all, which takes a fraction of a second even for
    hundreds of thousands of rows.
    """
    try:
        problems = [row[0] for row in db.execute("PRAGMA quick_check").fetchall()]
    except StorageError as exc:
        # Damage so bad that the check itself stops at it.
        if exc.kind is not StorageKind.DAMAGED:
            raise
        problems = [str(exc.__cause__)]
    if problems != ["ok"]:
        # The caller reports the refusal in a sentence; this is for whoever
        # tries to repair the file.
        STORE.info("%s failed its check: %s", path, "; ".join(problems[:5]))
        raise StorageError(StorageKind.DAMAGED, path)


def refuse_unknown(db: sqlite_utils.Database, path: Path) -> None:
    """StartupError for another program's database, or one a newer pushdesk
    migrated: pushdesk must not write to either."""
    applied = [m.name for m in migrations.applied(db)]
    known = known_migrations()
    unknown = [name for name in applied if name not in known]
    if unknown:
        which = (
            f"migration {unknown[0]} is unknown"
            if len(unknown) == 1
            else f"migrations {', '.join(unknown)} are unknown"
        )
        raise StartupError(
            f"{path} was written by a newer pushdesk ({which}); run that "
            "version, or move the file away to start afresh."
        )

    # The migrations' own table may be all a first start left behind.
    ours = {"_sqlite_migrations"}
    tables = [
        name
        for name in db.table_names()
        if not name.startswith("sqlite_") and name not in ours
    ]
    if tables and not applied:
        raise StartupError(
            f"{path} is not a pushdesk database (it holds tables pushdesk did "
            "not make); check the data folder, or move the file away."
        )


def known_migrations() -> list[str]:
    """Every migration this pushdesk has, oldest first."""
    # Against an empty database all of them are pending: the full list,
    # through the public API.
    empty = sqlite_utils.Database(memory=True)
    try:
        return [m.name for m in migrations.pending(empty)]
    finally:
        empty.close()


def make_private_dir(folder: Path) -> None:
    """Create the data folder readable by its owner only (an existing one is kept)."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)


def restrict_to_owner(path: Path, log: logging.Logger) -> None:
    """Make an existing file that others may read owner-only, and say so.

    A key or database restored from a backup often comes back readable by
    all. A file pushdesk may not change (another user's) is left, with a
    warning: refusing to start would help nobody.
    """
    if not path.is_file():
        return
    mode = stat.S_IMODE(path.stat().st_mode)
    if not mode & 0o077:
        return
    try:
        path.chmod(0o600)
    except OSError as exc:
        log.warning(
            "%s is readable by others (mode %o) and cannot be made owner-only: %s",
            path,
            mode,
            exc.strerror or exc,
        )
        return
    log.warning("%s was readable by others (mode %o); made it owner-only", path, mode)


def data_version(db: sqlite_utils.Database) -> int:
    """A number that changes whenever another connection commits to the file."""
    row = db.execute("PRAGMA data_version").fetchone()
    return int(row[0])
