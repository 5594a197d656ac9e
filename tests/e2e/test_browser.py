"""The subscription page and service worker in a real Chromium.

Chromium's own push service (FCM) is out of reach here, so two seams replace
it, and only it: the page's ``PushManager`` hands out a subscription made by
the loopback push-service double, and the payload the double decrypted is
handed to the real service worker through the DevTools protocol, exactly as
Chromium does when FCM delivers.
"""

import asyncio
import json
import os
import shutil
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from playwright.async_api import (
    Browser,
    BrowserContext,
    CDPSession,
    Page,
    async_playwright,
)

from pushdesk.app import Runtime
from pushdesk.config import Config
from pushdesk.services.subscriptions import TEST_MESSAGE, TEST_TITLE
from tests.support import redeliveries
from tests.support.push_service import BrowserSubscription, PushServiceDouble
from tests.support.settings import change_settings

pytestmark = pytest.mark.e2e

LAN_NAME = "pushdesk-lan.test"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # A name that is not localhost reaches the loopback server the way a LAN
    # address would: over plain HTTP, and so not a secure context.
    f"--host-resolver-rules=MAP {LAN_NAME} 127.0.0.1",
]

# Stands in for Chromium's PushManager, whose subscribe() needs FCM.
FAKE_PUSH_MANAGER = """
(() => {
  const browserSubscription = %s;
  const earlier = %s;  // a subscription made with another VAPID key, or null
  let current = earlier && {
    endpoint: earlier.endpoint,
    expirationTime: null,
    options: { applicationServerKey: new Uint8Array(65).fill(4).buffer },
    toJSON: () => earlier,
    unsubscribe: async () => { current = null; return true; },
  };
  window.__pushdeskTest = { subscribeKeys: [] };
  PushManager.prototype.getSubscription = async function () { return current; };
  PushManager.prototype.subscribe = async function (options) {
    const key = new Uint8Array(options.applicationServerKey);
    window.__pushdeskTest.subscribeKeys.push(btoa(String.fromCharCode(...key)));
    current = {
      endpoint: browserSubscription.endpoint,
      expirationTime: null,
      options: { applicationServerKey: key.buffer, userVisibleOnly: true },
      toJSON: () => browserSubscription,
      unsubscribe: async () => { current = null; return true; },
    };
    return current;
  };
})();
"""


# Resolves with the notifications the worker has shown, once there are any.
SHOWN_NOTIFICATIONS = """
async () => {
  const registration = await navigator.serviceWorker.ready;
  for (let attempt = 0; attempt < 200; attempt++) {
    const shown = await registration.getNotifications();
    if (shown.length) {
      return shown.map(n => ({title: n.title, body: n.body, tag: n.tag, data: n.data}));
    }
    await new Promise(resolve => setTimeout(resolve, 50));
  }
  return [];
}
"""


async def until(condition: Callable[[], bool], seconds: float = 10) -> None:
    """Wait for something another process (the browser) does, within a bound."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "it never happened"
        await asyncio.sleep(0.05)


def chromium_path() -> str:
    found = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("Chromium is not installed; .ci/run should have installed it")
    pytest.skip("Chromium is not installed (Debian: apt-get install chromium)")


@pytest_asyncio.fixture
async def browser() -> AsyncIterator[Browser]:
    executable = chromium_path()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS
        )
        yield launched
        await launched.close()


@pytest_asyncio.fixture
async def browser_context(browser: Browser) -> AsyncIterator[BrowserContext]:
    context = await browser.new_context()
    yield context
    await context.close()


def page_url(runtime: Runtime) -> str:
    # localhost is a secure context even over plain HTTP.
    assert runtime.server is not None
    return f"http://localhost:{runtime.server.port}"


async def open_page(
    context: BrowserContext,
    runtime: Runtime,
    browser: BrowserSubscription,
    earlier: BrowserSubscription | None = None,
) -> Page:
    script = FAKE_PUSH_MANAGER % (
        json.dumps(browser.to_json()),
        json.dumps(earlier.to_json() if earlier else None),
    )
    await context.add_init_script(script)
    page = await context.new_page()
    await page.goto(page_url(runtime) + "/")
    return page


async def state(page: Page, expected: str) -> None:
    await page.wait_for_selector(f"body[data-state='{expected}']", timeout=15_000)


async def live_as(page: Page, device: int) -> None:
    """Wait until the live-events socket knows the page as this device."""
    await page.wait_for_selector(f"body[data-live-device='{device}']", timeout=15_000)


async def drop_live_sockets(runtime: Runtime) -> None:
    """Close every page's live-events socket from the server's side."""
    from pushdesk.server.app import LIVE_EVENTS

    assert runtime.server is not None
    live = runtime.server.app[LIVE_EVENTS]
    for socket in list(live._devices):
        await socket.close()


async def service_worker_registration(cdp: CDPSession, scope: str) -> str:
    """The registration id DevTools knows the page's service worker by."""
    found: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def on_update(event: dict[str, Any]) -> None:
        for registration in event["registrations"]:
            if registration["scopeURL"] == scope and not found.done():
                found.set_result(registration["registrationId"])

    cdp.on("ServiceWorker.workerRegistrationUpdated", on_update)
    await cdp.send("ServiceWorker.enable")
    return await asyncio.wait_for(found, timeout=10)


