"""A database that is busy, read-only, full, damaged or from a newer pushdesk.

Every fault is made with real SQLite: another connection holding the write
lock, ``PRAGMA query_only``, ``PRAGMA max_page_count``, and bytes written over
a real file. The operator hears one sentence; nothing stored is lost; the
scheduler and the delivery engine carry on and catch up.
"""

import hashlib
import json
import logging
import os
import random
import signal
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from pushdesk.cli import main
from pushdesk.config import Config, ServerOptions
from pushdesk.domain import (
    ENGINE_SILENCE,
    Outcome,
    ReminderDraft,
    ReminderStatus,
    Subscription,
    Urgency,
)
from pushdesk.errors import PushdeskError, StorageError, StorageKind
from pushdesk.events import Alert, Event, EventHub
from pushdesk.push.sender import PushSender
from pushdesk.scheduling.delivery import POLL_SECONDS, DeliveryEngine
from pushdesk.scheduling.outage import ALERT_AFTER, StorageOutage, alert_key
from pushdesk.scheduling.scheduler import POLL_SECONDS as SCHEDULER_POLL_SECONDS
from pushdesk.scheduling.scheduler import Scheduler
from pushdesk.server.app import create_app
from pushdesk.services import Services
from pushdesk.store import Store
from pushdesk.store.db import StoreConnection
from pushdesk.ui import desktop
from tests.scheduling.conftest import subscribe
from tests.support.clock import FakeClock
from tests.support.keys import AUTH, P256DH
from tests.support.push_service import PushServiceDouble

# Long enough for SQLite to try once, short enough that no test waits.
QUICK_BUSY_TIMEOUT = 0.05


@pytest.fixture
def db_path(data_dir: Path) -> Path:
    return data_dir / "pushdesk.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    """The store of a running pushdesk, whose writes give up on a lock quickly."""
    opened = Store.open(db_path, busy_timeout=QUICK_BUSY_TIMEOUT)
    yield opened
    opened.close()


class Faults:
    """Makes the store's database busy, read-only or full, and well again."""

    def __init__(self, store: Store, path: Path) -> None:
        self._store = store
        self._path = path
        self._other: sqlite3.Connection | None = None
        self._max_pages = store.db.execute("PRAGMA max_page_count").fetchone()[0]

    def busy(self) -> None:
        """Another process (the CLI, say) holds the write lock."""
        if self._other is None:
            self._other = sqlite3.connect(self._path)
            self._other.execute("BEGIN EXCLUSIVE")

    def read_only(self) -> None:
        self._store.db.execute("PRAGMA query_only = ON")

    def full(self) -> None:
        """No page may be added to the file: a full disk, to SQLite."""
        pages = self._store.db.execute("PRAGMA page_count").fetchone()[0]
        self._store.db.execute(f"PRAGMA max_page_count = {pages}")

    def clear(self) -> None:
        if self._other is not None:
            self._other.rollback()
            self._other.close()
            self._other = None
        self._store.db.execute("PRAGMA query_only = OFF")
        self._store.db.execute(f"PRAGMA max_page_count = {self._max_pages}")


@pytest.fixture
def faults(store: Store, db_path: Path) -> Iterator[Faults]:
    made = Faults(store, db_path)
    yield made
    made.clear()


def make(faults: Faults, kind: StorageKind) -> None:
    {
        StorageKind.BUSY: faults.busy,
        StorageKind.READ_ONLY: faults.read_only,
        StorageKind.FULL: faults.full,
    }[kind]()


WRITE_FAULTS = [StorageKind.BUSY, StorageKind.READ_ONLY, StorageKind.FULL]


def devices_document(count: int) -> str:
    return json.dumps(
        [
            {
                "endpoint": f"https://fcm.googleapis.com/fcm/send/device-{n:04}",
                "keys": {"p256dh": P256DH, "auth": AUTH},
                "label": f"Device {n}",
            }
            for n in range(count)
        ]
    )


def integrity(store: Store) -> str:
    return str(store.db.execute("PRAGMA integrity_check").fetchone()[0])


# -- the operation fails with one sentence, and loses nothing --------------


SENTENCES = {
    StorageKind.BUSY: "The database is busy ({path}): another pushdesk or the CLI "
    "kept it locked; try again in a moment.",
    StorageKind.READ_ONLY: "The database is read-only ({path}); check the "
    "permissions of the file and its folder.",
    StorageKind.FULL: "The disk holding the database is full ({path}); free some "
    "space and try again.",
}


