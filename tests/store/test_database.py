import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from pushdesk.domain import SubscriptionInput
from pushdesk.errors import StartupError
from pushdesk.store import Store
from pushdesk.store.db import (
    StoreConnection,
    StoreCursor,
    from_db_time,
    migrations,
    to_db_time,
)
from tests.support.keys import AUTH, P256DH


def test_new_database_has_every_migration_applied(store: Store) -> None:
    applied = [m.name for m in migrations.applied(store.db)]

    assert applied == [m.name for m in migrations._migrations]
    assert {"subscriptions", "reminders", "deliveries", "settings"} <= set(
        store.db.table_names()
    )


def test_reopening_applies_nothing_twice(data_dir: Path) -> None:
    Store.open(data_dir / "pushdesk.db").close()
    reopened = Store.open(data_dir / "pushdesk.db")

    assert migrations.pending(reopened.db) == []
    reopened.close()


def test_database_uses_write_ahead_logging(store: Store) -> None:
    mode = store.db.execute("PRAGMA journal_mode").fetchone()[0]

    assert mode == "wal"


def test_second_connection_sees_writes_and_bumps_data_version(
    store: Store, data_dir: Path
) -> None:
    before = store.data_version()
    other = sqlite3.connect(data_dir / "pushdesk.db")
    with other:
        other.execute("INSERT INTO settings (key, value) VALUES ('x', 'y')")
    other.close()

    assert store.data_version() != before
    assert store.settings.get("x") == "y"


def test_unopenable_path_is_a_startup_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")

    with pytest.raises(StartupError, match="Cannot open the database"):
        Store.open(blocker / "pushdesk.db")


def test_times_round_trip_in_utc() -> None:
    local = datetime(2026, 3, 29, 2, 30, tzinfo=timezone(timedelta(hours=2)))

    text = to_db_time(local)

    assert text == "2026-03-29T00:30:00Z"
    assert from_db_time(text) == local
    assert from_db_time(text).tzinfo is UTC


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        to_db_time(datetime(2026, 1, 1))


def test_data_folder_and_database_are_owner_only(data_dir: Path) -> None:
    import stat

    Store.open(data_dir / "pushdesk.db").close()

    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((data_dir / "pushdesk.db").stat().st_mode) == 0o600


def test_a_write_waits_for_another_process_to_finish_its_own(
    store: Store, data_dir: Path
) -> None:
    import threading

    other = sqlite3.connect(data_dir / "pushdesk.db", check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO settings (key, value) VALUES ('other', '1')")
    releaser = threading.Timer(0.3, other.commit)
    releaser.start()

    # An upsert reads before it writes: the case a deferred BEGIN gets wrong.
    store.subscriptions.upsert(
        SubscriptionInput("https://push.example/1", P256DH, AUTH), datetime.now(UTC)
    )

    releaser.join()
    other.close()
    assert store.settings.get("other") == "1"
    assert len(store.subscriptions.all()) == 1


def test_the_connection_keeps_sqlites_row_factory_on_every_statement(
    tmp_path: Path,
) -> None:
    path = tmp_path / "rows.db"
    connection = sqlite3.connect(path, factory=StoreConnection)
    connection.path = path
    connection.executescript("CREATE TABLE t (a INTEGER, b TEXT)")
    connection.row_factory = sqlite3.Row

    many = connection.executemany("INSERT INTO t VALUES (?, ?)", [(1, "one")])
    row = connection.execute("SELECT a, b FROM t").fetchone()
    again = many.execute("SELECT b FROM t").fetchone()
    connection.close()

    assert isinstance(many, StoreCursor)
    assert (row["a"], row["b"], again["b"]) == (1, "one", "one")