def _push_outcomes(cdp: CDPSession, since: float) -> "asyncio.Queue[str]":
    """What Chromium reports became of each push it handed to a worker after
    ``since``: "Success" or the reason it failed, in its background-services
    log (the DevTools push command itself answers before the worker runs)."""
    outcomes: asyncio.Queue[str] = asyncio.Queue()

    def on_event(event: dict[str, Any]) -> None:
        logged = event["backgroundServiceEvent"]
        if logged["eventName"] != "Push event completed" or logged["timestamp"] < since:
            return
        details = {item["key"]: item["value"] for item in logged["eventMetadata"]}
        outcomes.put_nowait(details.get("Status", "no status given"))

    cdp.on("BackgroundService.backgroundServiceEventReceived", on_event)
    return outcomes


async def deliver_push(
    context: BrowserContext, page: Page, runtime: Runtime, data: str
) -> list[dict[str, Any]]:
    """Hand a payload to the page's service worker, as the browser does when
    its push service delivers one, and return the notifications it shows.

    FIXME:e2e in a few full CI runs (never in tests/e2e alone, nor here under
    CPU load) a push handed over this way showed nothing. What Chromium made
    of each try is now collected, so a failure says whether the worker never
    got the push or got it and failed; a push service delivers again what
    the browser did not take, so this does too, up to three times. For
    pushdesk's own payloads the notification's tag keeps that to one
    notification; the untagged payloads of the "exactly one" test would show
    a late first try twice, which that test would catch. Each retry is
    listed at the end of the run.
    """
    cdp = await context.new_cdp_session(page)
    registration = await service_worker_registration(cdp, page_url(runtime) + "/")
    await page.wait_for_function("Notification.permission === 'granted'")
    outcomes = _push_outcomes(cdp, since=time.time())
    await cdp.send(
        "BackgroundService.setRecording",
        {"service": "pushMessaging", "shouldRecord": True},
    )
    await cdp.send("BackgroundService.startObserving", {"service": "pushMessaging"})

    reported: list[str] = []
    for _ in range(3):
        await cdp.send(
            "ServiceWorker.deliverPushMessage",
            {"origin": page_url(runtime), "registrationId": registration, "data": data},
        )
        try:
            reported.append(await asyncio.wait_for(outcomes.get(), timeout=15))
        except TimeoutError:
            reported.append("no outcome within 15 s")
        shown: list[dict[str, Any]] = await page.evaluate(SHOWN_NOTIFICATIONS)
        if shown:
            if len(reported) > 1:
                redeliveries.note(reported)
            return shown

    pytest.fail(f"the worker showed no notification; Chromium reported {reported}")