@pytest.mark.parametrize("kind", WRITE_FAULTS, ids=lambda k: k.value)
def test_a_write_the_database_refuses_is_one_sentence_and_loses_nothing(
    services: Services,
    store: Store,
    faults: Faults,
    clock: FakeClock,
    db_path: Path,
    kind: StorageKind,
) -> None:
    earlier = services.reminders.schedule("Stand-up", "Big room", None, clock.now)
    services.subscriptions.import_text(devices_document(3), [])
    make(faults, kind)

    with pytest.raises(StorageError) as raised:
        services.subscriptions.import_text(devices_document(300), [])

    assert raised.value.kind is kind
    assert str(raised.value) == SENTENCES[kind].format(path=db_path)
    assert isinstance(raised.value, PushdeskError)
    faults.clear()
    assert services.reminders.get(earlier.id).title == "Stand-up"
    assert services.subscriptions.count() == 3  # none of the 300 half-imported
    assert integrity(store) == "ok"

    services.subscriptions.import_text(devices_document(300), [])
    assert services.subscriptions.count() == 300


@pytest.mark.parametrize("kind", [StorageKind.BUSY, StorageKind.READ_ONLY])
def test_scheduling_while_the_database_refuses_writes_is_one_sentence(
    services: Services, faults: Faults, clock: FakeClock, kind: StorageKind
) -> None:
    make(faults, kind)

    with pytest.raises(StorageError, match=r"^The database is") as raised:
        services.reminders.schedule("T", "M", None, clock.now)

    assert raised.value.kind is kind
    faults.clear()
    assert services.reminders.all() == []


def test_reading_goes_on_while_another_process_writes(
    services: Services, faults: Faults, clock: FakeClock
) -> None:
    services.reminders.schedule("Lunch", "Now", None, clock.now)
    faults.busy()

    assert [r.title for r in services.reminders.all()] == ["Lunch"]


def test_the_cli_says_the_database_is_busy_in_one_sentence(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    data_dir: Path,
    db_path: Path,
    store: Store,
    faults: Faults,
) -> None:
    monkeypatch.setattr("pushdesk.store.db.BUSY_TIMEOUT_SECONDS", QUICK_BUSY_TIMEOUT)
    faults.busy()

    code = main(["remind", "Tea", "--in", "5m", "--data-dir", str(data_dir)])

    _, err = capsys.readouterr()
    assert code == 1
    assert err == "pushdesk: " + SENTENCES[StorageKind.BUSY].format(path=db_path) + "\n"
    assert main(["reminders", "--json", "--data-dir", str(data_dir)]) == 0


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write a read-only file")
def test_a_read_only_file_is_listed_but_not_written(
    capsys: pytest.CaptureFixture[str], data_dir: Path, db_path: Path
) -> None:
    Store.open(db_path).close()
    db_path.chmod(0o400)
    data_dir.chmod(0o500)
    try:
        listed = main(["reminders", "--data-dir", str(data_dir)])
        capsys.readouterr()
        code = main(["remind", "Tea", "--in", "5m", "--data-dir", str(data_dir)])
        _, err = capsys.readouterr()
    finally:
        data_dir.chmod(0o700)
        db_path.chmod(0o600)

    assert listed == 0
    assert code == 1
    assert "The database is read-only" in err
    assert err.count("\n") == 1


# -- the server answers 503 with a sentence for visitors --------------------


@pytest_asyncio.fixture
async def client(services: Services) -> AsyncIterator[TestClient[Any, Any]]:
    app = create_app(services, "B" + "A" * 86)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


@pytest.mark.parametrize("kind", [StorageKind.BUSY, StorageKind.READ_ONLY])
async def test_a_subscribe_the_database_refuses_is_a_503_without_file_names(
    client: TestClient[Any, Any],
    faults: Faults,
    store: Store,
    db_path: Path,
    kind: StorageKind,
) -> None:
    make(faults, kind)
    body = {
        "endpoint": "https://fcm.googleapis.com/fcm/send/abc",
        "keys": {"p256dh": P256DH, "auth": AUTH},
    }

    reply = await client.post("/api/subscriptions", json=body)

    assert reply.status == 503
    error = await reply.json()
    assert error["error"] == StorageError(kind, db_path).public_message
    assert str(db_path.parent) not in json.dumps(error)
    faults.clear()
    assert store.subscriptions.count() == 0


