"""The send queue under every answer a push service can give."""

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import pytest_asyncio

from pushdesk.domain import ReminderStatus, Replacement, Target, Urgency
from pushdesk.events import Alert, EventHub
from pushdesk.push.guard import EndpointGuard
from pushdesk.scheduling.delivery import DeliveryEngine
from pushdesk.scheduling.scheduler import Scheduler
from pushdesk.services import Services
from pushdesk.store import Store
from pushdesk.validation import parse_subscription
from tests.scheduling.conftest import subscribe
from tests.support.clock import FakeClock
from tests.support.push_service import PushServiceDouble
from tests.support.sending import run_due


async def test_201_410_and_503_then_201(
    scheduler: Scheduler,
    engine: DeliveryEngine,
    services: Services,
    store: Store,
    clock: FakeClock,
    push_service: PushServiceDouble,
) -> None:
    ok, gone, flaky = subscribe(services, push_service, count=3)
    push_service.respond_with(gone, 410)
    push_service.respond_with(flaky, 503, times=1)
    reminder = services.reminders.schedule("T", "M", None, clock.now)

    await run_due(scheduler, engine)

    assert [p.endpoint for p in push_service.received] == [ok.endpoint]
    assert [s.endpoint for s in store.subscriptions.all()] == [
        ok.endpoint,
        flaky.endpoint,
    ]
    assert services.reminders.get(reminder.id).status is ReminderStatus.SENDING

    clock.advance(minutes=1)
    await run_due(scheduler, engine)

    assert [p.endpoint for p in push_service.received] == [ok.endpoint, flaky.endpoint]
    assert services.reminders.get(reminder.id).status is ReminderStatus.SENT
    outcomes = sorted(
        (d.outcome, d.status_code) for d in store.deliveries.for_reminder(reminder.id)
    )
    assert outcomes == [
        ("delivered", 201),
        ("delivered", 201),
        ("gone", 410),
        ("retry", 503),
    ]


@pytest.mark.parametrize(
    "retry_after",
    ["2", "Thu, 03 Dec 2026 09:00:02 GMT"],
    ids=["seconds", "http-date"],
)
async def test_429_is_not_retried_before_retry_after(
    scheduler: Scheduler,
    engine: DeliveryEngine,
    services: Services,
    clock: FakeClock,
    push_service: PushServiceDouble,
    retry_after: str,
) -> None:
    [browser] = subscribe(services, push_service)
    push_service.respond_with(
        browser, 429, times=1, headers={"Retry-After": retry_after}
    )
    engine._sender._clock = clock  # type: ignore[attr-defined]  # read the date on our clock
    services.reminders.schedule("T", "M", None, clock.now)

    await run_due(scheduler, engine)
    clock.advance(seconds=1.9)
    await run_due(scheduler, engine)
    assert len(push_service.attempts) == 1

    clock.advance(seconds=0.1)
    await run_due(scheduler, engine)

    assert len(push_service.attempts) == 2
    assert len(push_service.received) == 1


async def test_passing_failures_back_off_then_fail_for_good(
    scheduler: Scheduler,
    engine: DeliveryEngine,
    services: Services,
    store: Store,
    clock: FakeClock,
    push_service: PushServiceDouble,
) -> None:
    [browser] = subscribe(services, push_service)
    push_service.respond_with(browser, 500)
    reminder = services.reminders.schedule("T", "M", None, clock.now)

    waits = []
    for _ in range(5):
        await run_due(scheduler, engine)
        next_try = store.sends.next_attempt_at()
        if next_try is None:
            break
        waits.append((next_try - clock.now).total_seconds())
        clock.now = next_try

    assert len(push_service.attempts) == 5
    assert all(later > earlier for earlier, later in itertools.pairwise(waits))
    assert 15 <= waits[0] <= 30
    assert services.reminders.get(reminder.id).status is ReminderStatus.FAILED
    assert len(store.subscriptions.all()) == 1


async def test_400_and_413_fail_for_good_and_keep_the_device(
    scheduler: Scheduler,
    engine: DeliveryEngine,
    services: Services,
    store: Store,
    clock: FakeClock,
    push_service: PushServiceDouble,
) -> None:
    bad, big = subscribe(services, push_service, count=2)
    push_service.respond_with(bad, 400)
    push_service.respond_with(big, 413)
    reminder = services.reminders.schedule("T", "M", None, clock.now)

    await run_due(scheduler, engine)
    clock.advance(hours=2)
    await run_due(scheduler, engine)

    assert len(push_service.attempts) == 2
    assert services.reminders.get(reminder.id).status is ReminderStatus.FAILED
    assert len(store.subscriptions.all()) == 2