async def test_page_subscribes_on_click_and_a_reminder_becomes_a_notification(
    runtime: Runtime,
    browser_context: BrowserContext,
    push_service: PushServiceDouble,
) -> None:
    browser = push_service.new_subscription()
    page = await open_page(browser_context, runtime, browser)
    await state(page, "ready")
    await page.wait_for_function("navigator.serviceWorker.controller !== null")

    await browser_context.grant_permissions(["notifications"], origin=page_url(runtime))
    await page.fill("#label", "Chromium in CI")
    await page.click("#enable")
    await state(page, "subscribed")

    [stored] = runtime.store.subscriptions.all()
    assert stored.endpoint == browser.endpoint
    assert stored.label == "Chromium in CI"
    assert await page.get_attribute("body", "data-subscription-id") == str(stored.id)
    used_key = await page.evaluate("window.__pushdeskTest.subscribeKeys[0]")
    assert _b64_to_url(used_key) == runtime.keys.public_key

    await live_as(page, stored.id)
    reminder = runtime.services.reminders.schedule(
        "Kitchen", "Pizza is ready", "https://example.org/menu", runtime.clock()
    )
    [push] = await push_service.wait_for(1, timeout=10)

    payload = push.plaintext.decode("utf-8")
    notifications = await deliver_push(browser_context, page, runtime, payload)

    [device] = runtime.store.subscriptions.all()
    receipt = runtime.receipts.token(reminder.id, device.id)
    assert notifications == [
        {
            "title": "Kitchen",
            "body": "Pizza is ready",
            "tag": f"pushdesk-reminder-{reminder.id}",
            "data": {
                "url": "https://example.org/menu",
                "id": reminder.id,
                "device": device.id,
                "receipt": receipt,
            },
        }
    ]

    # The worker reported that it showed the reminder.
    await until(lambda: runtime.services.reminders.reach()[reminder.id].displayed == 1)
    assert runtime.services.reminders.reach()[reminder.id].delivered == 1
    live = page.locator(f"#events [data-id='{reminder.id}']")
    await live.wait_for(timeout=10_000)
    assert "Pizza is ready" in await live.inner_text()


async def test_already_granted_page_posts_its_subscription_without_a_click(
    runtime: Runtime,
    browser_context: BrowserContext,
    push_service: PushServiceDouble,
) -> None:
    browser = push_service.new_subscription()
    await browser_context.grant_permissions(["notifications"], origin=page_url(runtime))

    page = await open_page(browser_context, runtime, browser)
    await state(page, "subscribed")

    assert [s.endpoint for s in runtime.store.subscriptions.all()] == [browser.endpoint]


async def test_turn_off_unsubscribes_and_deletes_the_servers_row(
    runtime: Runtime,
    browser_context: BrowserContext,
    push_service: PushServiceDouble,
) -> None:
    browser = push_service.new_subscription()
    await browser_context.grant_permissions(["notifications"], origin=page_url(runtime))
    page = await open_page(browser_context, runtime, browser)
    await state(page, "subscribed")

    await page.click("#disable")
    await state(page, "unsubscribed")

    assert runtime.store.subscriptions.all() == []


async def test_denied_permission_is_explained(
    runtime: Runtime,
    browser_context: BrowserContext,
    push_service: PushServiceDouble,
) -> None:
    page = await open_page(browser_context, runtime, push_service.new_subscription())
    await state(page, "ready")

    # Headless Chromium answers the permission prompt with "denied", as a
    # visitor who blocks notifications would.
    await page.click("#enable")
    await state(page, "denied")

    assert await page.evaluate("Notification.permission") == "denied"
    assert "settings" in (await page.inner_text("#status")).lower()
    assert runtime.store.subscriptions.all() == []


async def test_plain_http_on_a_lan_name_explains_it_is_not_secure(
    runtime: Runtime, browser_context: BrowserContext
) -> None:
    assert runtime.server is not None
    page = await browser_context.new_page()

    await page.goto(f"http://{LAN_NAME}:{runtime.server.port}/")
    await state(page, "insecure")

    assert "secure" in (await page.inner_text("#status")).lower()
    fix = page.locator(f"a[href='https://{LAN_NAME}:8443/']")
    assert await fix.count() == 1
    assert await page.is_disabled("#enable")


def _b64_to_url(standard: str) -> str:
    return standard.replace("+", "-").replace("/", "_").rstrip("=")


@pytest.mark.parametrize(
    ("data", "title", "body"),
    [
        ("The kettle has boiled", "pushdesk", "The kettle has boiled"),
        ("", "pushdesk", "You have a new reminder."),
        ('{"title": "Only a title"}', "Only a title", ""),
    ],
    ids=["plain-text", "empty", "title-only"],
)
async def test_every_push_shows_exactly_one_notification(
    runtime: Runtime,
    browser_context: BrowserContext,
    push_service: PushServiceDouble,
    data: str,
    title: str,
    body: str,
) -> None:
    page = await open_page(browser_context, runtime, push_service.new_subscription())
    await state(page, "ready")
    await browser_context.grant_permissions(["notifications"], origin=page_url(runtime))

    shown = await deliver_push(browser_context, page, runtime, data)

    assert [(n["title"], n["body"]) for n in shown] == [(title, body)]