# -- the scheduler carries on, and the operator hears of a lasting fault ----


class NeverSends:
    async def encrypt_all(
        self, items: list[tuple[Subscription, bytes]]
    ) -> list[bytes | str]:
        raise AssertionError("nothing should be sent")

    async def post(
        self,
        subscription: Subscription,
        body: bytes | str,
        *,
        ttl: int,
        urgency: Urgency = Urgency.NORMAL,
        topic: str | None = None,
    ) -> Outcome:
        raise AssertionError("nothing should be sent")


def published(hub: EventHub) -> list[Event]:
    events: list[Event] = []
    hub.subscribe(events.append)
    return events


@pytest.mark.parametrize("kind", [StorageKind.BUSY, StorageKind.READ_ONLY])
def test_the_scheduler_waits_out_a_database_it_cannot_write_and_then_fires(
    services: Services,
    store: Store,
    hub: EventHub,
    clock: FakeClock,
    faults: Faults,
    caplog: pytest.LogCaptureFixture,
    db_path: Path,
    kind: StorageKind,
) -> None:
    caplog.set_level(logging.INFO, logger="pushdesk")
    reminder = services.reminders.schedule("Stand-up", "Big room", None, clock.now)
    scheduler = Scheduler(
        store, DeliveryEngine(store, NeverSends(), hub, clock), hub, clock
    )
    events = published(hub)
    make(faults, kind)

    waits = []
    for _ in range(4):
        waits.append(scheduler.run_once())
        clock.advance(seconds=10)

    assert waits == [SCHEDULER_POLL_SECONDS] * 4
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "unable to fire due reminders: The database is" in warnings[0].message
    alerts = [e for e in events if isinstance(e, Alert)]
    assert [a.key for a in alerts] == [alert_key(kind)]
    assert alerts[0].message.startswith(str(StorageError(kind, db_path)))

    faults.clear()
    scheduler.run_once()

    assert services.reminders.get(reminder.id).status is ReminderStatus.SENDING
    assert store.alerts.all() == []
    assert "able to fire due reminders again" in caplog.messages


def test_a_short_fault_raises_no_alert(
    store: Store, hub: EventHub, clock: FakeClock, db_path: Path
) -> None:
    outage = StorageOutage(store, hub, clock, "test")
    events = published(hub)

    outage.failed(StorageError(StorageKind.BUSY, db_path))
    clock.advance(seconds=ALERT_AFTER.total_seconds() - 1)
    outage.failed(StorageError(StorageKind.BUSY, db_path))
    outage.passed()

    assert events == []
    assert outage.ongoing is None


def test_a_lasting_fault_is_kept_as_an_alert_once_and_cleared_when_it_ends(
    store: Store, hub: EventHub, clock: FakeClock, db_path: Path
) -> None:
    outage = StorageOutage(store, hub, clock, "test")
    events = published(hub)
    full = StorageError(StorageKind.FULL, db_path)

    for _ in range(5):
        outage.failed(full)
        clock.advance(seconds=20)

    [(key, message)] = store.alerts.all()
    assert key == alert_key(StorageKind.FULL)
    assert message.startswith(str(full))
    assert events == [Alert(key, message)]

    outage.passed()
    assert store.alerts.all() == []


def test_an_alert_left_by_a_pushdesk_stopped_in_an_outage_is_cleared(
    store: Store, hub: EventHub, clock: FakeClock
) -> None:
    store.alerts.raise_once(alert_key(StorageKind.FULL), "The disk is full", clock.now)
    store.alerts.raise_once("credentials:https://push.example", "Refused", clock.now)

    StorageOutage(store, hub, clock, "test").passed()

    assert [key for key, _ in store.alerts.all()] == [
        "credentials:https://push.example"
    ]


# -- the delivery engine keeps what was sent and writes it later -------------


