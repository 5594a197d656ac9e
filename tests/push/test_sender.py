import json
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from pushdesk.domain import (
    CredentialsRefused,
    Delivered,
    Failed,
    Gone,
    Outcome,
    Rejected,
    Reminder,
    ReminderStatus,
    RetryLater,
    Subscription,
    Urgency,
)
from pushdesk.push.encryption import encrypt
from pushdesk.push.guard import EndpointGuard
from pushdesk.push.payload import MAX_PAYLOAD_BYTES, reminder_payload
from pushdesk.push.sender import PushSender, retry_after
from pushdesk.push.vapid import VapidKeys, load_or_create
from tests.support.clock import FakeClock
from tests.support.push_service import BrowserSubscription, PushServiceDouble

NOW = datetime(2026, 12, 3, 9, tzinfo=UTC)
SUBJECT = "mailto:ops@example.org"


def stored(browser: BrowserSubscription, sub_id: int = 1) -> Subscription:
    keys = browser.to_json()["keys"]
    return Subscription(
        id=sub_id,
        endpoint=browser.endpoint,
        p256dh=keys["p256dh"],
        auth=keys["auth"],
        label=None,
        created_at=NOW,
        last_seen_at=NOW,
    )


def reminder(**changes: object) -> Reminder:
    values: dict[str, object] = {
        "id": 7,
        "title": "Tea",
        "message": "The kettle has boiled ☕",
        "url": "https://example.org/kitchen",
        "due_at": NOW,
        "status": ReminderStatus.SENDING,
        "created_at": NOW,
    }
    return Reminder(**(values | changes))  # type: ignore[arg-type]


@pytest.fixture
def keys(tmp_path: Path) -> VapidKeys:
    return load_or_create(tmp_path / "vapid_private.pem")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC))


@pytest_asyncio.fixture
async def sender(
    keys: VapidKeys, clock: FakeClock, push_service: PushServiceDouble
) -> AsyncIterator[PushSender]:
    guard = EndpointGuard([push_service.origin])
    async with aiohttp.ClientSession() as session:
        yield PushSender(keys, SUBJECT, session, clock, guard=guard, timeout=5)


async def send(
    sender: PushSender, subscription: Subscription, payload: bytes
) -> Outcome:
    return await sender.send(subscription, payload, ttl=3600)


async def test_push_arrives_encrypted_signed_and_decryptable(
    sender: PushSender, keys: VapidKeys, push_service: PushServiceDouble
) -> None:
    browser = push_service.new_subscription()

    outcome = await sender.send(
        stored(browser),
        reminder_payload(reminder()),
        ttl=3600,
        urgency=Urgency.HIGH,
        topic="pushdesk-r7",
    )

    assert outcome == Delivered(201)
    [push] = push_service.received
    assert push.json() == {
        "title": "Tea",
        "body": "The kettle has boiled ☕",
        "url": "https://example.org/kitchen",
        "tag": "pushdesk-reminder-7",
        "id": 7,
    }
    assert push.ttl == 3600
    assert push.urgency == "high"
    assert push.topic == "pushdesk-r7"
    assert push.vapid_public_key == keys.public_key
    assert push.vapid_claims["sub"] == SUBJECT
    assert push_service.problems == []


async def test_each_audience_gets_its_own_claims(
    keys: VapidKeys, clock: FakeClock, push_service: PushServiceDouble
) -> None:
    async with PushServiceDouble() as other_service, aiohttp.ClientSession() as http:
        guard = EndpointGuard([push_service.origin, other_service.origin])
        sender = PushSender(keys, SUBJECT, http, clock, guard=guard, timeout=5)
        here = push_service.new_subscription()
        there = other_service.new_subscription()

        assert await send(sender, stored(here), b"{}") == Delivered(201)
        assert await send(sender, stored(there, 2), b"{}") == Delivered(201)

        assert other_service.received[0].vapid_claims["aud"] == other_service.origin
        assert other_service.problems == []


@pytest.mark.parametrize("status", [404, 410])
async def test_dead_subscription_is_gone(
    sender: PushSender, push_service: PushServiceDouble, status: int
) -> None:
    browser = push_service.new_subscription()
    push_service.respond_with(browser, status)

    assert await send(sender, stored(browser), b"{}") == Gone(status)


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, Rejected),
        (413, Rejected),
        (401, CredentialsRefused),
        (403, CredentialsRefused),
        (429, RetryLater),
        (500, RetryLater),
        (503, RetryLater),
    ],
)
async def test_every_answer_is_classified(
    sender: PushSender, push_service: PushServiceDouble, status: int, kind: type
) -> None:
    browser = push_service.new_subscription()
    push_service.respond_with(browser, status)

    outcome = await send(sender, stored(browser), b"{}")

    assert isinstance(outcome, kind)
    assert outcome.status == status


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("2", 2.0), ("120", 120.0), ("{in 30 s as an HTTP date}", 30.0)],
)
async def test_retry_after_is_read_in_both_forms(
    sender: PushSender,
    push_service: PushServiceDouble,
    clock: FakeClock,
    header: str,
    seconds: float,
) -> None:
    # The push service checks the VAPID expiry against the real time, so the
    # clock stays near it; an HTTP date has whole seconds.
    clock.now = clock.now.replace(microsecond=0)
    if header.startswith("{"):
        header = format_datetime(clock.now + timedelta(seconds=30), usegmt=True)
    browser = push_service.new_subscription()
    push_service.respond_with(browser, 429, headers={"Retry-After": header})

    outcome = await send(sender, stored(browser), b"{}")

    assert outcome == RetryLater(429, "429 Too Many Requests", seconds)