async def test_403_everywhere_raises_one_alert_and_flags_the_devices(
    scheduler: Scheduler,
    engine: DeliveryEngine,
    services: Services,
    store: Store,
    hub: EventHub,
    clock: FakeClock,
    push_service: PushServiceDouble,
) -> None:
    browsers = subscribe(services, push_service, count=3)
    for browser in browsers:
        push_service.respond_with(browser, 403)
    alerts: list[Alert] = []
    hub.subscribe(lambda e: alerts.append(e) if isinstance(e, Alert) else None)

    for _ in range(2):
        services.reminders.schedule("T", "M", None, clock.now)
        await run_due(scheduler, engine)
        clock.advance(hours=1)

    assert len(alerts) == 1
    assert push_service.origin.split("//")[1].split(":")[0] in alerts[0].message
    assert len(store.alerts.all()) == 1
    devices = store.subscriptions.all()
    assert len(devices) == 3
    assert all(d.flag_reason and d.flag_reason.startswith("403") for d in devices)
    assert len(push_service.attempts) == 6


async def test_a_push_service_that_never_answers_times_out_and_others_go_on(
    scheduler: Scheduler,
    engine: DeliveryEngine,
    services: Services,
    store: Store,
    clock: FakeClock,
    push_service: PushServiceDouble,
    silent_origin: str,
) -> None:
    [working] = subscribe(services, push_service)
    silent = push_service.new_subscription().to_json()
    silent["endpoint"] = f"{silent_origin}/push/never"
    import json

    services.subscriptions.import_text(json.dumps([silent]), [silent_origin])
    reminder = services.reminders.schedule("T", "M", None, clock.now)

    started = asyncio.get_running_loop().time()
    await run_due(scheduler, engine)
    took = asyncio.get_running_loop().time() - started

    assert [p.endpoint for p in push_service.received] == [working.endpoint]
    assert took < 5  # the sender's timeout in these tests is 2 s
    attempts = {d.outcome: d.error for d in store.deliveries.for_reminder(reminder.id)}
    assert attempts == {"delivered": None, "retry": "timed out"}


@pytest.fixture
def guard(
    push_service: PushServiceDouble, request: pytest.FixtureRequest
) -> EndpointGuard:
    """The double's origin, and the silent server's for the tests that use it."""
    origins = [push_service.origin]
    if "silent_origin" in request.fixturenames:
        origins.append(request.getfixturevalue("silent_origin"))
    return EndpointGuard(origins)