class FaultAfterPost:
    """Posts for real; after the first post the database fails, as a disk
    filling up while requests are on the wire."""

    def __init__(self, sender: PushSender, fault: Callable[[], None]) -> None:
        self._sender = sender
        self._fault: Callable[[], None] | None = fault

    async def encrypt_all(
        self, items: list[tuple[Subscription, bytes]]
    ) -> list[bytes | str]:
        return await self._sender.encrypt_all(items)

    async def post(
        self,
        subscription: Subscription,
        body: bytes | str,
        *,
        ttl: int,
        urgency: Urgency = Urgency.NORMAL,
        topic: str | None = None,
    ) -> Outcome:
        outcome = await self._sender.post(
            subscription, body, ttl=ttl, urgency=urgency, topic=topic
        )
        if self._fault is not None:
            self._fault()
            self._fault = None
        return outcome


def fired_to(
    services: Services,
    store: Store,
    hub: EventHub,
    clock: FakeClock,
    push_service: PushServiceDouble,
    devices: int,
) -> int:
    subscribe(services, push_service, count=devices)
    reminder = services.reminders.schedule("Pizza", "Ready", None, clock.now)
    scheduler = Scheduler(
        store, DeliveryEngine(store, NeverSends(), hub, clock), hub, clock
    )
    assert scheduler.fire_due()
    return reminder.id


def outcomes(store: Store, reminder_id: int) -> list[str]:
    return sorted(d.outcome for d in store.deliveries.for_reminder(reminder_id))


@pytest.mark.parametrize("kind", [StorageKind.BUSY, StorageKind.READ_ONLY])
async def test_outcomes_the_database_refused_are_written_on_a_later_pass(
    services: Services,
    store: Store,
    hub: EventHub,
    clock: FakeClock,
    faults: Faults,
    push_service: PushServiceDouble,
    push_sender: PushSender,
    kind: StorageKind,
) -> None:
    reminder_id = fired_to(services, store, hub, clock, push_service, devices=3)
    engine = DeliveryEngine(
        store, FaultAfterPost(push_sender, lambda: make(faults, kind)), hub, clock
    )

    wait = await engine.run_once()

    assert wait == POLL_SECONDS
    assert len(push_service.received) == 3
    assert outcomes(store, reminder_id) == []
    assert store.sends.states(reminder_id) == Counter({"in_flight": 3})
    assert engine.outage.ongoing is kind

    faults.clear()
    await engine.run_once()

    assert outcomes(store, reminder_id) == ["delivered"] * 3
    assert services.reminders.get(reminder_id).status is ReminderStatus.SENT
    assert len(push_service.attempts) == 3  # none sent twice
    assert engine.outage.ongoing is None


async def test_outcomes_kept_at_stop_are_written_if_the_database_is_back(
    services: Services,
    store: Store,
    hub: EventHub,
    clock: FakeClock,
    faults: Faults,
    push_service: PushServiceDouble,
    push_sender: PushSender,
) -> None:
    reminder_id = fired_to(services, store, hub, clock, push_service, devices=2)
    engine = DeliveryEngine(
        store, FaultAfterPost(push_sender, faults.read_only), hub, clock
    )
    await engine.run_once()
    faults.clear()

    engine.request_stop()
    await engine.run()

    assert outcomes(store, reminder_id) == ["delivered"] * 2
    assert store.sends.states(reminder_id) == Counter({"delivered": 2})


async def test_outcomes_that_cannot_be_written_by_stop_are_sent_again_not_lost(
    services: Services,
    store: Store,
    hub: EventHub,
    clock: FakeClock,
    faults: Faults,
    push_service: PushServiceDouble,
    push_sender: PushSender,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="pushdesk")
    reminder_id = fired_to(services, store, hub, clock, push_service, devices=2)
    engine = DeliveryEngine(
        store, FaultAfterPost(push_sender, faults.read_only), hub, clock
    )
    await engine.run_once()

    engine.request_stop()
    await engine.run()

    assert "unable to record 2 push outcomes before stopping" in caplog.text
    faults.clear()
    clock.advance(seconds=ENGINE_SILENCE.total_seconds() + 1)
    await DeliveryEngine(store, push_sender, hub, clock).run_once()

    assert len(push_service.received) == 4
    assert store.sends.states(reminder_id) == Counter({"delivered": 2})
    assert services.reminders.get(reminder_id).status is ReminderStatus.SENT


# -- a damaged file, another program's, or a newer pushdesk's: refused ------


def filled_database(path: Path, clock: FakeClock) -> None:
    """A real pushdesk database with enough rows to span many pages."""
    store = Store.open(path)
    services = Services(store, EventHub(), clock)
    services.subscriptions.import_text(devices_document(200), [])
    for n in range(50):
        services.reminders.schedule(f"Reminder {n}", "x" * 200, None, clock.now)
    store.close()


