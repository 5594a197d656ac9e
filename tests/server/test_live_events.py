"""Live events reach only the pages of the devices a reminder was sent to.

Against the real server on a loopback port: a page says which device it is
on its socket, proven by endpoint and auth secret as on the visitor routes,
and hears nothing sent to other devices, nor anything before it has proved
itself.
"""

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from pushdesk.domain import Target
from pushdesk.errors import StorageError, StorageKind
from pushdesk.events import EventHub, ReminderSent
from pushdesk.services import Services
from pushdesk.store import Store
from tests.support.clock import FakeClock
from tests.support.live_pages import identify, live_page, next_message, say
from tests.support.push_service import BrowserSubscription, PushServiceDouble
from tests.support.settings import change_settings
from tests.support.visitors import (
    Client,
    Proof,
    device_id,
    proof_of,
    subscribed,
    wrong,
)

SendDue = Callable[[], Awaitable[None]]


def sent(reminder: int, devices: set[int], **extra: Any) -> ReminderSent:
    fields: dict[str, Any] = {
        "sent_at": FakeClock().now,
        "title": f"Title {reminder}",
        "body": f"Body {reminder}",
        "delivered": len(devices),
        "total": len(devices),
    }
    return ReminderSent(reminder, devices=frozenset(devices), **fields | extra)


async def test_a_page_hears_the_reminders_sent_to_its_own_device(
    client: Client, hub: EventHub, store: Store, anna: Proof
) -> None:
    anna_id = device_id(store, anna)
    async with live_page(client) as socket:
        answer = await identify(socket, anna)
        hub.publish(sent(5, {anna_id}))
        event = await next_message(socket)

    assert answer == {"type": "identified", "device": anna_id}
    assert event == {
        "type": "reminder_sent",
        "id": 5,
        "sent_at": "2026-12-03T09:00:00Z",
        "title": "Title 5",
        "body": "Body 5",
    }


async def test_a_page_hears_nothing_sent_only_to_other_devices(
    client: Client, hub: EventHub, store: Store, anna: Proof, bob: Proof
) -> None:
    anna_id, bob_id = device_id(store, anna), device_id(store, bob)
    async with live_page(client) as socket:
        await identify(socket, anna)
        hub.publish(sent(1, {bob_id}))
        # The first event this page hears is the one that includes it.
        hub.publish(sent(2, {bob_id, anna_id}))
        event = await next_message(socket)

    assert (event["id"], event["title"]) == (2, "Title 2")


async def test_a_page_that_has_not_said_which_device_it_is_hears_nothing(
    client: Client, hub: EventHub, store: Store, anna: Proof
) -> None:
    anna_id = device_id(store, anna)
    async with live_page(client) as silent, live_page(client) as anonymous:
        assert await identify(anonymous, None) == {
            "type": "identified",
            "device": None,
        }
        hub.publish(sent(1, {anna_id}))
        # Saying who it is afterwards brings the next event, not the missed one.
        await identify(silent, anna)
        await identify(anonymous, anna)
        hub.publish(sent(2, {anna_id}))

        assert (await next_message(silent))["id"] == 2
        assert (await next_message(anonymous))["id"] == 2


async def test_a_wrong_secret_is_refused_and_forgets_the_device_said_before(
    client: Client, hub: EventHub, store: Store, anna: Proof, bob: Proof
) -> None:
    anna_id, bob_id = device_id(store, anna), device_id(store, bob)
    async with live_page(client) as socket:
        await identify(socket, anna)
        answer = await identify(socket, wrong(anna))
        hub.publish(sent(1, {anna_id}))
        await identify(socket, bob)
        hub.publish(sent(2, {anna_id, bob_id}))
        event = await next_message(socket)

    assert answer == {
        "type": "refused",
        "error": "This device is not subscribed here, or its secret does not match.",
        "field": "device",
    }
    assert event["id"] == 2


async def test_saying_no_device_stops_the_events_of_the_one_before(
    client: Client, hub: EventHub, store: Store, anna: Proof, bob: Proof
) -> None:
    anna_id, bob_id = device_id(store, anna), device_id(store, bob)
    async with live_page(client) as socket:
        await identify(socket, anna)
        await identify(socket, None)
        hub.publish(sent(1, {anna_id}))
        await identify(socket, bob)
        hub.publish(sent(2, {bob_id}))

        assert (await next_message(socket))["id"] == 2