@pytest_asyncio.fixture
async def silent_origin() -> AsyncIterator[str]:
    """A server that accepts connections and never says a word."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    for writer in held:
        writer.close()
    server.close()
    await server.wait_closed()


async def test_targets_reach_groups_and_chosen_devices_only(
    scheduler: Scheduler,
    engine: DeliveryEngine,
    services: Services,
    store: Store,
    clock: FakeClock,
    push_service: PushServiceDouble,
) -> None:
    [kitchen] = subscribe(services, push_service, groups=["Kitchen"])
    [office] = subscribe(services, push_service, groups=["Office", "Kitchen"])
    [lone] = subscribe(services, push_service)
    lone_id = store.subscriptions.find(lone.endpoint).id  # type: ignore[union-attr]
    services.reminders.schedule(
        "T", "kitchen", None, clock.now, target=Target(groups=("kitchen",))
    )
    services.reminders.schedule(
        "T", "lone", None, clock.now, target=Target(subscription_ids=(lone_id,))
    )

    await run_due(scheduler, engine)

    got = sorted((p.endpoint, p.json()["body"]) for p in push_service.received)
    assert got == sorted(
        [
            (kitchen.endpoint, "kitchen"),
            (office.endpoint, "kitchen"),
            (lone.endpoint, "lone"),
        ]
    )


def test_unknown_targets_are_refused_by_name(
    services: Services, clock: FakeClock
) -> None:
    from pushdesk.errors import InvalidInput

    with pytest.raises(InvalidInput, match="no group Night shift"):
        services.reminders.schedule(
            "T", "M", None, clock.now, target=Target(groups=("Night shift",))
        )
    with pytest.raises(InvalidInput, match="no device 42"):
        services.reminders.schedule(
            "T", "M", None, clock.now, target=Target(subscription_ids=(42,))
        )


async def test_ttl_urgency_and_topic_reach_the_push_service(
    scheduler: Scheduler,
    engine: DeliveryEngine,
    services: Services,
    clock: FakeClock,
    push_service: PushServiceDouble,
) -> None:
    subscribe(services, push_service)
    reminder = services.reminders.schedule(
        "T", "M", None, clock.now, ttl=600, urgency=Urgency.HIGH
    )

    await run_due(scheduler, engine)

    [push] = push_service.received
    assert (push.ttl, push.urgency, push.topic) == (600, "high", reminder.topic)


async def test_cancel_in_flight_stops_the_sends_still_to_go(
    scheduler: Scheduler,
    engine: DeliveryEngine,
    services: Services,
    store: Store,
    clock: FakeClock,
    push_service: PushServiceDouble,
) -> None:
    subscribe(services, push_service, count=3)
    reminder = services.reminders.schedule("T", "M", None, clock.now)
    scheduler.fire_due()
    store.sends.claim_ready("someone-else", clock.now, limit=1)

    services.reminders.cancel(reminder.id)
    await engine.drain()

    assert push_service.received == []
    assert services.reminders.get(reminder.id).status is ReminderStatus.CANCELLED
    assert store.sends.states(reminder.id) == {"cancelled": 2, "in_flight": 1}


async def test_send_now_fires_a_scheduled_one_shot_at_once(
    scheduler: Scheduler,
    engine: DeliveryEngine,
    services: Services,
    clock: FakeClock,
    push_service: PushServiceDouble,
) -> None:
    subscribe(services, push_service)
    reminder = services.reminders.schedule(
        "T", "M", None, clock.now + timedelta(days=1)
    )

    services.reminders.send_now(reminder.id)
    await run_due(scheduler, engine)

    assert len(push_service.received) == 1
    assert services.reminders.get(reminder.id).status is ReminderStatus.SENT


async def test_sends_of_a_process_that_died_go_out_again_and_only_they(
    scheduler: Scheduler,
    engine: DeliveryEngine,
    services: Services,
    store: Store,
    clock: FakeClock,
    push_service: PushServiceDouble,
) -> None:
    subscribe(services, push_service, count=4)
    reminder = services.reminders.schedule("T", "M", None, clock.now)
    scheduler.fire_due()
    store.sends.heartbeat("dead", clock.now)
    store.sends.claim_ready("dead", clock.now, limit=2)

    await engine.drain()
    assert len(push_service.received) == 2
    assert engine.release_abandoned() == 0  # still looks alive

    clock.advance(seconds=11)
    assert engine.release_abandoned() == 2
    await run_due(scheduler, engine)

    assert len(push_service.received) == 4
    assert len({p.endpoint for p in push_service.received}) == 4
    assert services.reminders.get(reminder.id).status is ReminderStatus.SENT


async def test_outcomes_are_kept_when_the_database_refuses_the_write(
    scheduler: Scheduler,
    engine: DeliveryEngine,
    services: Services,
    store: Store,
    clock: FakeClock,
    push_service: PushServiceDouble,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sqlite3

    subscribe(services, push_service, count=3)
    reminder = services.reminders.schedule("T", "M", None, clock.now)
    real_settle = store.sends.settle
    failures = iter([sqlite3.OperationalError("database is locked")])

    def locked_once(*args: object) -> None:
        for failure in failures:
            raise failure
        real_settle(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(store.sends, "settle", locked_once)
    scheduler.fire_due()
    with pytest.raises(sqlite3.OperationalError):
        await engine.drain()

    await run_due(scheduler, engine)

    assert len(push_service.received) == 3
    assert store.sends.states(reminder.id) == {"delivered": 3}
    assert services.reminders.get(reminder.id).status is ReminderStatus.SENT


@pytest.mark.parametrize("header", ["99999999999999", "²", "-5", "soon"])
async def test_odd_retry_after_values_still_settle_the_send(
    scheduler: Scheduler,
    engine: DeliveryEngine,
    services: Services,
    store: Store,
    clock: FakeClock,
    push_service: PushServiceDouble,
    header: str,
) -> None:
    [browser] = subscribe(services, push_service)
    push_service.respond_with(browser, 429, times=1, headers={"Retry-After": header})
    reminder = services.reminders.schedule("T", "M", None, clock.now)

    await run_due(scheduler, engine)

    assert store.sends.states(reminder.id) == {"pending": 1}
    next_try = store.sends.next_attempt_at()
    assert next_try is not None
    assert clock.now < next_try <= clock.now + timedelta(days=1)


async def test_a_retry_is_never_earlier_than_asked_even_between_seconds(
    scheduler: Scheduler,
    engine: DeliveryEngine,
    services: Services,
    store: Store,
    clock: FakeClock,
    push_service: PushServiceDouble,
) -> None:
    [browser] = subscribe(services, push_service)
    push_service.respond_with(browser, 503, times=1, headers={"Retry-After": "1"})
    services.reminders.schedule("T", "M", None, clock.now)
    clock.advance(seconds=0.5)

    await run_due(scheduler, engine)

    assert store.sends.next_attempt_at() == clock.now + timedelta(seconds=1.5)


async def test_claimed_sends_of_a_reminder_cancelled_before_posting_are_dropped(
    scheduler: Scheduler,
    engine: DeliveryEngine,
    services: Services,
    store: Store,
    clock: FakeClock,
    push_service: PushServiceDouble,
) -> None:
    subscribe(services, push_service, count=3)
    reminder = services.reminders.schedule("T", "M", None, clock.now)
    scheduler.fire_due()
    jobs = store.sends.claim_ready(engine.owner, clock.now, limit=10)

    services.reminders.cancel(reminder.id)
    await engine._attempt_chunk(jobs)
    engine._settle()

    assert push_service.attempts == []
    assert store.sends.states(reminder.id) == {"cancelled": 3}


def test_a_retry_settled_after_a_cancel_is_cancelled(
    services: Services, store: Store, clock: FakeClock, push_service: PushServiceDouble
) -> None:
    from pushdesk.domain import RetryLater
    from pushdesk.store.sends import Settlement

    subscribe(services, push_service)
    reminder = services.reminders.schedule("T", "M", None, clock.now)
    store.reminders.fire(
        reminder,
        store.subscriptions.ids_for(Target()),
        clock.now,
        late=False,
        next_due=None,
    )
    [job] = store.sends.claim_ready("me", clock.now, limit=1)
    services.reminders.cancel(reminder.id)

    store.sends.settle(
        [Settlement(job, RetryLater(503, "503"), "pending", clock.now)], clock.now
    )

    assert store.sends.states(reminder.id) == {"cancelled": 1}


async def test_a_working_push_service_clears_its_alert_and_flags(
    scheduler: Scheduler,
    engine: DeliveryEngine,
    services: Services,
    store: Store,
    clock: FakeClock,
    push_service: PushServiceDouble,
) -> None:
    [browser] = subscribe(services, push_service)
    push_service.respond_with(browser, 403, times=1)
    services.reminders.schedule("T", "M", None, clock.now)
    await run_due(scheduler, engine)
    assert len(services.alerts()) == 1

    services.reminders.schedule("T", "M", None, clock.now)
    await run_due(scheduler, engine)

    assert services.alerts() == []
    assert store.subscriptions.all()[0].flag_reason is None


async def test_a_waiting_retry_follows_its_device_when_the_browser_renews(
    scheduler: Scheduler,
    engine: DeliveryEngine,
    services: Services,
    clock: FakeClock,
    push_service: PushServiceDouble,
) -> None:
    # The first try fails; before the retry, the browser renews its
    # subscription (the worker posts the new one, proven by the old secret).
    [old] = subscribe(services, push_service)
    push_service.respond_with(old, 503, times=1)
    reminder = services.reminders.schedule(
        "Payroll", "Salaries are late", None, clock.now
    )
    await run_due(scheduler, engine)
    renewed = push_service.new_subscription()
    services.subscriptions.register(
        parse_subscription(renewed.to_json(), [push_service.origin]),
        replaces=Replacement(old.endpoint, old.to_json()["keys"]["auth"]),
    )

    clock.advance(minutes=5)
    await run_due(scheduler, engine)

    assert [push.endpoint for push in push_service.received] == [renewed.endpoint]
    assert services.reminders.get(reminder.id).status is ReminderStatus.SENT