def garbage(path: Path) -> None:
    path.write_bytes(random.Random(1).randbytes(path.stat().st_size))


def damaged_pages(path: Path) -> None:
    """The header and schema are sound; pages further in are garbage."""
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    data[3 * page : 8 * page] = random.Random(2).randbytes(5 * page)
    path.write_bytes(bytes(data))


def truncated(path: Path) -> None:
    with path.open("r+b") as file:
        file.truncate(path.stat().st_size // 2)


def from_the_future(path: Path) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
            "VALUES ('pushdesk', 'm009_from_the_future', '2031-01-01')"
        )
    connection.close()


def someone_elses(path: Path) -> None:
    path.unlink()
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE recipes (name TEXT)")
        connection.execute("INSERT INTO recipes VALUES ('bread')")
    connection.close()


DAMAGES: dict[str, tuple[Callable[[Path], None], str]] = {
    "garbage": (
        garbage,
        "The database is damaged ({path}); restore it from a "
        "backup, or move it away to start afresh.",
    ),
    "damaged pages": (
        damaged_pages,
        "The database is damaged ({path}); restore "
        "it from a backup, or move it away to start afresh.",
    ),
    "truncated": (
        truncated,
        "The database is damaged ({path}); restore it from "
        "a backup, or move it away to start afresh.",
    ),
    "newer": (
        from_the_future,
        "{path} was written by a newer pushdesk (migration "
        "m009_from_the_future is unknown); run that version, or move the file away "
        "to start afresh.",
    ),
    "not pushdesk's": (
        someone_elses,
        "{path} is not a pushdesk database (it "
        "holds tables pushdesk did not make); check the data folder, or move the "
        "file away.",
    ),
}


@pytest.fixture(params=list(DAMAGES))
def refused(
    request: pytest.FixtureRequest, db_path: Path, clock: FakeClock
) -> Iterator[str]:
    """A database file pushdesk must refuse; yields the sentence it must say.

    Afterwards the file must be byte for byte what it was.
    """
    damage, sentence = DAMAGES[request.param]
    filled_database(db_path, clock)
    damage(db_path)
    before = hashlib.sha256(db_path.read_bytes()).hexdigest()

    yield sentence.format(path=db_path)

    assert hashlib.sha256(db_path.read_bytes()).hexdigest() == before


def test_the_store_refuses_to_open_it(refused: str, db_path: Path) -> None:
    with pytest.raises(PushdeskError) as raised:
        Store.open(db_path)

    assert str(raised.value) == refused


# -- damage met while reading a query's later rows ------------------------


def garbage_at_the_end(path: Path, pages: int) -> None:
    """The last ``pages`` pages of the file are garbage; the first ones, which
    a scan reads first, are sound."""
    data = bytearray(path.read_bytes())
    size = int.from_bytes(data[16:18], "big")
    data[-pages * size :] = random.Random(3).randbytes(pages * size)
    path.write_bytes(bytes(data))


READS: dict[str, Callable[[sqlite3.Cursor], object]] = {
    "iteration": list,
    "fetchone": lambda cursor: iter(cursor.fetchone, None),
    "fetchmany": lambda cursor: [cursor.fetchmany(100) for _ in range(100)],
    "fetchall": lambda cursor: cursor.fetchall(),
}


@pytest.mark.parametrize("read", list(READS))
def test_damage_found_at_a_later_row_is_a_storage_error(
    tmp_path: Path, read: str
) -> None:
    path = tmp_path / "rows.db"
    with sqlite3.connect(path) as filling:
        filling.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")
        filling.executemany("INSERT INTO t (body) VALUES (?)", [("x" * 200,)] * 2000)
    filling.close()
    garbage_at_the_end(path, pages=20)
    connection = sqlite3.connect(path, factory=StoreConnection)
    connection.path = path

    cursor = connection.execute("SELECT id, body FROM t")
    first = cursor.fetchone()
    with pytest.raises(StorageError) as raised:
        list(READS[read](cursor))
    connection.close()

    # The statement started well: the damage was met at a later row.
    assert first == (1, "x" * 200)
    assert raised.value.kind is StorageKind.DAMAGED