async def test_a_device_removed_can_no_longer_say_it_is_that_device(
    client: Client, services: Services, anna: Proof
) -> None:
    removed = await client.delete("/api/subscriptions", json=anna)
    assert removed.status == 200, await removed.text()

    async with live_page(client) as socket:
        answer = await identify(socket, anna)

    assert answer["type"] == "refused"
    assert answer["field"] == "device"


@pytest.mark.parametrize(
    ("message", "field", "error"),
    [
        (b"\x00\xff", None, "Live events take JSON text messages only."),
        ("not json", None, "The message is not valid JSON."),
        ("[" * 4000, None, "The message is not valid JSON."),
        ({"type": "hello"}, "type", None),
        ({"type": "identify"}, "device", None),
        ({"type": "identify", "device": {"endpoint": "x"}}, "device.endpoint", None),
        ({"type": "identify", "device": None, "extra": 1}, "extra", None),
        ([], None, None),
    ],
    ids=[
        "binary",
        "not-json",
        "deep-nesting",
        "unknown-type",
        "no-device",
        "bad-endpoint",
        "unknown-field",
        "not-an-object",
    ],
)
async def test_what_is_not_an_identify_gets_a_json_refusal_and_the_page_stays(
    client: Client,
    hub: EventHub,
    store: Store,
    anna: Proof,
    message: Any,
    field: str | None,
    error: str | None,
) -> None:
    anna_id = device_id(store, anna)
    async with live_page(client) as socket:
        answer = await say(socket, message)
        again = await identify(socket, anna)
        hub.publish(sent(1, {anna_id}))
        event = await next_message(socket)

    assert answer["type"] == "refused"
    assert answer["field"] == field
    assert isinstance(answer["error"], str)
    assert answer["error"]
    if error is not None:
        assert answer["error"] == error
    assert again["type"] == "identified"
    assert event["id"] == 1


async def test_identifying_is_limited_per_address_like_subscribing(
    client: Client, services: Services, clock: FakeClock, anna: Proof
) -> None:
    change_settings(services, subscribes_per_minute=2)
    async with live_page(client) as socket:
        allowed = [await identify(socket, anna) for _ in range(2)]
        refused = await identify(socket, anna)
        clock.advance(minutes=1)
        later = await identify(socket, anna)

    assert [answer["type"] for answer in allowed] == ["identified"] * 2
    assert refused == {
        "type": "refused",
        "error": "This address said who it is too often; try again in 60 seconds.",
        "field": None,
        "retry_after": 60,
    }
    assert later["type"] == "identified"


async def test_asking_too_often_keeps_the_device_already_proven(
    client: Client, hub: EventHub, services: Services, store: Store, anna: Proof
) -> None:
    # Another page at the same address (a household's NAT) uses up the
    # allowance; Anna's page, saying again who it is, must not go deaf.
    change_settings(services, subscribes_per_minute=2)
    anna_id = device_id(store, anna)
    async with live_page(client) as annas, live_page(client) as other:
        await identify(annas, anna)
        await identify(other, None)
        refused = await identify(annas, anna)
        hub.publish(sent(1, {anna_id}))
        event = await next_message(annas)

    assert (refused["type"], refused["retry_after"]) == ("refused", 60)
    assert event["id"] == 1


async def test_a_page_whose_device_was_removed_before_its_push_hears_nothing(
    client: Client,
    hub: EventHub,
    services: Services,
    store: Store,
    clock: FakeClock,
    send_due: SendDue,
    push_service: PushServiceDouble,
    anna_browser: BrowserSubscription,
    anna: Proof,
    bob: Proof,
) -> None:
    # Both first tries fail; the operator removes Anna's device before her
    # retry, so her push never goes out, and Bob's retry ends the occurrence.
    anna_id = device_id(store, anna)
    push_service.respond_with(anna_browser, 503)
    push_service.respond_with(bob["endpoint"], 503, times=1)

    async with live_page(client) as annas, live_page(client) as bobs:
        await identify(annas, anna)
        await identify(bobs, bob)
        services.reminders.schedule("Payroll", "Salaries are late", None, clock.now)
        await send_due()
        services.subscriptions.remove_by_operator(anna_id)
        clock.advance(minutes=5)
        await send_due()

        bobs_event = await next_message(bobs)
        # The first event Anna's page hears is this one, not the payroll.
        hub.publish(sent(99, {anna_id}))
        annas_event = await next_message(annas)

    assert bobs_event["title"] == "Payroll"
    assert annas_event["id"] == 99
    assert [push.endpoint for push in push_service.received] == [bob["endpoint"]]