def test_unreadable_retry_after_is_ignored() -> None:
    assert retry_after("soon", NOW) is None
    assert retry_after(None, NOW) is None


async def test_one_vapid_token_per_origin_renewed_before_it_lapses(
    sender: PushSender, push_service: PushServiceDouble, clock: FakeClock
) -> None:
    first, second = push_service.new_subscription(), push_service.new_subscription()

    await send(sender, stored(first), b"{}")
    await send(sender, stored(second, 2), b"{}")
    clock.advance(hours=11, minutes=30)
    await send(sender, stored(first), b"{}")

    claims = [push.vapid_claims for push in push_service.received]
    assert claims[0] == claims[1]
    assert claims[0]["aud"] == push_service.origin
    assert claims[2]["exp"] > claims[0]["exp"]
    assert claims[2]["exp"] - clock.now.timestamp() > 3600
    assert push_service.problems == []


async def test_unreachable_push_service_is_a_failure_without_the_token(
    sender: PushSender, push_service: PushServiceDouble
) -> None:
    browser = push_service.new_subscription()
    await push_service.stop()

    outcome = await send(sender, stored(browser), b"{}")

    assert isinstance(outcome, RetryLater)
    assert outcome.status is None
    assert browser.token not in outcome.error


async def test_corrupt_stored_keys_fail_that_device_only(
    sender: PushSender, push_service: PushServiceDouble
) -> None:
    browser = push_service.new_subscription()
    broken = stored(browser)
    broken = Subscription(**{**broken.__dict__, "p256dh": "AAAA"})

    outcome = await send(sender, broken, b"{}")

    assert isinstance(outcome, Failed)
    assert outcome.error.startswith("cannot encrypt")


class CountingWorker(ThreadPoolExecutor):
    """A real executor that counts the jobs it is given."""

    def __init__(self) -> None:
        super().__init__(max_workers=1)
        self.jobs = 0

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        self.jobs += 1
        return super().submit(fn, *args, **kwargs)


async def test_a_chunk_of_payloads_is_one_trip_to_the_worker_each_device_its_own(
    keys: VapidKeys, clock: FakeClock, push_service: PushServiceDouble
) -> None:
    # Every push carries its device's own receipt, so no two payloads of a
    # fan-out are alike; one trip per payload halved the sending rate.
    browsers = [push_service.new_subscription() for _ in range(5)]
    items = [
        (stored(browser, n), reminder_payload(reminder(), n, f"receipt-{n}"))
        for n, browser in enumerate(browsers, start=1)
    ]
    broken = Subscription(**{**items[2][0].__dict__, "p256dh": "AAAA"})
    items[2] = (broken, items[2][1])
    worker = CountingWorker()
    guard = EndpointGuard([push_service.origin])

    async with aiohttp.ClientSession() as session:
        sender = PushSender(keys, SUBJECT, session, clock, guard=guard, executor=worker)
        bodies = await sender.encrypt_all(items)
        outcomes = [
            await sender.post(subscription, body, ttl=60)
            for (subscription, _), body in zip(items, bodies, strict=True)
        ]
    worker.shutdown()

    assert worker.jobs == 1
    assert isinstance(outcomes.pop(2), Failed)
    assert outcomes == [Delivered(201)] * 4
    received = sorted(
        (push.json()["device"], push.json()["receipt"])
        for push in push_service.received
    )
    assert received == [(n, f"receipt-{n}") for n in (1, 2, 4, 5)]
    assert push_service.problems == []


def test_payload_is_utf8_json_with_the_fields_the_worker_reads() -> None:
    payload = reminder_payload(reminder(url=None))

    assert json.loads(payload.decode("utf-8")) == {
        "title": "Tea",
        "body": "The kettle has boiled ☕",
        "url": None,
        "tag": "pushdesk-reminder-7",
        "id": 7,
    }


async def test_largest_payload_fills_exactly_one_4096_byte_body(
    sender: PushSender, push_service: PushServiceDouble
) -> None:
    browser = push_service.new_subscription()
    keys = browser.to_json()["keys"]
    payload = b"x" * MAX_PAYLOAD_BYTES

    body = encrypt(browser.endpoint, keys["p256dh"], keys["auth"], payload)
    outcome = await send(sender, stored(browser), payload)

    assert MAX_PAYLOAD_BYTES == 3993
    assert len(body) == 4096
    assert outcome == Delivered(201)
    assert push_service.received[0].plaintext == payload


@pytest.mark.parametrize(
    ("endpoint", "audience"),
    [
        ("https://fcm.googleapis.com/fcm/send/abc", "https://fcm.googleapis.com"),
        ("https://push.example:443/x/y", "https://push.example"),
        ("https://push.example:8443/x", "https://push.example:8443"),
        ("http://127.0.0.1:9000/push/t", "http://127.0.0.1:9000"),
        ("https://[2001:db8::1]:444/p", "https://[2001:db8::1]:444"),
    ],
)
def test_vapid_audience_is_scheme_host_and_non_default_port(
    endpoint: str, audience: str
) -> None:
    subscription = Subscription(1, endpoint, "k", "a", None, NOW, NOW)

    assert subscription.origin == audience
