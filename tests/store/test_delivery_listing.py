"""Listing the delivery log: filters, orders, pages and export chunks in SQL."""

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any

import pytest

from pushdesk.domain import (
    Delivered,
    Failed,
    Gone,
    RetryLater,
)
from pushdesk.store import Store
from pushdesk.store.deliveries import DeliveryQuery, DeliveryRow
from tests.support.attempts import AttemptLog
from tests.support.clock import FakeClock


@pytest.fixture
def log(store: Store, clock: FakeClock) -> AttemptLog:
    return AttemptLog(store, clock)


def ids(rows: Sequence[DeliveryRow]) -> list[int]:
    return [row.delivery.id for row in rows]


def everything(store: Store, query: DeliveryQuery) -> list[DeliveryRow]:
    return store.deliveries.page(query, 0, 100_000)


@pytest.fixture
def mixed(log: AttemptLog) -> dict[str, int]:
    """Two reminders, three devices, every kind of outcome; names to ids."""
    anna, ben = log.device("Anna's phone"), log.device("Ben's laptop")
    gone = log.device("Old tablet", host="updates.push.services.mozilla.com")
    first, second = log.reminder("Standup"), log.reminder("Lunch")
    log.send(first, [anna, ben], [RetryLater(503, "busy"), Delivered(201)])
    log.send(second, [anna, gone], [Failed(None, "bad key")])
    log.send(log.reminder("Gone"), [gone], [Gone(410)])
    return {"anna": anna.id, "ben": ben.id, "gone": gone.id}


def test_newest_attempt_comes_first(store: Store, mixed: dict[str, int]) -> None:
    rows = everything(store, DeliveryQuery())

    assert len(rows) == 7
    times = [(row.delivery.attempted_at, row.delivery.id) for row in rows]
    assert times == sorted(times, reverse=True)
    assert rows[0].delivery.outcome == "gone"


def test_rows_name_the_reminder_and_the_device(
    store: Store, mixed: dict[str, int]
) -> None:
    [row] = everything(store, DeliveryQuery(outcome="retry", subscription_id=1))

    assert row.reminder == "#1 Standup"
    assert row.device == "Anna's phone"
    assert (row.delivery.status_code, row.delivery.error) == (503, "busy")


def test_removed_device_is_shown_by_number_and_host(
    store: Store, mixed: dict[str, int]
) -> None:
    rows = everything(store, DeliveryQuery(subscription_id=mixed["gone"]))

    assert mixed["gone"] not in {s.id for s in store.subscriptions.all()}
    assert {row.device for row in rows} == {
        f"removed device #{mixed['gone']} (updates.push.services.mozilla.com)"
    }
    assert len(rows) == 2


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (DeliveryQuery(reminder_id=1), 4),
        (DeliveryQuery(reminder_id=2), 2),
        (DeliveryQuery(subscription_id=1), 3),
        (DeliveryQuery(device_text="PHONE"), 3),
        (DeliveryQuery(device_text="laptop", outcome="delivered"), 1),
        (DeliveryQuery(outcome="failed"), 2),
        (DeliveryQuery(outcome="gone"), 1),
        (DeliveryQuery(outcome="refused"), 0),
        (DeliveryQuery(reminder_id=1, outcome="retry"), 2),
    ],
)
def test_each_filter_narrows_the_rows(
    store: Store, mixed: dict[str, int], query: DeliveryQuery, expected: int
) -> None:
    rows = everything(store, query)

    assert store.deliveries.count(query) == len(rows) == expected
    for row in rows:
        d = row.delivery
        assert query.reminder_id in (None, d.reminder_id)
        assert query.subscription_id in (None, d.subscription_id)
        assert query.outcome in (None, d.outcome)
        assert (query.device_text or "").lower() in row.device.lower()


def test_time_range_includes_both_ends(
    store: Store, clock: FakeClock, mixed: dict[str, int]
) -> None:
    first = clock.now - timedelta(seconds=4)  # the fixture's first attempts
    second, third = first + timedelta(seconds=1), first + timedelta(seconds=2)

    rows = everything(store, DeliveryQuery(since=second, until=third))

    assert sorted(row.delivery.outcome for row in rows) == [
        "delivered",
        "delivered",
        "failed",
        "failed",
    ]
    assert store.deliveries.count(DeliveryQuery(until=first)) == 2
    assert (
        store.deliveries.count(DeliveryQuery(since=first + timedelta(seconds=3))) == 1
    )


def test_like_wildcards_in_device_text_are_taken_literally(
    store: Store, log: AttemptLog
) -> None:
    log.send(
        log.reminder("R"),
        [log.device("50% off"), log.device("plain")],
        [Delivered(201)],
    )

    assert len(everything(store, DeliveryQuery(device_text="%"))) == 1
    assert everything(store, DeliveryQuery(device_text="_")) == []


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize(
    ("sort", "key"),
    [
        ("time", lambda r: (r.delivery.attempted_at, r.delivery.id)),
        (
            "outcome",
            lambda r: (r.delivery.outcome, r.delivery.attempted_at, r.delivery.id),
        ),
        ("reminder", lambda r: (r.delivery.reminder_id, r.delivery.id)),
    ],
)
def test_sort_orders(
    store: Store,
    mixed: dict[str, int],
    sort: str,
    key: Callable[[DeliveryRow], tuple[Any, ...]],
    descending: bool,
) -> None:
    rows = everything(store, DeliveryQuery(sort=sort, descending=descending))

    assert ids(rows) == ids(sorted(rows, key=key, reverse=descending))
    assert len(set(ids(rows))) == 7