def test_a_running_store_that_meets_damage_in_a_listing_says_so(
    db_path: Path, clock: FakeClock
) -> None:
    filling = Store.open(db_path)
    Services(filling, EventHub(), clock).subscriptions.import_text(
        devices_document(1000), []
    )
    filling.close()
    store = Store.open(db_path)
    # A small page cache, so that the listing reads the file itself, as a
    # pushdesk running for days does, rather than the pages its start-up
    # check left in memory.
    store.db.execute("PRAGMA cache_size = 1")
    garbage_at_the_end(db_path, pages=20)

    with pytest.raises(StorageError) as raised:
        store.subscriptions.all()
    store.close()

    assert raised.value.kind is StorageKind.DAMAGED
    assert "restore it from a backup" in str(raised.value)


@pytest.mark.parametrize(
    "argv",
    [
        ["reminders"],
        ["subscribers", "--json"],
        ["remind", "Tea", "--in", "5m"],
        ["serve", "--http", "--port", "1", "--vapid-subject", "mailto:a@b.example"],
    ],
    ids=["reminders", "subscribers", "remind", "serve"],
)
def test_the_cli_refuses_in_one_sentence(
    refused: str,
    data_dir: Path,
    argv: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main([*argv, "--data-dir", str(data_dir)])

    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    # `serve` logs at info before it stops; the refusal is its last line.
    assert err.endswith(f"pushdesk: {refused}\n")
    assert "Traceback" not in err


@pytest.fixture
def signal_handlers() -> Iterator[None]:
    """The desktop app installs its own; the test run keeps pytest's."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


def test_the_desktop_app_refuses_to_start_and_says_why(
    refused: str,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    signal_handlers: None,
) -> None:
    shown: list[str] = []
    monkeypatch.setattr(desktop, "show_startup_error", shown.append)
    config = Config(
        data_dir=data_dir,
        server=ServerOptions(host="127.0.0.1", port=0, http=True),
        vapid_subject="mailto:ops@example.org",
    )

    assert desktop.run(config) == 1
    assert shown == [refused]


def test_a_first_start_that_stopped_before_its_first_migration_is_finished(
    db_path: Path,
) -> None:
    db_path.parent.mkdir(parents=True)
    with sqlite3.connect(db_path) as connection:
        connection.execute(
            "CREATE TABLE _sqlite_migrations (id INTEGER PRIMARY KEY, "
            "migration_set TEXT, name TEXT, applied_at TEXT)"
        )
    connection.close()

    store = Store.open(db_path)

    assert store.subscriptions.count() == 0
    store.close()


def test_an_older_database_is_migrated(db_path: Path) -> None:
    store = Store.open(db_path)
    when = FakeClock().now
    store.reminders.add(ReminderDraft("Tea", "Kettle", None, when), when)
    store.close()
    with sqlite3.connect(db_path) as connection:
        # Back to how the previous version left it.
        connection.execute(
            "DELETE FROM _sqlite_migrations WHERE name IN "
            "('m007_visitor_reminders', 'm008_visitor_reminders_follow_their_device')"
        )
        connection.execute("DROP TRIGGER visitor_reminders_end_with_their_device")
        connection.execute("DROP INDEX reminders_visitor")
        connection.execute("ALTER TABLE reminders DROP COLUMN visitor_device")
    connection.close()

    store = Store.open(db_path)

    indexes = [i.name for i in store.db["reminders"].indexes]
    kept = store.reminders.all()
    store.close()
    assert "reminders_visitor" in indexes
    assert [(r.title, r.visitor_device) for r in kept] == [("Tea", None)]


# -- a certificate pushdesk cannot use ---------------------------------------


def test_serve_with_a_certificate_that_is_not_one_says_so(
    capsys: pytest.CaptureFixture[str], data_dir: Path, tmp_path: Path
) -> None:
    cert, key = tmp_path / "server.crt", tmp_path / "server.key"
    cert.write_text("-----BEGIN CERTIFICATE-----\nnot base64\n")
    key.write_bytes(os.urandom(300))

    code = main(
        [
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            "18443",
            "--cert",
            str(cert),
            "--key",
            str(key),
            "--vapid-subject",
            "mailto:a@example.org",
            "--data-dir",
            str(data_dir),
        ]
    )

    _, err = capsys.readouterr()
    last = err.splitlines()[-1]
    assert code == 1
    assert last.startswith(f"pushdesk: Cannot use the certificate {cert} with the key")
    assert "Traceback" not in err
