import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio

from pushdesk.domain import (
    Delivered,
    Failed,
    Gone,
    Reminder,
    ReminderStatus,
    Subscription,
)
from pushdesk.push.payload import reminder_payload
from pushdesk.push.sender import PushSender
from pushdesk.push.vapid import VapidKeys, load_or_create
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


@pytest_asyncio.fixture
async def sender(keys: VapidKeys) -> AsyncIterator[PushSender]:
    async with aiohttp.ClientSession() as session:
        yield PushSender(keys, SUBJECT, session, ttl=3600, timeout=5)


async def test_push_arrives_encrypted_signed_and_decryptable(
    sender: PushSender, keys: VapidKeys, push_service: PushServiceDouble
) -> None:
    browser = push_service.new_subscription()

    outcome = await sender.send(stored(browser), reminder_payload(reminder()))

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
    assert push.vapid_public_key == keys.public_key
    assert push.vapid_claims["sub"] == SUBJECT
    assert push_service.problems == []


async def test_each_audience_gets_its_own_claims(
    sender: PushSender, push_service: PushServiceDouble
) -> None:
    async with PushServiceDouble() as other_service:
        here = push_service.new_subscription()
        there = other_service.new_subscription()

        assert await sender.send(stored(here), b"{}") == Delivered(201)
        assert await sender.send(stored(there, 2), b"{}") == Delivered(201)

        assert other_service.received[0].vapid_claims["aud"] == other_service.origin
        assert other_service.problems == []


@pytest.mark.parametrize("status", [404, 410])
async def test_dead_subscription_is_gone(
    sender: PushSender, push_service: PushServiceDouble, status: int
) -> None:
    browser = push_service.new_subscription()
    push_service.respond_with(browser, status)

    assert await sender.send(stored(browser), b"{}") == Gone(status)


@pytest.mark.parametrize("status", [400, 413, 429, 500, 503])
async def test_other_refusals_are_failures_with_the_status(
    sender: PushSender, push_service: PushServiceDouble, status: int
) -> None:
    browser = push_service.new_subscription()
    push_service.respond_with(browser, status)

    outcome = await sender.send(stored(browser), b"{}")

    assert isinstance(outcome, Failed)
    assert outcome.status == status


async def test_unreachable_push_service_is_a_failure_without_the_token(
    sender: PushSender, push_service: PushServiceDouble
) -> None:
    browser = push_service.new_subscription()
    await push_service.stop()

    outcome = await sender.send(stored(browser), b"{}")

    assert isinstance(outcome, Failed)
    assert outcome.status is None
    assert browser.token not in outcome.error


async def test_corrupt_stored_keys_fail_that_device_only(
    sender: PushSender, push_service: PushServiceDouble
) -> None:
    browser = push_service.new_subscription()
    broken = stored(browser)
    broken = Subscription(**{**broken.__dict__, "p256dh": "AAAA"})

    outcome = await sender.send(broken, b"{}")

    assert isinstance(outcome, Failed)
    assert outcome.error.startswith("cannot encrypt")


def test_payload_is_utf8_json_with_the_fields_the_worker_reads() -> None:
    payload = reminder_payload(reminder(url=None))

    assert json.loads(payload.decode("utf-8")) == {
        "title": "Tea",
        "body": "The kettle has boiled ☕",
        "url": None,
        "tag": "pushdesk-reminder-7",
        "id": 7,
    }