def test_pages_beyond_the_first_continue_without_gaps(
    store: Store, log: AttemptLog
) -> None:
    devices = [log.device(f"device {n}") for n in range(5)]
    log.send(
        log.reminder("Big"), devices, [RetryLater(503, "busy")] * 89 + [Delivered(201)]
    )
    query = DeliveryQuery()

    pages = [store.deliveries.page(query, offset, 200) for offset in (0, 200, 400)]

    assert [len(page) for page in pages] == [200, 200, 50]
    assert ids(pages[0] + pages[1] + pages[2]) == ids(everything(store, query))
    assert store.deliveries.count(query) == 450


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("sort", ["time", "outcome", "reminder"])
def test_stream_reads_every_row_once_across_ties(
    store: Store, mixed: dict[str, int], sort: str, descending: bool
) -> None:
    # Several attempts share each second, so chunks of two split ties.
    query = DeliveryQuery(sort=sort, descending=descending)

    # islice: a stream that never ends fails here instead of hanging.
    chunks = list(
        islice(store.deliveries.stream(query, 2, store.deliveries.last_id()), 10)
    )

    assert [len(chunk) for chunk in chunks] == [2, 2, 2, 1]
    assert ids([row for chunk in chunks for row in chunk]) == ids(
        everything(store, query)
    )


def test_stream_leaves_out_attempts_logged_after_it_began(
    store: Store, log: AttemptLog, mixed: dict[str, int]
) -> None:
    query = DeliveryQuery()
    chunks = store.deliveries.stream(query, 3, store.deliveries.last_id())
    first = next(chunks)

    log.send(log.reminder("Later"), [log.device("new")], [Delivered(201)])
    rest = [row for chunk in chunks for row in chunk]

    assert len(first) + len(rest) == 7
    assert "#4 Later" not in {row.reminder for row in first + rest}


LISTINGS = pytest.mark.parametrize(
    "query",
    [
        DeliveryQuery(),
        DeliveryQuery(descending=False),
        DeliveryQuery(sort="outcome"),
        DeliveryQuery(sort="reminder"),
        DeliveryQuery(outcome="failed"),
        DeliveryQuery(subscription_id=3),
        DeliveryQuery(outcome="delivered", since=datetime(2026, 12, 3, 9, tzinfo=UTC)),
    ],
    ids=[
        "time",
        "time-asc",
        "outcome",
        "reminder",
        "outcome-filter",
        "device-filter",
        "outcome-and-range",
    ],
)


@LISTINGS
def test_a_page_finds_its_rows_on_an_index(
    store: Store,
    mixed: dict[str, int],
    query: DeliveryQuery,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    [(sql, values)] = caught_sql(
        store, monkeypatch, lambda: store.deliveries.page(query, 2, 2)
    )

    plan = store.db.execute("EXPLAIN QUERY PLAN " + sql, values).fetchall()

    # The page's ids come in order from an index, however far in it starts...
    [subquery] = [row[0] for row in plan if row[-1].startswith("LIST SUBQUERY")]
    inner = [row[-1] for row in plan if row[1] == subquery]
    assert any("INDEX deliveries_" in detail for detail in inner)
    assert not any("TEMP B-TREE" in detail for detail in inner)
    # ...and only those rows are then read, by id.
    outer = [row[-1] for row in plan if row[1] == 0]
    assert not any(detail.startswith("SCAN") for detail in outer)


@LISTINGS
def test_an_export_chunk_continues_along_an_index(
    store: Store,
    mixed: dict[str, int],
    query: DeliveryQuery,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    chunks = store.deliveries.stream(query, 1, store.deliveries.last_id())
    statements = caught_sql(store, monkeypatch, lambda: [next(chunks), next(chunks)])
    sql, values = statements[-1]  # the second chunk starts after the first

    plan = store.db.execute("EXPLAIN QUERY PLAN " + sql, values).fetchall()

    details = " | ".join(row[-1] for row in plan)
    assert "INDEX deliveries_" in details
    assert "TEMP B-TREE" not in details


def caught_sql(
    store: Store, monkeypatch: pytest.MonkeyPatch, action: Callable[[], object]
) -> list[tuple[str, list[object]]]:
    """The statements ``action`` runs, caught on their way to SQLite."""
    seen: list[tuple[str, list[object]]] = []
    execute = store.db.execute

    def spy(sql: str, values: list[object] | None = None) -> object:
        seen.append((sql, list(values or [])))
        return execute(sql, values or [])

    with monkeypatch.context() as patch:
        patch.setattr(store.db, "execute", spy)
        action()
    return seen