async def test_a_subscription_made_with_an_old_key_is_replaced_keeping_its_name(
    runtime: Runtime,
    browser_context: BrowserContext,
    push_service: PushServiceDouble,
) -> None:
    earlier, fresh = push_service.new_subscription(), push_service.new_subscription()
    async with aiohttp.ClientSession() as http:
        posted = await http.post(
            page_url(runtime) + "/api/subscriptions",
            json=earlier.to_json() | {"label": "Anna"},
        )
        assert posted.status == 201
    await browser_context.grant_permissions(["notifications"], origin=page_url(runtime))

    page = await open_page(browser_context, runtime, fresh, earlier=earlier)
    await state(page, "subscribed")

    [device] = runtime.store.subscriptions.all()
    assert device.endpoint == fresh.endpoint
    assert device.label == "Anna"


async def test_send_me_a_test_notification_reaches_this_device_only(
    runtime: Runtime,
    browser_context: BrowserContext,
    push_service: PushServiceDouble,
) -> None:
    other = push_service.new_subscription()
    async with aiohttp.ClientSession() as http:
        await http.post(page_url(runtime) + "/api/subscriptions", json=other.to_json())
    browser = push_service.new_subscription()
    await browser_context.grant_permissions(["notifications"], origin=page_url(runtime))
    page = await open_page(browser_context, runtime, browser)
    await state(page, "subscribed")

    await page.click("#test")
    [push] = await push_service.wait_for(1, timeout=10)

    assert push.endpoint == browser.endpoint
    # The same test the window's "Send test" sends.
    assert push.json()["title"] == TEST_TITLE
    assert push.json()["body"] == TEST_MESSAGE
    assert "on its way" in await page.inner_text("#status")


async def test_iphone_safari_outside_the_home_screen_is_told_to_add_it(
    runtime: Runtime, browser: Browser
) -> None:
    iphone = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1"
    )
    context = await browser.new_context(user_agent=iphone)
    try:
        page = await context.new_page()
        await page.goto(page_url(runtime) + "/")
        await state(page, "install")

        assert "Add to Home Screen" in await page.inner_text("#status")
        assert await page.is_disabled("#enable")
    finally:
        await context.close()


async def test_a_click_closes_the_notification_and_reports_it(
    runtime: Runtime,
    browser_context: BrowserContext,
    push_service: PushServiceDouble,
) -> None:
    browser = push_service.new_subscription()
    await browser_context.grant_permissions(["notifications"], origin=page_url(runtime))
    page = await open_page(browser_context, runtime, browser)
    await state(page, "subscribed")
    reminder = runtime.services.reminders.schedule(
        "Kitchen", "Click me", None, runtime.clock()
    )
    [push] = await push_service.wait_for(1, timeout=10)
    shown = await deliver_push(browser_context, page, runtime, push.plaintext.decode())
    assert len(shown) == 1

    # Headless Chromium cannot click a notification; the worker's own click
    # handler is run with the notification it showed.
    [worker] = browser_context.service_workers
    await worker.evaluate(
        """async () => {
            const [shown] = await self.registration.getNotifications();
            const click = new NotificationEvent(
                'notificationclick', {notification: shown});
            self.dispatchEvent(click);
        }"""
    )

    await until(lambda: runtime.services.reminders.reach()[reminder.id].clicked == 1)
    remaining = await page.evaluate(
        "async () => (await (await navigator.serviceWorker.ready)"
        ".getNotifications()).length"
    )
    assert remaining == 0


async def test_the_page_reconnects_its_live_events_after_a_drop(
    runtime: Runtime,
    browser_context: BrowserContext,
    push_service: PushServiceDouble,
) -> None:
    from pushdesk.events import ReminderSent

    await browser_context.grant_permissions(["notifications"], origin=page_url(runtime))
    page = await open_page(browser_context, runtime, push_service.new_subscription())
    await state(page, "subscribed")
    [device] = runtime.store.subscriptions.all()
    await live_as(page, device.id)

    await drop_live_sockets(runtime)
    await page.wait_for_selector("body[data-events='closed']", timeout=10_000)
    # Open again, and known as the same device again.
    await live_as(page, device.id)
    runtime.hub.publish(
        ReminderSent(
            77,
            runtime.clock(),
            "Back",
            "Still here",
            delivered=1,
            total=1,
            devices=frozenset({device.id}),
        )
    )

    item = page.locator("#events [data-id='77']")
    await item.wait_for(timeout=10_000)
    assert "Still here" in await item.inner_text()


