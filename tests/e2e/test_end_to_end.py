"""A reminder from ``pushdesk remind`` reaches a subscribed browser, encrypted.

pushdesk's real server and scheduler run on a loopback port; the browser's
push service is the loopback double, which checks VAPID and decrypts.
"""

import asyncio
import sys
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest

from pushdesk.app import Runtime
from pushdesk.config import Config
from pushdesk.domain import ReminderStatus
from pushdesk.events import Event, SubscriptionsChanged
from tests.support.push_service import PushServiceDouble
from tests.support.visitors import proof_of

pytestmark = pytest.mark.e2e


def base_url(runtime: Runtime) -> str:
    assert runtime.server is not None
    return f"http://127.0.0.1:{runtime.server.port}"


async def cli(config: Config, *args: str) -> str:
    """Run the real ``pushdesk`` command in another process."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pushdesk",
        *args,
        "--data-dir",
        str(config.data_dir),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return out.decode()


async def test_remind_from_the_cli_reaches_the_browser_and_the_page(
    runtime: Runtime, config: Config, push_service: PushServiceDouble
) -> None:
    browser = push_service.new_subscription()
    async with aiohttp.ClientSession(base_url(runtime)) as http:
        subscribed = await http.post(
            "/api/subscriptions", json=browser.to_json() | {"label": "Test phone"}
        )
        assert subscribed.status == 201
        subscription_id = (await subscribed.json())["id"]

        async with http.ws_connect("/api/events") as page:
            await page.send_json({"type": "identify", "device": proof_of(browser)})
            assert await page.receive_json(timeout=10) == {
                "type": "identified",
                "device": subscription_id,
            }
            reminder_id = int(
                await cli(
                    config,
                    "remind",
                    "Pizza is ready",
                    "--title",
                    "Kitchen",
                    "--url",
                    "https://example.org/menu",
                    "--at",
                    datetime.now(UTC).isoformat(),
                )
            )

            [push] = await push_service.wait_for(1, timeout=10)
            event = await page.receive_json(timeout=10)

    assert push.json() == {
        "title": "Kitchen",
        "body": "Pizza is ready",
        "url": "https://example.org/menu",
        "tag": f"pushdesk-reminder-{reminder_id}",
        "id": reminder_id,
        "device": subscription_id,
        "receipt": runtime.receipts.token(reminder_id, subscription_id),
    }
    assert push.vapid_claims["aud"] == push_service.origin
    assert push.vapid_claims["sub"] == config.vapid_subject
    assert push.ttl > 0
    assert push_service.problems == []

    assert event["type"] == "reminder_sent"
    assert event["id"] == reminder_id

    reminder = runtime.services.reminders.get(reminder_id)
    assert reminder.status is ReminderStatus.SENT
    assert event["sent_at"] == reminder.sent_at.strftime("%Y-%m-%dT%H:%M:%SZ")  # type: ignore[union-attr]
    [delivery] = runtime.store.deliveries.for_reminder(reminder_id)
    assert (delivery.subscription_id, delivery.outcome, delivery.status_code) == (
        subscription_id,
        "delivered",
        201,
    )


async def test_subscription_the_push_service_calls_gone_is_removed(
    runtime: Runtime, config: Config, push_service: PushServiceDouble
) -> None:
    browser = push_service.new_subscription()
    async with aiohttp.ClientSession(base_url(runtime)) as http:
        await http.post("/api/subscriptions", json=browser.to_json())
    push_service.respond_with(browser, 410)
    removed = asyncio.Event()

    def on_event(event: Event) -> None:
        if (
            isinstance(event, SubscriptionsChanged)
            and not runtime.store.subscriptions.all()
        ):
            removed.set()

    runtime.hub.subscribe(on_event)

    reminder_id = int(await cli(config, "remind", "Anyone there?", "--in", "0s"))
    await asyncio.wait_for(removed.wait(), timeout=10)

    assert runtime.store.subscriptions.all() == []
    [delivery] = runtime.store.deliveries.for_reminder(reminder_id)
    assert (delivery.outcome, delivery.status_code) == ("gone", 410)
    # A device that unsubscribed is not a failure to deliver.
    assert runtime.services.reminders.get(reminder_id).status is ReminderStatus.SENT
    listing = await cli(config, "subscribers", "--json")
    assert listing.strip() == "[]"


async def test_listings_show_endpoints_but_never_keys(
    runtime: Runtime, config: Config, push_service: PushServiceDouble
) -> None:
    browser = push_service.new_subscription()
    async with aiohttp.ClientSession(base_url(runtime)) as http:
        await http.post(
            "/api/subscriptions", json=browser.to_json() | {"label": "Anna"}
        )

    import json

    [row] = json.loads(await cli(config, "subscribers", "--json"))
    text = await cli(config, "subscribers")

    assert row["endpoint"] == browser.endpoint
    assert row["label"] == "Anna"
    keys: dict[str, Any] = browser.to_json()["keys"]
    for secret in keys.values():
        assert secret not in json.dumps(row)
        assert secret not in text
    assert "Anna" in text
