"""A visitor's reminder is sent, retried and logged like the operator's, to
the visitor's own device alone."""

from pushdesk.domain import ReminderQuery, ReminderStatus, Replacement
from pushdesk.events import Event, EventHub, ReminderSent
from pushdesk.scheduling.delivery import DeliveryEngine
from pushdesk.scheduling.scheduler import Scheduler
from pushdesk.services import Services
from pushdesk.store import Store
from tests.scheduling.conftest import subscribe
from tests.support.clock import FakeClock
from tests.support.push_service import BrowserSubscription, PushServiceDouble
from tests.support.sending import run_due


def proof(browser: BrowserSubscription) -> Replacement:
    return Replacement(browser.endpoint, browser.to_json()["keys"]["auth"])


async def test_it_goes_out_on_time_to_that_device_only_and_is_retried_and_logged(
    scheduler: Scheduler,
    engine: DeliveryEngine,
    services: Services,
    store: Store,
    hub: EventHub,
    clock: FakeClock,
    push_service: PushServiceDouble,
) -> None:
    anna, bob = subscribe(services, push_service, count=2)
    heard: list[Event] = []
    hub.subscribe(heard.append)
    message = "Check the oven <b>now</b> & then"
    reminder = services.self_reminders.create(proof(anna), message, in_minutes=5)
    push_service.respond_with(anna, 503, times=1)

    clock.advance(minutes=4, seconds=59)
    await run_due(scheduler, engine)
    nothing_yet = list(push_service.received)
    clock.advance(seconds=1)
    await run_due(scheduler, engine)
    clock.advance(minutes=1)
    await run_due(scheduler, engine)

    assert nothing_yet == []
    [push] = push_service.received
    assert push.endpoint == anna.endpoint
    assert push.json()["title"] == "Reminder"
    assert push.json()["body"] == message  # as text, untouched
    assert push.urgency == "high"
    assert services.reminders.get(reminder.id).status is ReminderStatus.SENT
    outcomes = [
        (d.outcome, d.status_code) for d in store.deliveries.for_reminder(reminder.id)
    ]
    assert sorted(outcomes) == [("delivered", 201), ("retry", 503)]
    anna_id = store.subscriptions.find(anna.endpoint).id  # type: ignore[union-attr]
    sent = [event for event in heard if isinstance(event, ReminderSent)]
    assert [(e.id, e.visitor_device) for e in sent] == [(reminder.id, anna_id)]
    assert bob.endpoint not in {p.endpoint for p in push_service.received}


async def test_a_reminder_for_two_proven_devices_reaches_both_and_no_third(
    scheduler: Scheduler,
    engine: DeliveryEngine,
    services: Services,
    clock: FakeClock,
    push_service: PushServiceDouble,
) -> None:
    phone, laptop, _stranger = subscribe(services, push_service, count=3)

    services.self_reminders.create(
        proof(phone), "Tea", in_minutes=1, also=[proof(laptop)]
    )
    clock.advance(minutes=1)
    await run_due(scheduler, engine)

    assert sorted(p.endpoint for p in push_service.received) == sorted(
        [phone.endpoint, laptop.endpoint]
    )


async def test_a_device_removed_meanwhile_is_simply_not_reached(
    scheduler: Scheduler,
    engine: DeliveryEngine,
    services: Services,
    store: Store,
    clock: FakeClock,
    push_service: PushServiceDouble,
) -> None:
    [anna] = subscribe(services, push_service)
    reminder = services.self_reminders.create(proof(anna), "Tea", in_minutes=1)
    services.subscriptions.remove(proof(anna))

    clock.advance(minutes=1)
    await run_due(scheduler, engine)

    assert push_service.received == []
    [line] = services.reminders.page(ReminderQuery(), 0, 10)
    assert line.reminder.id == reminder.id
    assert line.reminder.status is not ReminderStatus.SCHEDULED
    assert line.visitor == "a removed device"


async def test_a_device_its_push_service_calls_gone_takes_its_waiting_reminders(
    scheduler: Scheduler,
    engine: DeliveryEngine,
    services: Services,
    clock: FakeClock,
    push_service: PushServiceDouble,
) -> None:
    [anna] = subscribe(services, push_service)
    push_service.respond_with(anna, 410)
    services.reminders.schedule("Tea", "Kettle", None, clock.now)
    later = services.self_reminders.create(proof(anna), "Oven", in_minutes=30)

    await run_due(scheduler, engine)

    assert services.subscriptions.all() == []
    assert services.reminders.get(later.id).status is ReminderStatus.CANCELLED