async def test_a_page_goes_on_hearing_its_device_after_the_browser_renews_it(
    client: Client,
    services: Services,
    store: Store,
    clock: FakeClock,
    send_due: SendDue,
    push_service: PushServiceDouble,
    anna: Proof,
) -> None:
    # The worker renews the subscription (pushsubscriptionchange) while the
    # page is open; nothing tells the page, so the server follows it.
    old_id = device_id(store, anna)
    renewed = push_service.new_subscription()

    async with live_page(client) as page:
        await identify(page, anna)
        await subscribed(client, renewed, expect=(201,), replaces=anna)
        new_id = device_id(store, proof_of(renewed))
        reminder = services.reminders.schedule(
            "Kitchen",
            "Pizza is ready",
            None,
            clock.now,
            target=Target(subscription_ids=(new_id,)),
        )
        await send_due()
        event = await next_message(page)

    assert new_id != old_id
    assert event["id"] == reminder.id


async def test_a_visitors_reminder_tells_its_devices_pages_to_reload_without_text(
    client: Client, hub: EventHub, store: Store, anna: Proof, bob: Proof
) -> None:
    anna_id, bob_id = device_id(store, anna), device_id(store, bob)
    async with live_page(client) as annas, live_page(client) as bobs:
        await identify(annas, anna)
        await identify(bobs, bob)
        hub.publish(sent(7, {anna_id}, body="Private", visitor_device=anna_id))
        hub.publish(sent(8, {bob_id}))

        assert await next_message(annas) == {
            "type": "self_reminder_sent",
            "id": 7,
            "device": anna_id,
        }
        assert (await next_message(bobs))["id"] == 8


async def test_a_page_renewed_after_its_push_went_out_still_hears_of_it(
    client: Client,
    services: Services,
    clock: FakeClock,
    send_due: SendDue,
    push_service: PushServiceDouble,
    anna: Proof,
    bob: Proof,
) -> None:
    # Anna's push goes out at once; Bob's retry keeps the occurrence open
    # while Anna's browser renews its subscription with her page open.
    push_service.respond_with(bob["endpoint"], 503, times=1)
    async with live_page(client) as annas:
        await identify(annas, anna)
        services.reminders.schedule("Payroll", "Salaries are late", None, clock.now)
        await send_due()
        renewed = push_service.new_subscription()
        await subscribed(client, renewed, expect=(201,), replaces=anna)
        clock.advance(minutes=5)
        await send_due()
        event = await next_message(annas)

    assert event["title"] == "Payroll"
    assert len(push_service.received) == 2


@pytest.mark.parametrize(
    ("kind", "retry_after"), [(StorageKind.BUSY, 5), (StorageKind.DAMAGED, None)]
)
async def test_a_database_fault_at_identify_never_names_its_file(
    client: Client,
    store: Store,
    anna: Proof,
    monkeypatch: pytest.MonkeyPatch,
    kind: StorageKind,
    retry_after: int | None,
) -> None:
    # In WAL mode a read meets a busy file only in rare moments (another
    # process recovering the journal), too rare to make here on purpose: the
    # store's lookup raises what it would raise then.
    path = store.db.conn.path

    def fault(endpoint: str) -> None:
        raise StorageError(kind, path)

    async with live_page(client) as page:
        monkeypatch.setattr(store.subscriptions, "find", fault)
        refused = await identify(page, anna)

    assert refused["type"] == "refused"
    assert refused.get("retry_after") == retry_after
    assert str(path.parent) not in refused["error"]