async def test_a_page_told_to_wait_says_again_who_it_is_once_the_wait_is_over(
    runtime: Runtime,
    browser_context: BrowserContext,
    push_service: PushServiceDouble,
) -> None:
    # The page's timers run on a clock the test moves; the server's
    # allowance is the operator's setting, raised once the page was refused.
    await browser_context.clock.install()
    await browser_context.grant_permissions(["notifications"], origin=page_url(runtime))
    page = await open_page(browser_context, runtime, push_service.new_subscription())
    await state(page, "subscribed")
    [device] = runtime.store.subscriptions.all()
    await live_as(page, device.id)

    # One identify a minute from this address: the page's new socket, after
    # a drop, is told to wait.
    change_settings(runtime.services, subscribes_per_minute=1)
    await drop_live_sockets(runtime)
    await page.wait_for_selector("body[data-live-wait]", timeout=15_000)
    wait = int(await page.get_attribute("body", "data-live-wait") or 0)
    change_settings(runtime.services, subscribes_per_minute=30)
    await page.clock.fast_forward(wait * 1000)

    await live_as(page, device.id)
    reminder = runtime.services.reminders.schedule(
        "Later", "Heard after all", None, runtime.clock()
    )
    await page.locator(f"#events [data-id='{reminder.id}']").wait_for(timeout=10_000)
    assert 0 < wait <= 60
    assert await page.get_attribute("body", "data-live-wait") is None


async def test_a_page_shows_only_the_reminders_sent_to_its_own_device(
    runtime: Runtime,
    browser: Browser,
    push_service: PushServiceDouble,
) -> None:
    from pushdesk.domain import Target

    contexts = [await browser.new_context() for _ in range(2)]
    try:
        pages = []
        for context in contexts:
            await context.grant_permissions(["notifications"], origin=page_url(runtime))
            page = await open_page(context, runtime, push_service.new_subscription())
            await state(page, "subscribed")
            pages.append(page)
        kitchen, hall = pages
        kitchen_id, hall_id = [
            int(await page.get_attribute("body", "data-subscription-id") or 0)
            for page in pages
        ]
        await live_as(kitchen, kitchen_id)
        await live_as(hall, hall_id)

        only_kitchen = runtime.services.reminders.schedule(
            "Kitchen",
            "Only for the kitchen",
            None,
            runtime.clock(),
            target=Target(subscription_ids=(kitchen_id,)),
        )
        await kitchen.locator(f"#events [data-id='{only_kitchen.id}']").wait_for(
            timeout=10_000
        )
        # The hall's first event is the next one; had it been sent the one
        # before, it would have come first on the same socket.
        everyone = runtime.services.reminders.schedule(
            "All", "For everyone", None, runtime.clock()
        )
        for page in pages:
            await page.locator(f"#events [data-id='{everyone.id}']").wait_for(
                timeout=10_000
            )

        assert await kitchen.locator("#events li").count() == 2
        assert await hall.locator("#events li").count() == 1
        assert "Only for the kitchen" not in await hall.inner_text("body")
    finally:
        for context in contexts:
            await context.close()


async def test_a_notification_is_shown_even_when_its_icon_cannot_be_loaded(
    config: Config,
    browser_context: BrowserContext,
    push_service: PushServiceDouble,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import shutil as files

    from pushdesk.app import open_store
    from pushdesk.resources import web_dir

    without_icons = tmp_path / "web"
    files.copytree(web_dir(), without_icons, ignore=files.ignore_patterns("*.png"))
    monkeypatch.setattr("pushdesk.server.app.web_dir", lambda: without_icons)
    runtime = Runtime(config, open_store(config))
    await runtime.start()
    try:
        page = await open_page(
            browser_context, runtime, push_service.new_subscription()
        )
        await state(page, "ready")
        await browser_context.grant_permissions(
            ["notifications"], origin=page_url(runtime)
        )
        shown = await deliver_push(
            browser_context,
            page,
            runtime,
            '{"title": "No icon", "body": "Still shown"}',
        )
    finally:
        await runtime.stop()

    assert [(n["title"], n["body"]) for n in shown] == [("No icon", "Still shown")]
